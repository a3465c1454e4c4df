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

// helpCodeRE is a new code: "HT" and six characters without look-alikes
// (0/O, 1/I/L, 5/S) and without what Vietnamese keyboards change as one
// types (vowels, D, W).
var helpCodeRE = regexp.MustCompile(`^HT[23456789BCFGHJKMNPQRTVXZ]{6}$`)

func TestNewHelpCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 5000
	for range n {
		c := newHelpCode()
		if !helpCodeRE.MatchString(c) || len(c) < 8 {
			t.Fatalf("code %q does not match %s", c, helpCodeRE)
		}
		seen[c] = true
		for _, r := range c[2:] {
			counts[r]++
		}
	}
	if len(seen) < n-2 {
		t.Errorf("got %d distinct codes of %d", len(seen), n)
	}
	// Every character of the alphabet is drawn about as often (6 per
	// code, 24 characters: about 1250 each); a biased draw is guessable.
	for _, r := range HelpCodeAlphabet {
		if got := counts[r]; got < 1050 || got > 1450 {
			t.Errorf("character %c drawn %d times in %d codes, want about %d", r, got, n, n*helpCodeRandom/len(HelpCodeAlphabet))
		}
	}
	if strings.ContainsAny(HelpCodeAlphabet, "01OILSAEUYDW") {
		t.Errorf("alphabet %q has look-alikes", HelpCodeAlphabet)
	}
}

func TestNormalizeHelpCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HT7K3QM2", "HT7K3QM2"},
		{"ht7k3qm2", "HT7K3QM2"},
		{" #ht 7k3q-m2 ", "HT7K3QM2"},
		{"#HTK7QM", "HTK7QM"},
		{"HT 7K3Q.M2", "HT7K3QM2"},
	} {
		if got := NormalizeHelpCode(tc.in); got != tc.want {
			t.Errorf("NormalizeHelpCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
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
		db.orm.Model(&cnsbot.HelpRequest{}).Count(&n)
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
		if open, err := db.OpenHelpRequests(ctx, team.HamletID, hung.ID); err != nil || len(open) != 1 {
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
		if err := db.RateHelpRequest(ctx, r.Code, "res-1", 5); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
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
		if open, _ := db.OpenHelpRequests(ctx, team.HamletID, hung.ID); len(open) != 0 {
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
		hourAgo := time.Now().Add(-time.Hour)
		if got, err := db.UnratedHelpRequestFor(ctx, "res-1", hourAgo); err != nil || got.ID != r.ID {
			t.Errorf("UnratedHelpRequestFor a request just closed: got %+v, %v", got, err)
		}
		if _, err := db.UnratedHelpRequestFor(ctx, "res-1", time.Now().Add(time.Hour)); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("UnratedHelpRequestFor closed before since: got %v, want ENOTFOUND", err)
		}
		if _, err := db.UnratedHelpRequestFor(ctx, "res-other", hourAgo); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("UnratedHelpRequestFor someone else: got %v, want ENOTFOUND", err)
		}
		for _, bad := range []int{0, 6} {
			if err := db.RateHelpRequest(ctx, r.Code, "res-1", bad); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("rating %d: got %v, want EINVALID", bad, err)
			}
		}
		if err := db.RateHelpRequest(ctx, r.Code, "res-other", 1); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("rating someone else's request: got %v, want ENOTFOUND", err)
		}
		if err := db.RateHelpRequest(ctx, r.Code, "res-1", 5); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.HelpRequestByCode(ctx, r.Code); got.Rating != 5 {
			t.Errorf("rating: got %d, want 5", got.Rating)
		}
		if _, err := db.UnratedHelpRequestFor(ctx, "res-1", hourAgo); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("UnratedHelpRequestFor a rated request: got %v, want ENOTFOUND", err)
		}
		if err := db.RateHelpRequest(ctx, "HTZZZZ", "res-1", 5); r.Code != "HTZZZZ" && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
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
		people, err := db.TeamMembers(ctx, team.ID)
		if err != nil || len(people) < 3 {
			t.Fatalf("members of Ấp 1: %d, %v", len(people), err)
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
		db.orm.Model(&Handoff{}).Count(&n)
		if n != 3 {
			t.Errorf("got %d handoffs, want 3 (one per event, each without event)", n)
		}
		if err := db.RecordHandoff(ctx, "", "x", "ev-8"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Errorf("no user: got %v, want EINVALID", err)
		}
	})
}

// personNamed returns the person of the roster fixture with that phone.
func personNamed(t *testing.T, db *DB, phone string) cnsbot.Person {
	t.Helper()
	p, _, err := db.PersonByPhone(context.Background(), phone)
	if err != nil {
		t.Fatalf("person %s: %v", phone, err)
	}
	return p
}

