package store_test

import (
	"strings"
	"testing"
	"time"
)

// Visits are read by team and time; the index that serves those reads
// exists on both databases, and SQLite answers "households a team guided
// before the quarter's end" from the index alone.
func TestVisitsTeamTimeIndex(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			if !db.ORM().Migrator().HasIndex("visits", "idx_visits_team_visited") {
				t.Fatal("index idx_visits_team_visited missing")
			}
			if name != "sqlite" {
				return
			}
			var plan []struct {
				Detail string
			}
			err := db.ORM().Raw(`EXPLAIN QUERY PLAN SELECT team_id, COUNT(DISTINCT household_key) FROM visits
				WHERE team_id IN (1, 2) AND visited_at < ? GROUP BY team_id`, time.Now()).Scan(&plan).Error
			if err != nil {
				t.Fatal(err)
			}
			var details []string
			for _, p := range plan {
				details = append(details, p.Detail)
			}
			if got := strings.Join(details, "; "); !strings.Contains(got, "COVERING INDEX idx_visits_team_visited") {
				t.Errorf("plan %q, want the covering index idx_visits_team_visited", got)
			}
		})
	}
}
