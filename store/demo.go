package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/vn"
)

// Keys of the demo personas, the people the simulator speaks as.
const (
	DemoResident = "resident"
	DemoMember   = "member"
	DemoLeader   = "leader"
	DemoOfficer  = "officer"
	DemoGroup    = "group"
	// DemoHouseholds is the household group of Ấp Cây Trâm, where
	// residents and the team meet and announcements are posted.
	DemoHouseholds = "households"
)

// DemoPersona is one of the people (or the group) of the demo dataset that
// the simulator lets a visitor be.
type DemoPersona struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Phone is E.164; empty for the group.
	Phone string `json:"-"`
	// ZaloUserID is the persona's OA-scoped Zalo id; GroupID the group's.
	ZaloUserID string `json:"zalo_user_id,omitempty"`
	GroupID    string `json:"group_id,omitempty"`
	// Address and City are what the persona shares through a
	// request_user_info form.
	Address string `json:"-"`
	City    string `json:"-"`
}

// The demo's Zalo ids are 19 digits like real ones and start with 81 (people)
// or 82 (groups), a range that makes them easy to tell apart in logs.
const (
	demoResidentZalo = "8100000000000000001"
	demoMemberZalo   = "8100000000000000002"
	demoLeaderZalo   = "8100000000000000003"
	demoOfficerZalo  = "8100000000000000004"
	demoGroupID      = "8200000000000000001"
	demoHouseholdsID = "8200000000000000002"
)

// DemoPersonas returns the personas of the demo dataset: a resident (on no
// roster), a member and the leader of the team of Ấp Cây Trâm, the commune
// officer of Xã Tân Thành, and the team's Zalo group.
func DemoPersonas() []DemoPersona {
	return []DemoPersona{
		{Key: DemoResident, Name: "Trần Thị Lan", Phone: "+84912000001", ZaloUserID: demoResidentZalo,
			Address: "Ấp Cây Trâm, Xã Tân Thành", City: "Cà Mau"},
		{Key: DemoMember, Name: "Lê Văn Hùng", Phone: "+84900001002", ZaloUserID: demoMemberZalo,
			Address: "Ấp Cây Trâm, Xã Tân Thành", City: "Cà Mau"},
		{Key: DemoLeader, Name: "Phạm Thị Mai", Phone: "+84900001001", ZaloUserID: demoLeaderZalo,
			Address: "Ấp Cây Trâm, Xã Tân Thành", City: "Cà Mau"},
		{Key: DemoOfficer, Name: "Võ Minh Tâm", Phone: "+84900009001", ZaloUserID: demoOfficerZalo,
			Address: "Xã Tân Thành", City: "Cà Mau"},
		{Key: DemoGroup, Name: "Tổ CNSCĐ Ấp Cây Trâm", GroupID: demoGroupID},
		{Key: DemoHouseholds, Name: "Bà con Ấp Cây Trâm", GroupID: demoHouseholdsID},
	}
}

// demoPerson is a person of the demo roster.
type demoPerson struct {
	name  string
	phone string
	zalo  string
}

// demoTeam is a hamlet of the demo with its team.
type demoTeam struct {
	commune    int // index into demoCommunes
	hamlet     string
	households int
	group      string
	leader     demoPerson
	members    []demoPerson
	visits     int
}

var demoCommunes = []struct {
	name    string
	officer demoPerson
}{
	{"Xã Tân Thành", demoPerson{"Võ Minh Tâm", "+84900009001", demoOfficerZalo}},
	{"Phường An Xuyên", demoPerson{"Nguyễn Hoàng Phương", "+84900009002", "8100000000000000105"}},
}

var demoProvinceOfficer = demoPerson{"Kiều Thanh Bình", "+84900009003", "8100000000000000106"}

