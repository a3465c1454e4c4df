package store

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

var helpCodeRE = regexp.MustCompile(`^HT[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$`)

func TestNewHelpCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := newHelpCode()
		if !helpCodeRE.MatchString(c) {
			t.Fatalf("code %q does not match %s", c, helpCodeRE)
		}
		seen[c] = true
	}
	if len(seen) < 950 {
		t.Errorf("got %d distinct codes of 1000", len(seen))
	}
}

func TestDomainHelpRequestLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		hung, _, _ := db.PersonByPhone(ctx, "0912345678")
		mai, _, _ := db.PersonByPhone(ctx, "0987654321")

		r := cnsbot.HelpRequest{ResidentUserID: "res-1", Name: "Bà Tư", HamletID: team.HamletID,
			Topic: "vneid", Problem: "quên mật khẩu", SourceEvent: "ev-1"}
		if err := db.CreateHelpRequest(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if !helpCodeRE.MatchString(r.Code) || r.Status != cnsbot.HelpOpen || r.ID == 0 {
			t.Errorf("created: got code %q status %q id %d", r.Code, r.Status, r.ID)
		}
		if r.TeamID == nil || *r.TeamID != team.ID {
			t.Errorf("team: got %v, want the hamlet's team %d", r.TeamID, team.ID)
		}
		hamlet, _ := db.Unit(ctx, team.HamletID)
		if r.CommuneID != *hamlet.ParentID {
			t.Errorf("commune: got %d, want %d", r.CommuneID, *hamlet.ParentID)
		}

		// The same event again gives the same request.
		again := cnsbot.HelpRequest{ResidentUserID: "res-1", HamletID: team.HamletID, SourceEvent: "ev-1"}
		if err := db.CreateHelpRequest(ctx, &again); err != nil {
			t.Fatal(err)
		}
		if again.ID != r.ID || again.Code != r.Code || again.Problem != r.Problem {
			t.Errorf("second create: got %+v, want request %d %s", again, r.ID, r.Code)
		}
		var n int64
		db.Model(&cnsbot.HelpRequest{}).Count(&n)
		if n != 1 {
			t.Errorf("got %d requests, want 1", n)
		}

		got, err := db.HelpRequestByCode(ctx, " "+strings.ToLower(r.Code[:2])+"-"+r.Code[2:]+" ")
		if err != nil || got.ID != r.ID {
			t.Errorf("HelpRequestByCode: got %+v, %v", got, err)
		}
		if _, err := db.HelpRequestByCode(ctx, "HTZZZZ"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND && r.Code != "HTZZZZ" {
			t.Errorf("unknown code: got %v, want ENOTFOUND", err)
		}
		if got, err := db.OpenHelpRequestFor(ctx, "res-1"); err != nil || got.ID != r.ID {
			t.Errorf("OpenHelpRequestFor: got %+v, %v", got, err)
		}
		if open, err := db.OpenHelpRequests(ctx, team.HamletID); err != nil || len(open) != 1 {
			t.Errorf("OpenHelpRequests: got %d, %v, want 1", len(open), err)
		}

		a := cnsbot.HelpAttachment{RequestID: r.ID, Type: "image", URL: "https://example.com/p.jpg"}
		if err := db.AddHelpAttachment(ctx, &a); err != nil || a.ID == 0 {
			t.Errorf("AddHelpAttachment: %v, id %d", err, a.ID)
		}
		if err := db.AddHelpAttachment(ctx, &cnsbot.HelpAttachment{RequestID: 999999}); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("attachment of a missing request: got %v, want ENOTFOUND", err)
		}

		// Rating before closing is refused.
		if err := db.RateHelpRequest(ctx, r.Code, 5); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("rating an open request: got %v, want ECONFLICT", err)
		}

		taken, err := db.TakeHelpRequest(ctx, r.Code, hung.ID)
		if err != nil || taken.Status != cnsbot.HelpTaken || taken.TakenBy == nil || *taken.TakenBy != hung.ID || taken.TakenAt == nil {
			t.Fatalf("take: got %+v, %v", taken, err)
		}
		if _, err := db.TakeHelpRequest(ctx, r.Code, hung.ID); err != nil {
			t.Errorf("taking one's own request again: %v", err)
		}
		other, err := db.TakeHelpRequest(ctx, r.Code, mai.ID)
		if cnsbot.ErrorCode(err) != cnsbot.ECONFLICT || other.TakenBy == nil || *other.TakenBy != hung.ID {
			t.Errorf("double take: got %+v, %v, want ECONFLICT with the holder", other, err)
		}
		if _, err := db.CloseHelpRequest(ctx, r.Code, mai.ID, "xong"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("closing someone else's request: got %v, want ECONFLICT", err)
		}
		if open, _ := db.OpenHelpRequests(ctx, team.HamletID); len(open) != 0 {
			t.Errorf("a taken request is listed as open")
		}
		if got, err := db.OpenHelpRequestFor(ctx, "res-1"); err != nil || got.ID != r.ID {
			t.Errorf("OpenHelpRequestFor a taken request: got %+v, %v", got, err)
		}

		closed, err := db.CloseHelpRequest(ctx, r.Code, hung.ID, "đã kích hoạt VNeID")
		if err != nil || closed.Status != cnsbot.HelpClosed || closed.ClosedAt == nil || closed.Outcome != "đã kích hoạt VNeID" {
			t.Fatalf("close: got %+v, %v", closed, err)
		}
		if _, err := db.CloseHelpRequest(ctx, r.Code, hung.ID, "đã kích hoạt VNeID"); err != nil {
			t.Errorf("closing again: %v", err)
		}
		if _, err := db.TakeHelpRequest(ctx, r.Code, mai.ID); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("taking a closed request: got %v, want ECONFLICT", err)
		}
		if _, err := db.OpenHelpRequestFor(ctx, "res-1"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("OpenHelpRequestFor after close: got %v, want ENOTFOUND", err)
		}
		for _, bad := range []int{0, 6} {
			if err := db.RateHelpRequest(ctx, r.Code, bad); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("rating %d: got %v, want EINVALID", bad, err)
			}
		}
		if err := db.RateHelpRequest(ctx, r.Code, 5); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.HelpRequestByCode(ctx, r.Code); got.Rating != 5 {
			t.Errorf("rating: got %d, want 5", got.Rating)
		}
		if err := db.RateHelpRequest(ctx, "HTZZZZ", 5); r.Code != "HTZZZZ" && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("rating a missing request: got %v, want ENOTFOUND", err)
		}

		// An open request closed directly counts as taken by the closer.
		r2 := cnsbot.HelpRequest{ResidentUserID: "res-2", HamletID: team.HamletID}
		if err := db.CreateHelpRequest(ctx, &r2); err != nil {
			t.Fatal(err)
		}
		closed, err = db.CloseHelpRequest(ctx, r2.Code, mai.ID, "hướng dẫn tại nhà")
		if err != nil || closed.TakenBy == nil || *closed.TakenBy != mai.ID || closed.TakenAt == nil {
			t.Errorf("closing an open request: got %+v, %v", closed, err)
		}
		// Requests without a source event do not collide.
		r3 := cnsbot.HelpRequest{ResidentUserID: "res-3", HamletID: team.HamletID}
		if err := db.CreateHelpRequest(ctx, &r3); err != nil || r3.ID == r2.ID {
			t.Errorf("second request without event: %+v, %v", r3, err)
		}
		if err := db.CreateHelpRequest(ctx, &cnsbot.HelpRequest{ResidentUserID: "x", HamletID: 999999}); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("missing hamlet: got %v, want ENOTFOUND", err)
		}
		if err := db.CreateHelpRequest(ctx, &cnsbot.HelpRequest{HamletID: team.HamletID}); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Errorf("no resident: got %v, want EINVALID", err)
		}
	})
}

