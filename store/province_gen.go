package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// ProvinceSpec is the size of a generated province (issue 19): what a
// province's year of work puts in the database, to measure the dashboard,
// the report and the reminders against.
type ProvinceSpec struct {
	Communes int
	// Hamlets is the number of hamlets, spread evenly over the communes;
	// each has one team.
	Hamlets int
	// Members is the people of each team, its leader included.
	Members      int
	Visits       int
	HelpRequests int
	// Now ends the year: visits and help requests are spread from the
	// start of the quarter three quarters before Now's to Now.
	Now time.Time
}

// ProvinceScale is Cà Mau's size: 64 communes, ~1,500 hamlets and teams,
// 7,500 members, 1.5 M visit reports and 100 k help requests in a year.
func ProvinceScale(now time.Time) ProvinceSpec {
	return ProvinceSpec{Communes: 64, Hamlets: 1500, Members: 5, Visits: 1_500_000, HelpRequests: 100_000, Now: now}
}

// ReducedProvince is a fifteenth of a province, for tests: the same shape
// (every team, member and quarter as busy) with fewer hamlets.
func ReducedProvince(now time.Time) ProvinceSpec {
	return ProvinceSpec{Communes: 8, Hamlets: 100, Members: 5, Visits: 100_000, HelpRequests: 7_000, Now: now}
}

