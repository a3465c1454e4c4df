package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The group writer groups what is queued during a write, tells each caller
// its own item's outcome, and starts again after running dry.
func TestGroupWriter(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	block := make(chan struct{})
	g := newGroupWriter(8, func(batch []int, errs []error) {
		<-block
		mu.Lock()
		sizes = append(sizes, len(batch))
		mu.Unlock()
		for i, v := range batch {
			if v%5 == 0 {
				errs[i] = errors.New("five")
			}
		}
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range 20 {
		wg.Go(func() { results[i] = g.Add(ctx, i) })
	}
	time.Sleep(50 * time.Millisecond) // all queued behind the first write
	close(block)
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i%5 == 0) {
			t.Errorf("item %d: %v", i, err)
		}
	}
	total, most := 0, 0
	for _, n := range sizes {
		total += n
		most = max(most, n)
	}
	if total != 20 || most < 2 || most > 8 {
		t.Errorf("batches %v: want 20 items, some together, at most 8 a batch", sizes)
	}
	// Dry, then used again.
	if err := g.Add(ctx, 1); err != nil || g.writing.Load() && len(g.queue) > 0 {
		t.Errorf("after running dry: %v", err)
	}
	// A caller that gives up gets its context's error.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.Add(done, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
