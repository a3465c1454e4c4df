package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// Quarterly rollups (issue 19): each team's figures per quarter, kept in
// summary tables that every write of a visit updates in the same
// transaction. The dashboard's indicators, the quarterly report, the
// reminders and a leader's "tiến độ" read them instead of counting
// distinct households and members over a province's visits (1.2 M rows
// for "guided to date").
//
// Why tables maintained on write, and not a materialised view refreshed by
// a job: the figures must be right the moment a member reports (a leader
// asks "tiến độ" right after, and the chat answers from them), a refresh
// of a province's view costs seconds of the database every few minutes
// whether or not anyone reported, and SQLite, the default, has no
// materialised views. A visit is written a few thousand times a day; the
// five small upserts it now costs are nothing beside that.
//
//   - rollup_team_quarters: per team and quarter, the additive figures
//     (visits, minutes) and the counts of the distinct sets below (guided
//     households, active members, households guided for the first time).
//   - rollup_team_areas: people guided per team, quarter and area.
//   - rollup_quarter_households, rollup_quarter_members: the distinct sets
//     themselves, so that a visit knows whether it adds to the counts.
//   - rollup_households: each household's first quarter with the team, so
//     that "guided to date" is a sum of first-time households.
//
// Households are kept as a 64-bit hash of their folded key, not the key:
// the rollups hold no one's name, and the erasure of a resident need not
// find them.

// rollupZone is the zone whose calendar quarters the rollups count:
// Vietnam's, UTC+7 without daylight saving since 1975. Figures asked for in
// a location whose quarters begin and end at the same instants (Asia/
// Ho_Chi_Minh) come from the rollups; any other falls back to counting the
// visits.
var rollupZone = time.FixedZone("UTC+7", 7*3600)

// rollupQuarter is the quarter of an instant in the rollups.
func rollupQuarter(t time.Time) string { return calendar.Quarter(t.In(rollupZone)) }

// rollupsCover reports whether the rollups count quarter q as loc does.
func rollupsCover(q string, loc *time.Location) bool {
	s1, e1, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return false
	}
	s2, e2, _ := calendar.QuarterBounds(q, rollupZone)
	return s1.Equal(s2) && e1.Equal(e2)
}

// householdHash is the rollups' name for a household of a team.
func householdHash(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// visitAreas returns the distinct trimmed areas of a visit's Areas, in
// order: a visit adds its people once to each.
func visitAreas(areas string) []string {
	var out []string
	for a := range strings.SplitSeq(areas, ",") {
		a = strings.TrimSpace(a)
		if a == "" || contains(out, a) {
			continue
		}
		out = append(out, a)
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// rollupMigrations create the rollup tables and fill them from the visits
// already stored.
func rollupMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120960_quarter_rollups",
		Migrate: func(tx *gorm.DB) error {
			for _, s := range rollupTables {
				if err := tx.Exec(s).Error; err != nil {
					return fmt.Errorf("create rollups: %w", err)
				}
			}
			return rebuildRollups(tx)
		},
		Rollback: func(tx *gorm.DB) error {
			for _, t := range []string{"rollup_team_quarters", "rollup_team_areas", "rollup_quarter_households",
				"rollup_quarter_members", "rollup_households"} {
				if err := tx.Migrator().DropTable(t); err != nil {
					return err
				}
			}
			return nil
		},
	}, {
		// Issue 16: in a hamlet with a household list, a household guided
		// is a listed household a visit named. The hashed keys above cannot
		// say which, nor whether the household is still waiting for its
		// leader (pending), so the listed households each team named are
		// kept by id, per quarter, and counted against the list when read.
		ID: "2026121010_listed_rollups",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(rollupListedTable).Error; err != nil {
				return fmt.Errorf("create listed rollups: %w", err)
			}
			return rebuildRollups(tx)
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("rollup_listed") },
	}}
}

// rollupListedTable is the listed households each team's visits named in
// a quarter: an id of the list, not a name.
const rollupListedTable = `CREATE TABLE rollup_listed (
		team_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL, listed_household_id BIGINT NOT NULL,
		PRIMARY KEY (team_id, quarter, listed_household_id))`

