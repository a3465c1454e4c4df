package reminder

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Leaser hands out a named lease stored in the database; *store.DB has it.
type Leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// LeaseName is the lease that RunLeased holds while it runs passes.
const LeaseName = "reminder_pass"

// LeasedOptions configure RunLeased.
type LeasedOptions struct {
	// Interval between passes (default DefaultInterval).
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Holder names this process in the lease (default hostname-pid).
	Holder string
	Log    *slog.Logger
}

// RunLeased runs a pass now and then every Interval until ctx ends, on the
// embedded SQLite database, where River cannot run: River's SQLite driver
// needs SQLite's jsonb functions (SQLite 3.45, January 2024), and the
// pure-Go driver the store uses (github.com/glebarez/go-sqlite v1.21.2)
// bundles SQLite 3.41.2. The schedule is still data in the database and
// survives restarts: each pass works out what is due from the stored
// schedule and claim rows, so the first pass after a restart catches up.
// The lease keeps two processes sharing the file (a second `serve` by
// mistake) from running passes side by side; the claim rows would keep
// them from sending anything twice anyway.
func RunLeased(ctx context.Context, l Leaser, r *Reminders, opts LeasedOptions) error {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Holder == "" {
		host, _ := os.Hostname()
		opts.Holder = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err := l.ReleaseLease(context.WithoutCancel(ctx), LeaseName, opts.Holder); err != nil {
			log.Warn("release reminder lease", "err", err)
		}
	}()
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		// The lease outlives one interval so that the holder keeps it
		// from one pass to the next, and lapses soon after it stops.
		ok, err := l.TryLease(ctx, LeaseName, opts.Holder, 2*opts.Interval)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("take reminder lease", "err", err)
		case ok:
			rep, err := r.Pass(ctx, opts.Now(), false)
			if err != nil && ctx.Err() == nil {
				log.Error("reminder pass", "err", err)
			}
			if len(rep.Items) > 0 {
				log.Info("reminder pass", "items", len(rep.Items), "schedule", rep.Schedule)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
