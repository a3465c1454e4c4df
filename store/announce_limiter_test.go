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

// TestLimiterBulkLast keeps announcements (WaitBulk) waiting for permits
// while a burst of pushes arrives: each push goes out within about a
// permit's interval, and the announcements still use the permits the
// pushes leave.
func TestLimiterBulkLast(t *testing.T) {
	const rate = 20 // a permit every 50 ms
	rdb, prefix := storetest.Redis(t)
	lim := store.NewLimiter(rdb, prefix, rate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bulk atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for lim.WaitBulk(ctx) == nil {
				bulk.Add(1)
			}
		})
	}
	for bulk.Load() < rate {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	var worst time.Duration
	const pushes = 10
	for range pushes {
		t0 := time.Now()
		if err := lim.WaitPush(ctx); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(t0))
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	during := bulk.Load() - rate
	cancel()
	wg.Wait()
	if worst > 250*time.Millisecond {
		t.Errorf("a push waited %v behind announcements, want about one interval (50ms)", worst)
	}
	if want := float64(rate)*elapsed.Seconds()*0.6 - pushes; float64(during) < want {
		t.Errorf("announcements got %d permits in %v, want at least %.0f: pushes must not starve them", during, elapsed, want)
	}
}
