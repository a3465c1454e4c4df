package reminder_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// testLog logs River's warnings and errors to the test's output.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// fakeClock is a calendar clock that the test moves.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) set(t time.Time)           { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) now() time.Time            { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) nowFunc() func() time.Time { return c.now }

// waitMessages waits until the pusher holds n messages, then a little
// longer to see that no more come.
func waitMessages(t *testing.T, p *fakePusher, n int, settle time.Duration) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d messages, have %d", n, p.count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(settle)
	if got := p.count(); got != n {
		t.Fatalf("%d messages, want %d", got, n)
	}
}

// exactlyOnce fails unless every pushed message ID is distinct.
func exactlyOnce(t *testing.T, p *fakePusher) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range p.all() {
		if seen[m.ID] {
			t.Errorf("message %s queued twice", m.ID)
		}
		seen[m.ID] = true
	}
}

// Two replicas run River; one stops and another starts (a restart) while
// the clock moves through the team deadline. Each reminder goes out once.
func TestRiver(t *testing.T) {
	url := storetest.PostgresURL(t)
	e := newEnv(t, openStore(t, url, ""))
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var clock fakeClock
	clock.set(e.at("2025-09-09 08:00"))
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			err := reminder.RunRiver(ctx, pool, e.reminders(), reminder.RiverOptions{
				Interval: time.Second, Now: clock.nowFunc(), PollInterval: 50 * time.Millisecond, Log: testLog(t)})
			if ctx.Err() == nil {
				t.Errorf("RunRiver returned early: %v", err)
			}
			done <- err
		}()
		return func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("river: %v", err)
			}
		}
	}
	stop1, stop2 := start(), start()
	settle := 2500 * time.Millisecond  // more than two intervals
	waitMessages(t, e.push, 2, settle) // A's and B's 7-day reminders
	clock.set(e.at("2025-09-13 09:00"))
	waitMessages(t, e.push, 4, settle) // their 3-day reminders
	stop1()
	clock.set(e.at("2025-09-15 08:30"))
	waitMessages(t, e.push, 7, settle) // 1-day reminders, the commune's 7-day one
	stop3 := start()
	clock.set(e.at("2025-09-16 08:10"))
	waitMessages(t, e.push, 10, settle) // overdue notices and the commune's list
	stop2()
	stop3()
	exactlyOnce(t, e.push)
}
