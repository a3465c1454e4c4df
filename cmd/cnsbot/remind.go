package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// remindCmd runs one reminder pass as of a given time and prints what it
// sent, or with --dry-run what it would send:
//
//	cnsbot remind [--now 2025-09-09T08:00:00+07:00] [--dry-run] [--json] [--lang vi|en]
//
// Without --dry-run the messages go on the outbox in Redis, for the
// running service to deliver, so REDIS_URL must be set: the embedded
// in-process Redis lives inside `serve` and would lose them.
func remindCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("remind", flag.ContinueOnError)
	fs.SetOutput(stdout)
	nowFlag := fs.String("now", "", "run as of this time, RFC 3339 (default: now)")
	dryRun := fs.Bool("dry-run", false, "change nothing; print what would be sent")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	lang := fs.String("lang", locales.Default, "language of the report: vi or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("remind: unexpected arguments %q", fs.Args())
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("remind: --now: want a time like 2025-09-09T08:00:00+07:00: %w", err)
		}
		now = t
	}
	if !*dryRun && cfg.RedisURL == "" {
		return errors.New("remind: sending needs REDIS_URL: the embedded Redis lives inside `cnsbot serve`, " +
			"and messages queued here would be lost; use --dry-run, or let serve send the reminders")
	}
	texts, err := locales.New()
	if err != nil {
		return fmt.Errorf("remind: %w", err)
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("remind: %w", err)
	}
	defer db.Close()

	var push reminder.Pusher = refusePusher{}
	if !*dryRun {
		rdb, closeRedis, err := store.ConnectRedis(ctx, cfg.RedisURL, log)
		if err != nil {
			return fmt.Errorf("remind: connect redis: %w", err)
		}
		defer closeRedis()
		q, err := store.NewQueue(ctx, rdb, store.QueueOptions{Prefix: cfg.RedisPrefix, Partitions: cfg.Partitions, Log: log})
		if err != nil {
			return fmt.Errorf("remind: queue: %w", err)
		}
		push = q
	}
	r := reminder.New(db, push, texts, reminder.Options{Location: vietnam, Log: log})
	rep, err := r.Pass(ctx, now, *dryRun)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return errors.Join(err, jerr)
		}
	} else {
		writeReport(stdout, texts, *lang, rep)
	}
	if err != nil {
		return fmt.Errorf("remind: %w", err)
	}
	return nil
}

// refusePusher stands in for the queue in a dry run, where Pass never
// pushes; it fails loudly if that ever changes.
type refusePusher struct{}

func (refusePusher) Push(context.Context, ...cnsbot.Outgoing) error {
	return errors.New("dry run: nothing may be queued")
}

// writeReport prints a pass's report for an operator: one line per
// reminder, then the message indented.
func writeReport(w io.Writer, texts *locales.Bundle, lang string, rep reminder.Report) {
	fmt.Fprintln(w, texts.T(lang, "calendar.remind.header", map[string]any{
		"Now": rep.Now.Format("02/01/2006 15:04 -07:00"), "Schedule": rep.Schedule}))
	if rep.DryRun {
		fmt.Fprintln(w, texts.T(lang, "calendar.remind.dry_run", nil))
	}
	if len(rep.Items) == 0 {
		fmt.Fprintln(w, texts.T(lang, "calendar.remind.none", nil))
		return
	}
	for _, it := range rep.Items {
		line := []string{it.Deadline, it.Name, it.Offset, texts.T(lang, "calendar.action."+it.Action, nil)}
		if it.Message != nil {
			line = append(line, "→ "+it.Message.To.String())
		}
		fmt.Fprintln(w, "\n"+strings.Join(line, " · "))
		if it.Message == nil {
			continue
		}
		body := it.Message.Text
		if it.Message.Subtitle != "" {
			body += "\n" + it.Message.Subtitle
		}
		for _, b := range it.Message.Buttons {
			body += "\n[" + b.Title + ": " + b.Payload + "]"
		}
		for l := range strings.SplitSeq(body, "\n") {
			fmt.Fprintln(w, "    "+l)
		}
	}
}

// runReminders runs the reminder passes rem and the retention passes that
// delete personal data past its time on River until ctx ends: with a pgx
// pool on the same DATABASE_URL when the database is Postgres, else on the
// embedded SQLite database's own pool (River's SQLite driver needs SQLite
// 3.45 or later; the embedded driver bundles 3.53).
func runReminders(ctx context.Context, cfg Config, db *store.DB, rem *reminder.Reminders, ret *reminder.Retention, now func() time.Time, log *slog.Logger) error {
	opts := reminder.RiverOptions{Log: log.With("component", "reminders"), Now: now, Retention: ret}
	if db.Dialect() != store.DialectPostgres {
		sqlDB, err := db.SQL()
		if err != nil {
			return fmt.Errorf("reminders: %w", err)
		}
		return reminder.RunRiverSQLite(ctx, sqlDB, rem, opts)
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("reminders: connect: %w", err)
	}
	defer pool.Close()
	return reminder.RunRiver(ctx, pool, rem, opts)
}