// demoTeams is small on purpose: a hamlet of a few dozen households lets
// ~45 visits show visible progress. The household counts are not real ones.
var demoTeams = []demoTeam{
	{commune: 0, hamlet: "Ấp Cây Trâm", households: 40, group: demoGroupID, visits: 15,
		leader: demoPerson{"Phạm Thị Mai", "+84900001001", demoLeaderZalo},
		members: []demoPerson{{"Lê Văn Hùng", "+84900001002", demoMemberZalo},
			{"Nguyễn Thị Thu", "+84900001003", "8100000000000000111"}, {"Trần Văn Bảy", "+84900001004", ""}}},
	{commune: 0, hamlet: "Ấp Tân Hòa", households: 36, visits: 10,
		leader: demoPerson{"Huỳnh Văn Tài", "+84900002001", "8100000000000000121"},
		members: []demoPerson{{"Đỗ Thị Hoa", "+84900002002", "8100000000000000122"},
			{"Lâm Văn Phúc", "+84900002003", ""}, {"Ngô Thị Yến", "+84900002004", ""}}},
	// The leader of Ấp Bà Điều never wrote to the OA and the team has no
	// group: the dashboard shows the reminders that cannot reach him.
	{commune: 0, hamlet: "Ấp Bà Điều", households: 30, visits: 5,
		leader: demoPerson{"Võ Văn Lợi", "+84900003001", ""},
		members: []demoPerson{{"Dương Thị Kim", "+84900003002", ""},
			{"Tạ Văn Sơn", "+84900003003", ""}, {"Châu Thị Ngọc", "+84900003004", ""}}},
	{commune: 1, hamlet: "Khóm 1", households: 55, group: "8200000000000000002", visits: 9,
		leader: demoPerson{"Lý Thị Hạnh", "+84900004001", "8100000000000000141"},
		members: []demoPerson{{"Phan Văn Đức", "+84900004002", "8100000000000000142"},
			{"Mai Thị Lan Anh", "+84900004003", ""}, {"Tô Văn Hải", "+84900004004", ""}}},
	{commune: 1, hamlet: "Khóm 3", households: 48, visits: 6,
		leader: demoPerson{"Trương Văn Nam", "+84900005001", "8100000000000000151"},
		members: []demoPerson{{"Hồ Thị Diễm", "+84900005002", ""},
			{"Quách Văn Toàn", "+84900005003", ""}, {"La Thị Thảo", "+84900005004", ""}}},
}

// demoHouseholds are the households members type; a team visits the first
// ones again now and then.
var demoHouseholds = []string{
	"nhà ông Năm Phước", "bà Tư Lành", "ông Sáu Hiền", "nhà bà Hai Liên", "ông Ba Đức",
	"bà Chín Mai", "ông Út Mười", "bà Bảy Hồng", "ông Tám Lợi", "nhà bà Mười Nhung",
	"ông Tư Sang", "bà Năm Trinh", "ông Hai Lúa", "bà Sáu Xuân", "nhà ông Chín Tâm",
}

var demoAreas = []string{"vneid,dvc", "vneid", "ttkdtm", "camaug,dvc", "tmdt,ttkdtm", "yte",
	"giaoduc,antoan", "vneid,vneid2", "dvc,ttkdtm", "antoan"}

// HasDemo reports whether the demo dataset is in the database.
func (db *DB) HasDemo(ctx context.Context) (bool, error) {
	return hasDemo(db.orm.WithContext(ctx))
}

func hasDemo(tx *gorm.DB) (bool, error) {
	var n int64
	if err := tx.Model(&cnsbot.Unit{}).Where("demo = ?", true).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look for demo data: %w", err)
	}
	return n > 0, nil
}

