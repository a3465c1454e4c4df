package store

import (
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// visitIndexMigrations index visits by team and time. The dashboard's
// figures, the quarterly report and a leader's progress all read one or
// many teams' visits within a quarter or before its end ("WHERE team_id IN
// … AND visited_at < …"); with only idx_visits_team_id each team's query
// read every visit of the team, and with only idx_visits_visited_at every
// visit of the province in the quarter (issue 19). household_key is carried
// along so that counting the distinct households a team guided needs no
// visit row.
func visitIndexMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120870_visits_team_visited",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(`CREATE INDEX idx_visits_team_visited ON visits (team_id, visited_at, household_key)`).Error; err != nil {
				return fmt.Errorf("create index idx_visits_team_visited: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Exec(`DROP INDEX idx_visits_team_visited`).Error },
	}}
}
