package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Nearly everyone who writes to the OA is a resident, and every one of them
// would cost a roster query (is this Zalo id a member?) before the menu can
// be shown. The zaloIndex keeps the set of Zalo ids linked to someone on the
// roster in memory, so that PersonByZalo answers "not on the roster" without
// asking the database; ids in the set are still looked up, for the person
// and roles.
//
// The set is loaded by WatchRoster and reloaded when the people table
// changes (its count of linked ids or its latest updated_at: every GORM
// write bumps updated_at), which WatchRoster checks every RosterPoll, and in
// full every rosterReload whatever the stamp says. Links made in this
// process (LinkZalo, AddPendingMember) are added at once. A link made by
// another process (another replica, `cnsbot import`) is therefore seen
// within RosterPoll. Until the first load succeeds, every lookup asks the
// database.
type zaloIndex struct {
	mu    sync.RWMutex
	ids   map[string]struct{}
	ready bool
	stamp string
}

// RosterPoll is how often WatchRoster checks whether the roster changed.
const RosterPoll = time.Second

// rosterReload is how often the set is reloaded even if the stamp did not
// change: a backstop for writes that bypass updated_at (raw SQL, clocks far
// apart between replicas).
const rosterReload = 5 * time.Minute

// unlinked reports whether the index knows that nobody on the roster has
// this Zalo id. It is false while the index is not loaded.
func (x *zaloIndex) unlinked(zaloUserID string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !x.ready {
		return false
	}
	_, ok := x.ids[zaloUserID]
	return !ok
}

// add records a link this process just committed.
func (x *zaloIndex) add(zaloUserID string) {
	if zaloUserID == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ids != nil {
		x.ids[zaloUserID] = struct{}{}
	}
}

// WatchRoster loads the index of linked Zalo ids and keeps it current until
// ctx ends (see zaloIndex). A failed check is retried at the next tick; the
// index keeps its last content meanwhile.
func (db *DB) WatchRoster(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = RosterPoll
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var loaded time.Time
	failing := false
	for {
		full := time.Since(loaded) >= rosterReload
		err := db.refreshRoster(ctx, full)
		switch {
		case err == nil:
			if failing {
				db.log.Info("roster index current again")
			}
			failing = false
			if full {
				loaded = time.Now()
			}
		case ctx.Err() == nil && !failing:
			// Logged once per outage: the database's own errors are
			// logged by whatever else needs it.
			db.log.Warn("roster index not refreshed; lookups use the last one", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshRoster reloads the index if the people table changed, or always
// when full is set.
func (db *DB) refreshRoster(ctx context.Context, full bool) error {
	stamp, err := db.rosterStamp(ctx)
	if err != nil {
		return err
	}
	x := &db.zalo
	x.mu.RLock()
	same := x.ready && x.stamp == stamp
	x.mu.RUnlock()
	if same && !full {
		return nil
	}
	var linked []string
	err = db.orm.WithContext(ctx).Table("people").Where("zalo_user_id IS NOT NULL AND zalo_user_id <> ''").
		Pluck("zalo_user_id", &linked).Error
	if err != nil {
		return fmt.Errorf("load linked zalo ids: %w", err)
	}
	ids := make(map[string]struct{}, len(linked))
	for _, id := range linked {
		ids[id] = struct{}{}
	}
	x.mu.Lock()
	x.ids, x.stamp, x.ready = ids, stamp, true
	x.mu.Unlock()
	return nil
}

// rosterStamp changes whenever a person is linked, unlinked, added, removed
// or updated through GORM.
func (db *DB) rosterStamp(ctx context.Context) (string, error) {
	q := `SELECT CAST(COUNT(zalo_user_id) AS TEXT) || ' ' || COALESCE(CAST(MAX(updated_at) AS TEXT), '') FROM people`
	var stamp string
	if err := db.orm.WithContext(ctx).Raw(q).Scan(&stamp).Error; err != nil {
		return "", fmt.Errorf("roster stamp: %w", err)
	}
	return stamp, nil
}

// rosterMigrations index people by updated_at, which the roster stamp reads
// every second.
func rosterMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026112801_people_updated_at",
		Migrate: func(tx *gorm.DB) error {
			return tx.Exec("CREATE INDEX IF NOT EXISTS idx_people_updated_at ON people (updated_at)").Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec("DROP INDEX IF EXISTS idx_people_updated_at").Error
		},
	}}
}
