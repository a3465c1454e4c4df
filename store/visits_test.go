package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

func TestHouseholdKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nhà ông Năm", "ong nam"},
		{"ông  Năm!", "ong nam"},
		{"ONG NAM", "ong nam"},
		{"hộ gia đình bà Tư", "ba tu"},
		{"nhà bà Hai, số 12", "ba hai so 12"},
		{"Nhà", "nha"},
		{"...", ""},
	}
	for _, tt := range tests {
		if got := householdKey(tt.in); got != tt.want {
			t.Errorf("householdKey(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// visitSeed is the dataset of the progress tests: the week of Monday
// 23 November 2026 in Cà Mau, for the team of An Xuyên's Ấp 1.
type visitSeed struct {
	loc       *time.Location
	weekStart time.Time
	team      cnsbot.Team
	hung, mai cnsbot.Person
}

func seedVisits(t *testing.T, db *DB) visitSeed {
	t.Helper()
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	s := visitSeed{loc: loc, weekStart: time.Date(2026, 11, 23, 0, 0, 0, 0, loc), team: seedRoster(t, db)}
	s.hung, _, _ = db.PersonByPhone(ctx, "0912345678")
	s.mai, _, _ = db.PersonByPhone(ctx, "0987654321")
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, loc) }
	visits := []cnsbot.Visit{
		{PersonID: s.hung.ID, Household: "nhà ông Năm", Minutes: 30, VisitedAt: at(23, 8, 30), SourceEvent: "v1", Areas: "vneid,dvc", People: 2},
		{PersonID: s.hung.ID, Household: "Ông Năm", Minutes: 20, VisitedAt: at(23, 15, 0), SourceEvent: "v2"},
		// 23:30 and 00:30 local are the same UTC day but two local days.
		{PersonID: s.hung.ID, Household: "bà Tư Lành", Minutes: 45, VisitedAt: at(25, 23, 30), SourceEvent: "v3"},
		{PersonID: s.hung.ID, Household: "Nhà bà Hai", Minutes: 25, VisitedAt: at(26, 0, 30), SourceEvent: "v4"},
		// Outside the week on both sides (the end is exclusive).
		{PersonID: s.hung.ID, Household: "ông Sáu", Minutes: 60, VisitedAt: at(22, 23, 0), SourceEvent: "v5"},
		{PersonID: s.hung.ID, Household: "bà Bảy", Minutes: 10, VisitedAt: at(30, 0, 0), SourceEvent: "v6"},
		// Another member, the same household, reported late and dated earlier.
		{PersonID: s.mai.ID, Household: "ONG NAM", Minutes: 15, VisitedAt: at(21, 9, 0), SourceEvent: "v7"},
	}
	for i := range visits {
		v := visits[i]
		v.TeamID = s.team.ID
		created, err := db.RecordVisit(ctx, &v)
		if err != nil || !created {
			t.Fatalf("visit %s: created %v, %v", v.SourceEvent, created, err)
		}
	}
	return s
}

func TestDomainRecordVisit(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s := seedVisits(t, db)

		// The same event again records nothing and returns the stored visit.
		v := cnsbot.Visit{PersonID: s.hung.ID, TeamID: s.team.ID, Household: "something else", SourceEvent: "v1"}
		created, err := db.RecordVisit(ctx, &v)
		if err != nil || created || v.Household != "nhà ông Năm" || v.HamletID != s.team.HamletID || v.Areas != "vneid,dvc" {
			t.Errorf("repeat: got %v, %+v, %v", created, v, err)
		}
		var visits, households int64
		db.orm.Model(&cnsbot.Visit{}).Count(&visits)
		db.orm.Model(&Household{}).Count(&households)
		if visits != 7 || households != 5 {
			t.Errorf("got %d visits and %d households, want 7 and 5", visits, households)
		}

		var h Household
		if err := db.orm.Where("team_id = ? AND label = ?", s.team.ID, "Ông Năm").Take(&h).Error; err != nil {
			t.Fatalf("household of ông Năm: %v", err)
		}
		wantFirst := time.Date(2026, 11, 21, 9, 0, 0, 0, s.loc)
		wantLast := time.Date(2026, 11, 23, 15, 0, 0, 0, s.loc)
		if h.Key != "ong nam" || h.Visits != 3 || !h.FirstGuidedAt.Equal(wantFirst) || !h.LastVisitAt.Equal(wantLast) {
			t.Errorf("household: got key %q, %d visits, first %v, last %v; want ong nam, 3, %v, %v",
				h.Key, h.Visits, h.FirstGuidedAt, h.LastVisitAt, wantFirst, wantLast)
		}

		for _, bad := range []cnsbot.Visit{
			{PersonID: s.hung.ID, TeamID: s.team.ID, Household: " ... "},
			{PersonID: s.hung.ID, Household: "ông Tám"},
		} {
			if _, err := db.RecordVisit(ctx, &bad); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("RecordVisit(%+v): got %v, want EINVALID", bad, err)
			}
		}
		if _, err := db.RecordVisit(ctx, &cnsbot.Visit{PersonID: s.hung.ID, TeamID: 999999, Household: "x"}); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("missing team: got %v, want ENOTFOUND", err)
		}
	})
}

