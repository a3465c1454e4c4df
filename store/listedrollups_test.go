package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// The listed counters count a household once however the visits naming
// it race: the two teams of a listed hamlet report the same household at
// the same moment (late reports for earlier quarters among them), and a
// leader confirms a "hộ mới" while visits name it. On Postgres the
// transactions overlap for real; each figure is checked against counting
// the visits.
func TestListedCountersConcurrent(t *testing.T) {
	ctx := context.Background()
	loc := calendarLoc(t)
	quarters := []string{"2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"}
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			rollupWorld(t, db, loc)
			lw := listedWorld(t, db, loc)
			for i := 21; i <= 50; i++ {
				lw.list += fmt.Sprintf("Xã Rollup,Ấp RL,%d,Trần Văn Hộ%d\n", i, i)
			}
			lw.importList(t, "")
			r := rand.New(rand.NewPCG(19, 19))
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
			span := time.Date(2026, 4, 1, 0, 0, 0, 0, loc).Sub(start)
			n := 0
			visit := func(team int, id int64) cnsbot.Visit {
				n++
				return cnsbot.Visit{PersonID: lw.people[team], TeamID: lw.teams[team], Household: "Nhà", ListedHouseholdID: &id,
					Areas: "vneid", People: 1, Minutes: 15, VisitedAt: start.Add(time.Duration(r.Int64N(int64(span)))),
					SourceEvent: fmt.Sprintf("race-%d", n)}
			}
			// race runs the writes at once and fails on any error: a
			// deadlock or a duplicate key would be one.
			race := func(writes ...func() error) {
				t.Helper()
				var wg sync.WaitGroup
				errs := make(chan error, len(writes))
				ready := make(chan struct{})
				for _, w := range writes {
					wg.Go(func() {
						<-ready
						errs <- w()
					})
				}
				close(ready)
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			record := func(v cnsbot.Visit) func() error {
				return func() error { _, err := db.RecordVisit(ctx, &v); return err }
			}
			insert := func(v cnsbot.Visit) func() error {
				return func() error {
					v.HamletID, v.HouseholdKey, v.VisitedAt = lw.hamlet, fmt.Sprintf("ds:%d", *v.ListedHouseholdID), v.VisitedAt.UTC()
					return store.Insert(ctx, db, &v)
				}
			}
			for i := 21; i <= 50; i++ {
				l, err := db.MatchHouseholds(ctx, lw.hamlet, fmt.Sprint(i))
				if err != nil || len(l) != 1 {
					t.Fatalf("household %d: %v, %v", i, l, err)
				}
				id := l[0].ID
				// RecordVisit's first visit to a household holds its row
				// (markGuided) and would queue the others: most come
				// straight in, as the generator writes.
				race(insert(visit(0, id)), insert(visit(1, id)), record(visit(0, id)), insert(visit(1, id)))
			}
			added, err := db.AddHousehold(ctx, lw.hamlet, "60 Bà Sáu Mươi", lw.people[1])
			if err != nil {
				t.Fatal(err)
			}
			race(record(visit(0, added.ID)), record(visit(1, added.ID)), record(visit(1, added.ID)),
				func() error { return db.ConfirmHousehold(ctx, lw.hamlet, added.ID) })
			lw.check(t, "after racing visits", quarters)
			figuresAgree(t, db, loc, "after racing visits", quarters, lw.teams, [][]int64{lw.teams, lw.teams[:1], lw.teams[1:]})
			// Every household raced for was guided: by both teams, and
			// once for the hamlet.
			all, err := db.ReportHamletFigures(ctx, []int64{lw.hamlet}, quarters[len(quarters)-1], loc)
			if err != nil {
				t.Fatal(err)
			}
			if h := all[lw.hamlet]; h.GuidedToDate < 31 {
				t.Errorf("hamlet figures %+v: want the 31 households raced for among those guided", h)
			}
		})
	}
}