func TestDomainHelpRequestRaces(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		var people []cnsbot.Person
		if err := db.Order("id").Limit(6).Find(&people).Error; err != nil {
			t.Fatal(err)
		}
		// The same event processed by two workers at once makes one request.
		var wg sync.WaitGroup
		reqs := make([]cnsbot.HelpRequest, 4)
		errs := make([]error, len(reqs))
		for i := range reqs {
			wg.Go(func() {
				reqs[i] = cnsbot.HelpRequest{ResidentUserID: "res-9", HamletID: team.HamletID, SourceEvent: "ev-race"}
				errs[i] = db.CreateHelpRequest(ctx, &reqs[i])
			})
		}
		wg.Wait()
		for i := range reqs {
			if errs[i] != nil || reqs[i].Code != reqs[0].Code {
				t.Errorf("create %d: got %q, %v, want %q", i, reqs[i].Code, errs[i], reqs[0].Code)
			}
		}
		// Several members take it at once: exactly one wins.
		wins := make([]bool, len(people))
		for i, p := range people {
			wg.Go(func() {
				_, err := db.TakeHelpRequest(ctx, reqs[0].Code, p.ID)
				wins[i] = err == nil
				if err != nil && cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
					t.Errorf("take by %d: %v", p.ID, err)
				}
			})
		}
		wg.Wait()
		n := 0
		for _, w := range wins {
			if w {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d members took the request, want 1", n)
		}
	})
}