func TestDomainProgress(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s := seedVisits(t, db)

		guided, total, err := db.TeamProgress(ctx, s.team.ID)
		if err != nil || guided != 5 || total != 612 {
			t.Errorf("TeamProgress: got %d/%d, %v, want 5/612", guided, total, err)
		}
		if _, _, err := db.TeamProgress(ctx, 999999); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("missing team: got %v, want ENOTFOUND", err)
		}

		tests := []struct {
			name          string
			person        cnsbot.Person
			start         time.Time
			days, minutes int
		}{
			{"local days", s.hung, s.weekStart, 3, 120},
			// The week counted in UTC: Wednesday night and Thursday
			// morning fall on one day, and Monday the 30th 00:00 local is
			// Sunday 17:00 UTC, inside.
			{"utc days", s.hung, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 3, 130},
			{"previous week", s.hung, s.weekStart.AddDate(0, 0, -7), 1, 60},
			{"other member", s.mai, s.weekStart.AddDate(0, 0, -7), 1, 15},
			{"no visits", s.mai, s.weekStart, 0, 0},
		}
		for _, tt := range tests {
			days, minutes, err := db.MemberWeek(ctx, tt.person.ID, tt.start)
			if err != nil || days != tt.days || minutes != tt.minutes {
				t.Errorf("%s: MemberWeek: got %d days %d minutes, %v, want %d and %d",
					tt.name, days, minutes, err, tt.days, tt.minutes)
			}
		}

		recent, err := db.RecentHouseholds(ctx, s.hung.ID, 3)
		if want := []string{"bà Bảy", "Nhà bà Hai", "bà Tư Lành"}; err != nil || !slices.Equal(recent, want) {
			t.Errorf("RecentHouseholds: got %q, %v, want %q", recent, err, want)
		}
		recent, _ = db.RecentHouseholds(ctx, s.hung.ID, 10)
		if want := []string{"bà Bảy", "Nhà bà Hai", "bà Tư Lành", "Ông Năm", "ông Sáu"}; !slices.Equal(recent, want) {
			t.Errorf("RecentHouseholds(10): got %q, want %q", recent, want)
		}
		if recent, _ := db.RecentHouseholds(ctx, s.mai.ID, 0); len(recent) != 0 {
			t.Errorf("RecentHouseholds(0): got %q", recent)
		}
	})
}

func TestDomainLastActivity(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s := seedVisits(t, db)
		// Mai links Zalo now; Phúc links but never reported.
		if err := db.LinkZalo(ctx, s.mai.ID, "z-mai"); err != nil {
			t.Fatal(err)
		}
		phuc, _, _ := db.PersonByPhone(ctx, "0903112233")
		before := time.Now().Add(-time.Second)
		if err := db.LinkZalo(ctx, phuc.ID, "z-phuc"); err != nil {
			t.Fatal(err)
		}
		last, err := db.LastActivity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]time.Time{
			s.hung.ID: time.Date(2026, 11, 30, 0, 0, 0, 0, s.loc),
			s.mai.ID:  time.Date(2026, 11, 21, 9, 0, 0, 0, s.loc),
		}
		for id, w := range want {
			if !last[id].Equal(w) {
				t.Errorf("person %d: got %v, want %v", id, last[id], w)
			}
		}
		if got, ok := last[phuc.ID]; !ok || got.Before(before) {
			t.Errorf("member who never reported: got %v, %v, want their link time", got, ok)
		}
		if len(last) != 3 {
			t.Errorf("got %d people, want 3 (only linked members and leaders): %v", len(last), last)
		}
	})
}

func TestDomainVisitsConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		hung, _, _ := db.PersonByPhone(ctx, "0912345678")
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// Two deliveries of each event, all for one household.
				v := cnsbot.Visit{PersonID: hung.ID, TeamID: team.ID, Household: "nhà ông Chín", Minutes: 10,
					SourceEvent: fmt.Sprintf("c%d", i/2)}
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Errorf("visit %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var h Household
		if err := db.orm.Where("team_id = ? AND label = ?", team.ID, "nhà ông Chín").Take(&h).Error; err != nil {
			t.Fatal(err)
		}
		if h.Visits != n/2 {
			t.Errorf("household visits: got %d, want %d", h.Visits, n/2)
		}
		if guided, _, _ := db.TeamProgress(ctx, team.ID); guided != 1 {
			t.Errorf("guided: got %d, want 1", guided)
		}
	})
}

func TestDomainTeamVisits(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s := seedVisits(t, db)
		// A visit of Ấp 2's team in the same week is not Ấp 1's.
		tuan, _, err := db.PersonByPhone(ctx, "0355678901")
		if err != nil {
			t.Fatal(err)
		}
		teams, err := db.TeamsOfHamlet(ctx, findHamlet(t, db, "An Xuyên", "Ấp 2").ID)
		if err != nil || len(teams) == 0 {
			t.Fatalf("teams of Ấp 2: %v %v", teams, err)
		}
		other := cnsbot.Visit{PersonID: tuan.ID, TeamID: teams[0].ID, Household: "nhà ông Ba", Minutes: 20,
			VisitedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, s.loc), SourceEvent: "v8"}
		if _, err := db.RecordVisit(ctx, &other); err != nil {
			t.Fatal(err)
		}

		at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, s.loc) }
		tests := []struct {
			name     string
			team     int64
			from, to time.Time
			want     []string // source events, in order
		}{
			{"the week", s.team.ID, s.weekStart, s.weekStart.AddDate(0, 0, 7), []string{"v1", "v2", "v3", "v4"}},
			// Mai's late report dated the 21st comes before Hùng's of the 22nd.
			{"previous week", s.team.ID, s.weekStart.AddDate(0, 0, -7), s.weekStart, []string{"v7", "v5"}},
			// The start is inclusive and the end exclusive: Monday the 30th
			// at 00:00 is in the next week only.
			{"next week", s.team.ID, s.weekStart.AddDate(0, 0, 7), s.weekStart.AddDate(0, 0, 14), []string{"v6"}},
			// Bounds in UTC select the same instants.
			{"bounds in UTC", s.team.ID, at(23, 15).UTC(), at(26, 0).UTC(), []string{"v2", "v3"}},
			{"another team", teams[0].ID, s.weekStart, s.weekStart.AddDate(0, 0, 7), []string{"v8"}},
			{"empty window", s.team.ID, at(24, 0), at(25, 0), nil},
			{"no such team", 999999, s.weekStart, s.weekStart.AddDate(0, 0, 7), nil},
		}
		for _, tt := range tests {
			visits, err := db.TeamVisits(ctx, tt.team, tt.from, tt.to)
			if err != nil {
				t.Errorf("%s: TeamVisits: %v", tt.name, err)
				continue
			}
			var got []string
			for _, v := range visits {
				got = append(got, v.SourceEvent)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: TeamVisits: got %q, want %q", tt.name, got, tt.want)
			}
		}

		// The rows are whole: what "#tuan" sums comes back as recorded.
		visits, err := db.TeamVisits(ctx, s.team.ID, s.weekStart, s.weekStart.AddDate(0, 0, 1))
		if err != nil || len(visits) != 2 {
			t.Fatalf("Monday: got %d visits, %v, want 2", len(visits), err)
		}
		v := visits[0]
		if v.PersonID != s.hung.ID || v.Household != "nhà ông Năm" || v.HouseholdKey != "ong nam" || v.Minutes != 30 ||
			v.People != 2 || v.Areas != "vneid,dvc" || !v.VisitedAt.Equal(at(23, 8).Add(30*time.Minute)) {
			t.Errorf("first visit of the week: got %+v", v)
		}
	})
}
