package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

func TestLocks(t *testing.T) {
	ctx := context.Background()
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			a, b := store.NewLocks(rdb, prefix), store.NewLocks(rdb, prefix)
			unlock, ok, err := a.TryLock(ctx, "refresh", time.Minute)
			if err != nil || !ok {
				t.Fatalf("got %v, %v; want the free lock", ok, err)
			}
			if _, ok, err := b.TryLock(ctx, "refresh", time.Minute); err != nil || ok {
				t.Fatalf("got %v, %v; want the held lock refused", ok, err)
			}
			if _, ok, _ := b.TryLock(ctx, "other", time.Minute); !ok {
				t.Fatal("got another name refused, want it free")
			}
			unlock()
			unlock() // harmless
			unlock2, ok, err := b.TryLock(ctx, "refresh", time.Minute)
			if err != nil || !ok {
				t.Fatalf("got %v, %v after unlock; want the lock", ok, err)
			}
			unlock2()
		})
	}
}

// TestLockExpires checks that a lock frees itself after its ttl, and that a
// late unlock does not free the next holder's lock.
func TestLockExpires(t *testing.T) {
	ctx := context.Background()
	srv, rdb := storetest.MiniRedisServer(t)
	locks := store.NewLocks(rdb, "x:")
	lateUnlock, ok, _ := locks.TryLock(ctx, "pump", time.Second)
	if !ok {
		t.Fatal("got the free lock refused")
	}
	srv.FastForward(2 * time.Second)
	_, ok, _ = locks.TryLock(ctx, "pump", time.Minute)
	if !ok {
		t.Fatal("got an expired lock refused, want it taken")
	}
	lateUnlock()
	if _, ok, _ := locks.TryLock(ctx, "pump", time.Minute); ok {
		t.Fatal("a stale unlock freed the new holder's lock")
	}
}
