package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"testing"

	"github.com/camau-cns/cnsbot"
)

// cnsbot enrol-code prints a code once; the code links its person to the
// Zalo account that redeems it, once.
func TestEnrolCodeCommand(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Migrate: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	var out bytes.Buffer
	for _, kind := range []string{"units", "roster"} {
		if err := importCmd(ctx, []string{kind, "../../examples/" + kind + ".csv"}, &out, cfg, log); err != nil {
			t.Fatalf("import %s: %v\n%s", kind, err, out.String())
		}
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tuan, _, err := db.PersonByPhone(ctx, "0355678901")
	if err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if err := enrolCodeCmd(ctx, []string{"--lang", "en", strconv.FormatInt(tuan.ID, 10)}, &out, cfg, log); err != nil {
		t.Fatalf("enrol-code: %v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`Enrol code for Phạm Minh Tuấn: ([A-Z0-9]{8})\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("got %q, want the code and the person's name", out.String())
	}
	if p, _, _, err := db.RedeemEnrolCode(ctx, m[1], "z-tuan"); err != nil || p.ID != tuan.ID {
		t.Errorf("redeem the printed code: %+v, %v", p, err)
	}
	if _, _, _, err := db.RedeemEnrolCode(ctx, m[1], "z-other"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Errorf("the code again: got %v, want ENOTFOUND", err)
	}

	for _, args := range [][]string{nil, {"abc"}, {"1", "2"}} {
		if err := enrolCodeCmd(ctx, args, &out, cfg, log); err == nil {
			t.Errorf("enrol-code %q: want a usage error", args)
		}
	}
	if err := enrolCodeCmd(ctx, []string{"999999"}, &out, cfg, log); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Errorf("enrol-code for nobody: got %v, want ENOTFOUND", err)
	}
}