// rollupTables is the rollups' schema, in SQL both dialects read.
var rollupTables = []string{
	`CREATE TABLE rollup_team_quarters (
		team_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL,
		visits BIGINT NOT NULL DEFAULT 0, minutes BIGINT NOT NULL DEFAULT 0,
		guided BIGINT NOT NULL DEFAULT 0, active BIGINT NOT NULL DEFAULT 0,
		new_households BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (team_id, quarter))`,
	`CREATE INDEX idx_rollup_team_quarters_quarter ON rollup_team_quarters (quarter, team_id)`,
	`CREATE TABLE rollup_team_areas (
		team_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL, area VARCHAR(200) NOT NULL,
		people BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (team_id, quarter, area))`,
	`CREATE TABLE rollup_quarter_households (
		team_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL, household BIGINT NOT NULL,
		PRIMARY KEY (team_id, quarter, household))`,
	`CREATE TABLE rollup_quarter_members (
		team_id BIGINT NOT NULL, quarter VARCHAR(8) NOT NULL, person_id BIGINT NOT NULL,
		PRIMARY KEY (team_id, quarter, person_id))`,
	`CREATE INDEX idx_rollup_quarter_members_quarter ON rollup_quarter_members (quarter, person_id)`,
	`CREATE TABLE rollup_households (
		team_id BIGINT NOT NULL, household BIGINT NOT NULL, first_quarter VARCHAR(8) NOT NULL,
		PRIMARY KEY (team_id, household))`,
}

// teamQuarterAdd is what one or more visits add to a team's quarter.
type teamQuarterAdd struct {
	visits, minutes, guided, active, newHouseholds int64
}

func addTeamQuarter(tx *gorm.DB, teamID int64, q string, a teamQuarterAdd) error {
	return tx.Exec(`INSERT INTO rollup_team_quarters (team_id, quarter, visits, minutes, guided, active, new_households)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (team_id, quarter) DO UPDATE SET
			visits = rollup_team_quarters.visits + excluded.visits,
			minutes = rollup_team_quarters.minutes + excluded.minutes,
			guided = rollup_team_quarters.guided + excluded.guided,
			active = rollup_team_quarters.active + excluded.active,
			new_households = rollup_team_quarters.new_households + excluded.new_households`,
		teamID, q, a.visits, a.minutes, a.guided, a.active, a.newHouseholds).Error
}

// insertNew inserts a row unless it exists and reports whether it did.
func insertNew(tx *gorm.DB, query string, args ...any) (bool, error) {
	res := tx.Exec(query+" ON CONFLICT DO NOTHING", args...)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// rollVisit adds a newly stored visit to the rollups, within the
// transaction that stored it. Concurrent visits are safe: each
// distinct-set insert is decided by its primary key (distinctSets.see),
// and the counters are added to, never overwritten.
func rollVisit(tx *gorm.DB, v *cnsbot.Visit) error {
	q := rollupQuarter(v.VisitedAt)
	hh := householdHash(v.HouseholdKey)
	add := teamQuarterAdd{visits: 1, minutes: int64(v.Minutes)}
	fail := func(what string, err error) error { return fmt.Errorf("roll up visit: %s: %w", what, err) }
	household, err := typedSets.see(tx, v.TeamID, q, hh)
	if err != nil {
		return fail("household", err)
	}
	add.guided, add.newHouseholds = countOf(household.inQuarter), countOf(household.first)
	if household.movedFrom != "" {
		if err := addTeamQuarter(tx, v.TeamID, household.movedFrom, teamQuarterAdd{newHouseholds: -1}); err != nil {
			return fail("first quarter", err)
		}
	}
	activeNew, err := insertNew(tx, `INSERT INTO rollup_quarter_members (team_id, quarter, person_id) VALUES (?, ?, ?)`,
		v.TeamID, q, v.PersonID)
	if err != nil {
		return fail("member", err)
	}
	if activeNew {
		add.active = 1
	}
	if err := addTeamQuarter(tx, v.TeamID, q, add); err != nil {
		return fail("team quarter", err)
	}
	for _, a := range visitAreas(v.Areas) {
		err := tx.Exec(`INSERT INTO rollup_team_areas (team_id, quarter, area, people) VALUES (?, ?, ?, ?)
			ON CONFLICT (team_id, quarter, area) DO UPDATE SET people = rollup_team_areas.people + excluded.people`,
			v.TeamID, q, a, v.People).Error
		if err != nil {
			return fail("areas", err)
		}
	}
	if v.ListedHouseholdID != nil {
		if err := rollListedVisit(tx, v, q); err != nil {
			return fail("listed household", err)
		}
	}
	return rollAreaHouseholds(tx, v)
}

// RebuildRollups recomputes the rollups from the visits: after a bulk load
// that wrote visits around the store (the province generator), or to
// check them.
func (db *DB) RebuildRollups(ctx context.Context) error {
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := rebuildRollups(tx); err != nil {
			return err
		}
		return rebuildAreaHouseholds(tx)
	})
}

