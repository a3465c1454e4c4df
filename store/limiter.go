package store

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limiter is an outbound rate limit shared by every replica: a GCRA (the
// generic cell rate algorithm) kept in Redis by redis_rate.
type Limiter struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
}

// NewLimiter allows perSecond calls per second across all replicas, with a
// burst of as many. perSecond <= 0 means no limit.
func NewLimiter(rdb redis.UniversalClient, prefix string, perSecond int) *Limiter {
	l := &Limiter{rl: redis_rate.NewLimiter(rdb), key: prefix + "send"}
	if perSecond > 0 {
		l.limit = redis_rate.PerSecond(perSecond)
	}
	return l
}

// Wait blocks until one call is allowed or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if l.limit.IsZero() {
		return nil
	}
	for {
		res, err := l.rl.Allow(ctx, l.key, l.limit)
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := res.RetryAfter
		if wait <= 0 {
			wait = time.Millisecond
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
