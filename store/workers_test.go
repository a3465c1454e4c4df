package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The workers run every function, concurrently when asked to, reuse a
// goroutine that waits, and end one that waited too long.
func TestWorkers(t *testing.T) {
	w := &workers{work: make(chan func()), idle: 50 * time.Millisecond, max: 3}
	var wg sync.WaitGroup
	var ran atomic.Int32
	release := make(chan struct{})
	for range 4 {
		// Four at once: each blocks until all four run, so they cannot
		// share a goroutine.
		w.Go(&wg, func() {
			ran.Add(1)
			<-release
		})
	}
	for ran.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	if n := w.kept.Load(); n != 3 {
		t.Errorf("%d goroutines kept, want 3 (the fourth runs on its own)", n)
	}
	close(release)
	wg.Wait()
	// A kept goroutine takes the next function.
	done := make(chan struct{})
	took := false
	for range 100 {
		select {
		case w.work <- func() { close(done) }:
			took = true
		default:
			time.Sleep(time.Millisecond)
			continue
		}
		break
	}
	if !took {
		t.Fatal("no goroutine waited for work")
	}
	<-done
	time.Sleep(200 * time.Millisecond)
	select {
	case w.work <- func() {}:
		t.Error("a goroutine still waits after its idle time")
	default:
	}
	if n := w.kept.Load(); n != 0 {
		t.Errorf("%d goroutines kept after their idle time", n)
	}
}
