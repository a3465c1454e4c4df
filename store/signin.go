package store

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// FailureLimit counts failures per key (a client of the dashboard's
// sign-in) in Redis, so that every replica sees the same count: a GCRA
// (redis_rate) that allows a burst of Max failures and gives one back
// every Per/Max. Only failures are counted; a client that has used them
// all is refused until one is given back, the right token included.
type FailureLimit struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
}

// NewFailureLimit allows max failures per period per key, under prefix.
func NewFailureLimit(rdb redis.UniversalClient, prefix string, max int, per time.Duration) *FailureLimit {
	return &FailureLimit{rl: redis_rate.NewLimiter(rdb), key: prefix + "signin:",
		limit: redis_rate.Limit{Rate: max, Burst: max, Period: per}}
}

// Blocked reports how long key must wait before its next attempt, 0 when
// it may try now. It counts nothing.
func (l *FailureLimit) Blocked(ctx context.Context, key string) (time.Duration, error) {
	// A cost of 0 reads the state without changing it.
	res, err := l.rl.AllowN(ctx, l.key+key, l.limit, 0)
	if err != nil {
		return 0, fmt.Errorf("sign-in limit: %w", err)
	}
	if res.Remaining >= 1 {
		return 0, nil
	}
	return l.wait(res), nil
}

// Failed counts one failure of key and returns how long it must now wait
// before its next attempt (0 while it has failures left).
func (l *FailureLimit) Failed(ctx context.Context, key string) (time.Duration, error) {
	res, err := l.rl.Allow(ctx, l.key+key, l.limit)
	if err != nil {
		return 0, fmt.Errorf("sign-in limit: %w", err)
	}
	if res.Allowed > 0 && res.Remaining >= 1 {
		return 0, nil
	}
	return l.wait(res), nil
}

// wait is how long until one failure is given back: the state's reset
// time less the burst that is left once it has.
func (l *FailureLimit) wait(res *redis_rate.Result) time.Duration {
	interval := l.limit.Period / time.Duration(l.limit.Rate)
	d := res.ResetAfter - time.Duration(l.limit.Burst-1)*interval
	if res.RetryAfter > d {
		d = res.RetryAfter
	}
	return max(d, time.Second)
}
