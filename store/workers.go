package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// workers runs functions on goroutines kept between calls. The lanes of a
// batch (processBatch) each ran on a new goroutine, which starts with a
// small stack and grows it by copying, several times over, as an event goes
// through the engine, the database and the HTTP client: under the load test
// the copies took about 9% of the service's CPU (issue 19). A kept goroutine
// has grown its stack already. The runtime may still shrink an idle one's
// stack at a collection, by half each time.
type workers struct {
	work chan func()
	idle time.Duration
	// max bounds the goroutines kept: each keeps its grown stack, and a
	// burst may run hundreds of lanes at once (16 partitions, 32 entries a
	// read). Beyond it a function runs on a goroutine of its own.
	max  int32
	kept atomic.Int32
}

// laneWorkers run the lanes of every partition's batches. A goroutine that
// waits longer than the idle time for work ends.
var laneWorkers = &workers{work: make(chan func()), idle: 10 * time.Second, max: 128}

// eventSlots bound the events handled at once, across the partitions. A
// burst used to start a lane for every conversation of every partition's
// read (16 × 32): hundreds of goroutines past the kept ones, each growing
// its stack anew, for a machine of a few cores whose lanes mostly wait on
// Redis and the database (issue 19). 64 lanes keep the cores busy; the
// rest wait for a slot in their partition's order. The outbox's lanes are
// not bounded here: they wait on the send rate, and a reply must not wait
// behind pushes for a slot.
var eventSlots = make(chan struct{}, 64)

// Go runs f on a waiting goroutine, or a new one when none waits, and calls
// wg.Done when f returns (wg.Add(1) is Go's).
func (w *workers) Go(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	task := func() {
		defer wg.Done()
		f()
	}
	select {
	case w.work <- task:
	default:
		if w.kept.Add(1) > w.max {
			w.kept.Add(-1)
			go task()
			return
		}
		go w.loop(task)
	}
}

func (w *workers) loop(task func()) {
	defer w.kept.Add(-1)
	t := time.NewTimer(w.idle)
	defer t.Stop()
	for {
		task()
		t.Reset(w.idle)
		select {
		case task = <-w.work:
		case <-t.C:
			return
		}
	}
}