// TestDomainHelpScope is the cross-hamlet attack: a member of another
// hamlet (Ấp 1) and an officer of another commune (An Xuyên) try to read,
// take and close a request of Khóm 1 (Tân Thành). Both get what a code
// that does not exist gets, and the request is unchanged; its own team,
// its commune's officer and the province officer are allowed.
func TestDomainHelpScope(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		seedRoster(t, db)
		khom1 := findHamlet(t, db, "Tân Thành", "Khóm 1")
		var (
			hung    = personNamed(t, db, "0912345678") // leader, Ấp 1 (An Xuyên)
			ha      = personNamed(t, db, "0868224466") // commune officer, An Xuyên
			tam     = personNamed(t, db, "0777889900") // leader, Khóm 1
			nhung   = personNamed(t, db, "0918556677") // member, Khóm 1
			danh    = personNamed(t, db, "0932771155") // commune officer, Tân Thành
			bao     = personNamed(t, db, "0945778899") // province officer
			pending = cnsbot.Person{FullName: "Người Lạ", Phone: "+84901234567"}
		)
		khom1Teams, err := db.TeamsOfHamlet(ctx, khom1.ID)
		if err != nil || len(khom1Teams) == 0 {
			t.Fatalf("teams of Khóm 1: %v, %v", khom1Teams, err)
		}
		// Someone who enrolled in Khóm 1's team but is not approved yet.
		if err := db.AddPendingMember(ctx, pending, khom1Teams[0].ID); err != nil {
			t.Fatal(err)
		}
		pending = personNamed(t, db, "0901234567")

		r := cnsbot.HelpRequest{ResidentUserID: "res-z", Name: "Bà Sáu", Phone: "+84911222333",
			HamletID: khom1.ID, Problem: "quên mật khẩu VNeID"}
		if err := db.CreateHelpRequest(ctx, &r); err != nil {
			t.Fatal(err)
		}
		_, missing := db.HelpRequestFor(ctx, "HTZZZZZZ", hung.ID)
		if cnsbot.ErrorCode(missing) != cnsbot.ENOTFOUND {
			t.Fatalf("a code that does not exist: got %v, want ENOTFOUND", missing)
		}
		for _, p := range []cnsbot.Person{hung, ha, pending} {
			if got, err := db.HelpRequestFor(ctx, r.Code, p.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND || got.Name != "" {
				t.Errorf("%s reads Khóm 1's request: got %+v, %v, want ENOTFOUND and nothing", p.FullName, got, err)
			}
			if got, err := db.TakeHelpRequest(ctx, r.Code, p.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND || got.Phone != "" {
				t.Errorf("%s takes Khóm 1's request: got %+v, %v, want ENOTFOUND and nothing", p.FullName, got, err)
			}
			if got, err := db.CloseHelpRequest(ctx, r.Code, p.ID, "xong"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND || got.Phone != "" {
				t.Errorf("%s closes Khóm 1's request: got %+v, %v, want ENOTFOUND and nothing", p.FullName, got, err)
			}
			if open, err := db.OpenHelpRequests(ctx, khom1.ID, p.ID); err != nil || len(open) != 0 {
				t.Errorf("%s lists Khóm 1's requests: got %d, %v, want none", p.FullName, len(open), err)
			}
		}
		if got, _ := db.HelpRequestByCode(ctx, r.Code); got.Status != cnsbot.HelpOpen || got.TakenBy != nil {
			t.Fatalf("after the refused attempts: got status %s, taken by %v, want open and nobody", got.Status, got.TakenBy)
		}

		for _, p := range []cnsbot.Person{tam, nhung, danh, bao} {
			if got, err := db.HelpRequestFor(ctx, "#"+strings.ToLower(r.Code), p.ID); err != nil || got.ID != r.ID {
				t.Errorf("%s reads the request: got %+v, %v", p.FullName, got, err)
			}
			if open, err := db.OpenHelpRequests(ctx, khom1.ID, p.ID); err != nil || len(open) != 1 {
				t.Errorf("%s lists Khóm 1's requests: got %d, %v, want 1", p.FullName, len(open), err)
			}
		}
		// The province officer takes it and closes it.
		taken, err := db.TakeHelpRequest(ctx, r.Code, bao.ID)
		if err != nil || taken.TakenBy == nil || *taken.TakenBy != bao.ID || taken.Phone != r.Phone {
			t.Fatalf("province officer takes: got %+v, %v", taken, err)
		}
		if _, err := db.TakeHelpRequest(ctx, r.Code, nhung.ID); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("Khóm 1's member takes a taken request: got %v, want ECONFLICT", err)
		}
		if _, err := db.CloseHelpRequest(ctx, r.Code, hung.ID, "xong"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("Ấp 1's leader closes a taken request of Khóm 1: got %v, want ENOTFOUND", err)
		}
		if closed, err := db.CloseHelpRequest(ctx, r.Code, bao.ID, "đã hướng dẫn"); err != nil || closed.Status != cnsbot.HelpClosed {
			t.Errorf("province officer closes: got %+v, %v", closed, err)
		}

		// The commune's officer may close an open request of a hamlet of
		// that commune.
		r2 := cnsbot.HelpRequest{ResidentUserID: "res-z2", HamletID: khom1.ID}
		if err := db.CreateHelpRequest(ctx, &r2); err != nil {
			t.Fatal(err)
		}
		if closed, err := db.CloseHelpRequest(ctx, r2.Code, danh.ID, "gọi điện hướng dẫn"); err != nil || *closed.TakenBy != danh.ID {
			t.Errorf("commune officer closes: got %+v, %v", closed, err)
		}
	})
}