// rebuildRollups empties the rollups and fills them from every visit, a
// hundred teams at a time: each team's visits are read once, in the order
// of idx_visits_team_visited, and the memory held is a hundred teams'.
// Reads and writes alternate rather than interleave: SQLite's one
// connection cannot write while a read is open.
func rebuildRollups(tx *gorm.DB) error {
	tables := rollupTableNames(tx)
	for _, t := range tables {
		if err := tx.Exec("DELETE FROM " + t).Error; err != nil {
			return fmt.Errorf("rebuild rollups: %w", err)
		}
	}
	var teams []int64
	if err := tx.Raw(`SELECT DISTINCT team_id FROM visits ORDER BY team_id`).Scan(&teams).Error; err != nil {
		return fmt.Errorf("rebuild rollups: %w", err)
	}
	if err := buildRollups(tx, teams, slices.Contains(tables, "rollup_listed")); err != nil {
		return err
	}
	// The migrations before the listed counters' rebuild without them.
	if !tx.Migrator().HasTable("rollup_hamlet_listed") {
		return nil
	}
	return recountListed(tx, nil)
}

// rollupTableNames are the rollup tables that exist: the first migration
// rebuilt the rollups before rollup_listed was added.
func rollupTableNames(tx *gorm.DB) []string {
	tables := []string{"rollup_team_quarters", "rollup_team_areas", "rollup_quarter_households",
		"rollup_quarter_members", "rollup_households"}
	if tx.Migrator().HasTable("rollup_listed") {
		tables = append(tables, "rollup_listed")
	}
	return tables
}

// buildRollups fills the rollups of teams, which have none, from their
// visits, a hundred teams at a time.
func buildRollups(tx *gorm.DB, teams []int64, listed bool) error {
	const chunk = 100
	for i := 0; i < len(teams); i += chunk {
		b := rollupBuilder{noListed: !listed}
		if err := b.read(tx, teams[i:min(i+chunk, len(teams))]); err != nil {
			return fmt.Errorf("rebuild rollups: %w", err)
		}
		b.flush()
		if err := b.write(tx); err != nil {
			return err
		}
	}
	return nil
}

// rebuildTeamRollups recomputes the rollups of some teams from their
// visits: after visits changed household (linked to a listed household),
// which moves them between the distinct sets. A team's rows are a few
// hundred, its visits a few thousand.
func rebuildTeamRollups(tx *gorm.DB, teams []int64) error {
	if len(teams) == 0 {
		return nil
	}
	slices.Sort(teams)
	teams = slices.Compact(teams)
	tables := rollupTableNames(tx)
	for i := 0; i < len(teams); i += reportBatch {
		batch := teams[i:min(i+reportBatch, len(teams))]
		for _, t := range tables {
			if err := tx.Exec("DELETE FROM "+t+" WHERE team_id IN ?", batch).Error; err != nil {
				return fmt.Errorf("rebuild team rollups: %w", err)
			}
		}
	}
	if err := buildRollups(tx, teams, slices.Contains(tables, "rollup_listed")); err != nil {
		return err
	}
	// The hamlets' listed households guided are counted over all their
	// teams: those of the rebuilt teams' hamlets are counted again.
	var hamlets []int64
	for i := 0; i < len(teams); i += reportBatch {
		var part []int64
		if err := tx.Raw(`SELECT DISTINCT hamlet_id FROM teams WHERE id IN ?`, teams[i:min(i+reportBatch, len(teams))]).
			Scan(&part).Error; err != nil {
			return fmt.Errorf("rebuild team rollups: %w", err)
		}
		hamlets = append(hamlets, part...)
	}
	return recountListed(tx, hamlets)
}

// read adds the visits of some teams to b.
func (b *rollupBuilder) read(tx *gorm.DB, teams []int64) error {
	rows, err := tx.Raw(`SELECT team_id, person_id, COALESCE(household_key, ''), COALESCE(areas, ''),
			COALESCE(people, 0), COALESCE(minutes, 0), visited_at, listed_household_id
		FROM visits WHERE team_id IN ? ORDER BY team_id, visited_at`, teams).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v cnsbot.Visit
		var at sql.NullTime
		var listed sql.NullInt64
		if err := rows.Scan(&v.TeamID, &v.PersonID, &v.HouseholdKey, &v.Areas, &v.People, &v.Minutes, &at, &listed); err != nil {
			return err
		}
		v.VisitedAt = at.Time
		if listed.Valid {
			v.ListedHouseholdID = &listed.Int64
		}
		b.add(&v)
	}
	return rows.Err()
}

