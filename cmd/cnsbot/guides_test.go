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

	"github.com/camau-cns/cnsbot/store"
)

// TestGuidesImportCommand imports a folder of guides: a Markdown guide with
// a picture is published, importing it again changes nothing, and a guide
// outside the Markdown subset is listed with its reason and fails the
// command while the others are published.
func TestGuidesImportCommand(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Migrate: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := "flow = \"vneid\"\nid = \"%s\"\ntopic = \"vneid\"\norder = 20\nwords = [\"%s\"]\nsource = \"domain.md\"\nchecked = \"2026-12-01\"\n"
	write("vneid/khoa/guide.toml", strings.ReplaceAll(strings.Replace(meta, "%s", "khoa", 1), "%s", "bi khoa tai khoan"))
	write("vneid/khoa/vi.md", "# Tài khoản bị khóa\n\n## Gọi tổng đài\nGọi **1900 0368**.\n\n## Mở lại\n![](man-hinh.png)\nLàm theo hướng dẫn.\n")
	write("vneid/khoa/en.md", "# Account locked\n\n## Call\nCall **1900 0368**.\n\n## Reopen\nFollow the steps.\n")
	shot := filepath.Join(dir, "vneid/khoa/man-hinh.png")
	writePicture(t, shot)
	write("vneid/sai/guide.toml", strings.ReplaceAll(strings.Replace(meta, "%s", "sai", 1), "%s", "sai"))
	write("vneid/sai/vi.toml", "title = \"Sai\"\n[[steps]]\ntext = \"# Tiêu đề\"\n")
	write("vneid/sai/en.toml", "title = \"Wrong\"\n[[steps]]\ntext = \"Heading\"\n")

	var out bytes.Buffer
	err := guidesCmd(ctx, []string{"import", "--by", "Lan", dir}, &out, cfg, log)
	if err == nil || !strings.Contains(out.String(), "✓ vneid/khoa: version 1 published") ||
		!strings.Contains(out.String(), "step 1 (vi): headings (#)") {
		t.Fatalf("first import: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := guidesCmd(ctx, []string{"import", "--by", "Lan", filepath.Join(dir, "vneid/khoa")}, &out, cfg, log); err != nil ||
		!strings.Contains(out.String(), "= vneid/khoa: unchanged (version 1)") {
		t.Fatalf("second import: %v\n%s", err, out.String())
	}
	db, err := store.Open(ctx, "", cfg.DataDir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hist, err := db.GuideHistory(ctx, "vneid/khoa")
	if err != nil || len(hist) != 1 || hist[0].By != "Lan" || hist[0].Guide.Steps[1].Image == "" ||
		hist[0].Guide.Steps[0].Text["vi"] != "Gọi **1900 0368**." {
		t.Fatalf("stored: %v %+v", err, hist)
	}
	if _, err := db.GuideImage(ctx, hist[0].Guide.Steps[1].Image); err != nil {
		t.Errorf("picture: %v", err)
	}
}
