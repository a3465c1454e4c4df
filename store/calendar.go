package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// CalendarSchedule is one saved version of the reporting calendar; the
// highest version is the one in force. Older versions stay as the history
// of who changed the calendar and when.
type CalendarSchedule struct {
	ID      int64 `gorm:"primaryKey"`
	Version int   `gorm:"not null;uniqueIndex:uniq_calendar_schedules_version"`
	// Doc is the calendar.Schedule as JSON.
	Doc       string    `gorm:"type:text;not null"`
	UpdatedBy string    `gorm:"size:200;not null;default:''"`
	UpdatedAt time.Time `gorm:"not null"`
}

// ReportSubmission records that one reporter (a team, or a unit's
// officers) handed in its report for one deadline. TeamID is 0 for a unit's
// own report, so that the unique index sees no NULLs.
type ReportSubmission struct {
	ID          int64     `gorm:"primaryKey"`
	DeadlineKey string    `gorm:"size:64;not null;uniqueIndex:uniq_report_submissions,priority:1"`
	UnitID      int64     `gorm:"not null;uniqueIndex:uniq_report_submissions,priority:2"`
	TeamID      int64     `gorm:"not null;default:0;uniqueIndex:uniq_report_submissions,priority:3"`
	PersonID    int64     `gorm:"not null"`
	SubmittedAt time.Time `gorm:"not null"`
	CreatedAt   time.Time `gorm:"not null"`
}

// ReminderDelivery is the one row per (deadline, person, offset) that makes
// a reminder go out exactly once: a scheduler inserts it before it queues
// the message, and an insert that hits the unique index means another
// scheduler (another replica, or an earlier run) already did.
type ReminderDelivery struct {
	ID          int64  `gorm:"primaryKey"`
	DeadlineKey string `gorm:"size:64;not null;uniqueIndex:uniq_reminder_deliveries,priority:1"`
	PersonID    int64  `gorm:"not null;uniqueIndex:uniq_reminder_deliveries,priority:2"`
	// Offset is the days before the deadline ("7"), "overdue" or
	// "escalate". The column is not called offset: a reserved word in SQL.
	Offset string `gorm:"column:offset_label;size:16;not null;uniqueIndex:uniq_reminder_deliveries,priority:3"`
	// MessageID is the outgoing message's ID (calendar.ReminderID), the key
	// of its row in deliveries.
	MessageID string    `gorm:"size:255;not null;index:idx_reminder_deliveries_message_id"`
	State     string    `gorm:"size:16;not null;index:idx_reminder_deliveries_state"`
	Reason    string    `gorm:"type:text;not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// calendarMigrations returns the migrations of the reporting calendar's
// tables. Like the others, each declares frozen copies of its models.
func calendarMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		{
			ID:      "2026112703_calendar",
			Migrate: migrateCalendarV1,
			Rollback: func(tx *gorm.DB) error {
				for _, t := range []string{"job_leases", "reminder_deliveries", "report_submissions", "calendar_schedules"} {
					if err := tx.Migrator().DropTable(t); err != nil {
						return fmt.Errorf("drop %s: %w", t, err)
					}
				}
				return nil
			},
		},
	}
}

func migrateCalendarV1(tx *gorm.DB) error {
	type calendarSchedule struct {
		ID        int64     `gorm:"primaryKey"`
		Version   int       `gorm:"not null;uniqueIndex:uniq_calendar_schedules_version"`
		Doc       string    `gorm:"type:text;not null"`
		UpdatedBy string    `gorm:"size:200;not null;default:''"`
		UpdatedAt time.Time `gorm:"not null"`
	}
	type reportSubmission struct {
		ID          int64     `gorm:"primaryKey"`
		DeadlineKey string    `gorm:"size:64;not null;uniqueIndex:uniq_report_submissions,priority:1"`
		UnitID      int64     `gorm:"not null;uniqueIndex:uniq_report_submissions,priority:2"`
		TeamID      int64     `gorm:"not null;default:0;uniqueIndex:uniq_report_submissions,priority:3"`
		PersonID    int64     `gorm:"not null"`
		SubmittedAt time.Time `gorm:"not null"`
		CreatedAt   time.Time `gorm:"not null"`
	}
	type reminderDelivery struct {
		ID          int64     `gorm:"primaryKey"`
		DeadlineKey string    `gorm:"size:64;not null;uniqueIndex:uniq_reminder_deliveries,priority:1"`
		PersonID    int64     `gorm:"not null;uniqueIndex:uniq_reminder_deliveries,priority:2"`
		Offset      string    `gorm:"column:offset_label;size:16;not null;uniqueIndex:uniq_reminder_deliveries,priority:3"`
		MessageID   string    `gorm:"size:255;not null;index:idx_reminder_deliveries_message_id"`
		State       string    `gorm:"size:16;not null;index:idx_reminder_deliveries_state"`
		Reason      string    `gorm:"type:text;not null;default:''"`
		CreatedAt   time.Time `gorm:"not null"`
		UpdatedAt   time.Time `gorm:"not null"`
	}
	type jobLease struct {
		Name      string    `gorm:"primaryKey;size:64"`
		Holder    string    `gorm:"size:128;not null"`
		ExpiresAt time.Time `gorm:"not null"`
	}
	tables := []struct {
		name  string
		model any
	}{
		{"calendar_schedules", &calendarSchedule{}},
		{"report_submissions", &reportSubmission{}},
		{"reminder_deliveries", &reminderDelivery{}},
		{"job_leases", &jobLease{}},
	}
	for _, t := range tables {
		if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
			return fmt.Errorf("create table %s: %w", t.name, err)
		}
	}
	return nil
}

// ScheduleVersion is the schedule in force with its history fields.
// Version 0 means nothing was saved and calendar.Default (the two-level
// chain) applies.
type ScheduleVersion struct {
	Schedule  calendar.Schedule `json:"schedule"`
	Version   int               `json:"version"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
	UpdatedBy string            `json:"updated_by,omitempty"`
}