// rollupBuilder aggregates visits sorted by team into rollup rows.
type rollupBuilder struct {
	// noListed: rollup_listed does not exist yet (an old migration).
	noListed   bool
	team       int64
	quarters   map[string]*teamQuarterAdd
	areas      map[[2]string]int64
	households map[string]map[int64]bool
	members    map[string]map[int64]bool
	first      map[int64]string
	listed     map[string]map[int64]bool

	outQuarters   []rollupTeamQuarter
	outAreas      []rollupTeamArea
	outHouseholds []rollupQuarterHousehold
	outMembers    []rollupQuarterMember
	outFirst      []rollupHousehold
	outListed     []rollupListed
}

type rollupTeamQuarter struct {
	TeamID, Visits, Minutes, Guided, Active, NewHouseholds int64
	Quarter                                                string
}

func (rollupTeamQuarter) TableName() string { return "rollup_team_quarters" }

type rollupTeamArea struct {
	TeamID        int64
	Quarter, Area string
	People        int64
}

func (rollupTeamArea) TableName() string { return "rollup_team_areas" }

type rollupQuarterHousehold struct {
	TeamID    int64
	Quarter   string
	Household int64
}

func (rollupQuarterHousehold) TableName() string { return "rollup_quarter_households" }

type rollupQuarterMember struct {
	TeamID   int64
	Quarter  string
	PersonID int64
}

func (rollupQuarterMember) TableName() string { return "rollup_quarter_members" }

type rollupHousehold struct {
	TeamID       int64
	Household    int64
	FirstQuarter string
}

func (rollupHousehold) TableName() string { return "rollup_households" }

type rollupListed struct {
	TeamID            int64
	Quarter           string
	ListedHouseholdID int64
}

func (rollupListed) TableName() string { return "rollup_listed" }

func (b *rollupBuilder) add(v *cnsbot.Visit) {
	if b.quarters == nil || v.TeamID != b.team {
		b.flush()
		b.team = v.TeamID
		b.quarters = map[string]*teamQuarterAdd{}
		b.areas = map[[2]string]int64{}
		b.households = map[string]map[int64]bool{}
		b.members = map[string]map[int64]bool{}
		b.first = map[int64]string{}
		b.listed = map[string]map[int64]bool{}
	}
	q := rollupQuarter(v.VisitedAt)
	a := b.quarters[q]
	if a == nil {
		a = &teamQuarterAdd{}
		b.quarters[q] = a
		b.households[q] = map[int64]bool{}
		b.members[q] = map[int64]bool{}
		b.listed[q] = map[int64]bool{}
	}
	if v.ListedHouseholdID != nil {
		b.listed[q][*v.ListedHouseholdID] = true
	}
	a.visits++
	a.minutes += int64(v.Minutes)
	hh := householdHash(v.HouseholdKey)
	if !b.households[q][hh] {
		b.households[q][hh] = true
		a.guided++
	}
	if !b.members[q][v.PersonID] {
		b.members[q][v.PersonID] = true
		a.active++
	}
	// Visits come in time order within a team: the first seen is the first.
	if _, ok := b.first[hh]; !ok {
		b.first[hh] = q
		a.newHouseholds++
	}
	for _, area := range visitAreas(v.Areas) {
		b.areas[[2]string{q, area}] += int64(v.People)
	}
}

func (b *rollupBuilder) flush() {
	if b.quarters == nil {
		return
	}
	t := b.team
	for q, a := range b.quarters {
		b.outQuarters = append(b.outQuarters, rollupTeamQuarter{TeamID: t, Quarter: q, Visits: a.visits, Minutes: a.minutes,
			Guided: a.guided, Active: a.active, NewHouseholds: a.newHouseholds})
		for hh := range b.households[q] {
			b.outHouseholds = append(b.outHouseholds, rollupQuarterHousehold{TeamID: t, Quarter: q, Household: hh})
		}
		for p := range b.members[q] {
			b.outMembers = append(b.outMembers, rollupQuarterMember{TeamID: t, Quarter: q, PersonID: p})
		}
		if !b.noListed {
			for id := range b.listed[q] {
				b.outListed = append(b.outListed, rollupListed{TeamID: t, Quarter: q, ListedHouseholdID: id})
			}
		}
	}
	for k, n := range b.areas {
		b.outAreas = append(b.outAreas, rollupTeamArea{TeamID: t, Quarter: k[0], Area: k[1], People: n})
	}
	for hh, q := range b.first {
		b.outFirst = append(b.outFirst, rollupHousehold{TeamID: t, Household: hh, FirstQuarter: q})
	}
	b.quarters = nil
}

