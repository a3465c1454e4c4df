package reminder_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// On the embedded SQLite database River runs too: two processes share the
// file (each with its own one-connection pool, as two `serve`s would), one
// stops and another starts while the clock moves through the team
// deadline. Each reminder goes out once.
func TestRiverSQLite(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, openStore(t, "", dir))
	var clock fakeClock
	clock.set(e.at("2025-09-09 08:00"))
	start := func() (stop func()) {
		db := openStore(t, "", dir)
		sqlDB, err := db.SQL()
		if err != nil {
			t.Fatal(err)
		}
		r := reminder.New(db, e.push, e.texts, reminder.Options{Location: e.loc})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			err := reminder.RunRiverSQLite(ctx, sqlDB, r, reminder.RiverOptions{
				Interval: time.Second, Now: clock.nowFunc(), PollInterval: 50 * time.Millisecond, Log: testLog(t)})
			if ctx.Err() == nil {
				t.Errorf("RunRiverSQLite returned early: %v", err)
			}
			done <- err
		}()
		return func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("river: %v", err)
			}
		}
	}
	stop1, stop2 := start(), start()
	settle := 2500 * time.Millisecond  // more than two intervals
	waitMessages(t, e.push, 2, settle) // A's and B's 7-day reminders
	clock.set(e.at("2025-09-13 09:00"))
	waitMessages(t, e.push, 4, settle) // their 3-day reminders
	stop1()
	clock.set(e.at("2025-09-15 08:30"))
	waitMessages(t, e.push, 7, settle) // 1-day reminders, the commune's 7-day one
	stop3 := start()
	clock.set(e.at("2025-09-16 08:10"))
	waitMessages(t, e.push, 10, settle) // overdue notices and the commune's list
	stop2()
	stop3()
	exactlyOnce(t, e.push)
}

// River's migrations run once however often, and twice at once, they are
// applied to one file.
func TestMigrateRiverSQLite(t *testing.T) {
	dir := t.TempDir()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			db, err := store.Open(context.Background(), "", dir, nil)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			sqlDB, err := db.SQL()
			if err != nil {
				errs <- err
				return
			}
			errs <- reminder.MigrateRiverSQLite(context.Background(), sqlDB, testLog(t))
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	db := openStore(t, "", dir)
	var n int64
	storetest.Scan(t, db, `SELECT COUNT(*) FROM river_migration`, nil, &n)
	if n == 0 {
		t.Errorf("river_migration has %d rows, want River's versions", n)
	}
}