// Schedule returns the reporting calendar in force: the last one saved, or
// calendar.Default when none was.
func (db *DB) Schedule(ctx context.Context) (calendar.Schedule, error) {
	v, err := db.StoredSchedule(ctx)
	return v.Schedule, err
}

// StoredSchedule returns the calendar in force with its version, time and
// author.
func (db *DB) StoredSchedule(ctx context.Context) (ScheduleVersion, error) {
	var rows []CalendarSchedule
	if err := db.orm.WithContext(ctx).Order("version DESC").Limit(1).Find(&rows).Error; err != nil {
		return ScheduleVersion{}, fmt.Errorf("load schedule: %w", err)
	}
	if len(rows) == 0 {
		return ScheduleVersion{Schedule: calendar.Default()}, nil
	}
	r := rows[0]
	var s calendar.Schedule
	if err := json.Unmarshal([]byte(r.Doc), &s); err != nil {
		return ScheduleVersion{}, fmt.Errorf("load schedule version %d: %w", r.Version, err)
	}
	return ScheduleVersion{Schedule: s, Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}, nil
}

// SaveSchedule validates s and stores it as the new version in force.
// An invalid schedule is an EINVALID error; two saves racing for the same
// version make the later one an ECONFLICT error.
func (db *DB) SaveSchedule(ctx context.Context, s calendar.Schedule, by string) error {
	if err := s.Validate(); err != nil {
		return cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	doc, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("save schedule: %w", err)
	}
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last []int
		if err := tx.Model(&CalendarSchedule{}).Order("version DESC").Limit(1).Pluck("version", &last).Error; err != nil {
			return fmt.Errorf("save schedule: %w", err)
		}
		next := 1
		if len(last) > 0 {
			next = last[0] + 1
		}
		row := CalendarSchedule{Version: next, Doc: string(doc), UpdatedBy: by, UpdatedAt: time.Now().UTC()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return fmt.Errorf("save schedule: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ECONFLICT, "the schedule was changed at the same time; load it again")
		}
		return nil
	})
}