// TestDomainHelpLegacyCode: codes issued before the longer ones keep
// working, typed loosely.
func TestDomainHelpLegacyCode(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		hung := personNamed(t, db, "0912345678")
		old := cnsbot.HelpRequest{Code: "HTK7QM", ResidentUserID: "res-old", HamletID: team.HamletID, TeamID: &team.ID,
			Status: cnsbot.HelpOpen, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		if err := db.orm.Create(&old).Error; err != nil {
			t.Fatal(err)
		}
		if got, err := db.ResidentHelpRequest(ctx, "htk7qm", "res-old"); err != nil || got.ID != old.ID {
			t.Errorf("resident's lookup of an old code: got %+v, %v", got, err)
		}
		if got, err := db.TakeHelpRequest(ctx, " #ht k7qm ", hung.ID); err != nil || got.Status != cnsbot.HelpTaken {
			t.Errorf("take by an old code typed loosely: got %+v, %v", got, err)
		}
	})
}

// TestDomainHelpCancel: the resident cancels their own request, once; it
// leaves the open lists and is never escalated; nobody else can cancel it.
func TestDomainHelpCancel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		hung := personNamed(t, db, "0912345678")
		now := time.Now()
		mk := func(resident string, age time.Duration) cnsbot.HelpRequest {
			r := cnsbot.HelpRequest{ResidentUserID: resident, HamletID: team.HamletID, CreatedAt: now.Add(-age)}
			if err := db.CreateHelpRequest(ctx, &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		stale := mk("res-a", 72*time.Hour)
		taken := mk("res-b", time.Hour)
		if _, err := db.TakeHelpRequest(ctx, taken.Code, hung.ID); err != nil {
			t.Fatal(err)
		}

		if _, err := db.CancelHelpRequest(ctx, stale.Code, "res-b"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("cancelling someone else's request: got %v, want ENOTFOUND", err)
		}
		if _, err := db.ResidentHelpRequest(ctx, stale.Code, "res-b"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("reading someone else's request: got %v, want ENOTFOUND", err)
		}
		got, err := db.CancelHelpRequest(ctx, stale.Code, "res-a")
		if err != nil || got.Status != cnsbot.HelpCancelled || got.CancelledAt == nil {
			t.Fatalf("cancel: got %+v, %v", got, err)
		}
		if again, err := db.CancelHelpRequest(ctx, stale.Code, "res-a"); err != nil || !again.CancelledAt.Equal(*got.CancelledAt) {
			t.Errorf("cancelling again: got %+v, %v, want the same request unchanged", again, err)
		}
		if due, err := db.UnclaimedBefore(ctx, now.Add(-48*time.Hour)); err != nil || len(due) != 0 {
			t.Errorf("a cancelled request is due for escalation: %+v, %v", due, err)
		}
		if open, _ := db.OpenHelpRequests(ctx, team.HamletID, hung.ID); len(open) != 0 {
			t.Errorf("a cancelled request is listed as open: %+v", open)
		}
		if _, err := db.OpenHelpRequestFor(ctx, "res-a"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("OpenHelpRequestFor a cancelled request: got %v, want ENOTFOUND", err)
		}
		if _, err := db.TakeHelpRequest(ctx, stale.Code, hung.ID); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("taking a cancelled request: got %v, want ECONFLICT", err)
		}

		// A taken request: cancelled, it still says who had it.
		got, err = db.CancelHelpRequest(ctx, taken.Code, "res-b")
		if err != nil || got.Status != cnsbot.HelpCancelled || got.TakenBy == nil {
			t.Fatalf("cancel a taken request: got %+v, %v", got, err)
		}
		if p, err := db.HelpTaker(ctx, got); err != nil || p.ID != hung.ID {
			t.Errorf("HelpTaker: got %+v, %v, want %d", p, err, hung.ID)
		}
		if _, err := db.CloseHelpRequest(ctx, taken.Code, hung.ID, "xong"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("closing a cancelled request: got %v, want ECONFLICT", err)
		}

		// A closed request cannot be cancelled.
		done := mk("res-c", time.Hour)
		if _, err := db.CloseHelpRequest(ctx, done.Code, hung.ID, "xong"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.CancelHelpRequest(ctx, done.Code, "res-c"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT || got.Status != cnsbot.HelpClosed {
			t.Errorf("cancelling a closed request: got %+v, %v, want ECONFLICT", got, err)
		}
	})
}
