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
)

// A file over the import's limits is refused with a sentence in the
// officer's language that gives the limits, and nothing is written.
func TestImportCommandRefusesTooLargeTable(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Migrate: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	path := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(path, []byte("Tỉnh,Xã,Ấp,Số hộ\n"+strings.Repeat(",", 1<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{
		"vi": "Dạ, không nhập được units.csv: bảng quá lớn. Máy đọc tối đa 50000 dòng, 100 cột",
		"en": "Could not import units.csv: the table is too large. An import reads at most 50000 rows, 100 columns",
	} {
		var out bytes.Buffer
		err := importCmd(context.Background(), []string{"--lang", lang, "units", path}, &out, cfg, log)
		if err == nil {
			t.Fatalf("%s: no error for a line of a million fields", lang)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("%s: got %q, want it to say %q", lang, out.String(), want)
		}
	}
}
