package store_test

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// BenchmarkListedProvince measures the figures that follow the rule of
// listedcounts.go on the reduced province of TestProvinceScale with every
// hamlet listed: the generator lists nine hamlets in ten; in the tenth the
// households its visits typed become the list (all but those whose number
// ends in 0, which stay typed and unmatched, as the generator leaves them)
// and the visits name them, then the rollups are rebuilt.
//
//	go test ./store -run '^$' -bench ListedProvince -benchtime 20x
//
// It uses the embedded SQLite, or Postgres when CNSBOT_BENCH_POSTGRES is set.
// CNSBOT_BENCH_DIR keeps the SQLite database there, and a later run reuses
// it (to read the plans with the sqlite3 shell, say).
func BenchmarkListedProvince(b *testing.B) {
	listProvince := []string{
		`INSERT INTO listed_households (hamlet_id, key, address, number, head, pending, created_at, updated_at)
			SELECT hamlet_id, household_key, MIN(household), 0, 'Chủ hộ', false, MIN(created_at), MIN(created_at)
			FROM visits WHERE household_key NOT LIKE '%0' AND hamlet_id NOT IN (SELECT hamlet_id FROM listed_households)
			GROUP BY hamlet_id, household_key`,
		`UPDATE visits SET listed_household_id = (SELECT lh.id FROM listed_households lh
			WHERE lh.hamlet_id = visits.hamlet_id AND lh.key = visits.household_key) WHERE listed_household_id IS NULL`,
		`UPDATE visits SET household_key = 'ds:' || listed_household_id
			WHERE listed_household_id IS NOT NULL AND household_key NOT LIKE 'ds:%'`,
	}
	// After the rebuild below, the planner's statistics are refreshed, as
	// the generator does.
	analyze := "ANALYZE"
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		b.Fatal(err)
	}
	var db *store.DB
	if os.Getenv("CNSBOT_BENCH_POSTGRES") != "" {
		db, err = store.Open(ctx, storetest.PostgresURL(b), "", nil)
	} else if dir := os.Getenv("CNSBOT_BENCH_DIR"); dir != "" {
		db, err = store.Open(ctx, "", dir, nil)
	} else {
		db, err = store.Open(ctx, "", b.TempDir(), nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	_, err = db.GenerateProvince(ctx, store.ReducedProvince(now), nil)
	if cnsbot.ErrorCode(err) == cnsbot.ECONFLICT && os.Getenv("CNSBOT_BENCH_DIR") != "" {
		listProvince = nil // generated and listed by an earlier run
	} else if err != nil {
		b.Fatal(err)
	}
	sqlDB, err := db.SQL()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for _, q := range listProvince {
		if _, err := sqlDB.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if listProvince != nil {
		if err := db.RebuildRollups(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := sqlDB.ExecContext(ctx, analyze); err != nil {
			b.Fatal(err)
		}
		b.Logf("listed every hamlet and rebuilt the rollups in %s", time.Since(start).Round(time.Millisecond))
	}
	communes, err := db.Communes(ctx)
	if err != nil {
		b.Fatal(err)
	}
	teams, err := db.ReportTeams(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var teamIDs, hamletIDs []int64
	for _, t := range teams {
		teamIDs = append(teamIDs, t.ID)
		hamletIDs = append(hamletIDs, t.HamletID)
	}
	q := calendar.Quarter(now.In(loc))
	var qs []string
	s, _, _ := calendar.QuarterBounds(q, loc)
	for i := range 4 {
		qs = append(qs, calendar.Quarter(s.AddDate(0, -3*i, 0)))
	}
	// A sanity check that the rule is at work: the province's households
	// guided are listed ones, and some typed ones are unmatched.
	f, err := db.CommuneFigures(ctx, 0, q, loc)
	if err != nil || f.ListedHamlets != len(hamletIDs) || f.GuidedToDate == 0 || f.Unmatched == 0 {
		b.Fatalf("province figures %+v, %v: want every hamlet listed, households guided and unmatched", f, err)
	}
	// And that the counters agree with counting the visits at this size.
	if want, err := db.CountedFigures(ctx, teamIDs, q, loc); err != nil || !reflect.DeepEqual(f, want) {
		b.Fatalf("province figures from the rollups %+v, counted from the visits %+v, %v", f, want, err)
	}
	for _, p := range []struct {
		name string
		do   func() error
	}{
		{"dashboard progress (HamletProgress, province)", func() error { _, err := db.HamletProgress(ctx, 0); return err }},
		{"dashboard indicators (CommuneFiguresQuarters, province, 4 quarters)", func() error {
			_, err := db.CommuneFiguresQuarters(ctx, 0, qs, loc)
			return err
		}},
		{"commune figures (CommuneFigures)", func() error { _, err := db.CommuneFigures(ctx, communes[0].ID, q, loc); return err }},
		{"report figures (ReportFigures, every team)", func() error { _, err := db.ReportFigures(ctx, teamIDs, q, loc); return err }},
		{"report hamlets (ReportHamletFigures, every hamlet)", func() error {
			_, err := db.ReportHamletFigures(ctx, hamletIDs, q, loc)
			return err
		}},
		{"province officer's báo cáo quý (UnitFigures)", func() error {
			_, err := db.UnitFigures(ctx, *communes[0].ParentID, q, loc)
			return err
		}},
		{"leader's tiến độ (TeamProgress)", func() error { _, _, err := db.TeamProgress(ctx, teamIDs[len(teamIDs)/2]); return err }},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if err := p.do(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
