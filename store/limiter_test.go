package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
)

// TestLimiterShared runs two limiters (two replicas) on one key: together
// they stay within the rate.
func TestLimiterShared(t *testing.T) {
	const rate, calls = 20, 50
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			limiters := []*store.Limiter{store.NewLimiter(rdb, prefix, rate), store.NewLimiter(rdb, prefix, rate)}
			ctx := context.Background()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range calls {
				wg.Go(func() {
					if err := limiters[i%2].Wait(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			// A burst of `rate` passes at once, the rest at `rate` per second.
			min := time.Duration(float64(calls-rate)/rate*float64(time.Second)) - 100*time.Millisecond
			if got := time.Since(start); got < min || got > min+2*time.Second {
				t.Errorf("got %d calls in %v, want about %v", calls, got, min)
			}
		})
	}
}

func TestLimiterCancel(t *testing.T) {
	rdb, prefix := redises()["miniredis"](t)
	l := store.NewLimiter(rdb, prefix, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx); err == nil {
		t.Fatal("got nil error waiting past the deadline, want one")
	}
}

func TestLimiterUnlimited(t *testing.T) {
	rdb, prefix := redises()["miniredis"](t)
	l := store.NewLimiter(rdb, prefix, 0)
	for range 1000 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