func TestDomainEscalation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		hung, _, _ := db.PersonByPhone(ctx, "0912345678")
		now := time.Now()
		mk := func(resident string, age time.Duration) cnsbot.HelpRequest {
			r := cnsbot.HelpRequest{ResidentUserID: resident, HamletID: team.HamletID, CreatedAt: now.Add(-age)}
			if err := db.CreateHelpRequest(ctx, &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		old := mk("old", 5*time.Hour)
		mk("fresh", 10*time.Minute)
		taken := mk("taken", 6*time.Hour)
		if _, err := db.TakeHelpRequest(ctx, taken.Code, hung.ID); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
		cutoff := now.Add(-2 * time.Hour).In(loc) // any zone means the same instant
		due, err := db.UnclaimedBefore(ctx, cutoff)
		if err != nil || len(due) != 1 || due[0].ID != old.ID {
			t.Fatalf("UnclaimedBefore: got %+v, %v, want only the old open request", due, err)
		}
		at := now.Add(-time.Minute)
		if err := db.MarkEscalated(ctx, old.ID, at); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEscalated(ctx, old.ID, now); err != nil {
			t.Errorf("second escalation: %v", err)
		}
		got, _ := db.HelpRequestByCode(ctx, old.Code)
		// Postgres keeps microseconds, SQLite nanoseconds.
		if got.EscalatedAt == nil || got.EscalatedAt.Sub(at).Abs() > time.Millisecond {
			t.Errorf("escalated at: got %v, want the first time %v", got.EscalatedAt, at)
		}
		if due, _ := db.UnclaimedBefore(ctx, cutoff); len(due) != 0 {
			t.Errorf("an escalated request is still due: %+v", due)
		}
		if err := db.MarkEscalated(ctx, 999999, now); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("missing request: got %v, want ENOTFOUND", err)
		}
	})
}

func TestDomainHandoff(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for range 2 {
			if err := db.RecordHandoff(ctx, "res-1", "asked for a person", "ev-7"); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordHandoff(ctx, "res-1", "stuck", ""); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordHandoff(ctx, "res-1", "stuck", ""); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.Model(&Handoff{}).Count(&n)
		if n != 3 {
			t.Errorf("got %d handoffs, want 3 (one per event, each without event)", n)
		}
		if err := db.RecordHandoff(ctx, "", "x", "ev-8"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Errorf("no user: got %v, want EINVALID", err)
		}
	})
}
