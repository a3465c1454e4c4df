package store

import (
	"context"
	"fmt"
	"time"

	"github.com/camau-cns/cnsbot"
)

// TeamWeek is one team's week against the plan's hours.
type TeamWeek struct {
	TeamID   int64
	Team     string
	HamletID int64
	Hamlet   string
	// Days are the days of the week whose visits by the team's members
	// added up to cnsbot.PlanDayMinutes; Minutes are the week's in all.
	Days    int
	Minutes int
}

// Short says whether the week falls short of the plan's hours.
func (w TeamWeek) Short() bool { return w.Days < cnsbot.PlanDays }

// TeamWeeks returns the week [from, to) of each team of a commune's
// hamlets (the demo's too, as the dashboard shows them), by hamlet and team, the days counted in
// loc. A commune has a few dozen teams and a week a few hundred visits,
// so the days are added up here rather than in SQL, whose date functions
// differ between SQLite and Postgres.
func (db *DB) TeamWeeks(ctx context.Context, communeID int64, from, to time.Time, loc *time.Location) ([]TeamWeek, error) {
	var weeks []TeamWeek
	err := db.orm.WithContext(ctx).Raw(`
		SELECT t.id AS team_id, t.name AS team, h.id AS hamlet_id, h.name AS hamlet
		FROM teams t JOIN units h ON h.id = t.hamlet_id
		WHERE h.parent_id = ?
		ORDER BY h.name, h.id, t.name, t.id`, communeID).Scan(&weeks).Error
	if err != nil {
		return nil, fmt.Errorf("teams of commune: %w", err)
	}
	if len(weeks) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(weeks))
	at := make(map[int64]int, len(weeks))
	for i, w := range weeks {
		ids[i], at[w.TeamID] = w.TeamID, i
	}
	var rows []struct {
		TeamID    int64
		VisitedAt time.Time
		Minutes   int
	}
	// Visits are stored in UTC (see RecordVisit): so are the bounds.
	err = db.orm.WithContext(ctx).Raw(`
		SELECT team_id, visited_at, minutes FROM visits
		WHERE team_id IN ? AND visited_at >= ? AND visited_at < ?`, ids, from.UTC(), to.UTC()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("visits of the week: %w", err)
	}
	tally := make(map[int64]*cnsbot.WeekTally, len(weeks))
	for _, r := range rows {
		w := tally[r.TeamID]
		if w == nil {
			w = &cnsbot.WeekTally{Loc: loc}
			tally[r.TeamID] = w
		}
		w.Add(r.VisitedAt, r.Minutes)
	}
	for id, w := range tally {
		weeks[at[id]].Days, weeks[at[id]].Minutes = w.Days(), w.Minutes
	}
	return weeks, nil
}
