package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestLimiterShared runs two limiters (two replicas) on one key: together
// they stay within the rate.
func TestLimiterShared(t *testing.T) {
	const rate, calls = 20, 40
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

// TestLimiterBatchesKeepTheSharedRate checks that taking permits in batches
// never lets two replicas together exceed the shared rate.
func TestLimiterBatchesKeepTheSharedRate(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	const perSecond = 400 // batches of 16
	a := store.NewLimiter(rdb, prefix, perSecond)
	b := store.NewLimiter(rdb, prefix, perSecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 8; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			for l.Wait(ctx) == nil {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	// GCRA allows a burst of perSecond on top of the rate.
	if max := perSecond*elapsed + perSecond + 16; float64(n.Load()) > max {
		t.Fatalf("got %d permits in %.2fs, want at most %.0f", n.Load(), elapsed, max)
	}
	if n.Load() < perSecond/2 {
		t.Fatalf("got %d permits in %.2fs, want the rate to be used", n.Load(), elapsed)
	}
}
