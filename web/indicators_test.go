package web

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TestIndicatorsCountPeopleOnceAcrossCommunes: an officer of two communes
// sees a person on a team of each, who reported in both, as one active
// member, as each commune alone does. The quarter is one before the
// demo's first reports, so that person is its only active member.
func TestIndicatorsCountPeopleOnceAcrossCommunes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	officer, _, err := f.db.PersonByPhone(ctx, "+84900009001")
	if err != nil {
		t.Fatal(err)
	}
	create(t, f.db, &cnsbot.Role{PersonID: officer.ID, Role: cnsbot.RoleCommuneOfficer, UnitID: f.anXuyen.ID, Approved: true})
	both := cnsbot.Person{FullName: "Người Hai Xã", Phone: "+84914000099"}
	create(t, f.db, &both)
	at := time.Date(2026, 5, 10, 9, 0, 0, 0, f.d.cfg.Location)
	for _, c := range []cnsbot.Unit{f.tanThanh, f.anXuyen} {
		team := teamOf(t, f.db, c.ID)
		create(t, f.db, &cnsbot.Role{PersonID: both.ID, Role: cnsbot.RoleMember, UnitID: team.HamletID, TeamID: &team.ID, Approved: true})
		if _, err := f.db.RecordVisit(ctx, &cnsbot.Visit{PersonID: both.ID, TeamID: team.ID, Household: "Nhà bà Tư", Areas: "vneid",
			People: 1, Minutes: 20, VisitedAt: at, SourceEvent: "two-communes-" + c.Name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"", "?commune=" + strconv.FormatInt(f.tanThanh.ID, 10), "?commune=" + strconv.FormatInt(f.anXuyen.ID, 10)} {
		_, b := f.do(t, "GET", "/admin/api/indicators"+path, auth0{bearer: f.officer}, "")
		ind := decode[indicators](t, b)
		q := slices.Index(ind.Quarters, "2026Q2")
		r := slices.IndexFunc(ind.Rows, func(r indicatorRow) bool { return r.Key == "active" })
		if q < 0 || r < 0 {
			t.Fatalf("indicators%s: no 2026Q2 or no active row: %s", path, b)
		}
		if got := ind.Rows[r].Values[q]; got != 1 {
			t.Errorf("indicators%s: %d active members in 2026Q2, want 1 (one person in two communes)", path, got)
		}
	}
}

// create inserts one row, failing the test if it cannot.
func create[T store.Row](t *testing.T, db *store.DB, row *T) {
	t.Helper()
	if err := store.Insert(context.Background(), db, row); err != nil {
		t.Fatalf("insert %T: %v", row, err)
	}
}

// teamOf returns a team of a commune.
func teamOf(t *testing.T, db *store.DB, communeID int64) cnsbot.Team {
	t.Helper()
	hamlets, err := db.Hamlets(context.Background(), communeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hamlets {
		if teams, err := db.TeamsOfHamlet(context.Background(), h.ID); err == nil && len(teams) > 0 {
			return teams[0]
		}
	}
	t.Fatalf("commune %d has no team", communeID)
	return cnsbot.Team{}
}
