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

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// importCmd runs `cnsbot import units|roster|households FILE`: the
// commune's places, member lists and hamlets' household lists, as officers
// keep them in CSV or Excel. The whole file is
// imported or nothing is; every bad row is listed with its line number, in
// the officer's language (--lang).
func importCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	lang := fs.String("lang", locales.Default, "language of the summary and the rows' problems: vi or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	texts, err := locales.New()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "units" && fs.Arg(0) != "roster" && fs.Arg(0) != "households") {
		return errors.New(texts.T(*lang, "cli.import.usage", nil))
	}
	kind, path := fs.Arg(0), fs.Arg(1)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()

	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer db.Close()

	imp := db.ImportUnits
	switch kind {
	case "roster":
		imp = db.ImportRoster
	case "households":
		imp = db.ImportHouseholds
	}
	rep, err := imp(ctx, f, filepath.Base(path))
	data := map[string]any{"File": filepath.Base(path), "Rows": rep.Rows, "Created": rep.Created,
		"Updated": rep.Updated, "Count": len(rep.Errors)}
	if len(rep.Errors) > 0 {
		fmt.Fprintln(stdout, texts.TN(*lang, "cli.import.failed", len(rep.Errors), data))
		t := func(id string, data map[string]any) string { return texts.T(*lang, id, data) }
		for _, e := range rep.Errors {
			for _, line := range e.Texts(t) {
				fmt.Fprintln(stdout, "  "+line)
			}
		}
		return fmt.Errorf("import %s: %d bad rows: %w", kind, len(rep.Errors), errTold)
	}
	told := false // the refusal is printed in the officer's language
	if cnsbot.ErrorCode(err) == cnsbot.ETOOLARGE {
		// A file larger than the limits (or one that says it is: a merged
		// range over the whole sheet) is refused before it is laid out.
		data["Rows"], data["Columns"], data["Cells"], data["MiB"] =
			store.MaxImportRows, store.MaxImportColumns, store.MaxImportCells, store.MaxImportBytes>>20
		fmt.Fprintln(stdout, texts.T(*lang, "cli.import.too_large", data))
		told = true
	}
	var refusal *store.FileRefusal
	if errors.As(err, &refusal) {
		fmt.Fprintln(stdout, texts.T(*lang, refusal.Code, data))
		told = true
	}
	if told {
		return fmt.Errorf("import %s: %w: %w", kind, err, errTold)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	fmt.Fprintln(stdout, texts.T(*lang, "cli.import.ok", data))
	return nil
}

// Importer is what import needs of the store; *store.DB has it.
var _ interface {
	ImportUnits(context.Context, io.Reader, string) (store.ImportReport, error)
	ImportRoster(context.Context, io.Reader, string) (store.ImportReport, error)
	ImportHouseholds(context.Context, io.Reader, string) (store.ImportReport, error)
} = (*store.DB)(nil)
