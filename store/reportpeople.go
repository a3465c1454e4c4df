package store

import (
	"context"
	"fmt"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// The quarterly report's subtotals and total count people, not roles: a
// person who is a member of two teams of a commune is one member of the
// commune (and of the province), and one active member when they reported
// for both. These statements count the distinct people of every commune
// in one statement, and of all the communes in another, whatever the
// number of teams: the reminders' and the chat's figures (UnitFigures,
// CommuneFigures) count the same sets, so the three agree.

// reportPeopleTeams is the teams of the hamlets of the communes, each with
// its commune; the parameters are the kinds of a hamlet and of a commune,
// then the commune's id twice (0: every commune).
const reportPeopleTeams = `SELECT t.id AS team_id, h.parent_id AS commune_id FROM teams t
	JOIN units h ON h.id = t.hamlet_id
	WHERE h.kind = ? AND h.parent_id IN (SELECT c.id FROM units c WHERE c.kind = ? AND (? = 0 OR c.id = ?))`

// reportPeopleMembers is the approved members and leaders of those teams,
// tagged 'm'; then role names and true.
const reportPeopleMembers = `SELECT s.commune_id, 'm' AS what, r.person_id FROM roles r
	JOIN (` + reportPeopleTeams + `) s ON s.team_id = r.team_id WHERE r.role IN ? AND r.approved = ?`

// reportPeopleRolled and reportPeopleVisited are the people active in the
// quarter, tagged 'a': from the rollups (then the quarter), or from the
// visits (then its bounds in UTC) when the rollups do not count the
// quarter as the report's location does.
const (
	reportPeopleRolled = reportPeopleMembers + ` UNION ALL SELECT s.commune_id, 'a', m.person_id FROM rollup_quarter_members m
	JOIN (` + reportPeopleTeams + `) s ON s.team_id = m.team_id WHERE m.quarter = ?`
	reportPeopleVisited = reportPeopleMembers + ` UNION ALL SELECT s.commune_id, 'a', v.person_id FROM visits v
	JOIN (` + reportPeopleTeams + `) s ON s.team_id = v.team_id WHERE v.visited_at >= ? AND v.visited_at < ?`
)

// The two levels: per commune, and over all of them (commune_id 0).
const (
	reportPeopleByCommuneRolled = `SELECT p.commune_id, p.what, COUNT(DISTINCT p.person_id) AS n FROM (` +
		reportPeopleRolled + `) p GROUP BY p.commune_id, p.what`
	reportPeopleAllRolled = `SELECT 0 AS commune_id, p.what, COUNT(DISTINCT p.person_id) AS n FROM (` +
		reportPeopleRolled + `) p GROUP BY p.what`
	reportPeopleByCommuneVisited = `SELECT p.commune_id, p.what, COUNT(DISTINCT p.person_id) AS n FROM (` +
		reportPeopleVisited + `) p GROUP BY p.commune_id, p.what`
	reportPeopleAllVisited = `SELECT 0 AS commune_id, p.what, COUNT(DISTINCT p.person_id) AS n FROM (` +
		reportPeopleVisited + `) p GROUP BY p.what`
)

// ReportPeople counts, for quarter q whose days are counted in loc, the
// distinct approved members and leaders (Members) and the distinct people
// who reported a visit (ActiveMembers) of the teams of each commune, and
// of all the communes together: of every commune, or of the one whose id
// is communeID. Only Members and ActiveMembers are set. A commune without
// a team is not in the map.
func (db *DB) ReportPeople(ctx context.Context, communeID int64, q string, loc *time.Location) (map[int64]calendar.Figures, calendar.Figures, error) {
	start, end, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return nil, calendar.Figures{}, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	scope := []any{cnsbot.UnitHamlet, cnsbot.UnitCommune, communeID, communeID}
	args := append(append([]any{}, scope...), []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true)
	args = append(args, scope...)
	byCommune, all := reportPeopleByCommuneVisited, reportPeopleAllVisited
	if quarter := calendar.Quarter(start); rollupsCover(quarter, loc) {
		byCommune, all = reportPeopleByCommuneRolled, reportPeopleAllRolled
		args = append(args, quarter)
	} else {
		// Times are compared in UTC: SQLite keeps them as text.
		args = append(args, start.UTC(), end.UTC())
	}
	tx := db.orm.WithContext(ctx)
	type count struct {
		CommuneID int64
		What      string
		N         int64
	}
	var rows []count
	if err := tx.Raw(byCommune, args...).Scan(&rows).Error; err != nil {
		return nil, calendar.Figures{}, fmt.Errorf("report people: %w", err)
	}
	var totals []count
	if err := tx.Raw(all, args...).Scan(&totals).Error; err != nil {
		return nil, calendar.Figures{}, fmt.Errorf("report people: %w", err)
	}
	out := map[int64]calendar.Figures{}
	var total calendar.Figures
	set := func(f *calendar.Figures, c count) {
		if c.What == "m" {
			f.Members = int(c.N)
		} else {
			f.ActiveMembers = int(c.N)
		}
	}
	for _, c := range rows {
		f := out[c.CommuneID]
		set(&f, c)
		out[c.CommuneID] = f
	}
	for _, c := range totals {
		set(&total, c)
	}
	return out, total, nil
}
