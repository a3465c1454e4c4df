package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Locks hands out short-lived mutual exclusion shared by all replicas (one
// token refresh at a time, one morning pump…). A lock expires by itself
// after its ttl, so a crashed holder cannot block the others for long.
type Locks struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLocks returns Locks whose keys are prefix+"lock:"+name.
func NewLocks(rdb redis.UniversalClient, prefix string) *Locks {
	return &Locks{rdb: rdb, prefix: prefix}
}

// unlockScript deletes the lock only while it still holds our token, so a
// holder that outlived its ttl cannot release a lock someone else took since.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// TryLock takes the lock name for ttl if nobody holds it. ok is false when
// it is taken. unlock releases it (it is safe to call more than once, and
// after the lock expired); it is nil unless ok.
func (l *Locks) TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error) {
	if ttl < time.Millisecond {
		return nil, false, fmt.Errorf("lock %s: ttl %v is shorter than a millisecond", name, ttl)
	}
	key := l.prefix + "lock:" + name
	token, err := randomToken()
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	ok, err = l.rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			// The caller's context may be done by now; the release must
			// still happen, or the others wait for the ttl.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = unlockScript.Run(ctx, l.rdb, []string{key}, token).Err()
		})
	}
	return unlock, true, nil
}

func randomToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
