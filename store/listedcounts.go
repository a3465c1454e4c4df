package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// The one rule for "households guided" (issue 16), which the quarterly
// report, the reminders' figures, the dashboard and "tiến độ" all follow:
//
//   - In a hamlet with a household list (a confirmed household on it, as
//     listedOf says), a household guided is a confirmed household of that
//     list that a visit named (key "ds:<id>", visits.listed_household_id).
//     Visits whose household was typed and matched nothing there do not
//     count toward the 80%: they are the team's "chưa khớp" (Unmatched),
//     for the leader to resolve; nor do visits to a household a member
//     added until the leader confirms it.
//   - In a hamlet without a list, a household guided is a distinct folded
//     key the team typed, as before lists existed.
//
// A team counts the households its own visits named. Several teams
// together (a hamlet, a commune, the province) count a listed household
// once however many of their teams guided it; typed keys cannot say that
// two teams met the same household, so those add up per team.
//
// A listed household counts for a team only when it is on the team's own
// hamlet's list: the join on lh.hamlet_id = t.hamlet_id below. That also
// makes the households of two hamlets disjoint, so that counts of groups
// of whole hamlets add up exactly.

// teamListedSQL is true when the hamlet of the team aliased t has a list.
const teamListedSQL = `EXISTS (SELECT 1 FROM hamlet_lists x WHERE x.hamlet_id = t.hamlet_id AND x.households > 0)`

// visitListedFrom and visitListedOn join the listed households the
// teams' visits named to the confirmed households of their hamlets. CROSS
// JOIN keeps SQLite's order teams, visits, list (and the conditions go to
// WHERE, as Postgres has no CROSS JOIN … ON; it reorders them freely).
const (
	visitListedFrom = ` FROM teams t CROSS JOIN visits v CROSS JOIN listed_households lh`
	visitListedOn   = `v.team_id = t.id AND lh.id = v.listed_household_id AND lh.hamlet_id = t.hamlet_id AND NOT lh.pending`
)