// databaseMeta holds facts about the database itself, one row per name:
// the demo mark (demoMarkKey) is one.
type databaseMeta struct {
	Name      string    `gorm:"primaryKey;size:64"`
	Value     string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (databaseMeta) TableName() string { return "database_meta" }

// demoMarkKey is the database_meta row that marks a database created as a
// demo database: the demo dataset was seeded into it while it held no other
// people or places.
const demoMarkKey = "demo"

// DemoState is what a database says about being a demo database, for the
// simulator, which must never run against real people: its fake Zalo would
// swallow their reminders and escalations and record them as delivered.
type DemoState struct {
	// Marked is true when the database was created as a demo database.
	Marked bool
	// Demo is true when the demo dataset is there.
	Demo bool
	// RealPeople counts the people who are not the demo dataset's: not
	// marked demo and with no role in a demo place (someone who joined a
	// demo team through the simulator has one). RealUnits counts the places
	// not marked demo.
	RealPeople, RealUnits int64
}

// DemoState reads the demo mark and counts what is not the demo dataset's.
func (db *DB) DemoState(ctx context.Context) (DemoState, error) {
	return demoState(db.orm.WithContext(ctx))
}

func demoState(tx *gorm.DB) (DemoState, error) {
	var st DemoState
	var err error
	if st.Demo, err = hasDemo(tx); err != nil {
		return st, err
	}
	if err := tx.Table("units").Where("demo = ?", false).Count(&st.RealUnits).Error; err != nil {
		return st, fmt.Errorf("count places: %w", err)
	}
	err = tx.Table("people").Where("demo = ?", false).
		Where("NOT EXISTS (SELECT 1 FROM roles JOIN units ON units.id = roles.unit_id WHERE roles.person_id = people.id AND units.demo = ?)", true).
		Count(&st.RealPeople).Error
	if err != nil {
		return st, fmt.Errorf("count people: %w", err)
	}
	// A database that predates the mark has no table to hold it.
	if !tx.Migrator().HasTable(databaseMeta{}) {
		return st, nil
	}
	var n int64
	if err := tx.Model(&databaseMeta{}).Where("name = ? AND value = ?", demoMarkKey, "true").Count(&n).Error; err != nil {
		return st, fmt.Errorf("read demo mark: %w", err)
	}
	st.Marked = n > 0
	return st, nil
}

// markDemo writes the demo mark, where its table exists: a database
// migrated before it (MIGRATE=false) gets the dataset without the mark.
func markDemo(tx *gorm.DB, at time.Time) error {
	if !tx.Migrator().HasTable(databaseMeta{}) {
		return nil
	}
	err := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&databaseMeta{Name: demoMarkKey, Value: "true", CreatedAt: at.UTC()}).Error
	if err != nil {
		return fmt.Errorf("mark the database as demo: %w", err)
	}
	return nil
}

// demoMigrations create the table of the demo mark. An embedded database
// seeded before the mark existed, holding the demo dataset and nothing
// else, was created by the simulator as a demo: it gets the mark, so that
// the newcomer's `go run ./cmd/cnsbot` keeps its simulator. A Postgres
// database never got the demo dataset without DEMO=true on purpose, and is
// not guessed at: an operator recreates it.
func demoMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120703_database_meta",
		Migrate: func(tx *gorm.DB) error {
			type databaseMeta struct {
				Name      string    `gorm:"primaryKey;size:64"`
				Value     string    `gorm:"type:text;not null"`
				CreatedAt time.Time `gorm:"not null"`
			}
			if err := tx.Table("database_meta").Migrator().CreateTable(&databaseMeta{}); err != nil {
				return fmt.Errorf("create table database_meta: %w", err)
			}
			if tx.Dialector.Name() != DialectSQLite {
				return nil
			}
			st, err := demoState(tx)
			if err != nil {
				return err
			}
			if st.Demo && st.RealPeople == 0 && st.RealUnits == 0 {
				return markDemo(tx, time.Now())
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("database_meta") },
	}}
}

// SeedDemo creates the demo dataset unless it exists: a province with two
// communes and five hamlets, a team per hamlet with a code, the personas of
// DemoPersonas with their roles and Zalo ids, the team of Ấp Cây Trâm's
// Zalo group, about 45 visits over this quarter and the last, help
// requests in every state, and last quarter's submissions. Every row that
// has a Demo column has it set. Dates are laid out back from now, in now's
// location (pass Asia/Ho_Chi_Minh), so the dataset looks current whenever it
// is created. Seeded into a database with no people and no places, it
// marks the database as a demo one (DemoState.Marked), the only kind the
// simulator runs on when asked for with SIMULATOR=true.
func (db *DB) SeedDemo(ctx context.Context, now time.Time) error {
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if ok, err := hasDemo(tx); ok || err != nil {
			return err
		}
		var people, units int64
		if err := tx.Table("people").Count(&people).Error; err != nil {
			return fmt.Errorf("count people: %w", err)
		}
		if err := tx.Table("units").Count(&units).Error; err != nil {
			return fmt.Errorf("count places: %w", err)
		}
		if err := seedDemo(tx, now); err != nil {
			return err
		}
		if people > 0 || units > 0 {
			return nil
		}
		return markDemo(tx, now)
	})
	if err != nil {
		// Two processes seeding at once: the loser's rows collide with the
		// winner's; what matters is that the dataset is there.
		if ok, herr := db.HasDemo(ctx); herr == nil && ok {
			return nil
		}
		return fmt.Errorf("seed demo data: %w", err)
	}
	return nil
}