// write inserts the pending rows in batches that stay under SQLite's
// bound on a statement's variables.
func (b *rollupBuilder) write(tx *gorm.DB) error {
	const batch = 1000
	for _, rows := range []any{b.outQuarters, b.outAreas, b.outHouseholds, b.outMembers, b.outFirst, b.outListed} {
		if err := tx.CreateInBatches(rows, batch).Error; err != nil {
			return fmt.Errorf("rebuild rollups: %w", err)
		}
	}
	return nil
}

// rolledFigures fills the visit-derived figures of each team from the
// rollups: GuidedInQuarter, GuidedToDate, ActiveMembers, Visits, Minutes
// and People. out must hold every team already.
func rolledFigures(tx *gorm.DB, teamIDs []int64, q string, out map[int64]calendar.Figures) error {
	var quarters []rollupTeamQuarter
	if err := tx.Where("quarter = ? AND team_id IN ?", q, teamIDs).Find(&quarters).Error; err != nil {
		return fmt.Errorf("rolled figures: %w", err)
	}
	for _, r := range quarters {
		f := out[r.TeamID]
		f.Visits, f.Minutes, f.GuidedInQuarter, f.ActiveMembers = int(r.Visits), int(r.Minutes), int(r.Guided), int(r.Active)
		out[r.TeamID] = f
	}
	var toDate []struct{ TeamID, N int64 }
	if err := tx.Raw(`SELECT team_id, SUM(new_households) AS n FROM rollup_team_quarters
		WHERE quarter <= ? AND team_id IN ? GROUP BY team_id`, q, teamIDs).Scan(&toDate).Error; err != nil {
		return fmt.Errorf("rolled figures: %w", err)
	}
	for _, r := range toDate {
		f := out[r.TeamID]
		f.GuidedToDate = int(r.N)
		out[r.TeamID] = f
	}
	var areas []rollupTeamArea
	if err := tx.Where("quarter = ? AND team_id IN ?", q, teamIDs).Find(&areas).Error; err != nil {
		return fmt.Errorf("rolled figures: %w", err)
	}
	for _, a := range areas {
		f := out[a.TeamID]
		if f.People == nil {
			f.People = map[string]int{}
		}
		f.People[a.Area] += int(a.People)
		out[a.TeamID] = f
	}
	return nil
}

// rolledTotals fills f, the figures of a set of teams together, from the
// rollups: the sums of rolledFigures, except that a member active in two of
// the teams counts once, as counting the visits does.
func rolledTotals(tx *gorm.DB, teamIDs []int64, q string, f *calendar.Figures) error {
	per := make(map[int64]calendar.Figures, len(teamIDs))
	for i := 0; i < len(teamIDs); i += reportBatch {
		if err := rolledFigures(tx, teamIDs[i:min(i+reportBatch, len(teamIDs))], q, per); err != nil {
			return err
		}
	}
	for _, t := range per {
		f.Visits += t.Visits
		f.Minutes += t.Minutes
		f.GuidedInQuarter += t.GuidedInQuarter
		f.GuidedToDate += t.GuidedToDate
		for a, n := range t.People {
			f.People[a] += n
		}
	}
	// Teams of listed hamlets count their listed households, each once.
	a, err := rolledListedAdjustIDs(tx, teamIDs, q)
	if err != nil {
		return err
	}
	a.apply(f)
	// Distinct people over the teams; one statement when the ids fit.
	if len(teamIDs) <= reportBatch {
		var n int64
		err := tx.Raw(`SELECT COUNT(DISTINCT person_id) FROM rollup_quarter_members WHERE quarter = ? AND team_id IN ?`,
			q, teamIDs).Scan(&n).Error
		if err != nil {
			return fmt.Errorf("rolled figures: %w", err)
		}
		f.ActiveMembers = int(n)
		return nil
	}
	people := map[int64]bool{}
	for i := 0; i < len(teamIDs); i += reportBatch {
		var ids []int64
		err := tx.Raw(`SELECT DISTINCT person_id FROM rollup_quarter_members WHERE quarter = ? AND team_id IN ?`,
			q, teamIDs[i:min(i+reportBatch, len(teamIDs))]).Scan(&ids).Error
		if err != nil {
			return fmt.Errorf("rolled figures: %w", err)
		}
		for _, id := range ids {
			people[id] = true
		}
	}
	f.ActiveMembers = len(people)
	return nil
}

