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

// An officer of several communes sees their figures together: a person on
// teams of two of them is one member there too. These statements count
// the distinct people of the teams of a set of communes, members once and
// active members per quarter, whatever the number of teams or communes.

// communesPeopleTeams is the teams of the hamlets of a set of communes;
// the parameters are the kind of a hamlet and the communes' ids.
const communesPeopleTeams = `SELECT t.id AS team_id FROM teams t JOIN units h ON h.id = t.hamlet_id
	WHERE h.kind = ? AND h.parent_id IN ?`

// communesPeopleMembers is their approved members and leaders, tagged 'm'
// and no quarter; then role names and true.
const communesPeopleMembers = `SELECT '' AS quarter, 'm' AS what, r.person_id FROM roles r
	JOIN (` + communesPeopleTeams + `) s ON s.team_id = r.team_id WHERE r.role IN ? AND r.approved = ?`

// communesPeopleRolled counts them with the people active in each of the
// quarters (the last parameter) from the rollups; communesPeopleVisited
// with those who reported a visit between two instants (UTC), as the
// quarter given first.
const (
	communesPeopleRolled = `SELECT p.quarter, p.what, COUNT(DISTINCT p.person_id) AS n FROM (` + communesPeopleMembers +
		` UNION ALL SELECT m.quarter, 'a', m.person_id FROM rollup_quarter_members m
	JOIN (` + communesPeopleTeams + `) s ON s.team_id = m.team_id WHERE m.quarter IN ?) p GROUP BY p.quarter, p.what`
	communesPeopleVisited = `SELECT p.quarter, p.what, COUNT(DISTINCT p.person_id) AS n FROM (` + communesPeopleMembers +
		` UNION ALL SELECT CAST(? AS TEXT), 'a', v.person_id FROM visits v
	JOIN (` + communesPeopleTeams + `) s ON s.team_id = v.team_id WHERE v.visited_at >= ? AND v.visited_at < ?) p
	GROUP BY p.quarter, p.what`
)

// CommunesPeople counts, for each quarter of qs whose days are counted in
// loc, the distinct approved members and leaders (Members) and the
// distinct people who reported a visit (ActiveMembers) of the teams of
// the communes communeIDs together. Only Quarter, Members and
// ActiveMembers are set. From the rollups it is one statement for every
// quarter; when they do not count the quarters as loc does, one for each.
func (db *DB) CommunesPeople(ctx context.Context, communeIDs []int64, qs []string, loc *time.Location) ([]calendar.Figures, error) {
	out := make([]calendar.Figures, len(qs))
	covered := true
	for i, q := range qs {
		start, _, err := calendar.QuarterBounds(q, loc)
		if err != nil {
			return nil, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
		}
		out[i].Quarter = calendar.Quarter(start)
		covered = covered && rollupsCover(out[i].Quarter, loc)
	}
	scope := []any{cnsbot.UnitHamlet, communeIDs}
	members := append(append([]any{}, scope...), []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true)
	if covered {
		quarters := make([]string, len(out))
		for i, f := range out {
			quarters[i] = f.Quarter
		}
		return out, db.countCommunesPeople(ctx, out, communesPeopleRolled, append(append(members, scope...), quarters))
	}
	for i := range out {
		// Times are compared in UTC: SQLite keeps them as text.
		start, end, _ := calendar.QuarterBounds(out[i].Quarter, loc)
		args := append(append(append([]any{}, members...), out[i].Quarter), scope...)
		if err := db.countCommunesPeople(ctx, out[i:i+1], communesPeopleVisited, append(args, start.UTC(), end.UTC())); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countCommunesPeople runs one of the communesPeople statements and sets
// the members of every figure and the active members of its quarter.
func (db *DB) countCommunesPeople(ctx context.Context, figs []calendar.Figures, query string, args []any) error {
	var rows []struct {
		Quarter, What string
		N             int64
	}
	if err := db.orm.WithContext(ctx).Raw(query, args...).Scan(&rows).Error; err != nil {
		return fmt.Errorf("communes' people: %w", err)
	}
	for _, r := range rows {
		for i := range figs {
			switch {
			case r.What == "m":
				figs[i].Members = int(r.N)
			case r.Quarter == figs[i].Quarter:
				figs[i].ActiveMembers = int(r.N)
			}
		}
	}
	return nil
}