// MarkSubmitted records that the reporter (teamID's team, or the unit
// unitID itself when teamID is nil) submitted its report for the deadline.
// The first submission is kept: marking again changes nothing.
func (db *DB) MarkSubmitted(ctx context.Context, deadlineKey string, personID int64, teamID *int64, unitID int64, at time.Time) error {
	if _, _, _, err := calendar.ParseKey(deadlineKey); err != nil {
		return cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	now := time.Now().UTC()
	row := ReportSubmission{DeadlineKey: deadlineKey, UnitID: unitID, TeamID: teamKey(teamID),
		PersonID: personID, SubmittedAt: at.UTC(), CreatedAt: now}
	if err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("mark submitted: %w", err)
	}
	return nil
}

// Submitted reports whether the reporter submitted its report for the deadline.
func (db *DB) Submitted(ctx context.Context, deadlineKey string, teamID *int64, unitID int64) (bool, error) {
	var n int64
	err := db.orm.WithContext(ctx).Model(&ReportSubmission{}).
		Where("deadline_key = ? AND unit_id = ? AND team_id = ?", deadlineKey, unitID, teamKey(teamID)).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("submitted: %w", err)
	}
	return n > 0, nil
}

// Submissions returns every submission for the deadline.
func (db *DB) Submissions(ctx context.Context, deadlineKey string) ([]calendar.Submission, error) {
	var rows []ReportSubmission
	if err := db.orm.WithContext(ctx).Where("deadline_key = ?", deadlineKey).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	out := make([]calendar.Submission, 0, len(rows))
	for _, r := range rows {
		s := calendar.Submission{DeadlineKey: r.DeadlineKey, UnitID: r.UnitID, PersonID: r.PersonID, SubmittedAt: r.SubmittedAt}
		if r.TeamID != 0 {
			id := r.TeamID
			s.TeamID = &id
		}
		out = append(out, s)
	}
	return out, nil
}

func teamKey(teamID *int64) int64 {
	if teamID == nil {
		return 0
	}
	return *teamID
}

