package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/camau-cns/cnsbot/store"
)

// demoCmd fills an empty database with a generated province, to measure
// the dashboard, the report and the reminders at a province's scale:
//
//	cnsbot demo --scale province|reduced [--now RFC3339] [--token]
//
// With --token it prints a province officer's dashboard token.
func demoCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	scale := fs.String("scale", "province", "province (64 communes, 1,500 teams, 1.5 M visits, 100 k help requests) or reduced (a fifteenth)")
	nowFlag := fs.String("now", "", "end of the generated year (RFC 3339); now by default")
	token := fs.Bool("token", false, "print a province officer's dashboard token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected arguments %q", fs.Args())
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("demo: --now: %w", err)
		}
		now = t
	}
	var spec store.ProvinceSpec
	switch *scale {
	case "province":
		spec = store.ProvinceScale(now)
	case "reduced":
		spec = store.ReducedProvince(now)
	default:
		return fmt.Errorf("demo: --scale %q: want province or reduced", *scale)
	}
	cfg.Migrate = true
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer db.Close()
	start := time.Now()
	officer, err := db.GenerateProvince(ctx, spec, log)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "generated %d communes, %d teams, %d members, %d visits, %d help requests in %s\n",
		spec.Communes, spec.Hamlets, spec.Hamlets*spec.Members, spec.Visits, spec.HelpRequests, time.Since(start).Round(time.Second))
	if *token {
		t, err := db.IssueOfficerToken(ctx, officer, 0)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(stdout, "province officer %d: %s\n", officer, t.Token)
	}
	return nil
}
