package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestConnectRedisEmbedded checks the in-process Redis: scripts run, and
// keys expire in real time.
func TestConnectRedisEmbedded(t *testing.T) {
	ctx := context.Background()
	rdb, closeFn, err := store.ConnectRedis(ctx, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := closeFn(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if got, err := rdb.Eval(ctx, "return redis.call('SET', KEYS[1], 'v', 'PX', 1200)", []string{"k"}).Text(); err != nil || got != "OK" {
		t.Fatalf("got %q, %v from a script, want OK", got, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, "k").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("key with a 1.2s ttl still there after 5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConnectRedisURL(t *testing.T) {
	ctx := context.Background()
	rdb, _ := storetest.Redis(t) // skips (or fails in CI) without a server
	rdb2, closeFn, err := store.ConnectRedis(ctx, "redis://"+rdb.Options().Addr+"/0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if err := rdb2.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.ConnectRedis(ctx, "http://nope", slog.New(slog.DiscardHandler)); err == nil {
		t.Error("got nil error for an http URL, want one")
	}
}
