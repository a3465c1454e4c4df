package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TestCommunesPeopleCountsPeopleOnce: a person on a team of each of two
// communes is one member of the two together, and one active member when
// they reported in both; each commune alone counts them too, as its own
// figures do. From the rollups (Vietnam's quarters) and from the visits
// (another zone's).
func TestCommunesPeopleCountsPeopleOnce(t *testing.T) {
	ctx := context.Background()
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			var communes, teams []int64
			for i, n := range []string{"Xã Một", "Xã Hai", "Xã Ba"} {
				c := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: n, Folded: fmt.Sprintf("xa %d", i)}
				create(t, db, &c)
				h := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp " + n, Folded: fmt.Sprintf("ap %d", i), ParentID: &c.ID, Households: 10}
				create(t, db, &h)
				tm := cnsbot.Team{HamletID: h.ID, Name: "Tổ " + n, Code: fmt.Sprintf("PPL%d", i)}
				create(t, db, &tm)
				communes, teams = append(communes, c.ID), append(teams, tm.ID)
			}
			// Both is on the teams of Xã Một and Xã Hai and reports in both
			// in 2025Q3; One and Two on one team each, Two reporting in
			// 2025Q4; Waiting is not approved; Three is in Xã Ba.
			var people int
			person := func(name string, approved bool, team ...int64) int64 {
				people++
				p := cnsbot.Person{FullName: name, Phone: fmt.Sprintf("+849140000%02d", people)}
				create(t, db, &p)
				for _, id := range team {
					create(t, db, &cnsbot.Role{PersonID: p.ID, Role: cnsbot.RoleMember, UnitID: communes[0], TeamID: &id, Approved: approved})
				}
				return p.ID
			}
			both := person("Both", true, teams[0], teams[1])
			person("One", true, teams[0])
			two := person("Two", true, teams[1])
			person("Waiting", false, teams[0])
			three := person("Three", true, teams[2])
			loc := calendarLoc(t)
			visit := func(who, team int64, at time.Time) {
				if _, err := db.RecordVisit(ctx, &cnsbot.Visit{PersonID: who, TeamID: team, Household: fmt.Sprint("hộ ", who, team),
					Areas: "vneid", People: 1, Minutes: 15, VisitedAt: at, SourceEvent: fmt.Sprint("ppl-", who, "-", team, at.Unix())}); err != nil {
					t.Fatal(err)
				}
			}
			q3 := time.Date(2025, 8, 2, 10, 0, 0, 0, loc)
			visit(both, teams[0], q3)
			visit(both, teams[1], q3)
			visit(two, teams[1], time.Date(2025, 11, 2, 10, 0, 0, 0, loc))
			visit(three, teams[2], q3)
			quarters := []string{"2025Q4", "2025Q3"}
			for _, loc := range []*time.Location{loc, time.FixedZone("UTC+8", 8*3600)} {
				for _, c := range []struct {
					communes         []int64
					members          int
					active3, active4 int
				}{
					{communes[:2], 3, 1, 1},
					{communes[:1], 2, 1, 0},
					{communes[1:2], 2, 1, 1},
				} {
					got, err := db.CommunesPeople(ctx, c.communes, quarters, loc)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != 2 || got[0].Quarter != "2025Q4" || got[1].Quarter != "2025Q3" {
						t.Fatalf("%s: communes %v: got %+v, want 2025Q4 then 2025Q3", loc, c.communes, got)
					}
					if got[0].Members != c.members || got[1].Members != c.members ||
						got[0].ActiveMembers != c.active4 || got[1].ActiveMembers != c.active3 {
						t.Errorf("%s: communes %v: %d/%d members, %d active in Q4 and %d in Q3; want %d, %d and %d", loc, c.communes,
							got[0].Members, got[1].Members, got[0].ActiveMembers, got[1].ActiveMembers, c.members, c.active4, c.active3)
					}
					if len(c.communes) != 1 {
						continue
					}
					own, err := db.CommuneFiguresQuarters(ctx, c.communes[0], quarters, loc)
					if err != nil {
						t.Fatal(err)
					}
					for i := range own {
						if own[i].Members != got[i].Members || own[i].ActiveMembers != got[i].ActiveMembers {
							t.Errorf("%s: commune %d in %s: its figures %d members, %d active; CommunesPeople %d, %d", loc, c.communes[0],
								quarters[i], own[i].Members, own[i].ActiveMembers, got[i].Members, got[i].ActiveMembers)
						}
					}
				}
			}
		})
	}
}

// create inserts one row, failing the test if it cannot.
func create[T store.Row](t *testing.T, db *store.DB, row *T) {
	t.Helper()
	if err := store.Insert(context.Background(), db, row); err != nil {
		t.Fatalf("insert %T: %v", row, err)
	}
}
