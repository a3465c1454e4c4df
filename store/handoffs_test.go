package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

func TestParseHandoffCode(t *testing.T) {
	for in, want := range map[string]string{"k7q3m": "K7Q3M", "#K7Q-3M": "K7Q3M", " k7 q3m ": "K7Q3M"} {
		if got, ok := ParseHandoffCode(in); !ok || got != want {
			t.Errorf("ParseHandoffCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	// A help request's code, a code with a look-alike or a vowel, or a
	// word: not a handoff code.
	for _, in := range []string{"HT7K3QM2", "K7Q3O", "KAQ3M", "K7Q3", "hello"} {
		if got, ok := ParseHandoffCode(in); ok {
			t.Errorf("ParseHandoffCode(%q) = %q, want none", in, got)
		}
	}
	for range 200 {
		c := newHandoffCode()
		if got, ok := ParseHandoffCode(strings.ToLower(c)); !ok || got != c {
			t.Fatalf("new code %q does not parse back (%q, %v)", c, got, ok)
		}
	}
}

// TestDomainHandoffLifecycle: a handoff opened twice by the same event is
// one; its hamlet's team, its commune's officer and the province officer
// may answer it, a member of another hamlet and an officer of another
// commune see what a missing code gets; answering, keeping, escalating and
// closing; forgetting the resident takes the messages too.
func TestDomainHandoffLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		seedRoster(t, db)
		khom1 := findHamlet(t, db, "Tân Thành", "Khóm 1")
		var (
			hung  = personNamed(t, db, "0912345678") // leader, Ấp 1 (An Xuyên)
			ha    = personNamed(t, db, "0868224466") // commune officer, An Xuyên
			nhung = personNamed(t, db, "0918556677") // member, Khóm 1
			danh  = personNamed(t, db, "0932771155") // commune officer, Tân Thành
			bao   = personNamed(t, db, "0945778899") // province officer
		)
		t0 := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
		h := cnsbot.Handoff{UserID: "res-h", Reason: "asked", HamletID: khom1.ID, Recent: "quên mật khẩu",
			SourceEvent: "ev-1", CreatedAt: t0}
		if err := db.OpenHandoff(ctx, &h); err != nil {
			t.Fatal(err)
		}
		if _, ok := ParseHandoffCode(h.Code); !ok || h.Status != cnsbot.HandoffOpen || h.CommuneID == 0 || h.TeamID == nil {
			t.Fatalf("opened %+v: want a code, open, the hamlet's commune and team", h)
		}
		again := cnsbot.Handoff{UserID: "res-h", SourceEvent: "ev-1"}
		if err := db.OpenHandoff(ctx, &again); err != nil || again.ID != h.ID || again.Code != h.Code {
			t.Errorf("same event again: got %+v, %v, want the first handoff", again, err)
		}
		if got, err := db.OpenHandoffOf(ctx, "res-h"); err != nil || got.ID != h.ID {
			t.Errorf("OpenHandoffOf: %+v, %v", got, err)
		}
		for _, p := range []cnsbot.Person{hung, ha} {
			if _, err := db.HandoffFor(ctx, h.Code, p.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("%s finds Khóm 1's handoff: %v, want ENOTFOUND", p.FullName, err)
			}
		}
		for _, p := range []cnsbot.Person{nhung, danh, bao} {
			if got, err := db.HandoffFor(ctx, strings.ToLower(h.Code), p.ID); err != nil || got.ID != h.ID {
				t.Errorf("%s finds the handoff: %+v, %v", p.FullName, got, err)
			}
		}
		if err := db.KeepHandoffMessage(ctx, h.ID, "alo", "ev-2", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.KeepHandoffMessage(ctx, h.ID, "alo", "ev-2", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if un, err := db.UnansweredHandoffs(ctx); err != nil || len(un) != 1 {
			t.Errorf("unanswered: %d, %v, want 1", len(un), err)
		}
		if waiting, err := db.WaitingHandoffs(ctx, []int64{h.CommuneID}); err != nil || len(waiting) != 1 {
			t.Errorf("waiting in Tân Thành: %d, %v, want 1", len(waiting), err)
		}
		if waiting, err := db.WaitingHandoffs(ctx, []int64{}); err != nil || len(waiting) != 0 {
			t.Errorf("waiting in no commune: %d, %v, want 0", len(waiting), err)
		}
		if err := db.MarkHandoffEscalated(ctx, h.ID, t0.Add(5*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.AnswerHandoff(ctx, h.ID, nhung.ID, "Dạ con nghe", "ev-3", t0.Add(6*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if un, err := db.UnansweredHandoffs(ctx); err != nil || len(un) != 0 {
			t.Errorf("unanswered after an answer: %d, %v, want 0", len(un), err)
		}
		ms, err := db.HandoffMessages(ctx, h.ID)
		if err != nil || len(ms) != 2 || ms[0].PersonID != nil || ms[1].PersonID == nil || *ms[1].PersonID != nhung.ID {
			t.Errorf("messages %+v, %v: want the resident's once, then the answer", ms, err)
		}
		got, _ := db.HandoffFor(ctx, h.Code, bao.ID)
		if got.AnsweredBy == nil || *got.AnsweredBy != nhung.ID || got.AnsweredAt == nil || got.EscalatedAt == nil {
			t.Errorf("after answering: %+v", got)
		}
		if closed, err := db.CloseHandoff(ctx, h.ID, &nhung.ID, cnsbot.HandoffDone, t0.Add(7*time.Hour)); err != nil || !closed {
			t.Errorf("close: %v, %v", closed, err)
		}
		if closed, err := db.CloseHandoff(ctx, h.ID, &nhung.ID, cnsbot.HandoffDone, t0.Add(7*time.Hour)); err != nil || closed {
			t.Errorf("close again: %v, %v, want no change", closed, err)
		}
		if err := db.AnswerHandoff(ctx, h.ID, nhung.ID, "còn đó không", "ev-4", t0.Add(8*time.Hour)); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("answer a closed handoff: %v, want ECONFLICT", err)
		}
		if _, err := db.OpenHandoffOf(ctx, "res-h"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("open handoff after closing: %v, want ENOTFOUND", err)
		}
		if got, err := db.HandoffOf(ctx, "res-h", strings.ToLower(h.Code)); err != nil || got.ID != h.ID || got.CloseReason != cnsbot.HandoffDone {
			t.Errorf("HandoffOf after closing: %+v, %v", got, err)
		}
		if _, err := db.HandoffOf(ctx, "someone-else", h.Code); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("HandoffOf for someone else: %v, want ENOTFOUND", err)
		}
		// Retention: a closed handoff's messages and texts go after the
		// requests' time; an open one keeps them.
		if err := db.KeepHandoffMessage(ctx, h.ID, "kept after closing", "ev-4b", t0.Add(7*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ForgetClosedRequests(ctx, t0.Add(6*time.Hour), t0.Add(100*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ms, _ := db.HandoffMessages(ctx, h.ID); len(ms) != 3 {
			t.Errorf("forgotten before it closed: %d messages left, want 3", len(ms))
		}
		if _, err := db.ForgetClosedRequests(ctx, t0.Add(8*time.Hour), t0.Add(100*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ms, _ := db.HandoffMessages(ctx, h.ID); len(ms) != 0 {
			t.Errorf("after retention: %d messages left, want 0", len(ms))
		}
		if got, _ := db.HandoffFor(ctx, h.Code, bao.ID); got.Recent != "" {
			t.Errorf("after retention: recent %q, want none", got.Recent)
		}
		// The resident asks again: a new open handoff.
		h2 := cnsbot.Handoff{UserID: "res-h", HamletID: khom1.ID, SourceEvent: "ev-5"}
		if err := db.OpenHandoff(ctx, &h2); err != nil || h2.ID == h.ID {
			t.Fatalf("second handoff: %+v, %v", h2, err)
		}
		if _, err := db.EraseUser(ctx, "res-h", t0.Add(9*time.Hour)); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.orm.Model(&cnsbot.HandoffMessage{}).Count(&n)
		if n != 0 {
			t.Errorf("%d handoff messages left after forgetting the resident, want 0", n)
		}
	})
}
