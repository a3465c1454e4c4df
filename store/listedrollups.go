package store

import (
	"fmt"
	"slices"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
)

// Counters of listed households guided (issue 19), kept on write as the
// typed households' are (rollups.go), so that no reader counts distinct
// listed households over rollup_listed: with every hamlet of a province
// listed (190,000 households) that took seconds.
//
// The rule counted is listedcounts.go's: a confirmed household of the
// team's own hamlet's list counts once for the team and once for the
// hamlet, however many of the hamlet's teams named it; a pending one ("hộ
// mới") not until it is confirmed. Two levels, each a distinct set per
// quarter, each member's first quarter, and counters:
//
//   - per team: rollup_listed (the set), rollup_team_listed_first, and
//     rollup_team_listed (guided in the quarter, first guided in it, and
//     new_named: listed households of any list or state first named in it,
//     which the team's keys less these are its unmatched typed ones);
//   - per hamlet, over its teams: rollup_hamlet_listed_households,
//     rollup_hamlet_listed_first and rollup_hamlet_listed.
//
// The sets hold pending households too; only the counters look at the
// list. Whatever changes a household's state or a visit's household
// (confirming a "hộ mới", an import, linking unmatched visits, a rebuild)
// counts the counters of the hamlets concerned again from the sets, in the
// same transaction (recountListed).
//
// hamlet_lists keeps the other side of the 80%, each hamlet's confirmed
// listed households (householdsOf, countLists): counting a province's
// lists (270,000 households) on each read took a second on Postgres.

// listedRollupTables is the schema of the counters, in SQL both dialects
// read.
var listedRollupTables = []string{
	`CREATE TABLE rollup_team_listed_first (
		team_id BIGINT NOT NULL, listed_household_id BIGINT NOT NULL, first_quarter VARCHAR(8) NOT NULL,
		PRIMARY KEY (team_id, listed_household_id))`,
	`CREATE TABLE rollup_team_listed (
		team_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL,
		guided BIGINT NOT NULL DEFAULT 0, new_households BIGINT NOT NULL DEFAULT 0, new_named BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (team_id, quarter))`,
	`CREATE TABLE rollup_hamlet_listed_households (
		hamlet_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL, listed_household_id BIGINT NOT NULL,
		PRIMARY KEY (hamlet_id, quarter, listed_household_id))`,
	`CREATE TABLE rollup_hamlet_listed_first (
		hamlet_id BIGINT NOT NULL, listed_household_id BIGINT NOT NULL, first_quarter VARCHAR(8) NOT NULL,
		PRIMARY KEY (hamlet_id, listed_household_id))`,
	`CREATE TABLE rollup_hamlet_listed (
		hamlet_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL,
		guided BIGINT NOT NULL DEFAULT 0, new_households BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (hamlet_id, quarter))`,
	`CREATE TABLE hamlet_lists (hamlet_id BIGINT NOT NULL PRIMARY KEY, households BIGINT NOT NULL DEFAULT 0)`,
}

// listedCounterMigrations create the counters and fill them from
// rollup_listed, which the rollups' own migrations filled from the visits.
func listedCounterMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026121100_listed_counters",
		Migrate: func(tx *gorm.DB) error {
			for _, s := range listedRollupTables {
				if err := tx.Exec(s).Error; err != nil {
					return fmt.Errorf("create listed counters: %w", err)
				}
			}
			return recountListed(tx, nil)
		},
		Rollback: func(tx *gorm.DB) error {
			for _, t := range []string{"rollup_team_listed_first", "rollup_team_listed", "rollup_hamlet_listed_households",
				"rollup_hamlet_listed_first", "rollup_hamlet_listed", "hamlet_lists"} {
				if err := tx.Migrator().DropTable(t); err != nil {
					return err
				}
			}
			return nil
		},
	}}
}

// distinctSets names the two tables that keep, for a scope (a team or a
// hamlet), one set of items per quarter and each item's first quarter.
type distinctSets struct {
	scope, item      string // columns
	inQuarter, first string // tables (scope, quarter, item) and (scope, item, first_quarter)
}

var (
	typedSets        = distinctSets{"team_id", "household", "rollup_quarter_households", "rollup_households"}
	teamListedSets   = distinctSets{"team_id", "listed_household_id", "rollup_listed", "rollup_team_listed_first"}
	hamletListedSets = distinctSets{"hamlet_id", "listed_household_id", "rollup_hamlet_listed_households", "rollup_hamlet_listed_first"}
)

