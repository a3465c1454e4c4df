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
		return countHousehold(tx, v, now)
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
// household list, both count the list's households: those visited, by any
// team of the hamlet, and all of them.
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
		err := tx.Model(&cnsbot.ListedHousehold{}).
			Where("hamlet_id = ? AND pending = ? AND guided_at IS NOT NULL", team.HamletID, false).Count(&n).Error
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
	tx := db.orm.WithContext(ctx)
	holders := tx.Model(&cnsbot.Role{}).Select("person_id").
		Where("role IN ? AND approved = ?", []string{cnsbot.RoleMember, cnsbot.RoleLeader}, true)
	var people []cnsbot.Person
	err := tx.Select("id", "updated_at").Where("zalo_user_id IS NOT NULL AND id IN (?)", holders).Find(&people).Error
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	// Each person's latest visit, without MAX() on a time column: SQLite
	// would hand back text that the driver does not parse.
	var latest []cnsbot.Visit
	err = tx.Raw(`SELECT v.person_id, v.visited_at FROM visits v WHERE NOT EXISTS (
		SELECT 1 FROM visits w WHERE w.person_id = v.person_id AND w.visited_at > v.visited_at)`).
		Scan(&latest).Error
	if err != nil {
		return nil, fmt.Errorf("latest visits: %w", err)
	}
	last := make(map[int64]time.Time, len(latest))
	for _, v := range latest {
		last[v.PersonID] = v.VisitedAt
	}
	out := make(map[int64]time.Time, len(people))
	for _, p := range people {
		t, ok := last[p.ID]
		if !ok {
			t = p.UpdatedAt
		}
		out[p.ID] = t.UTC()
	}
	return out, nil
}
