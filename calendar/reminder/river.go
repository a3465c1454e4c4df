package reminder

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// DefaultInterval is how often the pass runs. Reminders go out at a whole
// hour, so they leave at most this late.
const DefaultInterval = 5 * time.Minute

// Queue is the River queue the pass runs on, apart from any other work
// River may get later, with one worker: passes never overlap on a replica.
const Queue = "cnsbot_reminders"

// PassArgs is the River job that runs one reminder pass.
type PassArgs struct{}

// Kind names the job in River's tables.
func (PassArgs) Kind() string { return "cnsbot_reminder_pass" }

// passWorker runs a pass as of the clock's time.
type passWorker struct {
	river.WorkerDefaults[PassArgs]
	r   *Reminders
	now func() time.Time
}

func (w *passWorker) Work(ctx context.Context, _ *river.Job[PassArgs]) error {
	rep, err := w.r.Pass(ctx, w.now(), false)
	if len(rep.Items) > 0 {
		w.r.log.Info("reminder pass", "items", len(rep.Items), "schedule", rep.Schedule)
	}
	return err
}

// Timeout bounds one pass; a stuck pass must not hold the queue forever.
func (w *passWorker) Timeout(*river.Job[PassArgs]) time.Duration { return 5 * time.Minute }

// RiverOptions configure RunRiver.
type RiverOptions struct {
	// Interval between passes (default DefaultInterval).
	Interval time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// Log receives River's own messages too (at warn level and up).
	Log *slog.Logger
	// PollInterval is how often River looks for jobs without a
	// notification (River's default when zero); tests shorten it.
	PollInterval time.Duration
	// Retention, when set, runs the retention pass on the same River
	// client, on a queue of its own.
	Retention *Retention
}

// RunRiver runs the reminder pass on River, the job engine, until ctx
// ends. It first brings River's tables up to date (under an advisory lock,
// so replicas starting together take turns). Every replica runs a River
// client; River's elected leader alone inserts the periodic job, and the
// job is unique per interval, so one pass runs per interval across all
// replicas. A restart runs a pass at once (RunOnStart), which is the
// catch-up after downtime. The claim rows make the pass itself safe to run
// twice, so River's guarantees are an economy, not the correctness.
func RunRiver(ctx context.Context, pool *pgxpool.Pool, r *Reminders, opts RiverOptions) error {
	opts, log := opts.withDefaults()
	if err := MigrateRiver(ctx, pool, log); err != nil {
		return err
	}
	return runRiverClient(ctx, riverpgxv5.New(pool), r, opts, log)
}

// MigrateRiver applies River's own migrations in the pool's schema. River
// versions its schema itself (river_migration), so this runs on every
// start rather than as one of the store's migrations: upgrading River may
// bring new versions.
func MigrateRiver(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: riverLogger(log)})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	// rivermigrate takes no lock of its own, and its versions cannot share
	// one transaction (version 6 adds an enum value and then uses it), so
	// a session lock on a connection of its own makes replicas that start
	// together take turns.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	defer conn.Release()
	const lock = `hashtext('cnsbot.river_migrate'), hashtext(current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lock+`)`); err != nil {
		return fmt.Errorf("river migrations: lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lock+`)`); err != nil {
			// A lock that cannot be released dies with its connection.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		log.Info("river migrations applied", "versions", len(res.Versions))
	}
	return nil
}

// riverLogger passes River's warnings and errors on: its info messages
// (leadership, queue polling) would drown the service's own.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelWarn}).With("component", "river")
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
