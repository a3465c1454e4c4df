package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// RedisLog writes go-redis's own messages (a failed dial, a stalled
// auto-pipeliner, a bad connection dropped) through slog, so that they are
// JSON lines like every other instead of go-redis's plain "redis: date
// file:line text". go-redis has one logger for the whole process: main
// installs it with redis.SetLogger(store.NewRedisLog(log)).
type RedisLog struct {
	log *slog.Logger
}

// NewRedisLog returns a go-redis logger that writes to log.
func NewRedisLog(log *slog.Logger) *RedisLog {
	return &RedisLog{log: log.With("component", "redis")}
}

// Printf implements go-redis's logging interface. go-redis logs only what
// went wrong, so every message is a warning.
func (l *RedisLog) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !l.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	msg := strings.TrimSpace(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	l.log.Log(ctx, slog.LevelWarn, msg)
}
