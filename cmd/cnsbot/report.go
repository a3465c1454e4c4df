package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
)

// reportCmd writes the quarterly report of the teams:
//
//	cnsbot report --quarter 2025Q3 [--commune NAME] [--format xlsx|csv] [--out FILE] [--lang vi|en]
//
// It writes to stdout without --out. The format is xlsx unless --format
// says otherwise, or --out names a .csv file.
func reportCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stdout)
	quarter := fs.String("quarter", "", "the quarter, like 2025Q3 (required)")
	commune := fs.String("commune", "", "only this commune or ward (its name; case and diacritics do not matter)")
	format := fs.String("format", "xlsx", "xlsx (laid out for printing), csv (UTF-8, for other programs) or csv-vn (semicolons and decimal commas, for Excel set to Vietnamese)")
	out := fs.String("out", "", "write to this file instead of stdout")
	lang := fs.String("lang", locales.Default, "language of the headers: vi or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("report: unexpected arguments %q", fs.Args())
	}
	if *quarter == "" {
		return errors.New("report: --quarter is required, like --quarter 2025Q3")
	}
	formatSet := false
	fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
	if !formatSet && strings.EqualFold(filepath.Ext(*out), ".csv") {
		*format = "csv"
	}
	write := map[string]func(io.Writer, *report.Report, report.Texts, string) error{
		"xlsx": report.WriteXLSX,
		"csv":  report.WriteCSV,
		// csv-vn: ';' and decimal commas, for Excel set to Vietnamese.
		"csv-vn": report.WriteCSVVietnamese,
	}[*format]
	if write == nil {
		return fmt.Errorf("report: --format %q: want xlsx, csv or csv-vn", *format)
	}
	if *lang != "vi" && *lang != "en" {
		return fmt.Errorf("report: --lang %q: want vi or en", *lang)
	}
	texts, err := locales.New()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer db.Close()
	r, err := report.Build(ctx, db, *quarter, *commune, vietnam)
	if err != nil {
		if msg := cnsbot.ErrorMessage(err); cnsbot.ErrorCode(err) != cnsbot.EINTERNAL && msg != "" {
			return fmt.Errorf("report: %s", msg)
		}
		return fmt.Errorf("report: %w", err)
	}
	if *out == "" {
		return write(stdout, r, texts, *lang)
	}
	return writeFile(*out, func(w io.Writer) error { return write(w, r, texts, *lang) })
}

// writeFile writes a file whole or not at all: into a temporary file
// beside it, renamed over it once complete, so that a failure never
// leaves half a report where a whole one is expected.
func writeFile(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