// seen is what a visit changed in a scope's distinct sets.
type seen struct {
	inQuarter bool   // the item is new in the visit's quarter
	first     bool   // the visit's quarter is now the item's first
	movedFrom string // the item's first quarter until this visit, if it moved earlier
}

// see adds item to the scope's set of quarter q and, when new there, to
// its first quarters. Concurrent visits are safe, on Postgres too: each
// insert is decided by its primary key (INSERT … ON CONFLICT DO NOTHING
// waits for a transaction inserting the same key, then inserts nothing if
// it committed), so of two teams' visits naming one household at once
// exactly one finds it new; a late visit that moves the first quarter
// earlier does so with a conditional update, decided once however many
// race. Counters are then only ever added to.
func (s distinctSets) see(tx *gorm.DB, scopeID int64, q string, item int64) (seen, error) {
	var out seen
	var err error
	out.inQuarter, err = insertNew(tx, `INSERT INTO `+s.inQuarter+` (`+s.scope+`, quarter, `+s.item+`) VALUES (?, ?, ?)`,
		scopeID, q, item)
	if err != nil || !out.inQuarter {
		return out, err
	}
	out.first, err = insertNew(tx, `INSERT INTO `+s.first+` (`+s.scope+`, `+s.item+`, first_quarter) VALUES (?, ?, ?)`,
		scopeID, item, q)
	if err != nil || out.first {
		return out, err
	}
	// A visit reported late for an earlier quarter than the item's first
	// moves it there.
	var was []string
	if err := tx.Raw(`SELECT first_quarter FROM `+s.first+` WHERE `+s.scope+` = ? AND `+s.item+` = ?`, scopeID, item).
		Scan(&was).Error; err != nil {
		return out, err
	}
	if len(was) != 1 || q >= was[0] {
		return out, nil
	}
	res := tx.Exec(`UPDATE `+s.first+` SET first_quarter = ? WHERE `+s.scope+` = ? AND `+s.item+` = ? AND first_quarter = ?`,
		q, scopeID, item, was[0])
	if res.Error != nil {
		return out, res.Error
	}
	if res.RowsAffected == 1 {
		out.first, out.movedFrom = true, was[0]
	}
	return out, nil
}

// listedAdd is what visits add to a quarter's listed counters.
type listedAdd struct{ guided, fresh, named int64 }

func (a listedAdd) zero() bool { return a == listedAdd{} }

func addTeamListed(tx *gorm.DB, teamID int64, q string, a listedAdd) error {
	if a.zero() {
		return nil
	}
	return tx.Exec(`INSERT INTO rollup_team_listed (team_id, quarter, guided, new_households, new_named) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (team_id, quarter) DO UPDATE SET
			guided = rollup_team_listed.guided + excluded.guided,
			new_households = rollup_team_listed.new_households + excluded.new_households,
			new_named = rollup_team_listed.new_named + excluded.new_named`, teamID, q, a.guided, a.fresh, a.named).Error
}

func addHamletListed(tx *gorm.DB, hamletID int64, q string, a listedAdd) error {
	if a.zero() {
		return nil
	}
	return tx.Exec(`INSERT INTO rollup_hamlet_listed (hamlet_id, quarter, guided, new_households) VALUES (?, ?, ?, ?)
		ON CONFLICT (hamlet_id, quarter) DO UPDATE SET
			guided = rollup_hamlet_listed.guided + excluded.guided,
			new_households = rollup_hamlet_listed.new_households + excluded.new_households`, hamletID, q, a.guided, a.fresh).Error
}

