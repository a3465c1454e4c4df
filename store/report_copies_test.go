package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// refusal is one message the sender recorded as refused.
type refusal struct {
	id, purpose string
	to          cnsbot.Recipient
	code        int
	fallback    bool
	age         time.Duration
}

func refuse(t *testing.T, db *store.DB, r refusal) {
	t.Helper()
	ctx := context.Background()
	m := cnsbot.Outgoing{ID: r.id, To: r.to, Kind: cnsbot.MsgText, Text: "text of " + r.id, Purpose: r.purpose, Ref: "ref-" + r.id}
	var err error
	if r.fallback {
		m.FallbackGroup = "g1"
		err = db.Fallback(ctx, m, r.code, "outside_window")
	} else {
		err = db.Undeliverable(ctx, m, r.code, "outside_window")
	}
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-r.age)
	if err := db.ORM().Model(&store.Delivery{}).Where("message_id = ?", r.id).
		Updates(map[string]any{"created_at": at, "updated_at": at}).Error; err != nil {
		t.Fatal(err)
	}
}

func pendingIDs(t *testing.T, db *store.DB, user string, limit int) string {
	t.Helper()
	out, err := db.PendingCopies(context.Background(), user, limit)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range out {
		ids = append(ids, m.ID)
		if m.Text != "text of "+m.ID || m.To.UserID != user {
			t.Errorf("copy %s: %+v, want the original message", m.ID, m)
		}
	}
	return fmt.Sprint(ids)
}

func TestPendingCopies(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			u := cnsbot.Recipient{UserID: "u1"}
			for _, r := range []refusal{
				{id: "r-old", purpose: "reminder", to: u, code: -230, age: 31 * 24 * time.Hour},          // too old
				{id: "r-1", purpose: "reminder", to: u, code: -230, fallback: true, age: 20 * time.Hour}, // posted to the group too
				{id: "n-2", purpose: "notify", to: u, code: -232, age: 10 * time.Hour},
				{id: "n-3", purpose: "notify", to: u, code: -227, age: 5 * time.Hour},
				{id: "x-reply", purpose: "reply", to: u, code: -230, age: 4 * time.Hour},           // a reply: no copy
				{id: "x-213", purpose: "notify", to: u, code: -213, age: 3 * time.Hour},            // not a follower
				{id: "x-217", purpose: "reminder", to: u, code: -217, age: 3 * time.Hour},          // blocked
				{id: "x-other", purpose: "notify", to: cnsbot.Recipient{UserID: "u2"}, code: -230}, // someone else
				{id: "x-group", purpose: "notify", to: cnsbot.Recipient{GroupID: "u1"}, code: -230},
				{id: "n-4", purpose: "notify", to: u, code: -230, age: time.Hour},
			} {
				refuse(t, db, r)
			}
			if got := pendingIDs(t, db, "u1", 10); got != "[n-4 n-3 n-2 r-1]" {
				t.Errorf("pending: got %s, want newest first, only window refusals of pushes", got)
			}
			if got := pendingIDs(t, db, "u1", 2); got != "[n-4 n-3]" {
				t.Errorf("limit 2: got %s", got)
			}
			if got := pendingIDs(t, db, "", 10); got != "[]" {
				t.Errorf("no user: got %s", got)
			}

			// Queued and skipped copies are not pending any more; the
			// originals keep their state for the officers' list.
			if err := db.MarkCopyQueued(ctx, "n-4"); err != nil {
				t.Fatal(err)
			}
			if err := db.SkipCopy(ctx, "r-1", "deadline passed"); err != nil {
				t.Fatal(err)
			}
			if got := pendingIDs(t, db, "u1", 10); got != "[n-3 n-2]" {
				t.Errorf("after marking: got %s", got)
			}
			orig, err := db.FindDelivery(ctx, "n-4")
			if err != nil || orig.State != store.StateUndeliverable || orig.ZaloCode != -230 {
				t.Errorf("original: %+v (%v), want still undeliverable", orig, err)
			}
			cp, err := db.FindDelivery(ctx, "copy:n-4")
			if err != nil || cp.State != store.StateCopyQueued || cp.Recipient != "u:u1" || cp.Purpose != "notify" || cp.Ref != "ref-n-4" {
				t.Errorf("copy row: %+v (%v)", cp, err)
			}
			skipped, err := db.FindDelivery(ctx, "copy:r-1")
			if err != nil || skipped.State != store.StateCopySkipped || skipped.Reason != "deadline passed" {
				t.Errorf("skipped row: %+v (%v)", skipped, err)
			}

			// The sender's record of the copy replaces the mark, and a late
			// mark does not undo it.
			copyMsg := cnsbot.Outgoing{ID: "copy:n-4", To: cnsbot.Recipient{UserID: "u1"}, Purpose: "reply"}
			if err := db.Delivered(ctx, copyMsg, "zm1"); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkCopyQueued(ctx, "n-4"); err != nil {
				t.Fatal(err)
			}
			if cp, _ := db.FindDelivery(ctx, "copy:n-4"); cp.State != store.StateSent {
				t.Errorf("copy after delivery and a late mark: %s, want sent", cp.State)
			}

			// A copy that stays queued without a word from the sender (its
			// conversation failed to commit) is offered again after a while.
			if err := db.MarkCopyQueued(ctx, "n-3"); err != nil {
				t.Fatal(err)
			}
			if got := pendingIDs(t, db, "u1", 10); got != "[n-2]" {
				t.Errorf("n-3 just queued: got %s", got)
			}
			past := time.Now().UTC().Add(-11 * time.Minute)
			if err := db.ORM().Model(&store.Delivery{}).Where("message_id = ?", "copy:n-3").Update("updated_at", past).Error; err != nil {
				t.Fatal(err)
			}
			if got := pendingIDs(t, db, "u1", 10); got != "[n-3 n-2]" {
				t.Errorf("n-3 lost: got %s, want it offered again", got)
			}

			// A refused copy is not copied again.
			if err := db.Undeliverable(ctx, cnsbot.Outgoing{ID: "copy:n-2", To: u, Purpose: "notify"}, -230, "outside_window"); err != nil {
				t.Fatal(err)
			}
			if got := pendingIDs(t, db, "u1", 10); got != "[n-3]" {
				t.Errorf("after a refused copy: got %s", got)
			}

			for _, id := range []string{"", "copy:n-3"} {
				if err := db.MarkCopyQueued(ctx, id); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
					t.Errorf("MarkCopyQueued(%q): got %v, want EINVALID", id, err)
				}
			}
			if err := db.MarkCopyQueued(ctx, "nothing"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("MarkCopyQueued(unknown): got %v, want ENOTFOUND", err)
			}
		})
	}
}

// The index for PendingCopies applies on both databases.
func TestReportMigration(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !db.ORM().Migrator().HasIndex(&store.Delivery{}, "idx_deliveries_recipient_state") {
				t.Error("index idx_deliveries_recipient_state is missing")
			}
		})
	}
}
