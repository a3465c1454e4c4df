package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
	"gorm.io/gorm"
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
const teamListedSQL = `EXISTS (SELECT 1 FROM listed_households x WHERE x.hamlet_id = t.hamlet_id AND NOT x.pending)`

// rolledListedFrom and rolledListedOn join the listed households the
// teams named (by quarter, from the rollups) to the confirmed households of
// their hamlets. CROSS JOIN keeps SQLite's order teams, rollups, list (and
// the conditions go to WHERE, as Postgres has no CROSS JOIN … ON; it
// reorders them freely): left to choose, SQLite looked each row's team up
// last, through the hamlet's index and the list of team ids, which took
// 0.7–1.3 s for a hundred teams' 20,000 rows where this takes 40 ms.
const (
	rolledListedFrom = ` FROM teams t CROSS JOIN rollup_listed rl CROSS JOIN listed_households lh`
	rolledListedOn   = `rl.team_id = t.id AND lh.id = rl.listed_household_id AND lh.hamlet_id = t.hamlet_id AND NOT lh.pending`
)

// visitListedFrom and visitListedOn are the same join over the visits.
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
	var guided []struct{ TeamID, InQuarter, ToDate int64 }
	if err := tx.Raw(`SELECT rl.team_id AS team_id, SUM(CASE WHEN rl.quarter = ? THEN 1 ELSE 0 END) AS in_quarter,
			COUNT(DISTINCT rl.listed_household_id) AS to_date`+rolledListedFrom+`
		WHERE `+rolledListedOn+` AND rl.quarter <= ? AND t.id IN ? GROUP BY rl.team_id`, q, q, teamIDs).Scan(&guided).Error; err != nil {
		return fmt.Errorf("listed figures: %w", err)
	}
	// Every listed household named, confirmed or not: the team's keys
	// that are not these were typed.
	var named []teamCount
	if err := tx.Raw(`SELECT team_id, COUNT(DISTINCT listed_household_id) AS n FROM rollup_listed
		WHERE quarter <= ? AND team_id IN ? GROUP BY team_id`, q, teamIDs).Scan(&named).Error; err != nil {
		return fmt.Errorf("listed figures: %w", err)
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

func (a listedAdjust) apply(f *calendar.Figures) {
	f.GuidedInQuarter += a.inQuarter - a.keysInQuarter
	f.GuidedToDate += a.toDate - a.keysToDate
	f.Unmatched += a.unmatched
}

// rolledListedAdjust computes, from the rollups, the adjustment of each
// quarter of qs for the teams t that where (SQL over teams aliased t,
// with args) chooses. The teams must be whole hamlets' or a set whose
// listed households no other call counts: each household counts once
// within a call.
func rolledListedAdjust(tx *gorm.DB, where string, args []any, qs []string) (map[string]listedAdjust, error) {
	g, err := rolledListedAdjustBy(tx, `CAST(0 AS BIGINT)`, where, args, qs)
	return g[0], err
}

// rolledListedAdjustBy is rolledListedAdjust for each group of teams that
// group (CAST(0 AS BIGINT): one group, or t.hamlet_id; not a bare
// number, which GROUP BY reads as a column's position) names, in the same few statements.
func rolledListedAdjustBy(tx *gorm.DB, group, where string, args []any, qs []string) (map[int64]map[string]listedAdjust, error) {
	last := slices.Max(qs)
	with := func(a ...any) []any { return append(a, args...) }
	type byQuarter struct {
		G       int64
		Quarter string
		N       int64
	}
	var inQuarter, first, named []byQuarter
	var keys []struct {
		G           int64
		Quarter     string
		Guided, New int64
	}
	fail := func(err error) (map[int64]map[string]listedAdjust, error) {
		return nil, fmt.Errorf("listed figures: %w", err)
	}
	if err := tx.Raw(`SELECT `+group+` AS g, rl.quarter AS quarter, COUNT(DISTINCT rl.listed_household_id) AS n`+rolledListedFrom+`
		WHERE `+rolledListedOn+` AND rl.quarter IN ? AND `+where+` GROUP BY `+group+`, rl.quarter`, with(qs)...).Scan(&inQuarter).Error; err != nil {
		return fail(err)
	}
	// Each household's first quarter among the teams: "to date" is the
	// households first guided in a quarter up to it.
	if err := tx.Raw(`SELECT g, fq AS quarter, COUNT(*) AS n FROM (SELECT `+group+` AS g, rl.listed_household_id AS id,
			MIN(rl.quarter) AS fq`+rolledListedFrom+` WHERE `+rolledListedOn+` AND rl.quarter <= ? AND `+where+`
		GROUP BY `+group+`, rl.listed_household_id) f GROUP BY g, fq`, with(last)...).Scan(&first).Error; err != nil {
		return fail(err)
	}
	if err := tx.Raw(`SELECT g, fq AS quarter, COUNT(*) AS n FROM (SELECT `+group+` AS g, rl.team_id, rl.listed_household_id,
			MIN(rl.quarter) AS fq
		FROM rollup_listed rl JOIN teams t ON t.id = rl.team_id WHERE rl.quarter <= ? AND `+where+` AND `+teamListedSQL+`
		GROUP BY `+group+`, rl.team_id, rl.listed_household_id) f GROUP BY g, fq`, with(last)...).Scan(&named).Error; err != nil {
		return fail(err)
	}
	if err := tx.Raw(`SELECT `+group+` AS g, r.quarter AS quarter, SUM(r.guided) AS guided, SUM(r.new_households) AS new
		FROM rollup_team_quarters r JOIN teams t ON t.id = r.team_id
		WHERE r.quarter <= ? AND `+where+` AND `+teamListedSQL+` GROUP BY `+group+`, r.quarter`, with(last)...).
		Scan(&keys).Error; err != nil {
		return fail(err)
	}
	out := map[int64]map[string]listedAdjust{}
	at := func(g int64, q string) *listedAdjust {
		if out[g] == nil {
			out[g] = map[string]listedAdjust{}
		}
		a := out[g][q]
		return &a
	}
	put := func(g int64, q string, a *listedAdjust) { out[g][q] = *a }
	for _, q := range qs {
		for _, r := range inQuarter {
			if r.Quarter == q {
				a := at(r.G, q)
				a.inQuarter = int(r.N)
				put(r.G, q, a)
			}
		}
		for _, r := range first {
			if r.Quarter <= q {
				a := at(r.G, q)
				a.toDate += int(r.N)
				put(r.G, q, a)
			}
		}
		for _, r := range keys {
			a := at(r.G, q)
			if r.Quarter == q {
				a.keysInQuarter = int(r.Guided)
			}
			if r.Quarter <= q {
				a.keysToDate += int(r.New)
				a.unmatched += int(r.New)
			}
			put(r.G, q, a)
		}
		for _, r := range named {
			if r.Quarter <= q {
				a := at(r.G, q)
				a.unmatched -= int(r.N)
				put(r.G, q, a)
			}
		}
	}
	return out, nil
}

// rolledListedAdjustIDs is rolledListedAdjust over a list of teams of any
// length: in runs of whole hamlets that fit a statement's parameters.
func rolledListedAdjustIDs(tx *gorm.DB, teamIDs []int64, q string) (listedAdjust, error) {
	if len(teamIDs) <= reportBatch {
		a, err := rolledListedAdjust(tx, `t.id IN ?`, []any{teamIDs}, []string{q})
		return a[q], err
	}
	var teams []struct{ ID, HamletID int64 }
	for i := 0; i < len(teamIDs); i += reportBatch {
		var part []struct{ ID, HamletID int64 }
		if err := tx.Raw(`SELECT id, hamlet_id FROM teams WHERE id IN ?`, teamIDs[i:min(i+reportBatch, len(teamIDs))]).
			Scan(&part).Error; err != nil {
			return listedAdjust{}, fmt.Errorf("listed figures: %w", err)
		}
		teams = append(teams, part...)
	}
	slices.SortFunc(teams, func(a, b struct{ ID, HamletID int64 }) int { return int(a.HamletID - b.HamletID) })
	var sum listedAdjust
	for start := 0; start < len(teams); {
		end := min(start+reportBatch, len(teams))
		// Never split a hamlet's teams between two runs.
		for end < len(teams) && end > start+1 && teams[end].HamletID == teams[end-1].HamletID {
			end--
		}
		ids := make([]int64, 0, end-start)
		for _, t := range teams[start:end] {
			ids = append(ids, t.ID)
		}
		a, err := rolledListedAdjust(tx, `t.id IN ?`, []any{ids}, []string{q})
		if err != nil {
			return listedAdjust{}, err
		}
		s := a[q]
		sum.keysInQuarter += s.keysInQuarter
		sum.keysToDate += s.keysToDate
		sum.inQuarter += s.inQuarter
		sum.toDate += s.toDate
		sum.unmatched += s.unmatched
		start = end
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
			if byHamlet, err = rolledListedAdjustBy(tx, `t.hamlet_id`, `t.hamlet_id IN ?`, []any{ids}, []string{q}); err != nil {
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