// countOf is 1 when b is true.
func countOf(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Whether a household is pending is read with the visit, and a recount
// (after a confirmation or an import) reads the sets: on Postgres a visit
// naming a listed household holds its team's row FOR SHARE and a recount
// holds its hamlets' teams FOR UPDATE, so the one waits for the other and
// no visit falls between a confirmation and its recount. Both take the
// household's row (markGuided, the confirmation) before the team's, so
// they cannot deadlock. SQLite writes one transaction at a time.
const (
	listedVisitSQL = `SELECT t.hamlet_id AS team_hamlet, COALESCE(lh.hamlet_id, 0) AS hamlet, lh.pending AS pending
		FROM teams t LEFT JOIN listed_households lh ON lh.id = ? WHERE t.id = ?`
	lockTeamSQL = ` FOR SHARE OF t`
)

// rollListedVisit adds a new visit that names a listed household to the
// listed counters of its team and of the household's hamlet.
func rollListedVisit(tx *gorm.DB, v *cnsbot.Visit, q string) error {
	id := *v.ListedHouseholdID
	query := listedVisitSQL
	if tx.Dialector.Name() != DialectSQLite {
		query += lockTeamSQL
	}
	var at []struct {
		TeamHamlet, Hamlet int64
		Pending            *bool
	}
	if err := tx.Raw(query, id, v.TeamID).Scan(&at).Error; err != nil {
		return err
	}
	if len(at) != 1 {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, "team %d", v.TeamID)
	}
	own := at[0].Hamlet == at[0].TeamHamlet
	pending := at[0].Pending == nil || *at[0].Pending
	counts := own && !pending
	team, err := teamListedSets.see(tx, v.TeamID, q, id)
	if err != nil {
		return err
	}
	add := listedAdd{guided: countOf(team.inQuarter && counts), fresh: countOf(team.first && counts), named: countOf(team.first)}
	if err := addTeamListed(tx, v.TeamID, q, add); err != nil {
		return err
	}
	if team.movedFrom != "" {
		if err := addTeamListed(tx, v.TeamID, team.movedFrom, listedAdd{fresh: -countOf(counts), named: -1}); err != nil {
			return err
		}
	}
	if !own {
		return nil
	}
	hamlet, err := hamletListedSets.see(tx, at[0].Hamlet, q, id)
	if err != nil || pending {
		return err
	}
	if err := addHamletListed(tx, at[0].Hamlet, q, listedAdd{guided: countOf(hamlet.inQuarter), fresh: countOf(hamlet.first)}); err != nil {
		return err
	}
	if hamlet.movedFrom != "" {
		return addHamletListed(tx, at[0].Hamlet, hamlet.movedFrom, listedAdd{fresh: -1})
	}
	return nil
}

// recountListed counts the listed sets and counters of some hamlets (nil:
// every hamlet) and of their teams again from rollup_listed, which the
// visits fill, and the hamlets' lists (countLists): after a household was
// confirmed, visits were linked to listed households, or the rollups were
// rebuilt. A hamlet's rows are a few thousand.
func recountListed(tx *gorm.DB, hamlets []int64) error {
	if hamlets == nil {
		if err := recountListedWhere(tx, `1 = 1`, nil); err != nil {
			return err
		}
		return countLists(tx, nil)
	}
	slices.Sort(hamlets)
	hamlets = slices.Compact(hamlets)
	for i := 0; i < len(hamlets); i += reportBatch {
		if err := recountListedWhere(tx, `t.hamlet_id IN ?`, []any{hamlets[i:min(i+reportBatch, len(hamlets))]}); err != nil {
			return err
		}
	}
	return countLists(tx, hamlets)
}

// countLists counts the confirmed households of the lists of some hamlets
// (nil: every hamlet) into hamlet_lists, after whatever added or
// confirmed some. On Postgres the hamlets' rows are held first, so that
// of two transactions counting one hamlet the later counts after the
// earlier's commit, and the count written is never a stale one.
func countLists(tx *gorm.DB, hamlets []int64) error {
	fail := func(err error) error { return fmt.Errorf("count household lists: %w", err) }
	if hamlets == nil {
		if err := tx.Exec(`DELETE FROM hamlet_lists`).Error; err != nil {
			return fail(err)
		}
		return tx.Exec(`INSERT INTO hamlet_lists (hamlet_id, households)
			SELECT hamlet_id, COUNT(*) FROM listed_households WHERE NOT pending GROUP BY hamlet_id`).Error
	}
	for i := 0; i < len(hamlets); i += reportBatch {
		batch := hamlets[i:min(i+reportBatch, len(hamlets))]
		if tx.Dialector.Name() != DialectSQLite {
			var locked []int64
			if err := tx.Raw(`SELECT id FROM units WHERE id IN ? ORDER BY id FOR UPDATE`, batch).Scan(&locked).Error; err != nil {
				return fail(err)
			}
		}
		if err := tx.Exec(`INSERT INTO hamlet_lists (hamlet_id, households)
			SELECT u.id, (SELECT COUNT(*) FROM listed_households lh WHERE lh.hamlet_id = u.id AND NOT lh.pending)
			FROM units u WHERE u.id IN ?
			ON CONFLICT (hamlet_id) DO UPDATE SET households = excluded.households`, batch).Error; err != nil {
			return fail(err)
		}
	}
	return nil
}

