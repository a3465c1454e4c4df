package reminder

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// RunRiverSQLite runs the reminder pass on River over the embedded SQLite
// database until ctx ends, as RunRiver does on Postgres. db is the store's
// own pool (store.DB's *sql.DB): River's SQLite driver wants a pool of one
// connection, which the store already uses, so River's polling queues
// behind the service's own statements instead of failing with SQLITE_BUSY.
//
// River's SQLite driver needs SQLite's jsonb functions (SQLite 3.45,
// January 2024); the pure-Go driver the store uses bundles SQLite 3.53
// from github.com/glebarez/go-sqlite v1.23.0 on.
func RunRiverSQLite(ctx context.Context, db *sql.DB, r *Reminders, opts RiverOptions) error {
	opts, log := opts.withDefaults()
	if err := MigrateRiverSQLite(ctx, db, log); err != nil {
		return err
	}
	return runRiverClient(ctx, riversqlite.New(db), r, opts, log)
}

// MigrateRiverSQLite applies River's own migrations to the SQLite
// database. All versions run in one transaction: the store's SQLite
// connections begin IMMEDIATE transactions, which take the database's write
// lock at once, so two processes starting on the same file take turns (the
// role the advisory lock plays on Postgres), and the second finds the
// versions applied. River's SQLite versions are plain DDL, so unlike
// Postgres's they may share a transaction.
func MigrateRiverSQLite(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: riverLogger(log)})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	//lint:ignore SA1019 one transaction is the lock between processes; see above.
	res, err := migrator.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("river migrations: commit: %w", err)
	}
	if len(res.Versions) > 0 {
		log.Info("river migrations applied", "versions", len(res.Versions))
	}
	return nil
}

// withDefaults fills in RiverOptions' defaults and returns the logger to use.
func (o RiverOptions) withDefaults() (RiverOptions, *slog.Logger) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return o, log
}

// runRiverClient runs a River client on driver with the reminder pass as
// a periodic job (and the retention pass, when opts.Retention is set),
// until ctx ends. It is RunRiver's client for any
// database River has a driver for: every replica runs one; River's elected
// leader alone inserts the periodic job, which is unique per interval, and
// a start runs a pass at once (the catch-up after downtime).
func runRiverClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], r *Reminders, opts RiverOptions, log *slog.Logger) error {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &passWorker{r: r, now: opts.Now}); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	// River refuses a uniqueness period under a second.
	unique := max(opts.Interval, time.Second)
	cfg := &river.Config{
		Queues:            map[string]river.QueueConfig{Queue: {MaxWorkers: 1}},
		Workers:           workers,
		Logger:            riverLogger(log),
		FetchPollInterval: opts.PollInterval,
		FetchCooldown:     min(opts.PollInterval, 100*time.Millisecond),
		// A failed pass is retried by the next interval's pass anyway.
		MaxAttempts: 3,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(opts.Interval),
			func() (river.JobArgs, *river.InsertOpts) {
				return PassArgs{}, &river.InsertOpts{
					Queue:      Queue,
					UniqueOpts: river.UniqueOpts{ByPeriod: unique},
				}
			},
			&river.PeriodicJobOpts{ID: "reminder_pass", RunOnStart: true},
		)},
	}
	if err := addRetention(cfg, workers, opts.Retention, opts.Now, log); err != nil {
		return err
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	<-ctx.Done()
	// The pass in flight finishes or is cancelled within the timeout.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stop river: %w", err)
	}
	return ctx.Err()
}
