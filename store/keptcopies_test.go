package store_test

import (
	"context"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestKeptCopiesIndex checks that the Redis index answers "none" without
// the database for people who never had a refusal, finds the copies of
// those who had, and forgets people once their copies are dealt with.
func TestKeptCopiesIndex(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			rdb, prefix := storetest.Redis(t)
			k := store.NewKeptCopies(db, rdb, prefix)
			u := cnsbot.Recipient{UserID: "u1"}
			// A refusal that keeps no copy (a reply, not a follower) is not indexed.
			for _, r := range []struct {
				id, purpose string
				code        int
			}{{"x-reply", "reply", -230}, {"x-213", "notify", -213}} {
				if err := k.Undeliverable(ctx, cnsbot.Outgoing{ID: r.id, To: u, Purpose: r.purpose, Text: "t"}, r.code, "r"); err != nil {
					t.Fatal(err)
				}
			}
			if n, _ := rdb.SCard(ctx, prefix+"copies").Result(); n != 0 {
				t.Fatalf("index has %d people after refusals that keep no copy, want 0", n)
			}
			if err := k.Fallback(ctx, cnsbot.Outgoing{ID: "n-1", To: u, Purpose: "notify", Text: "t", FallbackGroup: "g1"}, -230, "outside_window"); err != nil {
				t.Fatal(err)
			}
			got, err := k.PendingCopies(ctx, "u1", 3)
			if err != nil || len(got) != 1 || got[0].ID != "n-1" {
				t.Fatalf("got %v, %v; want the kept copy n-1", got, err)
			}
			if got, err := k.PendingCopies(ctx, "u2", 3); err != nil || len(got) != 0 {
				t.Fatalf("someone else: got %v, %v; want none", got, err)
			}
			if err := k.MarkCopyQueued(ctx, "n-1"); err != nil {
				t.Fatal(err)
			}
			if got, err := k.PendingCopies(ctx, "u1", 3); err != nil || len(got) != 0 {
				t.Fatalf("after queueing: got %v, %v; want none", got, err)
			}
			if ok, _ := rdb.SIsMember(ctx, prefix+"copies", "u1").Result(); ok {
				t.Fatal("u1 still indexed after every copy was dealt with")
			}
		})
	}
}

var _ interface {
	PendingCopies(context.Context, string, int) ([]cnsbot.Outgoing, error)
	MarkCopyQueued(context.Context, string) error
	SkipCopy(context.Context, string, string) error
} = (*store.KeptCopies)(nil)
