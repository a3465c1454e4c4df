package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TestSentIDs: an id remembered by one replica is known to another, an
// unknown one is not, and ids expire with their TTL.
func TestSentIDs(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			a, b := store.NewSentIDs(rdb, prefix, 0), store.NewSentIDs(rdb, prefix, 0)
			if a.TTL() != store.DefaultSentTTL {
				t.Errorf("TTL: got %v, want %v", a.TTL(), store.DefaultSentTTL)
			}
			if err := a.RememberSent(ctx, cnsbot.Recipient{UserID: "u1"}, "81d74a9cd71d6f473608"); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]bool{"81d74a9cd71d6f473608": true, "0000aaaabbbbccccdddd": false, "": false} {
				got, err := b.SentByUs(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("SentByUs(%q): got %v, want %v", id, got, want)
				}
			}
			ttl, err := rdb.TTL(ctx, prefix+"sent:81d74a9cd71d6f473608").Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl <= store.DefaultSentTTL-time.Minute || ttl > store.DefaultSentTTL {
				t.Errorf("key TTL: got %v, want about %v", ttl, store.DefaultSentTTL)
			}
		})
	}
}

// TestSentIDsRedisDown: a store that cannot answer says so; it never
// claims an id is not ours.
func TestSentIDsRedisDown(t *testing.T) {
	rdb, prefix := redises()["miniredis"](t)
	s := store.NewSentIDs(rdb, prefix, time.Hour)
	rdb.Close()
	if err := s.RememberSent(context.Background(), cnsbot.Recipient{UserID: "u1"}, "m1"); err == nil {
		t.Error("RememberSent on a closed client: got nil error")
	}
	if _, err := s.SentByUs(context.Background(), "m1"); err == nil {
		t.Error("SentByUs on a closed client: got nil error")
	}
}

// TestSentIDsConcurrent: ids remembered at once (written together in
// pipelines) are all known, each with its TTL, and every caller returns.
func TestSentIDsConcurrent(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			s := store.NewSentIDs(rdb, prefix, time.Hour)
			const n = 600
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					errs <- s.RememberSent(ctx, cnsbot.Recipient{UserID: "u"}, "m"+strconv.Itoa(i))
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := range n {
				if ok, err := s.SentByUs(ctx, "m"+strconv.Itoa(i)); err != nil || !ok {
					t.Fatalf("m%d: %v, %v", i, ok, err)
				}
			}
			if ttl := rdb.TTL(ctx, prefix+"sent:m7").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
				t.Errorf("TTL %v", ttl)
			}
		})
	}
}
