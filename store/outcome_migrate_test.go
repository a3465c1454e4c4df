package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestOutcomeMigrationStoresCodes: requests closed with the button before
// outcomes were codes carry its label, in Vietnamese or English; the
// upgrade turns both into the code and empties the help visits' notes
// that repeated it, and leaves typed outcomes and notes as written. The
// next migration fills the per-area households from the visits already
// stored.
func TestOutcomeMigrationStoresCodes(t *testing.T) {
	for _, dialect := range domainDialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var url, dir string
			if dialect == DialectPostgres {
				url = storetest.PostgresURL(t)
			} else {
				dir = t.TempDir()
			}
			db, err := Open(ctx, url, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			i := slices.IndexFunc(migrations, func(m *gormigrate.Migration) bool { return m.ID == "2026121020_help_outcome_codes" })
			if i < 0 {
				t.Fatal("the outcome migration is not in the list")
			}
			if err := db.migrate(ctx, migrations[:i]); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			outcomes := map[string]string{"HTOLDVI1": "Đã làm được", "HTOLDEN1": "It worked", "HTTYPED1": "Cài xong, đã làm được rồi"}
			for code, o := range outcomes {
				if err := db.orm.Exec(`INSERT INTO help_requests (code, resident_user_id, status, outcome, source_event, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, code, "r-"+code, cnsbot.HelpClosed, o, "ev-"+code, now, now).Error; err != nil {
					t.Fatal(err)
				}
				if err := db.orm.Exec(`INSERT INTO visits (person_id, team_id, hamlet_id, household, household_key, areas, people, minutes,
						note, help_code, visited_at, source_event, created_at, updated_at)
					VALUES (1, 1, 7, ?, ?, 'vneid,dvc', 1, 30, ?, ?, ?, ?, ?, ?)`,
					"Nhà "+code, "nha "+code, o, code, now, "visit-"+code, now, now).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"HTOLDVI1": cnsbot.OutcomeDone, "HTOLDEN1": cnsbot.OutcomeDone, "HTTYPED1": outcomes["HTTYPED1"]}
			for code, w := range want {
				r, err := db.HelpRequestByCode(ctx, code)
				if err != nil || r.Outcome != w {
					t.Errorf("%s: outcome %q %v, want %q", code, r.Outcome, err, w)
				}
				var note string
				if err := db.orm.Raw(`SELECT note FROM visits WHERE help_code = ?`, code).Scan(&note).Error; err != nil {
					t.Fatal(err)
				}
				if wantNote := map[bool]string{true: "", false: w}[w == cnsbot.OutcomeDone]; note != wantNote {
					t.Errorf("%s: visit note %q, want %q", code, note, wantNote)
				}
			}
			var rows []struct {
				Area string
				N    int64
			}
			if err := db.orm.Raw(`SELECT area, COUNT(*) AS n FROM rollup_area_households WHERE hamlet_id = 7 GROUP BY area`).
				Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			n := map[string]int64{}
			for _, r := range rows {
				n[r.Area] = r.N
			}
			if n["vneid"] != 3 || n["dvc"] != 3 || len(n) != 2 {
				t.Errorf("area households after the upgrade: %v, want 3 in vneid and dvc", n)
			}
		})
	}
}
