package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
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
			lw := listedWorld(t, db, loc)
			teams = append(teams, lw.teams...)
			quarters := []string{"2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"}
			check := func(when string) {
				t.Helper()
				lw.check(t, when, quarters)
				figuresAgree(t, db, loc, when, quarters, teams,
					[][]int64{teams, teams[:1], teams[1:], lw.teams, lw.teams[1:], {teams[0], lw.teams[0]}})
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
			// A household a member added, confirmed by the leader: its
			// visits count from now on.
			if err := db.ConfirmHousehold(ctx, lw.hamlet, lw.pending); err != nil {
				t.Fatal(err)
			}
			check("after hộ mới confirmed")
			communeCheck("after hộ mới confirmed")
			areaCheck("after hộ mới confirmed")
			// A list imported again with a household that typed visits of
			// both teams match: they are linked to it.
			lw.importList(t, "Tân Lộc Mới")
			if n := lw.typed(t, "so 99 tan loc moi"); n != 0 {
				t.Fatalf("%d visits still typed as the household the second import added, want them linked", n)
			}
			check("after a second import linked old visits")
			communeCheck("after a second import linked old visits")
			areaCheck("after a second import linked old visits")
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

// figuresAgree checks, for each quarter, the report's figures of teams
// and the figures of each set of teams from the rollups against those
// counted from the visits.
func figuresAgree(t *testing.T, db *store.DB, loc *time.Location, when string, quarters []string, teams []int64, sets [][]int64) {
	t.Helper()
	ctx := context.Background()
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
		for _, ids := range sets {
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

// listedHamlet is a hamlet with a household list and two teams, built on
// rollupWorld's commune.
type listedHamlet struct {
	db      *store.DB
	loc     *time.Location
	hamlet  int64
	teams   []int64
	people  []int64 // a member of each team
	pending int64
	list    string
}

// listedWorld adds to rollupWorld's commune "Ấp RL", with two teams whose
// members typed households before the hamlet had a list (some of which
// the import links), then 160 visits in random order, through RecordVisit
// and Insert: naming listed households (one guided by both teams), one a
// member added and the leader has not confirmed, and typed ones that
// match nothing.
func listedWorld(t *testing.T, db *store.DB, loc *time.Location) *listedHamlet {
	t.Helper()
	ctx := context.Background()
	communes, err := db.Communes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var commune int64
	for _, c := range communes {
		if c.Name == "Xã Rollup" {
			commune = c.ID
		}
	}
	h := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp RL", Folded: "ap rl", ParentID: &commune, Households: 300}
	if err := store.Insert(ctx, db, &h); err != nil {
		t.Fatal(err)
	}
	w := &listedHamlet{db: db, loc: loc, hamlet: h.ID}
	var people []int64
	for i := range 2 {
		tm := cnsbot.Team{HamletID: h.ID, Name: fmt.Sprintf("Tổ RL%c", 'A'+i), Code: fmt.Sprintf("ROLLL%d", i)}
		if err := store.Insert(ctx, db, &tm); err != nil {
			t.Fatal(err)
		}
		w.teams = append(w.teams, tm.ID)
		p := cnsbot.Person{FullName: fmt.Sprintf("Người RL%d", i), Phone: fmt.Sprintf("+8491310000%d", i)}
		if err := store.Insert(ctx, db, &p); err != nil {
			t.Fatal(err)
		}
		people = append(people, p.ID)
		if err := store.Insert(ctx, db, &cnsbot.Role{PersonID: p.ID, Role: cnsbot.RoleMember, UnitID: commune,
			TeamID: &tm.ID, Approved: true}); err != nil {
			t.Fatal(err)
		}
	}
	w.people = people
	r := rand.New(rand.NewPCG(16, 10))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	span := time.Date(2026, 4, 1, 0, 0, 0, 0, loc).Sub(start)
	at := func() time.Time { return start.Add(time.Duration(r.Int64N(int64(span)))) }
	n := 0
	visit := func(team int, household string, listed *int64) cnsbot.Visit {
		n++
		return cnsbot.Visit{PersonID: people[team], TeamID: w.teams[team], Household: household, ListedHouseholdID: listed,
			Areas: "vneid", People: 1, Minutes: 15, VisitedAt: at(), SourceEvent: fmt.Sprintf("rl-%d", n)}
	}
	record := func(v cnsbot.Visit) {
		t.Helper()
		if _, err := db.RecordVisit(ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	// Before the list: typed households, some the import will link
	// ("số 3" is one listed household), some not ("ông Tám" is none;
	// "số 99 Tân Lộc Mới" is one only after a second import).
	for i := range 12 {
		record(visit(i%2, []string{"số 3", "ông Tám", "số 99 Tân Lộc Mới", "bà Chín"}[i%4], nil))
	}
	w.list = "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ\n"
	for i := 1; i <= 10; i++ {
		w.list += fmt.Sprintf("Xã Rollup,Ấp RL,%d,Nguyễn Văn Hộ%c\n", i, 'A'+i)
	}
	w.importList(t, "")
	if n := w.typed(t, "so 3"); n != 0 {
		t.Fatalf("%d visits still typed as “số 3”, want them linked to the listed household", n)
	}
	added, err := db.AddHousehold(ctx, h.ID, "12 Ông Mười Hai", people[0])
	if err != nil {
		t.Fatal(err)
	}
	w.pending = added.ID
	ids := []int64{added.ID}
	for i := 1; i <= 10; i++ {
		l, err := db.MatchHouseholds(ctx, h.ID, fmt.Sprint(i))
		if err != nil || len(l) != 1 {
			t.Fatalf("household %d: %v, %v", i, l, err)
		}
		ids = append(ids, l[0].ID)
	}
	for i := range 160 {
		team := r.IntN(2)
		switch {
		case i%5 == 0:
			record(visit(team, "ông Tám", nil))
		case i%7 == 0:
			// Straight in, as the generator writes: the rollups still see it.
			id := ids[r.IntN(len(ids))]
			v := visit(team, "Nhà", &id)
			v.HamletID, v.HouseholdKey = h.ID, fmt.Sprintf("ds:%d", id)
			v.VisitedAt = v.VisitedAt.UTC()
			if err := store.Insert(ctx, db, &v); err != nil {
				t.Fatal(err)
			}
		default:
			id := ids[r.IntN(len(ids))]
			record(visit(team, "Nhà", &id))
		}
	}
	return w
}

// importList imports the hamlet's list, with one more household when
// extra names its head.
func (w *listedHamlet) importList(t *testing.T, extra string) {
	t.Helper()
	list := w.list
	if extra != "" {
		list += "Xã Rollup,Ấp RL,99," + extra + "\n"
	}
	if rep, err := w.db.ImportHouseholds(context.Background(), strings.NewReader(list), "ho.csv"); err != nil {
		t.Fatal(err, rep.Errors)
	}
}

// typed counts the hamlet's visits still typed as key.
func (w *listedHamlet) typed(t *testing.T, key string) int {
	t.Helper()
	sqlDB, err := w.db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := sqlDB.QueryRow(`SELECT COUNT(*) FROM visits WHERE hamlet_id = $1 AND household_key = $2`, w.hamlet, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// check compares the hamlet's figures from the rollups with those counted
// from the visits, and the dashboard's progress and "tiến độ" with them.
func (w *listedHamlet) check(t *testing.T, when string, quarters []string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range quarters {
		got, err := w.db.ReportHamletFigures(ctx, []int64{w.hamlet}, q, w.loc)
		if err != nil {
			t.Fatal(err)
		}
		want, err := w.db.CountedReportHamletFigures(ctx, []int64{w.hamlet}, q, w.loc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: hamlet figures of %s:\n got %+v\nwant %+v", when, q, got, want)
		}
	}
	last := quarters[len(quarters)-1]
	all, err := w.db.CountedReportHamletFigures(ctx, []int64{w.hamlet}, last, w.loc)
	if err != nil {
		t.Fatal(err)
	}
	teams, err := w.db.CountedReportFigures(ctx, w.teams, last, w.loc)
	if err != nil {
		t.Fatal(err)
	}
	h := all[w.hamlet]
	a, b := teams[w.teams[0]], teams[w.teams[1]]
	if h.ListedHamlets != 1 || h.GuidedToDate == 0 || h.Unmatched == 0 || a.ListedHamlets != 1 ||
		h.GuidedToDate >= a.GuidedToDate+b.GuidedToDate || h.Unmatched != a.Unmatched+b.Unmatched {
		t.Errorf("%s: hamlet %+v, teams %+v and %+v: want a listed hamlet whose teams guided some household both, and typed ones",
			when, h, a, b)
	}
	progress, err := w.db.HamletProgress(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range progress {
		if p.ID == w.hamlet && (p.Guided != h.GuidedToDate || p.Households != h.Households) {
			t.Errorf("%s: dashboard progress %d/%d, report's hamlet %d/%d", when, p.Guided, p.Households, h.GuidedToDate, h.Households)
		}
	}
	for _, id := range w.teams {
		guided, households, err := w.db.TeamProgress(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if guided != teams[id].GuidedToDate || households != h.Households {
			t.Errorf("%s: team %d's tiến độ %d/%d, report's row %d/%d", when, id, guided, households,
				teams[id].GuidedToDate, h.Households)
		}
	}
}
