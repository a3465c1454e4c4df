package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// deadlinesCmd prints a year's reporting deadlines:
//
//	cnsbot deadlines --year 2025 [--json] [--preset plan220|two-level] [--schedule FILE] [--lang vi|en]
//
// The schedule is the one stored in the database unless --preset or
// --schedule names another. --json prints the published form, an array of
// {"quarter":"2025Q3","from":"team","to":"commune","before":"2025-09-16"};
// otherwise a table for people, in Vietnamese by default.
func deadlinesCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("deadlines", flag.ContinueOnError)
	fs.SetOutput(stdout)
	year := fs.Int("year", time.Now().In(vietnam).Year(), "the year")
	asJSON := fs.Bool("json", false, "print JSON")
	preset := fs.String("preset", "", "use a preset schedule: "+calendar.PresetPlan220+" or "+calendar.PresetTwoLevel)
	file := fs.String("schedule", "", "use the schedule in this JSON file")
	lang := fs.String("lang", locales.Default, "language of the table: vi or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("deadlines: unexpected arguments %q", fs.Args())
	}
	if *year < 2000 || *year > 2100 {
		return fmt.Errorf("deadlines: --year %d is not a year this service plans", *year)
	}
	sched, err := chooseSchedule(ctx, cfg, log, *preset, *file)
	if err != nil {
		return fmt.Errorf("deadlines: %w", err)
	}
	ds := sched.Deadlines(*year, vietnam)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ds)
	}
	texts, err := locales.New()
	if err != nil {
		return fmt.Errorf("deadlines: %w", err)
	}
	return writeDeadlines(stdout, texts, *lang, sched, *year, ds)
}

// chooseSchedule returns the schedule a command works with: a file, a
// preset, or the one stored in the database.
func chooseSchedule(ctx context.Context, cfg Config, log *slog.Logger, preset, file string) (calendar.Schedule, error) {
	switch {
	case preset != "" && file != "":
		return calendar.Schedule{}, errors.New("give --preset or --schedule, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return calendar.Schedule{}, err
		}
		return calendar.Parse(b)
	case preset != "":
		s, ok := calendar.Preset(preset)
		if !ok {
			return calendar.Schedule{}, fmt.Errorf("unknown preset %q: want %s or %s", preset, calendar.PresetPlan220, calendar.PresetTwoLevel)
		}
		return s, nil
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return calendar.Schedule{}, err
	}
	defer db.Close()
	return db.Schedule(ctx)
}

// openStore opens the database for serve and the operator commands,
// migrating it first when configured to (as serve does).
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if cfg.Migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	return db, nil
}

// writeDeadlines prints the deadlines as a table.
func writeDeadlines(w io.Writer, texts *locales.Bundle, lang string, sched calendar.Schedule, year int, ds []calendar.Deadline) error {
	t := func(id string) string { return texts.T(lang, id, nil) }
	fmt.Fprintln(w, texts.T(lang, "calendar.table.title", map[string]any{"Year": year, "Schedule": sched.Name}))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join([]string{t("calendar.table.quarter"), t("calendar.table.from"), t("calendar.table.to"),
		t("calendar.table.before"), t("calendar.table.last_day"), t("calendar.table.reminders")}, "\t"))
	for _, d := range ds {
		_, n, _ := calendar.ParseQuarter(d.Quarter)
		var at []string
		for _, r := range sched.ReminderTimes(d) {
			at = append(at, r.Format("02/01 15:04"))
		}
		fmt.Fprintln(tw, strings.Join([]string{
			texts.T(lang, "calendar.quarter", map[string]any{"N": n, "Year": year}),
			t("calendar.level." + string(d.From)),
			t("calendar.level." + string(d.To)),
			d.Before.Format("02/01/2006"),
			d.LastDay().Format("02/01/2006"),
			strings.Join(at, ", "),
		}, "\t"))
	}
	return tw.Flush()
}