// ClaimReminder inserts the planned row of the reminder (deadline, person,
// offset). It returns false when the row exists: someone else claimed it
// and only they may queue its message.
func (db *DB) ClaimReminder(ctx context.Context, deadlineKey string, personID int64, offset string) (bool, error) {
	now := time.Now().UTC()
	row := ReminderDelivery{DeadlineKey: deadlineKey, PersonID: personID, Offset: offset,
		MessageID: calendar.ReminderID(deadlineKey, personID, offset), State: calendar.StatePlanned,
		CreatedAt: now, UpdatedAt: now}
	res := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, fmt.Errorf("claim reminder: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RetakeReminder takes over a reminder whose claim has stayed planned since
// before staleBefore, which happens when its claimer died before queuing
// the message. It returns false when the row is not planned, is fresh, has
// been taken over by someone else since, or its message reached the
// delivery log (so it was queued after all).
func (db *DB) RetakeReminder(ctx context.Context, deadlineKey string, personID int64, offset string, staleBefore time.Time) (bool, error) {
	res := db.orm.WithContext(ctx).Model(&ReminderDelivery{}).
		Where("deadline_key = ? AND person_id = ? AND offset_label = ? AND state = ? AND updated_at < ?",
			deadlineKey, personID, offset, calendar.StatePlanned, staleBefore.UTC()).
		Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = reminder_deliveries.message_id)").
		Updates(map[string]any{"updated_at": time.Now().UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("retake reminder: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// SetReminderState records the state of a claimed reminder and why.
func (db *DB) SetReminderState(ctx context.Context, deadlineKey string, personID int64, offset, state, reason string) error {
	res := db.orm.WithContext(ctx).Model(&ReminderDelivery{}).
		Where("deadline_key = ? AND person_id = ? AND offset_label = ?", deadlineKey, personID, offset).
		Updates(map[string]any{"state": state, "reason": reason, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("set reminder state: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, "reminder %s", calendar.ReminderID(deadlineKey, personID, offset))
	}
	return nil
}

// Reminders returns the stored reminders of a deadline, so that officers
// see who could not be reached, and the scheduler what is already done.
func (db *DB) Reminders(ctx context.Context, deadlineKey string) ([]calendar.ReminderRecord, error) {
	var rows []ReminderDelivery
	if err := db.orm.WithContext(ctx).Where("deadline_key = ?", deadlineKey).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list reminders: %w", err)
	}
	out := make([]calendar.ReminderRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, calendar.ReminderRecord{DeadlineKey: r.DeadlineKey, PersonID: r.PersonID, Offset: r.Offset,
			MessageID: r.MessageID, State: r.State, Reason: r.Reason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt})
	}
	return out, nil
}

// SyncReminderStates copies the sender's outcome (sent, fallback,
// undeliverable) from the delivery log to the reminders whose messages it
// has recorded, and returns how many changed. A held message is not an
// outcome yet: its reminder stays queued until the morning's attempt.
func (db *DB) SyncReminderStates(ctx context.Context) (int, error) {
	final := []string{StateSent, StateFallback, StateUndeliverable}
	res := db.orm.WithContext(ctx).Exec(`UPDATE reminder_deliveries SET
		state = (SELECT d.state FROM deliveries d WHERE d.message_id = reminder_deliveries.message_id),
		reason = (SELECT d.reason FROM deliveries d WHERE d.message_id = reminder_deliveries.message_id),
		updated_at = ?
		WHERE state IN ? AND EXISTS (SELECT 1 FROM deliveries d
			WHERE d.message_id = reminder_deliveries.message_id AND d.state IN ?)`,
		time.Now().UTC(), []string{calendar.StatePlanned, calendar.StateQueued}, final)
	if res.Error != nil {
		return 0, fmt.Errorf("sync reminder states: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// responsibleRole is the role whose holders report at each level. There is
// no district officer role: since 1 July 2025 there are no districts, and a
// schedule that still has a district step (plan 220) has the province's
// officers report in the district's place, as they do for the department.
var responsibleRole = map[calendar.Level]string{
	calendar.LevelTeam:       cnsbot.RoleLeader,
	calendar.LevelCommune:    cnsbot.RoleCommuneOfficer,
	calendar.LevelDistrict:   cnsbot.RoleProvinceOfficer,
	calendar.LevelDepartment: cnsbot.RoleProvinceOfficer,
}

// ResponsibleFor returns the people who submit the reports that start at
// level, with their reporter: each team's approved leaders for the team
// level, each commune's approved officers for the commune level, and the
// province's officers above. Sorted by reporter, then person.
func (db *DB) ResponsibleFor(ctx context.Context, level calendar.Level) ([]calendar.Responsible, error) {
	role, ok := responsibleRole[level]
	if !ok {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "unknown level %q", level)
	}
	type row struct {
		PersonID     int64
		Name         string
		ZaloUserID   *string
		Lang         string
		TeamID       *int64
		UnitID       int64
		ReporterName string
		ParentUnitID *int64
		GroupID      string
	}
	var rows []row
	tx := db.orm.WithContext(ctx)
	var err error
	if level == calendar.LevelTeam {
		err = tx.Raw(`SELECT p.id AS person_id, p.full_name AS name, p.zalo_user_id, COALESCE(p.lang, '') AS lang,
				t.id AS team_id, t.hamlet_id AS unit_id, t.name AS reporter_name, h.parent_id AS parent_unit_id,
				COALESCE(t.group_id, '') AS group_id
			FROM roles r JOIN people p ON p.id = r.person_id JOIN teams t ON t.id = r.team_id
			LEFT JOIN units h ON h.id = t.hamlet_id
			WHERE r.role = ? AND r.approved = ?
			ORDER BY t.id, p.id`, role, true).Scan(&rows).Error
	} else {
		err = tx.Raw(`SELECT p.id AS person_id, p.full_name AS name, p.zalo_user_id, COALESCE(p.lang, '') AS lang,
				u.id AS unit_id, u.name AS reporter_name, u.parent_id AS parent_unit_id
			FROM roles r JOIN people p ON p.id = r.person_id JOIN units u ON u.id = r.unit_id
			WHERE r.role = ? AND r.approved = ?
			ORDER BY u.id, p.id`, role, true).Scan(&rows).Error
	}
	if err != nil {
		return nil, fmt.Errorf("responsible for %s: %w", level, err)
	}
	out := make([]calendar.Responsible, 0, len(rows))
	for _, r := range rows {
		resp := calendar.Responsible{PersonID: r.PersonID, Name: r.Name, Lang: r.Lang, TeamID: r.TeamID,
			UnitID: r.UnitID, ReporterName: r.ReporterName, GroupID: r.GroupID}
		if r.ZaloUserID != nil {
			resp.ZaloUserID = *r.ZaloUserID
		}
		if r.ParentUnitID != nil {
			resp.ParentUnitID = *r.ParentUnitID
		}
		out = append(out, resp)
	}
	return out, nil
}

// QuarterFigures compiles a team's figures for quarter q ("2025Q3"), whose
// days are counted in loc, from the visit reports.
func (db *DB) QuarterFigures(ctx context.Context, teamID int64, q string, loc *time.Location) (calendar.Figures, error) {
	return db.figures(ctx, []int64{teamID}, q, loc)
}

// UnitFigures compiles the figures of every team under a unit (a hamlet,
// a commune, a district or the province) for quarter q.
func (db *DB) UnitFigures(ctx context.Context, unitID int64, q string, loc *time.Location) (calendar.Figures, error) {
	tx := db.orm.WithContext(ctx)
	var units []cnsbot.Unit
	if err := tx.Select("id", "parent_id").Find(&units).Error; err != nil {
		return calendar.Figures{}, fmt.Errorf("unit figures: %w", err)
	}
	children := map[int64][]int64{}
	for _, u := range units {
		if u.ParentID != nil {
			children[*u.ParentID] = append(children[*u.ParentID], u.ID)
		}
	}
	// The tree is shallow (province, district, commune, hamlet): a walk
	// in Go is simpler than a recursive query in two SQL dialects.
	under := []int64{unitID}
	for i := 0; i < len(under); i++ {
		under = append(under, children[under[i]]...)
	}
	var teamIDs []int64
	if err := tx.Model(&cnsbot.Team{}).Where("hamlet_id IN ?", under).Order("id").Pluck("id", &teamIDs).Error; err != nil {
		return calendar.Figures{}, fmt.Errorf("unit figures: %w", err)
	}
	return db.figures(ctx, teamIDs, q, loc)
}

// figuresFrom compiles the figures of the teams for quarter q, from the
// rollups when rollups is true and they count q's days as loc does.
func (db *DB) figuresFrom(ctx context.Context, teamIDs []int64, q string, loc *time.Location, rollups bool) (calendar.Figures, error) {
	start, end, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return calendar.Figures{}, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	f := calendar.Figures{Quarter: calendar.Quarter(start), Teams: len(teamIDs), People: map[string]int{}}
	if len(teamIDs) == 0 {
		return f, nil
	}
	// Times are compared in UTC: SQLite keeps them as text.
	from, to := start.UTC(), end.UTC()
	tx := db.orm.WithContext(ctx)
	if rollups && rollupsCover(f.Quarter, loc) {
		return db.rolledUpFigures(tx, teamIDs, f)
	}
	count := func(dst *int, query string, args ...any) error {
		var n int64
		if err := tx.Raw(query, args...).Scan(&n).Error; err != nil {
			return err
		}
		*dst = int(n)
		return nil
	}
	steps := []struct {
		dst   *int
		query string
		args  []any
	}{
		{&f.Households, `SELECT COALESCE(SUM(` + householdsOf("u") + `), 0) FROM units u
			WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN ?)`, []any{teamIDs}},
		{&f.ListedHamlets, `SELECT COALESCE(SUM(` + listedOf("u") + `), 0) FROM units u
			WHERE u.id IN (SELECT t.hamlet_id FROM teams t WHERE t.id IN ?)`, []any{teamIDs}},
		{&f.GuidedInQuarter, `SELECT COUNT(*) FROM (SELECT DISTINCT team_id, household_key FROM visits
			WHERE team_id IN ? AND visited_at >= ? AND visited_at < ?) g`, []any{teamIDs, from, to}},
		{&f.GuidedToDate, `SELECT COUNT(*) FROM (SELECT DISTINCT team_id, household_key FROM visits
			WHERE team_id IN ? AND visited_at < ?) g`, []any{teamIDs, to}},
		{&f.Members, `SELECT COUNT(DISTINCT person_id) FROM roles
			WHERE team_id IN ? AND role IN ? AND approved = ?`, []any{teamIDs, []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true}},
		{&f.ActiveMembers, `SELECT COUNT(DISTINCT person_id) FROM visits
			WHERE team_id IN ? AND visited_at >= ? AND visited_at < ?`, []any{teamIDs, from, to}},
	}
	for _, s := range steps {
		if err := count(s.dst, s.query, s.args...); err != nil {
			return calendar.Figures{}, fmt.Errorf("figures: %w", err)
		}
	}
	// Teams of listed hamlets count their listed households, each once.
	a, err := countedListedAdjust(tx, teamIDs, from, to)
	if err != nil {
		return calendar.Figures{}, err
	}
	a.apply(&f)
	// One row per distinct combination of areas: few, however many visits.
	var byAreas []struct {
		Areas   string
		People  int64
		Visits  int64
		Minutes int64
	}
	err = tx.Raw(`SELECT COALESCE(areas, '') AS areas, COALESCE(SUM(people), 0) AS people, COUNT(*) AS visits,
			COALESCE(SUM(minutes), 0) AS minutes
		FROM visits WHERE team_id IN ? AND visited_at >= ? AND visited_at < ? GROUP BY areas`, teamIDs, from, to).
		Scan(&byAreas).Error
	if err != nil {
		return calendar.Figures{}, fmt.Errorf("figures by area: %w", err)
	}
	for _, a := range byAreas {
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
	}
	return f, nil
}

// ClaimReminders inserts many reminders' rows of one deadline in one
// statement, each with its State (planned for one about to be queued,
// dropped_late for one that never will be) and Reason, and reports which
// rows it inserted: claimed[i] is false when recs[i]'s row existed, i.e.
// someone else owns that reminder. It is ClaimReminder for a whole batch
// (a province's pass claims 1,500 reminders; one statement each was most
// of its time on a busy machine, issue 19). Each record's DeadlineKey,
// PersonID, Offset, State and Reason are used; the rest is filled in.
func (db *DB) ClaimReminders(ctx context.Context, recs []calendar.ReminderRecord) ([]bool, error) {
	claimed := make([]bool, len(recs))
	if len(recs) == 0 {
		return claimed, nil
	}
	now := time.Now().UTC()
	var sb strings.Builder
	args := make([]any, 0, len(recs)*8)
	sb.WriteString(`INSERT INTO reminder_deliveries
		(deadline_key, person_id, offset_label, message_id, state, reason, created_at, updated_at) VALUES `)
	for i, r := range recs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.DeadlineKey, r.PersonID, r.Offset, calendar.ReminderID(r.DeadlineKey, r.PersonID, r.Offset),
			r.State, r.Reason, now, now)
	}
	sb.WriteString(` ON CONFLICT (deadline_key, person_id, offset_label) DO NOTHING
		RETURNING deadline_key, person_id, offset_label`)
	var rows []struct {
		DeadlineKey string
		PersonID    int64
		OffsetLabel string
	}
	if err := db.orm.WithContext(ctx).Raw(sb.String(), args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("claim reminders: %w", err)
	}
	got := make(map[string]bool, len(rows))
	for _, r := range rows {
		got[calendar.ReminderID(r.DeadlineKey, r.PersonID, r.OffsetLabel)] = true
	}
	for i, r := range recs {
		claimed[i] = got[calendar.ReminderID(r.DeadlineKey, r.PersonID, r.Offset)]
	}
	return claimed, nil
}

// SetReminderStates records the state and reason of many claimed
// reminders of one deadline and offset in one statement (see
// ClaimReminders). Rows that do not exist are not an error here: the
// caller claimed them moments before.
func (db *DB) SetReminderStates(ctx context.Context, deadlineKey, offset string, personIDs []int64, state, reason string) error {
	if len(personIDs) == 0 {
		return nil
	}
	res := db.orm.WithContext(ctx).Model(&ReminderDelivery{}).
		Where("deadline_key = ? AND offset_label = ? AND person_id IN ?", deadlineKey, offset, personIDs).
		Updates(map[string]any{"state": state, "reason": reason, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("set reminder states: %w", res.Error)
	}
	return nil
}
