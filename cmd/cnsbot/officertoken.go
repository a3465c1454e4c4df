package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// officerTokenCmd manages officers' dashboard tokens:
//
//	cnsbot officer-token create PERSON_ID [--days N]   print a new token, shown once
//	cnsbot officer-token list [--json]                 every token, never the tokens themselves
//	cnsbot officer-token revoke ID                     refuse the token and end its sessions at once
func officerTokenCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	texts, err := locales.New()
	if err != nil {
		return fmt.Errorf("officer-token: %w", err)
	}
	fs := flag.NewFlagSet("officer-token", flag.ContinueOnError)
	fs.SetOutput(stdout)
	days := fs.Int("days", int(store.DefaultOfficerTokenTTL/(24*time.Hour)), "create: how many days the token works")
	asJSON := fs.Bool("json", false, "list: print JSON")
	lang := fs.String("lang", locales.Default, "language of the output: vi or en")
	usage := func() error { return errors.New(texts.T(*lang, "cli.officer_token.usage", nil)) }
	// Flags may come before, between or after the arguments.
	var rest []string
	for a := args; ; {
		if err := fs.Parse(a); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest, a = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	if len(rest) == 0 {
		return usage()
	}
	verb, rest := rest[0], rest[1:]
	idArg := func() (int64, error) {
		if len(rest) != 1 {
			return 0, usage()
		}
		id, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil || id <= 0 {
			return 0, usage()
		}
		return id, nil
	}
	var id int64
	switch verb {
	case "create", "revoke":
		if id, err = idArg(); err != nil {
			return err
		}
	case "list":
		if len(rest) != 0 {
			return usage()
		}
	default:
		return usage()
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("officer-token: %w", err)
	}
	defer db.Close()
	date := func(t time.Time) string { return t.In(vietnam).Format("02/01/2006 15:04") }
	switch verb {
	case "create":
		t, err := db.IssueOfficerToken(ctx, id, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return fmt.Errorf("officer-token: %w", err)
		}
		log.Info("officer token issued", "token_id", t.ID, "person", id, "by", "cli")
		fmt.Fprintln(stdout, texts.T(*lang, "cli.officer_token.created", map[string]any{
			"ID": t.ID, "Person": id, "Token": t.Token, "Expires": date(t.ExpiresAt)}))
	case "revoke":
		if err := db.RevokeOfficerToken(ctx, id); err != nil {
			return fmt.Errorf("officer-token: %w", err)
		}
		log.Info("officer token revoked", "token_id", id, "by", "cli")
		fmt.Fprintln(stdout, texts.T(*lang, "cli.officer_token.revoked", map[string]any{"ID": id}))
	case "list":
		rows, err := db.OfficerTokens(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("officer-token: %w", err)
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(nonNilRows(rows))
		}
		t := func(id string) string { return texts.T(*lang, id, nil) }
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t("cli.officer_token.id"), t("cli.officer_token.person"),
			t("cli.officer_token.created_at"), t("cli.officer_token.expires_at"), t("cli.officer_token.state"))
		for _, r := range rows {
			expires := ""
			if r.ExpiresAt != nil {
				expires = date(*r.ExpiresAt)
			}
			fmt.Fprintf(tw, "%d\t%s (%d)\t%s\t%s\t%s\n", r.ID, r.Name, r.PersonID, date(r.CreatedAt), expires,
				t("cli.officer_token.states."+r.State))
		}
		return tw.Flush()
	}
	return nil
}

func nonNilRows(rows []store.OfficerTokenRow) []store.OfficerTokenRow {
	if rows == nil {
		return []store.OfficerTokenRow{}
	}
	return rows
}
