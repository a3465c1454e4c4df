package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Household is a household a team has guided, kept once per team and
// household key however often it is visited: the numerator of the team's
// progress toward 80% of the hamlet's households.
type Household struct {
	ID     int64 `gorm:"primaryKey"`
	TeamID int64 `gorm:"uniqueIndex:idx_households_team_key;not null"`
	// Key is the folded household (see householdKey); Label is what the
	// member typed most recently.
	Key           string `gorm:"size:300;uniqueIndex:idx_households_team_key;not null"`
	Label         string `gorm:"size:300;not null"`
	FirstGuidedAt time.Time
	LastVisitAt   time.Time
	Visits        int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// householdWords are folded words members put in front of a household that
// do not tell households apart: "nhà ông Năm" and "ông Năm" are one.
var householdWords = []string{"nha", "ho", "gia dinh"}

// householdKey folds what a member typed for a household into the key that
// identifies it within the team.
func householdKey(s string) string {
	folded := vn.Fold(s)
	folded = strings.Join(strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
	for changed := true; changed; {
		changed = false
		for _, w := range householdWords {
			if rest, ok := strings.CutPrefix(folded, w+" "); ok {
				folded, changed = rest, true
			}
		}
	}
	return folded
}

// RecordVisit stores a household visit and counts the household for the
// team: a household visited again updates its record and is counted once.
// An empty HouseholdKey is derived from Household, an unset HamletID from
// the team and a zero VisitedAt is now. When v.SourceEvent names an event
// that already recorded a visit, v is filled with that visit and created is
// false.
func (db *DB) RecordVisit(ctx context.Context, v *cnsbot.Visit) (created bool, err error) {
	if v.PersonID == 0 || v.TeamID == 0 {
		return false, cnsbot.Errorf(cnsbot.EINVALID, "visit without person or team")
	}
	v.Household = cleanCell(v.Household)
	if v.ListedHouseholdID != nil {
		// A household of the list counts once however it was typed.
		v.HouseholdKey = listedKey(*v.ListedHouseholdID)
	}
	if v.HouseholdKey == "" {
		v.HouseholdKey = householdKey(v.Household)
	}
	if v.HouseholdKey == "" {
		return false, cnsbot.Errorf(cnsbot.EINVALID, "visit without household")
	}
	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if found, err := visitBySource(tx, v); found || err != nil {
			return err
		}
		if v.HamletID == 0 {
			var team cnsbot.Team
			if err := takeOne(tx.Where("id = ?", v.TeamID), &team, "team %d", v.TeamID); err != nil {
				return err
			}
			v.HamletID = team.HamletID
		}
		now := time.Now().UTC()
		if v.VisitedAt.IsZero() {
			v.VisitedAt = now
		}
		// SQLite stores times as text: one offset keeps them comparable.
		v.VisitedAt = v.VisitedAt.UTC()
		v.ID = 0
		v.CreatedAt, v.UpdatedAt = now, now
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(v)
		if res.Error != nil {
			return fmt.Errorf("create visit: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			// The same event was recorded concurrently.
			if found, err := visitBySource(tx, v); found || err != nil {
				return err
			}
			return fmt.Errorf("create visit: row not inserted")
		}
		created = true
		if err := markGuided(tx, v); err != nil {
			return err
		}
		if err := placeFromVisit(tx, v); err != nil {
			return err
		}
		if err := countHousehold(tx, v, now); err != nil {
			return err
		}
		return rollVisit(tx, v)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

func visitBySource(tx *gorm.DB, v *cnsbot.Visit) (bool, error) {
	if v.SourceEvent == "" {
		return false, nil
	}
	var existing []cnsbot.Visit
	if err := tx.Where("source_event = ?", v.SourceEvent).Limit(1).Find(&existing).Error; err != nil {
		return false, fmt.Errorf("find visit by event: %w", err)
	}
	if len(existing) == 0 {
		return false, nil
	}
	*v = existing[0]
	return true, nil
}

// countHousehold creates or updates the team's Household row for a new visit.
func countHousehold(tx *gorm.DB, v *cnsbot.Visit, now time.Time) error {
	h := Household{TeamID: v.TeamID, Key: v.HouseholdKey, Label: v.Household,
		FirstGuidedAt: v.VisitedAt, LastVisitAt: v.VisitedAt, Visits: 1, CreatedAt: now, UpdatedAt: now}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&h)
	if res.Error != nil {
		return fmt.Errorf("create household: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var cur Household
	// The row lock serializes two members reporting the same household at
	// once on Postgres; SQLite serializes writers anyway and drops the clause.
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
		Where(&Household{TeamID: v.TeamID, Key: v.HouseholdKey}).Take(&cur).Error
	if err != nil {
		return fmt.Errorf("load household: %w", err)
	}
	updates := map[string]any{"visits": gorm.Expr("visits + 1"), "updated_at": now}
	if v.VisitedAt.Before(cur.FirstGuidedAt) {
		updates["first_guided_at"] = v.VisitedAt
	}
	if !v.VisitedAt.Before(cur.LastVisitAt) {
		updates["last_visit_at"] = v.VisitedAt
		updates["label"] = v.Household
	}
	if err := tx.Model(&cur).Updates(updates).Error; err != nil {
		return fmt.Errorf("update household: %w", err)
	}
	return nil
}

// RecentHouseholds returns up to n households the person visited, the most
// recently visited first, as they last typed them: suggestions for the next
// report.
func (db *DB) RecentHouseholds(ctx context.Context, personID int64, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	tx := db.orm.WithContext(ctx)
	var keys []string
	err := tx.Model(&cnsbot.Visit{}).Select("household_key").Where("person_id = ?", personID).
		Group("household_key").Order("MAX(visited_at) DESC, MAX(id) DESC").Limit(n).Pluck("household_key", &keys).Error
	if err != nil {
		return nil, fmt.Errorf("recent households: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	var visits []cnsbot.Visit
	err = tx.Select("household", "household_key").Where("person_id = ? AND household_key IN ?", personID, keys).
		Order("visited_at DESC, id DESC").Find(&visits).Error
	if err != nil {
		return nil, fmt.Errorf("recent household labels: %w", err)
	}
	label := make(map[string]string, len(keys))
	for _, v := range visits {
		if _, ok := label[v.HouseholdKey]; !ok {
			label[v.HouseholdKey] = v.Household
		}
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, label[k])
	}
	return out, nil
}

// MemberWeek returns on how many days a person reported visits and how many
// minutes they spent, in the seven days from weekStart. Days are calendar
// days in weekStart's location, so pass a weekStart in Asia/Ho_Chi_Minh.
func (db *DB) MemberWeek(ctx context.Context, personID int64, weekStart time.Time) (days int, minutes int, err error) {
	end := weekStart.AddDate(0, 0, 7)
	var visits []cnsbot.Visit
	err = db.orm.WithContext(ctx).Select("visited_at", "minutes").
		Where("person_id = ? AND visited_at >= ? AND visited_at < ?", personID, weekStart.UTC(), end.UTC()).
		Find(&visits).Error
	if err != nil {
		return 0, 0, fmt.Errorf("member week: %w", err)
	}
	seen := make(map[string]bool)
	for _, v := range visits {
		seen[v.VisitedAt.In(weekStart.Location()).Format(time.DateOnly)] = true
		minutes += v.Minutes
	}
	return len(seen), minutes, nil
}

// TeamVisits returns a team's visits in [from, to), the earliest first:
// the week's reports that a team's group asks for with "#tuan".
func (db *DB) TeamVisits(ctx context.Context, teamID int64, from, to time.Time) ([]cnsbot.Visit, error) {
	var visits []cnsbot.Visit
	// Visits are stored in UTC (see RecordVisit): the bounds must be too,
	// or SQLite compares the texts of two offsets.
	err := db.orm.WithContext(ctx).
		Where("team_id = ? AND visited_at >= ? AND visited_at < ?", teamID, from.UTC(), to.UTC()).
		Order("visited_at, id").Find(&visits).Error
	if err != nil {
		return nil, fmt.Errorf("team visits: %w", err)
	}
	return visits, nil
}

// TeamProgress returns how many distinct households the team has guided to
// date and how many households its hamlet has. Where the hamlet has a
// household list, both count the list's confirmed households: those the
// team's visits named, and all of them (the rule of listedcounts.go, which
// the report's row of the team follows too).
func (db *DB) TeamProgress(ctx context.Context, teamID int64) (guided int, households int, err error) {
	tx := db.orm.WithContext(ctx)
	var team cnsbot.Team
	if err := takeOne(tx.Where("id = ?", teamID), &team, "team %d", teamID); err != nil {
		return 0, 0, err
	}
	households, listed, err := db.HamletHouseholds(ctx, team.HamletID)
	if err != nil {
		return 0, 0, err
	}
	var n int64
	if listed {
		err := tx.Raw(`SELECT COALESCE(SUM(new_households), 0) FROM rollup_team_listed WHERE team_id = ?`, teamID).Scan(&n).Error
		if err != nil {
			return 0, 0, fmt.Errorf("count guided households: %w", err)
		}
		return int(n), households, nil
	}
	if err := tx.Model(&Household{}).Where("team_id = ?", teamID).Count(&n).Error; err != nil {
		return 0, 0, fmt.Errorf("count households: %w", err)
	}
	return int(n), households, nil
}

// LastActivity returns, for every approved member and leader whose Zalo id
// is linked (the people a nudge can reach), the time of their latest visit.
// For someone who never reported, the last change of their record (usually
// their enrolment) stands in, so that a new member is not nudged at once.
func (db *DB) LastActivity(ctx context.Context) (map[int64]time.Time, error) {
	// Each person's latest visit is one step down idx_visits_person_visited
	// (person_id, visited_at) from its end: the work grows with the
	// members, not with the visits. The anti-join over every visit it
	// replaces took 0.8–5 s at a province's 1.5 M visits (issue 19).
	var rows []struct {
		ID        int64
		UpdatedAt time.Time
		Last      anyTime
	}
	err := db.orm.WithContext(ctx).Raw(`SELECT p.id, p.updated_at,
			(SELECT v.visited_at FROM visits v WHERE v.person_id = p.id ORDER BY v.visited_at DESC LIMIT 1) AS last
		FROM people p WHERE p.zalo_user_id IS NOT NULL
			AND p.id IN (SELECT person_id FROM roles WHERE role IN ? AND approved = ?)`,
		[]string{cnsbot.RoleMember, cnsbot.RoleLeader}, true).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("last activity: %w", err)
	}
	out := make(map[int64]time.Time, len(rows))
	for _, r := range rows {
		t := time.Time(r.Last)
		if t.IsZero() {
			t = r.UpdatedAt
		}
		out[r.ID] = t.UTC()
	}
	return out, nil
}

// anyTime scans a time that SQLite may hand back as text: a subquery's
// result has no declared type for its driver to parse.
type anyTime time.Time

func (a *anyTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*a = anyTime{}
	case time.Time:
		*a = anyTime(v)
	case string:
		return a.parse(v)
	case []byte:
		return a.parse(string(v))
	default:
		return fmt.Errorf("scan time from %T", v)
	}
	return nil
}

func (a *anyTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			*a = anyTime(t)
			return nil
		}
	}
	return fmt.Errorf("scan time from %q", s)
}
