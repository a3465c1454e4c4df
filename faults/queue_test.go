package faults

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// These tests pin down, without load and without timing luck, two ways a
// Redis outage made the fault suite lose an answer. Each plays one fault
// precisely against store.Queue on the suite's Redis.

// runQueue runs a one-partition queue under prefix until the test ends and
// returns it once it owns the partition.
func runQueue(t *testing.T, rdb *redis.Client, prefix string, opts store.QueueOptions,
	handle func(context.Context, []byte) error, deliver func(context.Context, cnsbot.Outgoing) error) *store.Queue {
	t.Helper()
	opts.Prefix, opts.Partitions = prefix, 1
	if opts.Lease == 0 {
		opts.Lease = 3 * time.Second
	}
	q, err := store.NewQueue(context.Background(), rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx, handle, deliver); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	lease := prefix + "{p0}:lease"
	for deadline := time.Now().Add(10 * time.Second); ; {
		if n, _ := rdb.Exists(context.Background(), lease).Result(); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue did not take its partition")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let the owner's first read of its pending entries pass, so that it
	// is blocked on new entries, as in steady running.
	time.Sleep(300 * time.Millisecond)
	return q
}

// TestQueueRedeliversAReadWhoseReplyWasLost: Redis delivered an outbox
// entry to the owner's consumer (it is in the group's pending list) but
// the reply never reached the owner, because the connection broke (Redis
// killed right after serving a blocked XREADGROUP). The owner must read it
// again; today it reads pending entries only when it takes the partition,
// so the message waits until the replica restarts or loses the partition.
func TestQueueRedeliversAReadWhoseReplyWasLost(t *testing.T) {
	e := sharedEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: e.redis.addr()})
	defer rdb.Close()
	prefix := fmt.Sprintf("lostread-%d:", time.Now().UnixNano())

	var delivered atomic.Int64
	runQueue(t, rdb, prefix, store.QueueOptions{},
		func(context.Context, []byte) error { return nil },
		func(context.Context, cnsbot.Outgoing) error { delivered.Add(1); return nil })

	// One atomic step adds a message and reads it for the owner's
	// consumer, as Redis does when it serves the owner's blocked read; the
	// reply of this read is the one "lost" (nobody processes it).
	ctx := context.Background()
	stream := prefix + "{p0}:out"
	m := `{"id":"lost-read-1","to":{"user_id":"42"},"kind":"text","text":"xin chào"}`
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"o", m}})
		p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "cnsbot", Consumer: "owner", Streams: []string{stream, ">"}, Count: 1, Block: -1})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A broken connection is what makes the owner notice; break its
	// connections as a Redis restart would.
	if err := rdb.ClientKillByFilter(ctx, "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(8 * time.Second)
	for delivered.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if delivered.Load() == 0 {
		pending, _ := rdb.XPending(ctx, stream, "cnsbot").Result()
		t.Fatalf("the message Redis handed to the owner's consumer was never delivered (pending entries: %d): "+
			"after a read error the owner must read its pending entries again (store/queue.go drain)", pending.Count)
	}
}

// TestQueueDoesNotGiveUpEventsDuringAnOutage: an event whose handling fails
// only because Redis (or the database) is briefly unreachable must be
// handled once the outage is over, not given up as dead. Today the five
// attempts are spent in about 1.5 s of back-off, shorter than any restart,
// and the event is dropped unanswered.
func TestQueueDoesNotGiveUpEventsDuringAnOutage(t *testing.T) {
	e := sharedEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: e.redis.addr()})
	defer rdb.Close()
	prefix := fmt.Sprintf("outage-%d:", time.Now().UnixNano())

	outageUntil := time.Now().Add(time.Hour) // set when the event arrives
	var mu sync.Mutex
	var handled, dead atomic.Int64
	var attempts atomic.Int64
	q := runQueue(t, rdb, prefix, store.QueueOptions{
		OnDead: func(context.Context, string, []byte, error) error { dead.Add(1); return nil },
	}, func(context.Context, []byte) error {
		mu.Lock()
		if attempts.Add(1) == 1 {
			outageUntil = time.Now().Add(4 * time.Second)
		}
		down := time.Now().Before(outageUntil)
		mu.Unlock()
		if down {
			// What go-redis or pgx return while the server restarts.
			return fmt.Errorf("load session: %w", &netError{syscall.ECONNREFUSED})
		}
		handled.Add(1)
		return nil
	}, func(context.Context, cnsbot.Outgoing) error { return nil })

	if _, err := q.Enqueue(context.Background(), "outage-1", "u:42", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for handled.Load() == 0 && dead.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if dead.Load() > 0 || handled.Load() == 0 {
		t.Fatalf("an event that failed only during a 4 s outage: handled %d, given up as dead %d after %d attempts; "+
			"want it handled once the outage is over (store/queue.go processEvent counts attempts, not time)",
			handled.Load(), dead.Load(), attempts.Load())
	}
}

// netError is a connection refusal as the drivers report it.
type netError struct{ err error }

func (e *netError) Error() string   { return "dial tcp 127.0.0.1:6379: connect: " + e.err.Error() }
func (e *netError) Unwrap() error   { return e.err }
func (e *netError) Timeout() bool   { return false }
func (e *netError) Temporary() bool { return true }
