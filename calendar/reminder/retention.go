package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// Retention defaults: personal fields of closed requests go after twelve
// months, dead events' payloads after 30 days (Decree 13/2023: kept no
// longer than the purpose needs).
const (
	DefaultRequestRetention   = 365 * 24 * time.Hour
	DefaultDeadEventRetention = 30 * 24 * time.Hour
	// DefaultDeliveryRetention matches store.CopyMaxAge: a refused message
	// older than that is never sent again, so its text has no use left.
	DefaultDeliveryRetention = 30 * 24 * time.Hour
	DefaultRetentionInterval = time.Hour
)

// RetentionQueue is the River queue of the retention pass, apart from the
// reminders so that neither waits for the other.
const RetentionQueue = "cnsbot_retention"

// RetentionStore removes personal data that is due. The store implements
// it; each method is safe to run again.
type RetentionStore interface {
	// ForgetClosedRequests clears the personal fields of requests closed
	// or cancelled before before, and records the erasure at at.
	ForgetClosedRequests(ctx context.Context, before, at time.Time) (int64, error)
	// ClearDeadEvents empties the payloads of dead events older than before.
	ClearDeadEvents(ctx context.Context, before, at time.Time) (int64, error)
	// ClearDeliveryPayloads empties the texts of refused messages older
	// than before.
	ClearDeliveryPayloads(ctx context.Context, before, at time.Time) (int64, error)
	// UnfollowedSessions lists people who unfollowed and whose session was
	// not deleted yet; MarkSessionsCleared records that it was.
	UnfollowedSessions(ctx context.Context, limit int) ([]string, error)
	MarkSessionsCleared(ctx context.Context, userIDs []string, at time.Time) error
}

// SessionDeleter deletes a conversation's session (store.Queue does).
type SessionDeleter interface {
	DeleteSession(ctx context.Context, route string) error
}

// Retention is the pass that removes personal data kept longer than
// needed. It runs on River next to the reminder pass (RiverOptions).
type Retention struct {
	Store    RetentionStore
	Sessions SessionDeleter
	// Requests is how long a closed or cancelled request keeps its
	// personal fields (DefaultRequestRetention when zero).
	Requests time.Duration
	// DeadEvents is how long a dead event keeps its payload
	// (DefaultDeadEventRetention when zero).
	DeadEvents time.Duration
	// Deliveries is how long a refused message keeps its text
	// (DefaultDeliveryRetention when zero).
	Deliveries time.Duration
	// Interval between passes (DefaultRetentionInterval when zero).
	Interval time.Duration
}

// RetentionReport is what one pass removed.
type RetentionReport struct {
	Requests, DeadEvents, Deliveries, Sessions int64
}

// sessionBatch is how many unfollowed sessions one step deletes.
const sessionBatch = 500

// Pass removes what is due at now. It goes on past a failed step, so one
// broken table does not keep the others' data, and returns the errors
// joined.
func (r *Retention) Pass(ctx context.Context, now time.Time) (RetentionReport, error) {
	var rep RetentionReport
	var errs []error
	keep := r.Requests
	if keep <= 0 {
		keep = DefaultRequestRetention
	}
	n, err := r.Store.ForgetClosedRequests(ctx, now.Add(-keep), now)
	rep.Requests = n
	errs = append(errs, err)
	keep = r.DeadEvents
	if keep <= 0 {
		keep = DefaultDeadEventRetention
	}
	n, err = r.Store.ClearDeadEvents(ctx, now.Add(-keep), now)
	rep.DeadEvents = n
	errs = append(errs, err)
	keep = r.Deliveries
	if keep <= 0 {
		keep = DefaultDeliveryRetention
	}
	n, err = r.Store.ClearDeliveryPayloads(ctx, now.Add(-keep), now)
	rep.Deliveries = n
	errs = append(errs, err)
	n, err = r.deleteUnfollowedSessions(ctx, now)
	rep.Sessions = n
	errs = append(errs, err)
	return rep, errors.Join(errs...)
}

func (r *Retention) deleteUnfollowedSessions(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		ids, err := r.Store.UnfollowedSessions(ctx, sessionBatch)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		for _, id := range ids {
			if err := r.Sessions.DeleteSession(ctx, "u:"+id); err != nil {
				return total, fmt.Errorf("delete unfollowed session: %w", err)
			}
		}
		if err := r.Store.MarkSessionsCleared(ctx, ids, now); err != nil {
			return total, err
		}
		total += int64(len(ids))
		if len(ids) < sessionBatch {
			return total, nil
		}
	}
}

// RetentionArgs is the River job that runs one retention pass.
type RetentionArgs struct{}

// Kind names the job in River's tables.
func (RetentionArgs) Kind() string { return "cnsbot_retention_pass" }

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	r   *Retention
	now func() time.Time
	log *slog.Logger
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	rep, err := w.r.Pass(ctx, w.now())
	if rep.Requests+rep.DeadEvents+rep.Deliveries+rep.Sessions > 0 {
		w.log.Info("retention pass", "requests", rep.Requests, "dead_events", rep.DeadEvents,
			"deliveries", rep.Deliveries, "sessions", rep.Sessions)
	}
	return err
}

// Timeout bounds one pass, as for the reminders.
func (w *retentionWorker) Timeout(*river.Job[RetentionArgs]) time.Duration { return 10 * time.Minute }

// addRetention adds the retention pass to a River configuration: its
// worker, its queue and its periodic job, unique per interval and run at
// start, like the reminder pass.
func addRetention(cfg *river.Config, workers *river.Workers, r *Retention, now func() time.Time, log *slog.Logger) error {
	if r == nil {
		return nil
	}
	if r.Store == nil || r.Sessions == nil {
		return errors.New("retention: Store and Sessions are required")
	}
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	if err := river.AddWorkerSafely(workers, &retentionWorker{r: r, now: now, log: log.With("component", "retention")}); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	cfg.Queues[RetentionQueue] = river.QueueConfig{MaxWorkers: 1}
	unique := max(interval, time.Second)
	cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return RetentionArgs{}, &river.InsertOpts{Queue: RetentionQueue, UniqueOpts: river.UniqueOpts{ByPeriod: unique}}
		},
		&river.PeriodicJobOpts{ID: "retention_pass", RunOnStart: true},
	))
	return nil
}
