package store

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// LookupLimiter bounds how often one Zalo user may look a help request up by
// its code ("nhận HT7K3QM2", "tình trạng HT7K3QM2", a bare code), so that
// nobody can try codes by the thousand. It keeps a GCRA per user and window
// in Redis (redis_rate, as the send limit), shared by every replica.
type LookupLimiter struct {
	rl     *redis_rate.Limiter
	prefix string
	limits []lookupLimit
}

type lookupLimit struct {
	name  string
	limit redis_rate.Limit
}

// NewLookupLimiter allows perMinute lookups a minute and perHour an hour to
// each user, each with a burst of as many; a value <= 0 leaves that window
// without a limit.
func NewLookupLimiter(rdb redis.UniversalClient, prefix string, perMinute, perHour int) *LookupLimiter {
	l := &LookupLimiter{rl: redis_rate.NewLimiter(autoPipelined(rdb)), prefix: prefix + "lookup:"}
	if perMinute > 0 {
		l.limits = append(l.limits, lookupLimit{"m:", redis_rate.PerMinute(perMinute)})
	}
	if perHour > 0 {
		l.limits = append(l.limits, lookupLimit{"h:", redis_rate.PerHour(perHour)})
	}
	return l
}

// AllowLookup reports whether userID may look up one more code now. The
// minute's window is asked first: a refused lookup spends nothing of the
// hour's.
func (l *LookupLimiter) AllowLookup(ctx context.Context, userID string) (bool, error) {
	for _, w := range l.limits {
		res, err := l.rl.Allow(ctx, l.prefix+w.name+userID, w.limit)
		if err != nil {
			return false, fmt.Errorf("lookup limit: %w", err)
		}
		if res.Allowed == 0 {
			return false, nil
		}
	}
	return true, nil
}