// rolledUpFigures completes f, the figures of a set of teams for f.Quarter,
// from the units, the roles and the rollups: what figures counts from the
// visits, in a handful of statements over small tables.
func (db *DB) rolledUpFigures(tx *gorm.DB, teamIDs []int64, f calendar.Figures) (calendar.Figures, error) {
	var households, members int64
	var units struct{ Households, Listed int64 }
	if err := tx.Raw(`SELECT COALESCE(SUM(`+householdsOf("u")+`), 0) AS households, COALESCE(SUM(`+listedOf("u")+`), 0) AS listed
		FROM units u WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN ?)`, teamIDs).Scan(&units).Error; err != nil {
		return calendar.Figures{}, fmt.Errorf("figures: %w", err)
	}
	households, f.ListedHamlets = units.Households, int(units.Listed)
	if err := tx.Raw(`SELECT COUNT(DISTINCT person_id) FROM roles WHERE team_id IN ? AND role IN ? AND approved = ?`,
		teamIDs, []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true).Scan(&members).Error; err != nil {
		return calendar.Figures{}, fmt.Errorf("figures: %w", err)
	}
	f.Households, f.Members = int(households), int(members)
	if err := rolledTotals(tx, teamIDs, f.Quarter, &f); err != nil {
		return calendar.Figures{}, err
	}
	return f, nil
}

// rolledReportFigures adds the figures of quarter q of a batch of teams to
// out, as reportFigures does from the visits.
func (db *DB) rolledReportFigures(ctx context.Context, teamIDs []int64, q string, out map[int64]calendar.Figures) error {
	tx := db.orm.WithContext(ctx)
	type count struct{ TeamID, N int64 }
	var members []count
	var households []struct{ TeamID, N, Listed int64 }
	if err := tx.Raw(`SELECT t.id AS team_id, `+householdsOf("u")+` AS n, `+listedOf("u")+` AS listed FROM teams t JOIN units u ON u.id = t.hamlet_id
		WHERE t.id IN ?`, teamIDs).Scan(&households).Error; err != nil {
		return err
	}
	if err := tx.Raw(`SELECT team_id, COUNT(DISTINCT person_id) AS n FROM roles
		WHERE team_id IN ? AND role IN ? AND approved = ? GROUP BY team_id`,
		teamIDs, []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true).Scan(&members).Error; err != nil {
		return err
	}
	for _, c := range households {
		f := out[c.TeamID]
		f.Households, f.ListedHamlets = int(c.N), int(c.Listed)
		out[c.TeamID] = f
	}
	for _, c := range members {
		f := out[c.TeamID]
		f.Members = int(c.N)
		out[c.TeamID] = f
	}
	if err := rolledFigures(tx, teamIDs, q, out); err != nil {
		return err
	}
	return applyRolledTeamListed(tx, teamIDs, q, out)
}

// figures compiles the figures of the teams for quarter q, whose days are
// counted in loc: from the rollups when they count q as loc does.
func (db *DB) figures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (calendar.Figures, error) {
	return db.figuresFrom(ctx, teamIDs, q, loc, true)
}

