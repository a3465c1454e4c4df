package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// MigrateFuncs runs the given migrations (ID, function) the way Migrate runs
// the real ones, so that tests can watch how often each is applied.
func (db *DB) MigrateFuncs(ctx context.Context, ids []string, f func(tx *gorm.DB) error) error {
	var list []*gormigrate.Migration
	for _, id := range ids {
		list = append(list, &gormigrate.Migration{ID: id, Migrate: f})
	}
	return db.migrate(ctx, list)
}

// MigrationIDs lists the IDs of the real migrations.
func MigrationIDs() []string {
	var ids []string
	for _, m := range migrations {
		ids = append(ids, m.ID)
	}
	return ids
}

// SetRetry sets the first retry interval after a failure (tests shorten it).
func (q *Queue) SetRetry(d time.Duration) { q.retry = d }

// SetDeadRetry sets how often parked dead events are recorded again.
func (q *Queue) SetDeadRetry(d time.Duration) { q.deadRetry = d }

// PushKey and DeadKey expose the push and dead streams of partition p.
func (q *Queue) PushKey(p int) string { return q.parts[p].push }
func (q *Queue) DeadKey(p int) string { return q.parts[p].dead }

// SetBlock sets how long a read waits for new entries.
func (q *Queue) SetBlock(d time.Duration) { q.block = d }

// Partition exposes the partition of a route.
func (q *Queue) Partition(route string) int { return q.partition(route) }

// InboxKey and OutboxKey expose the stream keys of partition p.
func (q *Queue) InboxKey(p int) string  { return q.parts[p].inbox }
func (q *Queue) OutboxKey(p int) string { return q.parts[p].outbox }

// ORM is the GORM handle, for this package's own tests that inspect or
// shape rows directly; no other package can reach it.
func (db *DB) ORM() *gorm.DB { return db.orm }

// CountedFigures is figures counted from the visits, never the rollups:
// what the rollups must agree with.
func (db *DB) CountedFigures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (calendar.Figures, error) {
	return db.figuresFrom(ctx, teamIDs, q, loc, false)
}

// CountedReportFigures is ReportFigures counted from the visits.
func (db *DB) CountedReportFigures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error) {
	return db.reportFiguresFrom(ctx, teamIDs, q, loc, false)
}

// CountedReportHamletFigures is ReportHamletFigures counted from the visits.
func (db *DB) CountedReportHamletFigures(ctx context.Context, hamletIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error) {
	return db.reportHamletFiguresFrom(ctx, hamletIDs, q, loc, false)
}

// Figures is figures: from the rollups when they cover q.
func (db *DB) Figures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (calendar.Figures, error) {
	return db.figures(ctx, teamIDs, q, loc)
}

// AreaHouseholdSets returns rollup_area_households as sorted
// "hamlet area household listed" rows, and the rows that counting every
// visit gives.
func (db *DB) AreaHouseholdSets(ctx context.Context) (rolled, counted []string, err error) {
	tx := db.orm.WithContext(ctx)
	var rows []rollupAreaHousehold
	if err := tx.Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		rolled = append(rolled, fmt.Sprint(r.HamletID, r.Area, r.Household, r.Listed))
	}
	var visits []struct {
		HamletID     int64
		HouseholdKey string
		Areas        string
	}
	if err := tx.Raw(`SELECT hamlet_id, household_key, areas FROM visits`).Scan(&visits).Error; err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, v := range visits {
		for _, a := range visitAreas(v.Areas) {
			s := fmt.Sprint(v.HamletID, a, householdHash(v.HouseholdKey), isListedKey(v.HouseholdKey))
			if !seen[s] {
				seen[s] = true
				counted = append(counted, s)
			}
		}
	}
	slices.Sort(rolled)
	slices.Sort(counted)
	return rolled, counted, nil
}
