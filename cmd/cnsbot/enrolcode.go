package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/camau-cns/cnsbot/locales"
)

// enrolCodeCmd runs `cnsbot enrol-code PERSON_ID`: a one-time code that
// links the person's roster entry to the Zalo account that sends it to
// the OA ("mã ABCD2345"), within ENROL_CODE_TTL. It may move a person
// linked to another Zalo account (a new phone, or a stolen identity). The
// code is printed once; only its hash is stored.
func enrolCodeCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("enrol-code", flag.ContinueOnError)
	fs.SetOutput(stdout)
	lang := fs.String("lang", locales.Default, "language of the answer: vi or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	texts, err := locales.New()
	if err != nil {
		return fmt.Errorf("enrol-code: %w", err)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if fs.NArg() != 1 || err != nil || id <= 0 {
		return errors.New(texts.T(*lang, "cli.enrol_code.usage", nil))
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("enrol-code: %w", err)
	}
	defer db.Close()
	p, _, err := db.PersonByID(ctx, id)
	if err != nil {
		return fmt.Errorf("enrol-code: %w", err)
	}
	code, expires, err := db.CreateEnrolCode(ctx, id, "cli", cfg.EnrolCodeTTL)
	if err != nil {
		return fmt.Errorf("enrol-code: %w", err)
	}
	log.Info("enrol code issued", "person", id, "by", "cli")
	fmt.Fprintln(stdout, texts.T(*lang, "cli.enrol_code.ok", map[string]any{
		"Name": p.FullName, "Code": code, "Expires": expires.In(vietnam).Format("02/01/2006 15:04")}))
	return nil
}