func seedDemo(tx *gorm.DB, now time.Time) error {
	loc := now.Location()
	created := now.UTC()
	unit := func(kind, name string, parent *int64, households int) (cnsbot.Unit, error) {
		u := cnsbot.Unit{Kind: kind, Name: name, Folded: vn.Fold(name), ParentID: parent, Households: households,
			Demo: true, CreatedAt: created, UpdatedAt: created}
		if err := tx.Create(&u).Error; err != nil {
			return u, fmt.Errorf("create unit %s: %w", name, err)
		}
		return u, nil
	}
	person := func(p demoPerson) (cnsbot.Person, error) {
		row := cnsbot.Person{FullName: p.name, Phone: p.phone, Lang: "vi", Demo: true, CreatedAt: created, UpdatedAt: created}
		if p.zalo != "" {
			z := p.zalo
			row.ZaloUserID = &z
		}
		if err := tx.Create(&row).Error; err != nil {
			return row, fmt.Errorf("create person: %w", err)
		}
		return row, nil
	}
	role := func(personID int64, role string, unitID int64, teamID *int64) error {
		_, _, err := ensureRole(tx, cnsbot.Role{PersonID: personID, Role: role, UnitID: unitID, TeamID: teamID, Approved: true})
		return err
	}

	province, err := unit(cnsbot.UnitProvince, "Cà Mau", nil, 0)
	if err != nil {
		return err
	}
	po, err := person(demoProvinceOfficer)
	if err != nil {
		return err
	}
	if err := role(po.ID, cnsbot.RoleProvinceOfficer, province.ID, nil); err != nil {
		return err
	}
	communes := make([]cnsbot.Unit, len(demoCommunes))
	for i, c := range demoCommunes {
		if communes[i], err = unit(cnsbot.UnitCommune, c.name, &province.ID, 0); err != nil {
			return err
		}
		officer, err := person(c.officer)
		if err != nil {
			return err
		}
		if err := role(officer.ID, cnsbot.RoleCommuneOfficer, communes[i].ID, nil); err != nil {
			return err
		}
	}

	type seeded struct {
		team    cnsbot.Team
		leader  cnsbot.Person
		members []cnsbot.Person
	}
	teams := make([]seeded, len(demoTeams))
	for i, dt := range demoTeams {
		c := communes[dt.commune]
		hamlet, err := unit(cnsbot.UnitHamlet, dt.hamlet, &c.ID, dt.households)
		if err != nil {
			return err
		}
		team := cnsbot.Team{HamletID: hamlet.ID, Name: "Tổ CNSCĐ " + dt.hamlet, GroupID: dt.group, Demo: true,
			CreatedAt: created, UpdatedAt: created}
		if team.Code, err = freeTeamCode(tx, vn.Fold(province.Name), c.Folded, hamlet.Folded); err != nil {
			return err
		}
		if err := tx.Create(&team).Error; err != nil {
			return fmt.Errorf("create team: %w", err)
		}
		s := seeded{team: team}
		if s.leader, err = person(dt.leader); err != nil {
			return err
		}
		if err := role(s.leader.ID, cnsbot.RoleLeader, hamlet.ID, &team.ID); err != nil {
			return err
		}
		for _, m := range dt.members {
			p, err := person(m)
			if err != nil {
				return err
			}
			if err := role(p.ID, cnsbot.RoleMember, hamlet.ID, &team.ID); err != nil {
				return err
			}
			s.members = append(s.members, p)
		}
		teams[i] = s
	}

	// Visits, spread over last quarter and this one up to now, in daytime.
	// A fixed seed keeps the dataset the same from one run to the next.
	r := rand.New(rand.NewPCG(220, 2023))
	thisQ := calendar.Quarter(now)
	qStart, _, err := calendar.QuarterBounds(thisQ, loc)
	if err != nil {
		return err
	}
	prevStart := qStart.AddDate(0, -3, 0)
	span := now.Sub(prevStart)
	n := 0
	for i, dt := range demoTeams {
		s := teams[i]
		people := append([]cnsbot.Person{s.leader}, s.members...)
		for k := range dt.visits {
			at := prevStart.Add(time.Duration(float64(span) * (float64(k) + r.Float64()*0.8) / float64(dt.visits)))
			day := at.In(loc)
			at = time.Date(day.Year(), day.Month(), day.Day(), 8+r.IntN(9), r.IntN(60), 0, 0, loc)
			if at.After(now) {
				at = now.Add(-time.Duration(1+r.IntN(5)) * time.Hour)
			}
			who := people[k%len(people)]
			// The leader and member personas reported in the last days, so
			// that the weekly nudge leaves them alone when the demo starts.
			if i == 0 && k >= dt.visits-2 {
				who = people[dt.visits-k-1]
				at = now.Add(-time.Duration(26+24*(dt.visits-k-1)) * time.Hour)
			}
			// Every fourth visit returns to a household seen before.
			h := demoHouseholds[(k+i)%len(demoHouseholds)]
			if k > 3 && k%4 == 0 {
				h = demoHouseholds[(i+r.IntN(k))%len(demoHouseholds)]
			}
			n++
			v := cnsbot.Visit{PersonID: who.ID, TeamID: s.team.ID, HamletID: s.team.HamletID,
				Household: h, HouseholdKey: householdKey(h), Areas: demoAreas[(k*3+i)%len(demoAreas)],
				People: 1 + r.IntN(4), Minutes: 20 + 5*r.IntN(9), VisitedAt: at.UTC(),
				SourceEvent: fmt.Sprintf("demo-visit-%d", n), Demo: true, CreatedAt: created, UpdatedAt: created}
			if err := tx.Create(&v).Error; err != nil {
				return fmt.Errorf("create visit: %w", err)
			}
			if err := countHousehold(tx, &v, created); err != nil {
				return err
			}
			if err := rollVisit(tx, &v); err != nil {
				return err
			}
		}
	}

	// Ấp Cây Trâm's household group, linked as "#lienket AP<id>" would.
	if err := tx.Create(&HamletGroup{HamletID: teams[0].team.HamletID, GroupID: demoHouseholdsID,
		LinkedBy: teams[0].leader.ID, CreatedAt: now.UTC()}).Error; err != nil {
		return fmt.Errorf("link household group: %w", err)
	}
	if err := seedDemoHelp(tx, now, communes, teams[0].team, teams[0].leader, teams[0].members[0], teams[1].team,
		teams[3].team, teams[3].leader, teams[4].team); err != nil {
		return err
	}

	// Last quarter's reports: three teams and one commune handed theirs in;
	// the others show as late.
	var sched calendar.Schedule
	var rows []CalendarSchedule
	if err := tx.Order("version DESC").Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("load schedule: %w", err)
	}
	if sched = calendar.Default(); len(rows) > 0 {
		if sched, err = calendar.Parse([]byte(rows[0].Doc)); err != nil {
			return fmt.Errorf("load schedule: %w", err)
		}
	}
	prevQ := calendar.Quarter(prevStart)
	for _, d := range sched.QuarterDeadlines(prevQ, loc) {
		var subs []ReportSubmission
		switch d.From {
		case calendar.LevelTeam:
			for _, i := range []int{0, 1, 3} {
				subs = append(subs, ReportSubmission{UnitID: teams[i].team.HamletID, TeamID: teams[i].team.ID, PersonID: teams[i].leader.ID})
			}
		case calendar.LevelCommune:
			var officers []int64
			if err := tx.Model(&cnsbot.Role{}).Where("role = ? AND unit_id = ?", cnsbot.RoleCommuneOfficer, communes[0].ID).
				Pluck("person_id", &officers).Error; err != nil {
				return fmt.Errorf("find officer: %w", err)
			}
			if len(officers) > 0 {
				subs = append(subs, ReportSubmission{UnitID: communes[0].ID, PersonID: officers[0]})
			}
		}
		for _, s := range subs {
			s.DeadlineKey = d.Key()
			s.SubmittedAt = d.Before.Add(-52 * time.Hour).UTC()
			s.CreatedAt = created
			if err := tx.Create(&s).Error; err != nil {
				return fmt.Errorf("create submission: %w", err)
			}
		}
	}
	return nil
}

