package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis's own messages, such as a failed dial, are JSON lines of the
// service's log, at warning level, not go-redis's plain text on stderr.
func TestRedisClientLogsThroughSlog(t *testing.T) {
	var out syncBuffer
	newLogger(&out, slog.LevelInfo)
	t.Cleanup(func() { newLogger(&syncBuffer{}, slog.LevelError) })

	// A port nobody listens on: go-redis logs the failed dial itself.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}

	logged := strings.TrimSpace(out.String())
	if !strings.Contains(logged, "failed to dial") {
		t.Fatalf("the failed dial was not logged through slog; log: %q", logged)
	}
	for _, line := range strings.Split(logged, "\n") {
		var rec struct {
			Level, Msg, Component string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec.Level != "WARN" || rec.Component != "redis" || strings.HasPrefix(rec.Msg, "redis:") {
			t.Errorf("got %+v, want a WARN line of component redis without go-redis's prefix", rec)
		}
	}
}
