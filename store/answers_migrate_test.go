package store

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// TestAnswerMigrationStoresCodes: requests made and closed with buttons
// before answers were codes carry the buttons' words, in Vietnamese or
// English; the upgrade turns outcomes and preferred times into codes,
// empties a problem that was its topic's button, and the help visits'
// notes that repeated the outcome, and leaves typed answers as written.
// The next migration fills the per-area households from the visits
// already stored.
func TestAnswerMigrationStoresCodes(t *testing.T) {
	for _, dialect := range domainDialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedBefore(t, dialect, "2026121020_help_answer_codes")
			now := time.Now().UTC()
			outcomes := map[string]string{"HTOLDVI1": "Đã làm được", "HTOLDEN1": "It worked", "HTTYPED1": "Cài xong, đã làm được rồi"}
			type answers struct{ topic, problem, time string }
			old := map[string]answers{
				"HTOLDVI1": {"dvc", "Dịch vụ công", "Buổi sáng"},
				"HTOLDEN1": {"ttkdtm", "Payments, transfers", "Any time"},
				"HTTYPED1": {"khac", "Dịch vụ công", "sau 5 giờ chiều"},
			}
			for code, o := range outcomes {
				a := old[code]
				if err := db.orm.Exec(`INSERT INTO help_requests (code, resident_user_id, status, outcome, topic, problem, preferred_time,
						source_event, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, code, "r-"+code, cnsbot.HelpClosed, o, a.topic, a.problem, a.time,
					"ev-"+code, now, now).Error; err != nil {
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
			wantAnswers := map[string]answers{
				"HTOLDVI1": {"dvc", "", "morning"},
				"HTOLDEN1": {"ttkdtm", "", "any"},
				// A typed problem that reads like another topic's button stays.
				"HTTYPED1": {"khac", "Dịch vụ công", "sau 5 giờ chiều"},
			}
			for code, w := range want {
				r, err := db.HelpRequestByCode(ctx, code)
				if err != nil || r.Outcome != w {
					t.Errorf("%s: outcome %q %v, want %q", code, r.Outcome, err, w)
				}
				if got := (answers{r.Topic, r.Problem, r.PreferredTime}); got != wantAnswers[code] {
					t.Errorf("%s: topic, problem, time %+v, want %+v", code, got, wantAnswers[code])
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