// freeTeamCode returns the first code for the place that no team has.
func freeTeamCode(tx *gorm.DB, province, commune, hamlet string) (string, error) {
	for attempt := range 20 {
		code := teamCode(province, commune, hamlet, attempt)
		var n int64
		if err := tx.Model(&cnsbot.Team{}).Where("code = ?", code).Count(&n).Error; err != nil {
			return "", fmt.Errorf("check team code: %w", err)
		}
		if n == 0 {
			return code, nil
		}
	}
	return "", fmt.Errorf("no free team code for %s", hamlet)
}

// seedDemoHelp creates help requests in every state, one of them open for
// more than 48 hours.
func seedDemoHelp(tx *gorm.DB, now time.Time, communes []cnsbot.Unit, cayTram cnsbot.Team, mai, hung cnsbot.Person,
	tanHoa, khom1 cnsbot.Team, hanh cnsbot.Person, khom3 cnsbot.Team) error {
	type req struct {
		code, name, phone, topic, problem, when string
		commune                                 int
		team                                    cnsbot.Team
		age                                     time.Duration
		status                                  string
		by                                      *cnsbot.Person
		outcome                                 string
		rating                                  int
	}
	reqs := []req{
		{"HTDM2A", "Nguyễn Văn Tư", "+84912000101", cnsbot.AreaVNeIDInstall, "Quên mật khẩu VNeID, điện thoại không nhận OTP", "morning",
			0, tanHoa, 75 * time.Hour, cnsbot.HelpOpen, nil, "", 0},
		{"HTDM2B", "Lê Thị Sáu", "+84912000102", cnsbot.AreaCaMauG, "Muốn gửi phản ánh hiện trường trên CaMau-G", "afternoon",
			0, cayTram, 5 * time.Hour, cnsbot.HelpOpen, nil, "", 0},
		{"HTDM2C", "Phạm Văn Út", "+84912000103", cnsbot.AreaEPayment, "Mở tài khoản thanh toán, chuyển khoản", "any",
			0, cayTram, 26 * time.Hour, cnsbot.HelpTaken, &hung, "", 0},
		{"HTDM2D", "Trần Thị Bé", "+84912000104", cnsbot.AreaVNeIDInstall, "Đã được duyệt nhưng chưa kích hoạt VNeID", "evening",
			0, cayTram, 6 * 24 * time.Hour, cnsbot.HelpClosed, &mai, cnsbot.OutcomeDone, 5},
		{"HTDM2E", "Huỳnh Văn Hai", "+84912000105", cnsbot.AreaPublicSvc, "Nộp hồ sơ dịch vụ công trực tuyến", "morning",
			1, khom1, 20 * 24 * time.Hour, cnsbot.HelpClosed, &hanh, "Đã nộp hồ sơ cấp đổi giấy phép lái xe", 4},
		{"HTDM2F", "Đặng Thị Lệ", "+84912000106", cnsbot.AreaOther, "Cài ứng dụng ngân hàng", "afternoon",
			1, khom3, 10 * 24 * time.Hour, cnsbot.HelpCancelled, nil, "", 0},
	}
	for i, q := range reqs {
		at := now.Add(-q.age).UTC()
		teamID := q.team.ID
		h := cnsbot.HelpRequest{Code: q.code, ResidentUserID: fmt.Sprintf("81900000000000000%02d", i+1), Name: q.name, Phone: q.phone,
			CommuneID: communes[q.commune].ID, HamletID: q.team.HamletID, TeamID: &teamID, Topic: q.topic, Problem: q.problem,
			PreferredTime: q.when, Status: q.status, Outcome: q.outcome, Rating: q.rating,
			SourceEvent: "demo-help-" + strings.ToLower(q.code), Demo: true, CreatedAt: at, UpdatedAt: at}
		if q.by != nil {
			id := q.by.ID
			taken := at.Add(2 * time.Hour)
			h.TakenBy, h.TakenAt = &id, &taken
		}
		if q.status == cnsbot.HelpClosed {
			closed := at.Add(26 * time.Hour)
			h.ClosedAt, h.UpdatedAt = &closed, closed
		}
		if err := tx.Create(&h).Error; err != nil {
			return fmt.Errorf("create help request: %w", err)
		}
	}
	return nil
}
