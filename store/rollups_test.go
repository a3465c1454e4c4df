package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// The rollups agree with counting the visits, whatever order the visits
// arrive in (late reports for an earlier quarter included), whether they
// come through RecordVisit or Insert, and after a rebuild.
func TestRollupsAgreeWithVisits(t *testing.T) {
	ctx := context.Background()
	loc := calendarLoc(t)
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			teams := rollupWorld(t, db, loc)
			quarters := []string{"2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"}
			check := func(when string) {
				t.Helper()
				for _, q := range quarters {
					got, err := db.ReportFigures(ctx, teams, q, loc)
					if err != nil {
						t.Fatal(err)
					}
					want, err := db.CountedReportFigures(ctx, teams, q, loc)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s: report figures of %s:\n got %+v\nwant %+v", when, q, got, want)
					}
					for _, ids := range [][]int64{teams, teams[:1], teams[1:]} {
						got, err := db.Figures(ctx, ids, q, loc)
						if err != nil {
							t.Fatal(err)
						}
						want, err := db.CountedFigures(ctx, ids, q, loc)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, want) {
							t.Errorf("%s: figures of %v in %s:\n got %+v\nwant %+v", when, ids, q, got, want)
						}
					}
				}
			}
			communeCheck := func(when string) {
				t.Helper()
				for _, q := range quarters {
					want, err := db.CountedFigures(ctx, teams, q, loc)
					if err != nil {
						t.Fatal(err)
					}
					for _, id := range []int64{0, communeOf(t, db, teams[0])} {
						all, err := db.CommuneFiguresQuarters(ctx, id, quarters, loc)
						if err != nil {
							t.Fatal(err)
						}
						if i := slices.Index(quarters, q); !reflect.DeepEqual(all[i], want) {
							t.Errorf("%s: commune %d's figures in %s among %v:\n got %+v\nwant %+v", when, id, q, quarters, all[i], want)
						}
						got, err := db.CommuneFigures(ctx, id, q, loc)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, want) {
							t.Errorf("%s: commune %d's figures in %s:\n got %+v\nwant %+v", when, id, q, got, want)
						}
					}
				}
			}
			areaCheck := func(when string) {
				t.Helper()
				rolled, counted, err := db.AreaHouseholdSets(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(counted) == 0 || !slices.Equal(rolled, counted) {
					t.Errorf("%s: area households %d rows, counting the visits gives %d:\n got %v\nwant %v",
						when, len(rolled), len(counted), rolled, counted)
				}
			}
			check("as written")
			communeCheck("as written")
			areaCheck("as written")
			if err := db.RebuildRollups(ctx); err != nil {
				t.Fatal(err)
			}
			check("rebuilt")
			communeCheck("rebuilt")
			areaCheck("rebuilt")
			// A sanity check that the world has something to count.
			f, err := db.QuarterFigures(ctx, teams[0], "2025Q3", loc)
			if err != nil {
				t.Fatal(err)
			}
			if f.Visits == 0 || f.GuidedToDate == 0 || f.ActiveMembers == 0 || len(f.People) == 0 {
				t.Errorf("team 0 in 2025Q3: %+v, want visits, households, members and areas", f)
			}
		})
	}
}

// rollupWorld is three teams, one with a member who also reports for
// another, and 240 visits over five quarters written in random order.
func rollupWorld(t *testing.T, db *store.DB, loc *time.Location) []int64 {
	t.Helper()
	ctx := context.Background()
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Rollup", Folded: "xa rollup"}
	if err := store.Insert(ctx, db, &commune); err != nil {
		t.Fatal(err)
	}
	var teams []int64
	for i := range 3 {
		h := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: fmt.Sprintf("Ấp R%d", i), Folded: fmt.Sprintf("ap r%d", i),
			ParentID: &commune.ID, Households: 50 + i}
		if err := store.Insert(ctx, db, &h); err != nil {
			t.Fatal(err)
		}
		tm := cnsbot.Team{HamletID: h.ID, Name: fmt.Sprintf("Tổ R%d", i), Code: fmt.Sprintf("ROLL%d", i)}
		if err := store.Insert(ctx, db, &tm); err != nil {
			t.Fatal(err)
		}
		teams = append(teams, tm.ID)
	}
	var people []int64
	for i := range 5 {
		p := cnsbot.Person{FullName: fmt.Sprintf("Người R%d", i), Phone: fmt.Sprintf("+8491300000%d", i)}
		if err := store.Insert(ctx, db, &p); err != nil {
			t.Fatal(err)
		}
		people = append(people, p.ID)
		team := teams[i%3]
		if err := store.Insert(ctx, db, &cnsbot.Role{PersonID: p.ID, Role: cnsbot.RoleMember, UnitID: commune.ID,
			TeamID: &team, Approved: true}); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(19, 3))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	span := time.Date(2026, 4, 1, 0, 0, 0, 0, loc).Sub(start)
	areas := []string{"vneid", "dvc", "vneid,dvc", "yte, yte ,", "", "tmdt,vneid"}
	for i := range 240 {
		at := start.Add(time.Duration(r.Int64N(int64(span))))
		if i%17 == 0 {
			// On a quarter's first instant.
			at = time.Date(2025, time.Month(1+3*r.IntN(5)), 1, 0, 0, 0, 0, loc)
		}
		v := cnsbot.Visit{PersonID: people[r.IntN(len(people))], TeamID: teams[r.IntN(len(teams))],
			Household: fmt.Sprintf("Nhà ông %d", r.IntN(30)), Areas: areas[r.IntN(len(areas))],
			People: r.IntN(4), Minutes: 10 * r.IntN(6), VisitedAt: at, SourceEvent: fmt.Sprintf("roll-%d", i)}
		if i%2 == 0 {
			if _, err := db.RecordVisit(ctx, &v); err != nil {
				t.Fatal(err)
			}
			continue
		}
		v.HamletID = 1
		v.HouseholdKey = fmt.Sprintf("ong %d", r.IntN(30))
		v.VisitedAt = v.VisitedAt.UTC()
		if err := store.Insert(ctx, db, &v); err != nil {
			t.Fatal(err)
		}
	}
	return teams
}

// communeOf returns the commune of a team's hamlet.
func communeOf(t *testing.T, db *store.DB, teamID int64) int64 {
	t.Helper()
	team, err := db.Team(context.Background(), teamID)
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Unit(context.Background(), team.HamletID)
	if err != nil || h.ParentID == nil {
		t.Fatalf("hamlet of team %d: %v", teamID, err)
	}
	return *h.ParentID
}