// communeRolledFigures compiles the figures of every team of a commune (0:
// of the province) from the rollups, the teams chosen by a subquery rather
// than a list of ids: at a province's 1,500 teams the dashboard's
// indicators asked 4 quarters × 6 statements with 1,500 bound ids each. ok
// is false when the rollups do not count q as loc does.
func (db *DB) communeRolledFigures(ctx context.Context, communeID int64, q string, loc *time.Location) (f calendar.Figures, ok bool, err error) {
	start, _, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return calendar.Figures{}, false, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	q = calendar.Quarter(start)
	if !rollupsCover(q, loc) {
		return calendar.Figures{}, false, nil
	}
	tx := db.orm.WithContext(ctx)
	scope, args := `SELECT id FROM teams`, []any{}
	if communeID != 0 {
		scope = `SELECT t.id FROM teams t JOIN units h ON h.id = t.hamlet_id WHERE h.kind = ? AND h.parent_id = ?`
		args = []any{cnsbot.UnitHamlet, communeID}
	}
	with := func(a ...any) []any { return append(append([]any{}, a...), args...) }
	f = calendar.Figures{Quarter: q, People: map[string]int{}}
	// One statement of scalar subqueries: one round trip, where the
	// dashboard's indicators ask for four quarters of one or more communes.
	var sums struct{ Teams, Households, Listed, Members, Visits, Minutes, Guided, ToDate, Active int64 }
	var all []any
	all = append(all, with()...)
	all = append(all, with()...)
	all = append(all, with()...)
	all = append(all, with([]string{cnsbot.RoleMember, cnsbot.RoleLeader}, true)...)
	all = append(all, with(q)...)
	all = append(all, with(q)...)
	all = append(all, with(q)...)
	err = tx.Raw(`SELECT
		(SELECT COUNT(*) FROM teams WHERE id IN (`+scope+`)) AS teams,
		(SELECT COALESCE(SUM(`+householdsOf("u")+`), 0) FROM units u
			WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN (`+scope+`))) AS households,
		(SELECT COALESCE(SUM(`+listedOf("u")+`), 0) FROM units u
			WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN (`+scope+`))) AS listed,
		(SELECT COUNT(DISTINCT person_id) FROM roles WHERE role IN ? AND approved = ? AND team_id IN (`+scope+`)) AS members,
		r.visits, r.minutes, r.guided,
		(SELECT COALESCE(SUM(new_households), 0) FROM rollup_team_quarters WHERE quarter <= ? AND team_id IN (`+scope+`)) AS to_date,
		(SELECT COUNT(DISTINCT person_id) FROM rollup_quarter_members WHERE quarter = ? AND team_id IN (`+scope+`)) AS active
		FROM (SELECT COALESCE(SUM(visits), 0) AS visits, COALESCE(SUM(minutes), 0) AS minutes, COALESCE(SUM(guided), 0) AS guided
			FROM rollup_team_quarters WHERE quarter = ? AND team_id IN (`+scope+`)) r`, all...).Scan(&sums).Error
	if err != nil {
		return calendar.Figures{}, false, fmt.Errorf("commune figures: %w", err)
	}
	var areas []struct {
		Area   string
		People int64
	}
	if err := tx.Raw(`SELECT area, SUM(people) AS people FROM rollup_team_areas WHERE quarter = ? AND team_id IN (`+scope+`)
		GROUP BY area`, with(q)...).Scan(&areas).Error; err != nil {
		return calendar.Figures{}, false, fmt.Errorf("commune figures: %w", err)
	}
	for _, a := range areas {
		f.People[a.Area] += int(a.People)
	}
	f.Teams, f.Households, f.Members = int(sums.Teams), int(sums.Households), int(sums.Members)
	f.ListedHamlets = int(sums.Listed)
	f.Visits, f.Minutes, f.GuidedInQuarter = int(sums.Visits), int(sums.Minutes), int(sums.Guided)
	f.GuidedToDate, f.ActiveMembers = int(sums.ToDate), int(sums.Active)
	a, err := rolledListedAdjust(tx, hamletLevel, `t.id IN (`+scope+`)`, args, []string{q})
	if err != nil {
		return calendar.Figures{}, false, fmt.Errorf("commune figures: %w", err)
	}
	a[q].apply(&f)
	return f, true, nil
}

// ReportCommuneHelpRequests is ReportHelpRequests for one commune: the
// requests of its hamlets or its teams, the only ones its report counts.
func (db *DB) ReportCommuneHelpRequests(ctx context.Context, communeID int64, from, to time.Time) ([]cnsbot.HelpRequest, error) {
	var rs []cnsbot.HelpRequest
	f, t := from.UTC(), to.UTC()
	tx := db.orm.WithContext(ctx)
	hamlets := tx.Model(&cnsbot.Unit{}).Select("id").Where("kind = ? AND parent_id = ?", cnsbot.UnitHamlet, communeID)
	teams := tx.Model(&cnsbot.Team{}).Select("id").Where("hamlet_id IN (?)", hamlets)
	err := tx.Select("id", "code", "commune_id", "hamlet_id", "team_id", "status", "created_at", "closed_at").
		Where("(created_at >= ? AND created_at < ?) OR (closed_at >= ? AND closed_at < ?)", f, t, f, t).
		Where("hamlet_id IN (?) OR team_id IN (?)", hamlets, teams).
		Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("report help requests: %w", err)
	}
	return rs, nil
}

