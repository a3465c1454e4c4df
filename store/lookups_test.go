package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// allowed counts how many of n lookups by user pass.
func allowed(t *testing.T, l *store.LookupLimiter, user string, n int) int {
	t.Helper()
	got := 0
	for range n {
		ok, err := l.AllowLookup(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got++
		}
	}
	return got
}

// TestLookupLimiterPerMinute: a user who tries codes gets ten a minute;
// other users are not slowed; two replicas share the count.
func TestLookupLimiterPerMinute(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			a, b := store.NewLookupLimiter(rdb, prefix, 10, 30), store.NewLookupLimiter(rdb, prefix, 10, 30)
			if got := allowed(t, a, "guesser", 6) + allowed(t, b, "guesser", 100); got != 10 {
				t.Errorf("guesser: %d lookups allowed in a burst, want 10", got)
			}
			if got := allowed(t, a, "neighbour", 3); got != 3 {
				t.Errorf("another user: %d of 3 allowed, want all", got)
			}
		})
	}
}

// TestLookupLimiterPerHour: past the minute's window, thirty an hour.
func TestLookupLimiterPerHour(t *testing.T) {
	mr, rdb := storetest.MiniRedisServer(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	mr.SetTime(now)
	l := store.NewLookupLimiter(rdb, "t:", 10, 30)
	total := 0
	for minute := range 5 {
		mr.SetTime(now.Add(time.Duration(minute) * 61 * time.Second))
		total += allowed(t, l, "guesser", 20)
	}
	// 10 + 10 + 10, then the hour's burst of 30 is spent; GCRA gives back
	// one lookup every two minutes, so 2 more in the last four minutes.
	if total < 30 || total > 33 {
		t.Errorf("got %d lookups allowed in five minutes, want about 30", total)
	}
	mr.SetTime(now.Add(2 * time.Hour))
	if got := allowed(t, l, "guesser", 1); got != 1 {
		t.Errorf("after two hours: %d allowed, want 1", got)
	}
}

func TestLookupLimiterOff(t *testing.T) {
	l := store.NewLookupLimiter(storetest.MiniRedis(t), "t:", 0, 0)
	if got := allowed(t, l, "u", 500); got != 500 {
		t.Errorf("without limits: %d of 500 allowed", got)
	}
}