// GenerateProvince fills an empty database with a province of the given
// size, in a few set-based statements (numbers from a recursive query,
// INSERT … SELECT), then builds the households and the rollups from the
// visits and refreshes the planner's statistics. Names, phones and Zalo ids
// are made up and marked by their form ("Thành viên 12", +849…, "gen…").
// It refuses a database that has any unit: it is for a database of its
// own. It returns the id of a province officer.
func (db *DB) GenerateProvince(ctx context.Context, s ProvinceSpec, log *slog.Logger) (officerID int64, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if s.Communes <= 0 || s.Hamlets < s.Communes || s.Members <= 0 || s.Visits < s.Hamlets {
		return 0, cnsbot.Errorf(cnsbot.EINVALID, "province spec %+v: want communes ≤ hamlets ≤ visits", s)
	}
	var n int64
	if err := db.orm.WithContext(ctx).Model(&cnsbot.Unit{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("generate province: %w", err)
	}
	if n > 0 {
		return 0, cnsbot.Errorf(cnsbot.ECONFLICT, "generate province: the database has %d units; use an empty one", n)
	}
	now := s.Now.UTC()
	qStart, _, _ := calendar.QuarterBounds(calendar.Quarter(s.Now.In(rollupZone)), rollupZone)
	start := qStart.AddDate(0, -9, 0).UTC()
	span := int64(now.Sub(start) / time.Second)
	g := provinceGen{spec: s, now: now, start: start, span: span, dialect: db.dialect, log: log}
	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		officerID, err = g.run(tx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("generate province: %w", err)
	}
	// Postgres's VACUUM also sets the visibility map, which index-only
	// scans need; on SQLite it would rewrite the file for nothing.
	analyze := "VACUUM ANALYZE"
	if db.dialect == DialectSQLite {
		analyze = "ANALYZE"
	}
	if err := db.orm.WithContext(ctx).Exec(analyze).Error; err != nil {
		return 0, fmt.Errorf("generate province: analyze: %w", err)
	}
	return officerID, nil
}

type provinceGen struct {
	spec       ProvinceSpec
	now, start time.Time
	span       int64
	dialect    string
	log        *slog.Logger
	provinceID int64
}

// at is the SQL of the instant secs (an SQL expression) seconds after
// g.start, in the column's form: a timestamp on Postgres, UTC text on
// SQLite.
func (g *provinceGen) at(secs string) string {
	if g.dialect == DialectSQLite {
		return fmt.Sprintf(`(strftime('%%Y-%%m-%%d %%H:%%M:%%S', '%s', '+' || (%s) || ' seconds') || '+00:00')`,
			g.start.Format(time.DateTime), secs)
	}
	return fmt.Sprintf(`(TIMESTAMPTZ '%s' + (%s) * INTERVAL '1 second')`, g.start.Format(time.RFC3339), secs)
}

func (g *provinceGen) step(tx *gorm.DB, what, query string, args ...any) error {
	t := time.Now()
	res := tx.Exec(query, args...)
	if res.Error != nil {
		return fmt.Errorf("%s: %w", what, res.Error)
	}
	g.log.Info("province: "+what, "rows", res.RowsAffected, "elapsed", time.Since(t).Round(time.Millisecond).String())
	return nil
}

func (g *provinceGen) run(tx *gorm.DB) (int64, error) {
	s := g.spec
	now := g.now
	most := max(s.Visits, s.HelpRequests, s.Hamlets*s.Members, s.Communes+2)
	steps := []struct {
		what, query string
		args        []any
	}{
		{"numbers", `CREATE TEMP TABLE gen_n (i BIGINT PRIMARY KEY)`, nil},
		{"numbers", `INSERT INTO gen_n (i) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ?)
			SELECT i FROM r`, []any{most}},
	}
	for _, st := range steps {
		if err := g.step(tx, st.what, st.query, st.args...); err != nil {
			return 0, err
		}
	}
	prov := cnsbot.Unit{Kind: cnsbot.UnitProvince, Name: "Cà Mau", Folded: "ca mau", CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&prov).Error; err != nil {
		return 0, fmt.Errorf("province: %w", err)
	}
	g.provinceID = prov.ID
	steps = []struct {
		what, query string
		args        []any
	}{
		{"communes", `INSERT INTO units (kind, name, folded, parent_id, households, demo, created_at, updated_at)
			SELECT ?, 'Xã Số ' || i, 'xa so ' || i, ?, 0, ?, ?, ? FROM gen_n WHERE i <= ?`,
			[]any{cnsbot.UnitCommune, prov.ID, false, now, now, s.Communes}},
		// Hamlets of 150 to 300 households, dealt to the communes in turn.
		{"hamlets", `INSERT INTO units (kind, name, folded, parent_id, households, demo, created_at, updated_at)
			SELECT ?, 'Ấp ' || n.i, 'ap ' || n.i, c.id, 150 + (n.i * 37) % 151, ?, ?, ?
			FROM gen_n n JOIN units c ON c.kind = ? AND c.parent_id = ? AND c.folded = 'xa so ' || ((n.i - 1) % ? + 1)
			WHERE n.i <= ?`,
			[]any{cnsbot.UnitHamlet, false, now, now, cnsbot.UnitCommune, prov.ID, s.Communes, s.Hamlets}},
		{"teams", `INSERT INTO teams (hamlet_id, name, code, group_id, demo, created_at, updated_at)
			SELECT h.id, 'Tổ CNS ' || h.name, 'CM' || h.id, '', ?, ?, ? FROM units h WHERE h.kind = ? ORDER BY h.id`,
			[]any{false, now, now, cnsbot.UnitHamlet}},
		{"team numbers", `CREATE TEMP TABLE gen_teams (k BIGINT PRIMARY KEY, team_id BIGINT NOT NULL,
			hamlet_id BIGINT NOT NULL, commune_id BIGINT NOT NULL, households BIGINT NOT NULL)`, nil},
		{"team numbers", `INSERT INTO gen_teams (k, team_id, hamlet_id, commune_id, households)
			SELECT ROW_NUMBER() OVER (ORDER BY t.id) - 1, t.id, t.hamlet_id, h.parent_id, h.households
			FROM teams t JOIN units h ON h.id = t.hamlet_id`, nil},
		// One person in ten has not linked Zalo yet.
		{"members", `INSERT INTO people (full_name, phone, zalo_user_id, lang, demo, created_at, updated_at)
			SELECT 'Thành viên ' || i, '+849' || (10000000 + i), CASE WHEN i % 10 = 0 THEN NULL ELSE 'gen' || i END,
				'vi', ?, ?, ? FROM gen_n WHERE i <= ?`,
			[]any{false, g.start, g.start, s.Hamlets * s.Members}},
		{"member numbers", `CREATE TEMP TABLE gen_members (k BIGINT NOT NULL, m BIGINT NOT NULL, person_id BIGINT NOT NULL,
			PRIMARY KEY (k, m))`, nil},
		{"member numbers", `INSERT INTO gen_members (k, m, person_id)
			SELECT (n.i - 1) / ?, (n.i - 1) % ?, p.id FROM gen_n n JOIN people p ON p.phone = '+849' || (10000000 + n.i)
			WHERE n.i <= ?`, []any{s.Members, s.Members, s.Hamlets * s.Members}},
		{"member roles", `INSERT INTO roles (person_id, role, unit_id, team_id, approved, created_at, updated_at)
			SELECT m.person_id, CASE WHEN m.m = 0 THEN ? ELSE ? END, t.hamlet_id, t.team_id, ?, ?, ?
			FROM gen_members m JOIN gen_teams t ON t.k = m.k`,
			[]any{cnsbot.RoleLeader, cnsbot.RoleMember, true, g.start, g.start}},
		// An officer per commune, and two for the province.
		{"officers", `INSERT INTO people (full_name, phone, zalo_user_id, lang, demo, created_at, updated_at)
			SELECT 'Cán bộ ' || i, '+848' || (10000000 + i), 'genofficer' || i, 'vi', ?, ?, ? FROM gen_n WHERE i <= ?`,
			[]any{false, g.start, g.start, s.Communes + 2}},
		{"officer roles", `INSERT INTO roles (person_id, role, unit_id, team_id, approved, created_at, updated_at)
			SELECT p.id, CASE WHEN n.i <= ? THEN ? ELSE ? END, CASE WHEN n.i <= ? THEN c.id ELSE ? END, NULL, ?, ?, ?
			FROM gen_n n JOIN people p ON p.phone = '+848' || (10000000 + n.i)
			LEFT JOIN units c ON c.kind = ? AND c.parent_id = ? AND c.folded = 'xa so ' || n.i
			WHERE n.i <= ?`,
			[]any{s.Communes, cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, s.Communes, prov.ID, true, g.start, g.start,
				cnsbot.UnitCommune, prov.ID, s.Communes + 2}},
	}
	for _, st := range steps {
		if err := g.step(tx, st.what, st.query, st.args...); err != nil {
			return 0, err
		}
	}
	var teams int64
	if err := tx.Raw(`SELECT COUNT(*) FROM gen_teams`).Scan(&teams).Error; err != nil {
		return 0, fmt.Errorf("count teams: %w", err)
	}
	// Visit i is the j-th of team k. A team's visits are spread evenly
	// over the year; the households it can reach grow with the year, to
	// 85% of the hamlet's, so "guided to date" climbs quarter by quarter
	// while most visits return to households seen before.
	perTeam := (int64(s.Visits) + teams - 1) / teams
	visit := `SELECT n.i AS i, (n.i - 1) % ` + itoa(teams) + ` AS k, (n.i - 1) / ` + itoa(teams) + ` AS j FROM gen_n n WHERE n.i <= ?`
	households := `(1 + (v.j * 7) % (1 + (t.households * 85 / 100) * (v.j + 1) / ` + itoa(perTeam) + `))`
	secs := `((v.j * ` + itoa(g.span) + `) / ` + itoa(perTeam) + ` + (v.i * 7919) % 3600) % ` + itoa(g.span)
	steps = []struct {
		what, query string
		args        []any
	}{
		// Nine hamlets in ten have their household list (all but every
		// tenth team's), each household by its number and head, as an
		// import writes them; the head's list misses one house in ten
		// (numbers ending in 0), whose visits stay typed and unmatched.
		// Every hamlet is listed in the end, so the province's load is
		// nearly all listed; the tenth keeps typed hamlets in the figures.
		{"household lists", `INSERT INTO listed_households (hamlet_id, key, address, number, head, phone, members, note,
				pending, created_at, updated_at)
			SELECT t.hamlet_id, n.i || '|ho so ' || n.i, '' || n.i, n.i, 'Hộ số ' || n.i, '', 0, '', ?, ?, ?
			FROM gen_teams t JOIN gen_n n ON n.i <= t.households AND n.i % 10 <> 0
			WHERE t.k % 10 <> 9`, []any{false, g.start, g.start}},
		// A visit names its listed household, if the hamlet lists it.
		{"visits", `INSERT INTO visits (person_id, team_id, hamlet_id, household, household_key, listed_household_id, areas,
				people, minutes, photo_url, latitude, longitude, note, help_code, visited_at, source_event, demo, created_at,
				updated_at)
			SELECT m.person_id, t.team_id, t.hamlet_id, 'Nhà số ' || ` + households + `,
				CASE WHEN lh.id IS NULL THEN 'so ' || ` + households + ` ELSE 'ds:' || lh.id END, lh.id,
				CASE v.i % 6 WHEN 0 THEN 'vneid' WHEN 1 THEN 'vneid,dvc' WHEN 2 THEN 'dvc' WHEN 3 THEN 'ttkdtm,tmdt'
					WHEN 4 THEN 'yte' ELSE 'vneid2,camaug' END,
				1 + v.i % 4, 20 + 5 * (v.i % 9), '', 0, 0, '', '', ` + g.at(secs) + `, '', ?, ` + g.at(secs) + `, ` + g.at(secs) + `
			FROM (` + visit + `) v JOIN gen_teams t ON t.k = v.k
			JOIN gen_members m ON m.k = v.k AND m.m = (v.j * 3 + v.k) % ?
			LEFT JOIN listed_households lh ON lh.hamlet_id = t.hamlet_id AND lh.number = ` + households + ``,
			[]any{false, s.Visits, s.Members}},
		// Grouped once: a subquery per household ran for minutes on
		// Postgres, whose planner has no statistics of the new rows yet.
		{"households guided", `UPDATE listed_households SET guided_at = g.first FROM (SELECT listed_household_id AS id,
				MIN(visited_at) AS first FROM visits WHERE listed_household_id IS NOT NULL GROUP BY listed_household_id) g
			WHERE listed_households.id = g.id`, nil},
		// The newest 2% are still open or taken; the rest closed, one in
		// ten cancelled.
		{"help requests", `INSERT INTO help_requests (code, resident_user_id, name, phone, commune_id, hamlet_id, team_id,
				topic, problem, preferred_time, status, taken_by, taken_at, closed_at, outcome, source_event, demo,
				created_at, updated_at, cancelled_at)
			SELECT 'G' || n.i, 'genres' || n.i, 'Người dân ' || n.i, '', t.commune_id, t.hamlet_id, t.team_id,
				'vneid', 'Cần hỗ trợ cài VNeID', '',
				CASE WHEN n.i > ? THEN (CASE WHEN n.i % 2 = 0 THEN ? ELSE ? END) WHEN n.i % 10 = 0 THEN ? ELSE ? END,
				CASE WHEN n.i <= ? AND n.i % 10 = 0 THEN NULL WHEN n.i > ? AND n.i % 2 = 0 THEN NULL ELSE m.person_id END,
				CASE WHEN n.i <= ? AND n.i % 10 = 0 THEN NULL WHEN n.i > ? AND n.i % 2 = 0 THEN NULL
					ELSE ` + g.at(`(n.i * `+itoa(g.span)+`) / `+itoa(int64(max(s.HelpRequests, 1)))+` + 3600`) + ` END,
				CASE WHEN n.i <= ? AND n.i % 10 <> 0 THEN ` + g.at(`(n.i * `+itoa(g.span)+`) / `+itoa(int64(max(s.HelpRequests, 1)))+` + 86400`) + ` END,
				'', '', ?, ` + g.at(`(n.i * `+itoa(g.span)+`) / `+itoa(int64(max(s.HelpRequests, 1)))) + `, ?,
				CASE WHEN n.i <= ? AND n.i % 10 = 0 THEN ` + g.at(`(n.i * `+itoa(g.span)+`) / `+itoa(int64(max(s.HelpRequests, 1)))+` + 7200`) + ` END
			FROM gen_n n JOIN gen_teams t ON t.k = (n.i * 13) % ` + itoa(teams) + `
			JOIN gen_members m ON m.k = t.k AND m.m = 0
			WHERE n.i <= ?`,
			[]any{s.HelpRequests * 98 / 100, cnsbot.HelpOpen, cnsbot.HelpTaken, cnsbot.HelpCancelled, cnsbot.HelpClosed,
				s.HelpRequests * 98 / 100, s.HelpRequests * 98 / 100, s.HelpRequests * 98 / 100, s.HelpRequests * 98 / 100,
				s.HelpRequests * 98 / 100, false, now,
				s.HelpRequests * 98 / 100, s.HelpRequests}},
		{"households", `INSERT INTO households (team_id, key, label, first_guided_at, last_visit_at, visits, created_at, updated_at)
			SELECT team_id, household_key, MAX(household), MIN(visited_at), MAX(visited_at), COUNT(*), ?, ?
			FROM visits GROUP BY team_id, household_key`, []any{now, now}},
		{"numbers", `DROP TABLE gen_n`, nil},
		{"numbers", `DROP TABLE gen_teams`, nil},
		{"numbers", `DROP TABLE gen_members`, nil},
	}
	for _, st := range steps {
		if err := g.step(tx, st.what, st.query, st.args...); err != nil {
			return 0, err
		}
	}
	t := time.Now()
	if err := rebuildRollups(tx); err != nil {
		return 0, err
	}
	g.log.Info("province: rollups", "elapsed", time.Since(t).Round(time.Millisecond).String())
	t = time.Now()
	if err := rebuildAreaHouseholds(tx); err != nil {
		return 0, err
	}
	g.log.Info("province: area households", "elapsed", time.Since(t).Round(time.Millisecond).String())
	var officer []int64
	if err := tx.Model(&cnsbot.Person{}).Where("phone = ?", "+848"+itoa(10000000+int64(s.Communes)+1)).
		Pluck("id", &officer).Error; err != nil || len(officer) != 1 {
		return 0, fmt.Errorf("find the province officer: %v (%d found)", err, len(officer))
	}
	return officer[0], nil
}

// GeneratedOfficer returns the id of a province officer of a generated
// province, whom a dashboard token can be issued to.
func (db *DB) GeneratedOfficer(ctx context.Context) (int64, error) {
	var ids []int64
	err := db.orm.WithContext(ctx).Model(&cnsbot.Role{}).
		Where("role = ? AND approved = ? AND person_id IN (?)", cnsbot.RoleProvinceOfficer, true,
			db.orm.Model(&cnsbot.Person{}).Select("id").Where("phone LIKE ?", "+848%")).
		Order("person_id").Limit(1).Pluck("person_id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("generated officer: %w", err)
	}
	if len(ids) == 0 {
		return 0, cnsbot.Errorf(cnsbot.ENOTFOUND, "no generated province officer: run cnsbot demo --scale province")
	}
	return ids[0], nil
}

func itoa(n int64) string { return fmt.Sprint(n) }