// CommuneFiguresQuarters is CommuneFigures for several quarters at once:
// the dashboard's indicators show four. From the rollups, five statements
// serve them all; otherwise each quarter is compiled in turn.
func (db *DB) CommuneFiguresQuarters(ctx context.Context, communeID int64, qs []string, loc *time.Location) ([]calendar.Figures, error) {
	out := make([]calendar.Figures, len(qs))
	index := map[string]int{}
	last := ""
	for i, q := range qs {
		start, _, err := calendar.QuarterBounds(q, loc)
		if err != nil {
			return nil, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
		}
		q = calendar.Quarter(start)
		if !rollupsCover(q, loc) || index[q] != 0 || len(qs) == 1 {
			return db.eachQuarter(ctx, communeID, qs, loc)
		}
		index[q] = i + 1
		out[i] = calendar.Figures{Quarter: q, People: map[string]int{}}
		last = max(last, q)
	}
	tx := db.orm.WithContext(ctx)
	scope, args := `SELECT id FROM teams`, []any{}
	if communeID != 0 {
		scope = `SELECT t.id FROM teams t JOIN units h ON h.id = t.hamlet_id WHERE h.kind = ? AND h.parent_id = ?`
		args = []any{cnsbot.UnitHamlet, communeID}
	}
	with := func(a ...any) []any { return append(append([]any{}, a...), args...) }
	quarters := make([]string, 0, len(qs))
	for _, f := range out {
		quarters = append(quarters, f.Quarter)
	}
	var fixed struct{ Teams, Households, Listed, Members int64 }
	var all []any
	all = append(all, with()...)
	all = append(all, with()...)
	all = append(all, with()...)
	all = append(all, with([]string{cnsbot.RoleMember, cnsbot.RoleLeader}, true)...)
	err := tx.Raw(`SELECT
		(SELECT COUNT(*) FROM teams WHERE id IN (`+scope+`)) AS teams,
		(SELECT COALESCE(SUM(`+householdsOf("u")+`), 0) FROM units u
			WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN (`+scope+`))) AS households,
		(SELECT COALESCE(SUM(`+listedOf("u")+`), 0) FROM units u
			WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN (`+scope+`))) AS listed,
		(SELECT COUNT(DISTINCT person_id) FROM roles WHERE role IN ? AND approved = ? AND team_id IN (`+scope+`)) AS members`,
		all...).Scan(&fixed).Error
	if err != nil {
		return nil, fmt.Errorf("commune figures: %w", err)
	}
	var sums []struct {
		Quarter                              string
		Visits, Minutes, Guided, New, Active int64
	}
	if err := tx.Raw(`SELECT quarter, SUM(visits) AS visits, SUM(minutes) AS minutes, SUM(guided) AS guided,
			SUM(new_households) AS new
		FROM rollup_team_quarters WHERE quarter <= ? AND team_id IN (`+scope+`) GROUP BY quarter`, with(last)...).
		Scan(&sums).Error; err != nil {
		return nil, fmt.Errorf("commune figures: %w", err)
	}
	var active []struct {
		Quarter string
		N       int64
	}
	if err := tx.Raw(`SELECT quarter, COUNT(DISTINCT person_id) AS n FROM rollup_quarter_members
		WHERE quarter IN ? AND team_id IN (`+scope+`) GROUP BY quarter`, with(quarters)...).Scan(&active).Error; err != nil {
		return nil, fmt.Errorf("commune figures: %w", err)
	}
	var areas []struct {
		Quarter, Area string
		People        int64
	}
	if err := tx.Raw(`SELECT quarter, area, SUM(people) AS people FROM rollup_team_areas
		WHERE quarter IN ? AND team_id IN (`+scope+`) GROUP BY quarter, area`, with(quarters)...).Scan(&areas).Error; err != nil {
		return nil, fmt.Errorf("commune figures: %w", err)
	}
	for i := range out {
		f := &out[i]
		f.Teams, f.Households, f.Members = int(fixed.Teams), int(fixed.Households), int(fixed.Members)
		f.ListedHamlets = int(fixed.Listed)
		for _, s := range sums {
			if s.Quarter <= f.Quarter {
				f.GuidedToDate += int(s.New)
			}
			if s.Quarter == f.Quarter {
				f.Visits, f.Minutes, f.GuidedInQuarter = int(s.Visits), int(s.Minutes), int(s.Guided)
			}
		}
	}
	adjust, err := rolledListedAdjust(tx, hamletLevel, `t.id IN (`+scope+`)`, args, quarters)
	if err != nil {
		return nil, fmt.Errorf("commune figures: %w", err)
	}
	for i := range out {
		adjust[out[i].Quarter].apply(&out[i])
	}
	for _, a := range active {
		if i := index[a.Quarter]; i > 0 {
			out[i-1].ActiveMembers = int(a.N)
		}
	}
	for _, a := range areas {
		if i := index[a.Quarter]; i > 0 {
			out[i-1].People[a.Area] += int(a.People)
		}
	}
	return out, nil
}

func (db *DB) eachQuarter(ctx context.Context, communeID int64, qs []string, loc *time.Location) ([]calendar.Figures, error) {
	out := make([]calendar.Figures, 0, len(qs))
	for _, q := range qs {
		f, err := db.CommuneFigures(ctx, communeID, q, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