// recountListedWhere is recountListed for the hamlets of the teams t that
// where (a constant of recountListed, with args) chooses.
func recountListedWhere(tx *gorm.DB, where string, args []any) error {
	twice := append(append([]any{}, args...), args...)
	teams := `SELECT t.id FROM teams t WHERE ` + where
	hamlets := `SELECT t.hamlet_id FROM teams t WHERE ` + where
	// A listed household, when it counts for the team aliased t: on its
	// hamlet's list and confirmed.
	const counting = ` LEFT JOIN listed_households lh ON lh.id = x.listed_household_id AND lh.hamlet_id = t.hamlet_id AND NOT lh.pending`
	steps := []struct {
		query string
		args  []any
	}{
		{`DELETE FROM rollup_team_listed_first WHERE team_id IN (` + teams + `)`, args},
		{`DELETE FROM rollup_team_listed WHERE team_id IN (` + teams + `)`, args},
		{`DELETE FROM rollup_hamlet_listed_households WHERE hamlet_id IN (` + hamlets + `)`, args},
		{`DELETE FROM rollup_hamlet_listed_first WHERE hamlet_id IN (` + hamlets + `)`, args},
		{`DELETE FROM rollup_hamlet_listed WHERE hamlet_id IN (` + hamlets + `)`, args},
		{`INSERT INTO rollup_team_listed_first (team_id, listed_household_id, first_quarter)
			SELECT rl.team_id, rl.listed_household_id, MIN(rl.quarter) FROM rollup_listed rl JOIN teams t ON t.id = rl.team_id
			WHERE ` + where + ` GROUP BY rl.team_id, rl.listed_household_id`, args},
		{`INSERT INTO rollup_hamlet_listed_households (hamlet_id, quarter, listed_household_id)
			SELECT DISTINCT t.hamlet_id, rl.quarter, rl.listed_household_id FROM rollup_listed rl JOIN teams t ON t.id = rl.team_id
				JOIN listed_households lh ON lh.id = rl.listed_household_id AND lh.hamlet_id = t.hamlet_id
			WHERE ` + where, args},
		{`INSERT INTO rollup_hamlet_listed_first (hamlet_id, listed_household_id, first_quarter)
			SELECT s.hamlet_id, s.listed_household_id, MIN(s.quarter) FROM rollup_hamlet_listed_households s
			WHERE s.hamlet_id IN (` + hamlets + `) GROUP BY s.hamlet_id, s.listed_household_id`, args},
		{`INSERT INTO rollup_team_listed (team_id, quarter, guided, new_households, new_named)
			SELECT team_id, quarter, SUM(guided), SUM(fresh), SUM(named) FROM (
				SELECT x.team_id AS team_id, x.quarter AS quarter, CASE WHEN lh.id IS NULL THEN 0 ELSE 1 END AS guided,
					0 AS fresh, 0 AS named
				FROM rollup_listed x JOIN teams t ON t.id = x.team_id` + counting + ` WHERE ` + where + `
				UNION ALL
				SELECT x.team_id, x.first_quarter, 0, CASE WHEN lh.id IS NULL THEN 0 ELSE 1 END, 1
				FROM rollup_team_listed_first x JOIN teams t ON t.id = x.team_id` + counting + ` WHERE ` + where + `
			) c GROUP BY team_id, quarter`, twice},
		{`INSERT INTO rollup_hamlet_listed (hamlet_id, quarter, guided, new_households)
			SELECT hamlet_id, quarter, SUM(guided), SUM(fresh) FROM (
				SELECT s.hamlet_id AS hamlet_id, s.quarter AS quarter, 1 AS guided, 0 AS fresh FROM rollup_hamlet_listed_households s
					JOIN listed_households lh ON lh.id = s.listed_household_id AND NOT lh.pending
				WHERE s.hamlet_id IN (` + hamlets + `)
				UNION ALL
				SELECT f.hamlet_id, f.first_quarter, 0, 1 FROM rollup_hamlet_listed_first f
					JOIN listed_households lh ON lh.id = f.listed_household_id AND NOT lh.pending
				WHERE f.hamlet_id IN (` + hamlets + `)
			) c GROUP BY hamlet_id, quarter`, twice},
	}
	if tx.Dialector.Name() != DialectSQLite {
		// See listedVisitSQL: visits naming listed households of these
		// teams wait for the recount.
		var locked []int64
		if err := tx.Raw(teams+` ORDER BY t.id FOR UPDATE`, args...).Scan(&locked).Error; err != nil {
			return fmt.Errorf("recount listed households: %w", err)
		}
	}
	for _, s := range steps {
		if err := tx.Exec(s.query, s.args...).Error; err != nil {
			return fmt.Errorf("recount listed households: %w", err)
		}
	}
	return nil
}
