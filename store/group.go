package store

import (
	"context"
	"fmt"
	"sync/atomic"
)

// groupWriter writes what concurrent callers hand it in groups: one
// goroutine at a time writes everything queued so far in one go (a Redis
// pipeline, a multi-row INSERT), and the items queued meanwhile make the
// next group; it ends when the queue is empty. Each caller waits for the
// outcome of its own item, so a write is as done when Add returns as it
// was one round trip at a time; only the round trips and the per-statement
// overhead are shared (issue 19).
type groupWriter[T any] struct {
	queue   chan groupItem[T]
	writing atomic.Bool
	max     int
	// write stores batch and sets errs[i] to the outcome of batch[i].
	write func(batch []T, errs []error)
	// The buffers of a group, kept between runs: a run starts whenever the
	// queue fills after being empty, often many times a second, and making
	// them anew was 7% of the bytes the service allocated under the load
	// test. Only one run uses them at a time (writing).
	items []groupItem[T]
	batch []T
	errs  []error
}

type groupItem[T any] struct {
	v    T
	done chan error
}

func newGroupWriter[T any](max int, write func(batch []T, errs []error)) *groupWriter[T] {
	return &groupWriter[T]{queue: make(chan groupItem[T], 4*max), max: max, write: write,
		items: make([]groupItem[T], 0, max), batch: make([]T, 0, max), errs: make([]error, max)}
}

// Add queues v and waits until it is written or ctx ends. An item given up
// on may still be written afterwards; callers' writes are idempotent.
func (g *groupWriter[T]) Add(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue write: %w", err)
	}
	it := groupItem[T]{v: v, done: make(chan error, 1)}
	select {
	case g.queue <- it:
	case <-ctx.Done():
		return fmt.Errorf("queue write: %w", ctx.Err())
	}
	if g.writing.CompareAndSwap(false, true) {
		go g.run()
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("wait for write: %w", ctx.Err())
	}
}

func (g *groupWriter[T]) run() {
	items, batch, errs := g.items, g.batch, g.errs
	for {
		items, batch = items[:0], batch[:0]
	drain:
		for len(items) < g.max {
			select {
			case it := <-g.queue:
				items = append(items, it)
				batch = append(batch, it.v)
			default:
				break drain
			}
		}
		if len(items) == 0 {
			g.writing.Store(false)
			// An item queued after the drain, whose caller found writing
			// still set, would wait for nobody: look once more.
			if len(g.queue) == 0 || !g.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		clear(errs)
		g.write(batch, errs[:len(batch)])
		for i, it := range items {
			it.done <- errs[i]
		}
		// Drop the references a kept buffer would otherwise hold until
		// the next group overwrote them.
		clear(items)
		clear(batch)
	}
}
