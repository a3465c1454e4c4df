package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// BenchmarkProvinceReport builds the current quarter's report of a
// generated province with a province's teams and members (64 communes,
// 1,500 hamlets with a team each, 7,500 members; 150,000 visits, a tenth
// of a year's, as the people counted depend on the members, not on the
// visits), on Postgres (TEST_DATABASE_URL or the local server; failed under
// CI without one). People times ReportPeople alone: the subtotals' and the
// total's distinct members, from the rollups; CommunesPeople the
// dashboard's for an officer of all 64 communes. Generating takes ~15 s.
func BenchmarkProvinceReport(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.PostgresURL(b), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	spec := store.ProvinceSpec{Communes: 64, Hamlets: 1500, Members: 5, Visits: 150_000, HelpRequests: 7_000, Now: now}
	if _, err := db.GenerateProvince(ctx, spec, nil); err != nil {
		b.Fatal(err)
	}
	loc := vietnam(b)
	q := calendar.Quarter(now.In(loc))
	b.Run("People", func(b *testing.B) {
		for b.Loop() {
			if _, all, err := db.ReportPeople(ctx, 0, q, loc); err != nil || all.Members != 7500 {
				b.Fatalf("members %d, %v; want 7500", all.Members, err)
			}
		}
	})
	// An officer of every commune, as the worst case of one of several:
	// the dashboard's four quarters of distinct members at once.
	communes, err := db.Communes(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(communes))
	for i, c := range communes {
		ids[i] = c.ID
	}
	start, _, _ := calendar.QuarterBounds(q, loc)
	quarters := []string{q, calendar.Quarter(start.AddDate(0, -3, 0)), calendar.Quarter(start.AddDate(0, -6, 0)),
		calendar.Quarter(start.AddDate(0, -9, 0))}
	b.Run("CommunesPeople", func(b *testing.B) {
		for b.Loop() {
			if fs, err := db.CommunesPeople(ctx, ids, quarters, loc); err != nil || fs[0].Members != 7500 {
				b.Fatalf("%+v, %v; want 7500 members", fs, err)
			}
		}
	})
	b.Run("Build", func(b *testing.B) {
		for b.Loop() {
			if _, err := report.Build(ctx, db, q, "", loc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
