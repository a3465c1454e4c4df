package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
)

func TestImportCommand(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Migrate: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()

	var out bytes.Buffer
	if err := importCmd(ctx, []string{"--lang", "en", "units", "../../examples/units.csv"}, &out, cfg, log); err != nil {
		t.Fatalf("import units: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Imported units.csv") {
		t.Errorf("got %q, want a summary of the units import", out.String())
	}
	out.Reset()
	if err := importCmd(ctx, []string{"roster", "../../examples/roster.csv"}, &out, cfg, log); err != nil {
		t.Fatalf("import roster: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Đã nhập roster.csv") {
		t.Errorf("got %q, want a Vietnamese summary", out.String())
	}

	// A roster row whose hamlet is unknown is an error with its line number,
	// and nothing of the file is written.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	content := "Xã/Phường,Ấp/Khóm,Tổ,Họ và tên,Số điện thoại,Vai trò\n" +
		"An Xuyên,Ấp 1,,Phạm Văn Tư,0913 222 333,Thành viên\n" +
		"An Xuyên,Ấp Không Có,,Võ Thị Năm,0914 333 444,Thành viên\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := importCmd(ctx, []string{"--lang", "en", "roster", bad}, &out, cfg, log); err == nil {
		t.Fatalf("got no error for a bad roster; output %q", out.String())
	}
	if !strings.Contains(out.String(), "Line 3: this commune has no hamlet “Ấp Không Có”") ||
		!strings.Contains(out.String(), "nothing was written") {
		t.Errorf("got %q, want line 3 reported and nothing written", out.String())
	}
	if strings.Contains(out.String(), "0914") || strings.Contains(out.String(), "333 444") {
		t.Errorf("the report repeats a phone number: %q", out.String())
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := db.PersonByPhone(ctx, "0913222333"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Errorf("the good row of a refused file was written (lookup: %v)", err)
	}
	if _, _, err := db.PersonByPhone(ctx, "0912345678"); err != nil {
		t.Errorf("a person of the good roster is missing: %v", err)
	}
	if err := importCmd(ctx, []string{"people", "x.csv"}, &out, cfg, log); err == nil {
		t.Error("got no error for an unknown kind")
	}
}