// listedTeams returns which of the teams are in a hamlet with a list.
func listedTeams(tx *gorm.DB, teamIDs []int64) (map[int64]bool, error) {
	var ids []int64
	if err := tx.Raw(`SELECT t.id FROM teams t WHERE t.id IN ? AND `+teamListedSQL, teamIDs).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("listed teams: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

type teamCount struct{ TeamID, N int64 }

// applyRolledTeamListed puts the rule on figures per team that the
// rollups filled by typed keys (rolledFigures): a team of a listed hamlet
// counts its listed households instead, and its typed ones as Unmatched.
func applyRolledTeamListed(tx *gorm.DB, teamIDs []int64, q string, out map[int64]calendar.Figures) error {
	listed, err := listedTeams(tx, teamIDs)
	if err != nil || len(listed) == 0 {
		return err
	}
	// The team's listed counters (listedrollups.go).
	var counts []struct{ TeamID, InQuarter, ToDate, Named int64 }
	if err := tx.Raw(`SELECT team_id, SUM(CASE WHEN quarter = ? THEN guided ELSE 0 END) AS in_quarter,
			SUM(new_households) AS to_date, SUM(new_named) AS named
		FROM rollup_team_listed WHERE quarter <= ? AND team_id IN ? GROUP BY team_id`, q, q, teamIDs).Scan(&counts).Error; err != nil {
		return fmt.Errorf("listed figures: %w", err)
	}
	guided := make([]struct{ TeamID, InQuarter, ToDate int64 }, 0, len(counts))
	// Every listed household named, confirmed or not: the team's keys
	// that are not these were typed.
	named := make([]teamCount, 0, len(counts))
	for _, c := range counts {
		guided = append(guided, struct{ TeamID, InQuarter, ToDate int64 }{c.TeamID, c.InQuarter, c.ToDate})
		named = append(named, teamCount{c.TeamID, c.Named})
	}
	return putTeamListed(listed, out, guided, named, false)
}

// putTeamListed sets the guided figures of the listed teams. named is
// the listed households each team's visits named by the quarter's end
// (keysNamed) or, when typed is true, the typed keys themselves.
func putTeamListed(listed map[int64]bool, out map[int64]calendar.Figures, guided []struct{ TeamID, InQuarter, ToDate int64 },
	named []teamCount, typed bool) error {
	for id := range listed {
		f := out[id]
		f.ListedHamlets = 1
		if !typed {
			f.Unmatched = f.GuidedToDate
		}
		f.GuidedInQuarter, f.GuidedToDate = 0, 0
		out[id] = f
	}
	for _, g := range guided {
		if f, ok := out[g.TeamID]; ok && listed[g.TeamID] {
			f.GuidedInQuarter, f.GuidedToDate = int(g.InQuarter), int(g.ToDate)
			out[g.TeamID] = f
		}
	}
	for _, n := range named {
		if f, ok := out[n.TeamID]; ok && listed[n.TeamID] {
			if typed {
				f.Unmatched = int(n.N)
			} else {
				f.Unmatched -= int(n.N)
			}
			out[n.TeamID] = f
		}
	}
	return nil
}

// applyCountedTeamListed is applyRolledTeamListed counted from the visits
// of [from, to): what the rollups must agree with.
func applyCountedTeamListed(tx *gorm.DB, teamIDs []int64, from, to time.Time, out map[int64]calendar.Figures) error {
	listed, err := listedTeams(tx, teamIDs)
	if err != nil || len(listed) == 0 {
		return err
	}
	var guided []struct{ TeamID, InQuarter, ToDate int64 }
	if err := tx.Raw(`SELECT v.team_id AS team_id,
			COUNT(DISTINCT CASE WHEN v.visited_at >= ? THEN v.listed_household_id END) AS in_quarter,
			COUNT(DISTINCT v.listed_household_id) AS to_date`+visitListedFrom+`
		WHERE `+visitListedOn+` AND v.visited_at < ? AND t.id IN ? GROUP BY v.team_id`, from, to, teamIDs).Scan(&guided).Error; err != nil {
		return fmt.Errorf("listed figures: %w", err)
	}
	var typed []teamCount
	if err := tx.Raw(`SELECT team_id, COUNT(DISTINCT household_key) AS n FROM visits
		WHERE visited_at < ? AND team_id IN ? AND listed_household_id IS NULL GROUP BY team_id`, to, teamIDs).Scan(&typed).Error; err != nil {
		return fmt.Errorf("listed figures: %w", err)
	}
	return putTeamListed(listed, out, guided, typed, true)
}

// listedAdjust is what the rule changes in the figures of a set of teams,
// summed from the typed keys of each: the keys of the teams of listed
// hamlets come out, their listed households (each once) go in.
type listedAdjust struct {
	keysInQuarter, keysToDate int
	inQuarter, toDate         int
	unmatched                 int
}

func (a *listedAdjust) add(b listedAdjust) {
	a.keysInQuarter += b.keysInQuarter
	a.keysToDate += b.keysToDate
	a.inQuarter += b.inQuarter
	a.toDate += b.toDate
	a.unmatched += b.unmatched
}

func (a listedAdjust) apply(f *calendar.Figures) {
	f.GuidedInQuarter += a.inQuarter - a.keysInQuarter
	f.GuidedToDate += a.toDate - a.keysToDate
	f.Unmatched += a.unmatched
}

// listedLevel is where the households guided of a set of teams are read:
// the counters of their hamlets, when the set is whole hamlets' teams
// (each household once however many teams guided it), or of each team,
// when no two teams of the set share a hamlet. Each is a FROM clause
// over the teams t that a WHERE clause (the %s) chooses, aliasing the
// counters c.
type listedLevel struct{ from string }

var (
	hamletLevel = listedLevel{`(SELECT DISTINCT t.hamlet_id FROM teams t WHERE %s) t
		JOIN rollup_hamlet_listed c ON c.hamlet_id = t.hamlet_id`}
	teamLevel = listedLevel{`(SELECT t.id, t.hamlet_id FROM teams t WHERE %s) t
		JOIN rollup_team_listed c ON c.team_id = t.id`}
)

// rolledListedAdjust computes, from the rollups' counters, the adjustment
// of each quarter of qs for the teams t that where (SQL over teams aliased
// t, with args) chooses: whole hamlets' teams at hamletLevel, teams of
// distinct hamlets at teamLevel.
func rolledListedAdjust(tx *gorm.DB, level listedLevel, where string, args []any, qs []string) (map[string]listedAdjust, error) {
	g, err := rolledListedAdjustBy(tx, level, `CAST(0 AS BIGINT)`, where, args, qs)
	return g[0], err
}

// rolledListedAdjustBy is rolledListedAdjust for each group of teams that
// group (CAST(0 AS BIGINT): one group, or t.hamlet_id; not a bare
// number, which GROUP BY reads as a column's position) names, in two
// statements whatever the number of teams.
func rolledListedAdjustBy(tx *gorm.DB, level listedLevel, group, where string, args []any, qs []string) (map[int64]map[string]listedAdjust, error) {
	last := slices.Max(qs)
	fail := func(err error) (map[int64]map[string]listedAdjust, error) {
		return nil, fmt.Errorf("listed figures: %w", err)
	}
	var guided []struct {
		G           int64
		Quarter     string
		Guided, New int64
	}
	if err := tx.Raw(`SELECT `+group+` AS g, c.quarter AS quarter, SUM(c.guided) AS guided, SUM(c.new_households) AS new
		FROM `+fmt.Sprintf(level.from, where)+` WHERE c.quarter <= ? GROUP BY `+group+`, c.quarter`,
		append(append([]any{}, args...), last)...).Scan(&guided).Error; err != nil {
		return fail(err)
	}
	// The typed keys of the teams of listed hamlets come out; those that
	// named no listed household are unmatched.
	var keys []struct {
		G                  int64
		Quarter            string
		Guided, New, Named int64
	}
	if err := tx.Raw(`SELECT `+group+` AS g, r.quarter AS quarter, SUM(r.guided) AS guided, SUM(r.new_households) AS new,
			SUM(COALESCE(l.new_named, 0)) AS named
		FROM rollup_team_quarters r JOIN teams t ON t.id = r.team_id
			LEFT JOIN rollup_team_listed l ON l.team_id = r.team_id AND l.quarter = r.quarter
		WHERE r.quarter <= ? AND `+where+` AND `+teamListedSQL+` GROUP BY `+group+`, r.quarter`,
		append([]any{last}, args...)...).Scan(&keys).Error; err != nil {
		return fail(err)
	}
	out := map[int64]map[string]listedAdjust{}
	for _, q := range qs {
		at := func(g int64) listedAdjust {
			if out[g] == nil {
				out[g] = map[string]listedAdjust{}
			}
			return out[g][q]
		}
		for _, r := range guided {
			a := at(r.G)
			if r.Quarter == q {
				a.inQuarter = int(r.Guided)
			}
			if r.Quarter <= q {
				a.toDate += int(r.New)
			}
			out[r.G][q] = a
		}
		for _, r := range keys {
			a := at(r.G)
			if r.Quarter == q {
				a.keysInQuarter = int(r.Guided)
			}
			if r.Quarter <= q {
				a.keysToDate += int(r.New)
				a.unmatched += int(r.New - r.Named)
			}
			out[r.G][q] = a
		}
	}
	return out, nil
}

// rolledListedAdjustIDs is rolledListedAdjust over a list of teams of any
// length: the hamlets all of whose teams are listed from their counters,
// a team listed without the rest of its hamlet's from its own, in runs
// that fit a statement's parameters. Two teams of one hamlet without the
// rest cannot say which households both guided: no caller asks for them,
// and they are refused.
func rolledListedAdjustIDs(tx *gorm.DB, teamIDs []int64, q string) (listedAdjust, error) {
	var teams []struct{ ID, HamletID, Of int64 }
	for i := 0; i < len(teamIDs); i += reportBatch {
		var part []struct{ ID, HamletID, Of int64 }
		if err := tx.Raw(`SELECT t.id, t.hamlet_id, (SELECT COUNT(*) FROM teams x WHERE x.hamlet_id = t.hamlet_id) AS of
			FROM teams t WHERE t.id IN ?`, teamIDs[i:min(i+reportBatch, len(teamIDs))]).Scan(&part).Error; err != nil {
			return listedAdjust{}, fmt.Errorf("listed figures: %w", err)
		}
		teams = append(teams, part...)
	}
	given := map[int64]int64{}
	for _, t := range teams {
		given[t.HamletID]++
	}
	var whole, alone []int64
	for _, t := range teams {
		switch {
		case given[t.HamletID] == t.Of:
			whole = append(whole, t.HamletID)
		case given[t.HamletID] == 1:
			alone = append(alone, t.ID)
		default:
			return listedAdjust{}, cnsbot.Errorf(cnsbot.EINVALID, "figures of %d of the %d teams of hamlet %d: ask for all or one",
				given[t.HamletID], t.Of, t.HamletID)
		}
	}
	slices.Sort(whole)
	whole = slices.Compact(whole)
	var sum listedAdjust
	for _, run := range []struct {
		level listedLevel
		where string
		ids   []int64
	}{{hamletLevel, `t.hamlet_id IN ?`, whole}, {teamLevel, `t.id IN ?`, alone}} {
		for i := 0; i < len(run.ids); i += reportBatch {
			a, err := rolledListedAdjust(tx, run.level, run.where, []any{run.ids[i:min(i+reportBatch, len(run.ids))]}, []string{q})
			if err != nil {
				return listedAdjust{}, err
			}
			sum.add(a[q])
		}
	}
	return sum, nil
}

// countedListedAdjust is rolledListedAdjust for one set of teams and the
// quarter [from, to), counted from the visits.
func countedListedAdjust(tx *gorm.DB, teamIDs []int64, from, to time.Time) (listedAdjust, error) {
	var r struct{ KeysInQuarter, KeysToDate, InQuarter, ToDate, Unmatched int64 }
	err := tx.Raw(`SELECT
		(SELECT COUNT(*) FROM (SELECT DISTINCT v.team_id, v.household_key FROM visits v JOIN teams t ON t.id = v.team_id
			WHERE v.team_id IN ? AND v.visited_at >= ? AND v.visited_at < ? AND `+teamListedSQL+`) g) AS keys_in_quarter,
		(SELECT COUNT(*) FROM (SELECT DISTINCT v.team_id, v.household_key FROM visits v JOIN teams t ON t.id = v.team_id
			WHERE v.team_id IN ? AND v.visited_at < ? AND `+teamListedSQL+`) g) AS keys_to_date,
		(SELECT COUNT(DISTINCT v.listed_household_id)`+visitListedFrom+`
			WHERE `+visitListedOn+` AND t.id IN ? AND v.visited_at >= ? AND v.visited_at < ?) AS in_quarter,
		(SELECT COUNT(DISTINCT v.listed_household_id)`+visitListedFrom+`
			WHERE `+visitListedOn+` AND t.id IN ? AND v.visited_at < ?) AS to_date,
		(SELECT COUNT(*) FROM (SELECT DISTINCT v.team_id, v.household_key FROM visits v JOIN teams t ON t.id = v.team_id
			WHERE v.team_id IN ? AND v.visited_at < ? AND v.listed_household_id IS NULL AND `+teamListedSQL+`) g) AS unmatched`,
		teamIDs, from, to, teamIDs, to, teamIDs, from, to, teamIDs, to, teamIDs, to).Scan(&r).Error
	if err != nil {
		return listedAdjust{}, fmt.Errorf("listed figures: %w", err)
	}
	return listedAdjust{keysInQuarter: int(r.KeysInQuarter), keysToDate: int(r.KeysToDate), inQuarter: int(r.InQuarter),
		toDate: int(r.ToDate), unmatched: int(r.Unmatched)}, nil
}

// ReportHamletFigures returns the figures of each hamlet among hamletIDs
// that has a household list, over all its teams: Households (the list's
// confirmed households), ListedHamlets 1, the listed households its teams
// guided in quarter q and by its end, each once however many teams guided
// it, and Unmatched, the typed households its teams' visits did not match.
// The report's subtotals count a listed hamlet's households guided from
// these, not by adding its teams' rows.
func (db *DB) ReportHamletFigures(ctx context.Context, hamletIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error) {
	return db.reportHamletFiguresFrom(ctx, hamletIDs, q, loc, true)
}

func (db *DB) reportHamletFiguresFrom(ctx context.Context, hamletIDs []int64, q string, loc *time.Location, rollups bool) (map[int64]calendar.Figures, error) {
	start, end, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return nil, err
	}
	q = calendar.Quarter(start)
	rolled := rollups && rollupsCover(q, loc)
	tx := db.orm.WithContext(ctx)
	out := map[int64]calendar.Figures{}
	for i := 0; i < len(hamletIDs); i += reportBatch {
		batch := hamletIDs[i:min(i+reportBatch, len(hamletIDs))]
		var hamlets []struct{ ID, N int64 }
		if err := tx.Raw(`SELECT u.id, `+householdsOf("u")+` AS n FROM units u WHERE u.id IN ? AND `+listedOf("u")+` = 1`,
			batch).Scan(&hamlets).Error; err != nil {
			return nil, fmt.Errorf("hamlet figures: %w", err)
		}
		var byHamlet map[int64]map[string]listedAdjust
		if rolled && len(hamlets) > 0 {
			ids := make([]int64, 0, len(hamlets))
			for _, h := range hamlets {
				ids = append(ids, h.ID)
			}
			if byHamlet, err = rolledListedAdjustBy(tx, hamletLevel, `t.hamlet_id`, `t.hamlet_id IN ?`, []any{ids}, []string{q}); err != nil {
				return nil, err
			}
		}
		for _, h := range hamlets {
			f := calendar.Figures{Quarter: q, ListedHamlets: 1, Households: int(h.N)}
			a := byHamlet[h.ID][q]
			if !rolled {
				// Counting the visits is for checking the rollups and for
				// another zone's quarters: a hamlet at a time is enough.
				var teams []int64
				if err := tx.Raw(`SELECT id FROM teams WHERE hamlet_id = ?`, h.ID).Scan(&teams).Error; err != nil {
					return nil, fmt.Errorf("hamlet figures: %w", err)
				}
				if len(teams) > 0 {
					if a, err = countedListedAdjust(tx, teams, start.UTC(), end.UTC()); err != nil {
						return nil, err
					}
				}
			}
			f.GuidedInQuarter, f.GuidedToDate, f.Unmatched = a.inQuarter, a.toDate, a.unmatched
			out[h.ID] = f
		}
	}
	return out, nil
}
