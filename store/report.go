package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// reportBatch bounds the ids bound to one statement: Postgres takes at most
// 65535 parameters and SQLite 32766, and a national export has ~90,000
// teams.
const reportBatch = 1000

// ReportTeams returns every team, by hamlet and then in the order they
// were created: the rows of the quarterly report.
func (db *DB) ReportTeams(ctx context.Context) ([]cnsbot.Team, error) {
	var teams []cnsbot.Team
	if err := db.orm.WithContext(ctx).Order("hamlet_id, id").Find(&teams).Error; err != nil {
		return nil, fmt.Errorf("report teams: %w", err)
	}
	return teams, nil
}

// ReportFigures compiles the figures of quarter q ("2025Q3"), whose days
// are counted in loc, for each of the teams: the figures QuarterFigures
// gives one team, in a few grouped statements for all of them. Every team
// asked for is in the map, with zeros when it reported nothing.
func (db *DB) ReportFigures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error) {
	return db.reportFiguresFrom(ctx, teamIDs, q, loc, true)
}

// reportFiguresFrom is ReportFigures, from the rollups when rollups is
// true and they count q's days as loc does.
func (db *DB) reportFiguresFrom(ctx context.Context, teamIDs []int64, q string, loc *time.Location, rollups bool) (map[int64]calendar.Figures, error) {
	start, end, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	out := make(map[int64]calendar.Figures, len(teamIDs))
	for _, id := range teamIDs {
		out[id] = calendar.Figures{Quarter: calendar.Quarter(start), Teams: 1, People: map[string]int{}}
	}
	rolled := rollups && rollupsCover(calendar.Quarter(start), loc)
	for i := 0; i < len(teamIDs); i += reportBatch {
		batch := teamIDs[i:min(i+reportBatch, len(teamIDs))]
		if rolled {
			if err := db.rolledReportFigures(ctx, batch, calendar.Quarter(start), out); err != nil {
				return nil, fmt.Errorf("report figures: %w", err)
			}
			continue
		}
		if err := db.reportFigures(ctx, batch, start.UTC(), end.UTC(), out); err != nil {
			return nil, fmt.Errorf("report figures: %w", err)
		}
	}
	return out, nil
}

// reportFigures adds the figures of a batch of teams to out. Times are
// compared in UTC: SQLite keeps them as text.
func (db *DB) reportFigures(ctx context.Context, teamIDs []int64, from, to time.Time, out map[int64]calendar.Figures) error {
	tx := db.orm.WithContext(ctx)
	type count struct {
		TeamID int64
		N      int64
	}
	counts := []struct {
		set   func(f *calendar.Figures, n int)
		query string
		args  []any
	}{
		{func(f *calendar.Figures, n int) { f.Households = n },
			`SELECT t.id AS team_id, ` + householdsOf("u") + ` AS n FROM teams t JOIN units u ON u.id = t.hamlet_id
			WHERE t.id IN ?`, []any{teamIDs}},
		{func(f *calendar.Figures, n int) { f.ListedHamlets = n },
			`SELECT t.id AS team_id, ` + listedOf("u") + ` AS n FROM teams t JOIN units u ON u.id = t.hamlet_id
			WHERE t.id IN ?`, []any{teamIDs}},
		{func(f *calendar.Figures, n int) { f.GuidedInQuarter = n },
			`SELECT team_id, COUNT(DISTINCT household_key) AS n FROM visits
			WHERE team_id IN ? AND visited_at >= ? AND visited_at < ? GROUP BY team_id`, []any{teamIDs, from, to}},
		{func(f *calendar.Figures, n int) { f.GuidedToDate = n },
			`SELECT team_id, COUNT(DISTINCT household_key) AS n FROM visits
			WHERE team_id IN ? AND visited_at < ? GROUP BY team_id`, []any{teamIDs, to}},
		{func(f *calendar.Figures, n int) { f.Members = n },
			`SELECT team_id, COUNT(DISTINCT person_id) AS n FROM roles
			WHERE team_id IN ? AND role IN ? AND approved = ? GROUP BY team_id`,
			[]any{teamIDs, []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true}},
		{func(f *calendar.Figures, n int) { f.ActiveMembers = n },
			`SELECT team_id, COUNT(DISTINCT person_id) AS n FROM visits
			WHERE team_id IN ? AND visited_at >= ? AND visited_at < ? GROUP BY team_id`, []any{teamIDs, from, to}},
	}
	for _, c := range counts {
		var rows []count
		if err := tx.Raw(c.query, c.args...).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			f := out[r.TeamID]
			c.set(&f, int(r.N))
			out[r.TeamID] = f
		}
	}
	// One row per team and distinct combination of areas: few, however
	// many visits.
	var byAreas []struct {
		TeamID  int64
		Areas   string
		People  int64
		Visits  int64
		Minutes int64
	}
	err := tx.Raw(`SELECT team_id, COALESCE(areas, '') AS areas, COALESCE(SUM(people), 0) AS people,
			COUNT(*) AS visits, COALESCE(SUM(minutes), 0) AS minutes
		FROM visits WHERE team_id IN ? AND visited_at >= ? AND visited_at < ? GROUP BY team_id, areas`,
		teamIDs, from, to).Scan(&byAreas).Error
	if err != nil {
		return err
	}
	for _, a := range byAreas {
		f := out[a.TeamID]
		f.Visits += int(a.Visits)
		f.Minutes += int(a.Minutes)
		seen := map[string]bool{}
		for area := range strings.SplitSeq(a.Areas, ",") {
			area = strings.TrimSpace(area)
			if area == "" || seen[area] {
				continue
			}
			seen[area] = true
			f.People[area] += int(a.People)
		}
		out[a.TeamID] = f
	}
	return applyCountedTeamListed(tx, teamIDs, from, to, out)
}

// ReportHelpRequests returns the help requests created or closed in
// [from, to), with only what the report counts: no resident's name, phone
// or problem.
func (db *DB) ReportHelpRequests(ctx context.Context, from, to time.Time) ([]cnsbot.HelpRequest, error) {
	var rs []cnsbot.HelpRequest
	f, t := from.UTC(), to.UTC()
	err := db.orm.WithContext(ctx).
		Select("id", "code", "commune_id", "hamlet_id", "team_id", "status", "created_at", "closed_at").
		Where("(created_at >= ? AND created_at < ?) OR (closed_at >= ? AND closed_at < ?)", f, t, f, t).
		Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("report help requests: %w", err)
	}
	return rs, nil
}
