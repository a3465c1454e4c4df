package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportHouseholdsCommand imports examples/households.csv after the
// units, twice (the second changes nothing), and refuses a bad file whole
// with its lines, without repeating phones.
func TestImportHouseholdsCommand(t *testing.T) {
	cfg, log := importedUnits(t)
	ctx := context.Background()
	var out bytes.Buffer
	for _, want := range []string{"7 mới, 0 cập nhật", "0 mới, 0 cập nhật"} {
		out.Reset()
		if err := importCmd(ctx, []string{"households", "../../examples/households.csv"}, &out, cfg, log); err != nil {
			t.Fatalf("import households: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("got %q, want %q", out.String(), want)
		}
	}
	// The same list with places, in the forms officers write them, moves
	// the six households that have one.
	out.Reset()
	if err := importCmd(ctx, []string{"households", "../../examples/households_places.csv"}, &out, cfg, log); err != nil {
		t.Fatalf("import households with places: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "0 mới, 6 cập nhật") {
		t.Errorf("got %q, want 0 new and 6 updated", out.String())
	}
	bad := filepath.Join(t.TempDir(), "ho.csv")
	content := "Xã/Phường,Ấp/Khóm,Địa chỉ,Chủ hộ,Số điện thoại\n" +
		"An Xuyên,Ấp 1,40,Phạm Văn Tư,0913 222 333\n" +
		"An Xuyên,Ấp Không Có,41,Võ Thị Năm,\n" +
		"An Xuyên,Ấp 1,42,Lê Văn Ba,0123 456\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := importCmd(ctx, []string{"--lang", "en", "households", bad}, &out, cfg, log); err == nil {
		t.Fatalf("got no error for a bad list; output %q", out.String())
	}
	if !strings.Contains(out.String(), "Line 3: ") || !strings.Contains(out.String(), "Line 4: ") ||
		!strings.Contains(out.String(), "nothing was written") {
		t.Errorf("got %q, want lines 3 and 4 reported and nothing written", out.String())
	}
	if strings.Contains(out.String(), "0123") || strings.Contains(out.String(), "456") {
		t.Errorf("the report repeats a phone number: %q", out.String())
	}
}
