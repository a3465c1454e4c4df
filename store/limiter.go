package store

import (
	"context"
	"fmt"
	"sync"
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
type Limiter struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
	batch int

	mu      sync.Mutex
	permits int
	takenAt time.Time
}

// permitTTL bounds how long a permit taken in a batch stays usable: past
// it, sending would bunch up beyond the rate the permit was counted at.
const permitTTL = 200 * time.Millisecond

// NewLimiter allows perSecond calls per second across all replicas, with a
// burst of as many. perSecond <= 0 means no limit.
func NewLimiter(rdb redis.UniversalClient, prefix string, perSecond int) *Limiter {
	l := &Limiter{rl: redis_rate.NewLimiter(autoPipelined(rdb)), key: prefix + "send", batch: 1}
	if perSecond > 0 {
		l.limit = redis_rate.PerSecond(perSecond)
		// A batch is at most a twentieth of a second's worth.
		l.batch = min(max(perSecond/20, 1), 16)
	}
	return l
}

// Wait blocks until one call is allowed or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if l.limit.IsZero() {
		return nil
	}
	for {
		wait, err := l.take(ctx)
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("rate limit: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
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
