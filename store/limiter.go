package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limiter is an outbound rate limit shared by every replica: a GCRA (the
// generic cell rate algorithm) kept in Redis by redis_rate.
//
// At high rates a replica takes several permits per round trip and hands
// them out locally, so the limit costs a Redis call per batch of messages,
// not per message. Permits are counted in Redis when taken, so the shared
// limit is never exceeded; a permit not used within permitTTL is dropped.
//
// Replies come first. Wait is for a reply to someone who just wrote;
// WaitPush is for a push (a reminder, a notice, an announcement), which
// takes a permit only when no reply is waiting: none in this process, and
// none on another replica, which marks the key waitKey for as long as one
// of its replies waits. So a burst of pushes at the full rate delays a
// reply by about one permit's interval, not by the burst.
//
// Announcements come last: WaitBulk takes a permit only when, besides, no
// other push of this process waits for one. (Across replicas a push and an
// announcement compete as equals; both still step aside for replies.)
type Limiter struct {
	rl    *redis_rate.Limiter
	rdb   redis.UniversalClient
	key   string
	mark  string
	limit redis_rate.Limit
	batch int
	// replies counts the replies waiting in this process, pushes the
	// pushes.
	replies, pushes atomic.Int64
	// One reply and one push of this process at a time ask Redis and
	// sleep until a permit is due; the others wait for their turn here.
	// Without the turns, hundreds of waiting sends all woke at each
	// permit's interval and asked Redis at once, which cost half a core
	// during a burst at SEND_RATE 50.
	replyTurn, pushTurn, bulkTurn chan struct{}

	mu      sync.Mutex
	permits int
	takenAt time.Time
}

// maxPermitBatch is the most permits taken in one round trip (at rates of
// 1,280 a second and more; at the default 50 a second it is 2).
const maxPermitBatch = 64

// permitTTL bounds how long a permit taken in a batch stays usable: past
// it, sending would bunch up beyond the rate the permit was counted at.
const permitTTL = 200 * time.Millisecond

// Pushes step aside for replies: markMargin is how much longer than its
// expected wait a waiting reply keeps the mark (a round trip to Redis and
// back, with room); pushPause is how long a push waits before looking
// again while a reply of this process waits.
const (
	markMargin = 50 * time.Millisecond
	pushPause  = 5 * time.Millisecond
)

// NewLimiter allows perSecond calls per second across all replicas, with a
// burst of as many. perSecond <= 0 means no limit.
func NewLimiter(rdb redis.UniversalClient, prefix string, perSecond int) *Limiter {
	fast := autoPipelined(rdb)
	l := &Limiter{rl: redis_rate.NewLimiter(fast), rdb: fast, key: prefix + "send", mark: prefix + "send:replies", batch: 1,
		replyTurn: make(chan struct{}, 1), pushTurn: make(chan struct{}, 1), bulkTurn: make(chan struct{}, 1)}
	if perSecond > 0 {
		l.limit = redis_rate.PerSecond(perSecond)
		// A batch is at most a twentieth of a second's worth, and at most
		// maxPermitBatch: permits are counted when taken, so a replica that
		// took a large batch and then went quiet would leave the others
		// short for up to permitTTL.
		l.batch = min(max(perSecond/20, 1), maxPermitBatch)
	}
	return l
}

// Wait blocks until one reply may be sent or ctx is done. While it waits,
// pushes on every replica leave the permits to it.
func (l *Limiter) Wait(ctx context.Context) error {
	if l.limit.IsZero() {
		return nil
	}
	// A permit this process holds needs no turn: the turns are for the
	// sends that must ask Redis or sleep. At a high rate most replies find
	// one, and queueing them all behind the one that asks made the turn a
	// hand-off from goroutine to goroutine per message (issue 19: hundreds
	// of replies waited there under the load test at SEND_RATE 100,000).
	if l.takeLocal() {
		return nil
	}
	l.replies.Add(1)
	defer l.replies.Add(-1)
	if err := turn(ctx, l.replyTurn); err != nil {
		return err
	}
	defer func() { <-l.replyTurn }()
	for {
		wait, err := l.take(ctx)
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		// Without the mark, the pushes waiting on other replicas would
		// take the next permit as often as this reply does. Its value is
		// when it ends (Unix ms): the in-process Redis counts TTLs down
		// only once a second.
		until := time.Now().Add(wait + markMargin)
		if err := l.rdb.Set(ctx, l.mark, until.UnixMilli(), wait+markMargin).Err(); err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if err := pause(ctx, wait); err != nil {
			return err
		}
	}
}

// WaitPush blocks until one push may be sent or ctx is done: only when no
// reply waits for a permit, in this process or on another replica.
func (l *Limiter) WaitPush(ctx context.Context) error {
	if l.limit.IsZero() {
		return nil
	}
	l.pushes.Add(1)
	defer l.pushes.Add(-1)
	return l.waitLow(ctx, l.pushTurn, func() bool { return l.replies.Load() > 0 })
}

// WaitBulk blocks until one announcement may be sent or ctx is done: only
// when no reply waits for a permit (in this process or on another
// replica) and no other push of this process does.
func (l *Limiter) WaitBulk(ctx context.Context) error {
	if l.limit.IsZero() {
		return nil
	}
	return l.waitLow(ctx, l.bulkTurn, func() bool { return l.replies.Load() > 0 || l.pushes.Load() > 0 })
}

// waitLow is WaitPush and WaitBulk: wait for a turn in ch, then for a
// permit, stepping aside while yield reports that someone of this process
// goes first, or while a reply on another replica waits.
func (l *Limiter) waitLow(ctx context.Context, ch chan struct{}, yield func() bool) error {
	if err := turn(ctx, ch); err != nil {
		return err
	}
	defer func() { <-ch }()
	for {
		if yield() {
			if err := pause(ctx, pushPause); err != nil {
				return err
			}
			continue
		}
		if l.takeLocal() {
			return nil
		}
		// Only when this process has no permit left does it ask Redis, and
		// then first whether a reply waits on another replica: a push may
		// thus use at most a batch taken before that reply began waiting.
		until, err := l.rdb.Get(ctx, l.mark).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("rate limit: %w", err)
		}
		if marked := time.Until(time.UnixMilli(until)); marked > 0 {
			if err := pause(ctx, min(marked, time.Second)); err != nil {
				return err
			}
			continue
		}
		wait, err := l.take(ctx)
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		if err := pause(ctx, wait); err != nil {
			return err
		}
	}
}

// turn waits until this send may take a place in ch or ctx is done.
func turn(ctx context.Context, ch chan struct{}) error {
	select {
	case ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rate limit: %w", context.Cause(ctx))
	}
}

// pause waits for d, or returns an error when ctx is done first.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("rate limit: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// takeLocal uses a permit this process already holds, if any.
func (l *Limiter) takeLocal() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.permits > 0 && time.Since(l.takenAt) < permitTTL {
		l.permits--
		return true
	}
	return false
}

// take uses a local permit or takes a batch from Redis. It returns how long
// to wait before trying again when none is allowed now.
func (l *Limiter) take(ctx context.Context) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.permits > 0 && time.Since(l.takenAt) < permitTTL {
		l.permits--
		return 0, nil
	}
	res, err := l.rl.AllowAtMost(ctx, l.key, l.limit, l.batch)
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	if res.Allowed > 0 {
		l.permits, l.takenAt = res.Allowed-1, time.Now()
		return 0, nil
	}
	l.permits = 0
	if res.RetryAfter <= 0 {
		return time.Millisecond, nil
	}
	return res.RetryAfter, nil
}
