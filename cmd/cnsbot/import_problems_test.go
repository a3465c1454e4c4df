package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// importedUnits returns the configuration of a fresh data directory with
// examples/units.csv imported, and a quiet log.
func importedUnits(t *testing.T) (Config, *slog.Logger) {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), Migrate: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var out bytes.Buffer
	if err := importCmd(context.Background(), []string{"units", "../../examples/units.csv"}, &out, cfg, log); err != nil {
		t.Fatalf("import units: %v\n%s", err, out.String())
	}
	return cfg, log
}

// TestImportCommandRefusesInVietnamese refuses a roster with three bad
// rows and lists each, without --lang, in Vietnamese: the line, what is
// wrong and what to do.
func TestImportCommandRefusesInVietnamese(t *testing.T) {
	cfg, log := importedUnits(t)
	ctx := context.Background()
	var out bytes.Buffer
	bad := filepath.Join(t.TempDir(), "danh-sach.csv")
	content := "Xã/Phường,Ấp/Khóm,Tổ,Họ và tên,Số điện thoại,Vai trò\n" +
		"An Xuyên,Ấp 1,,Phạm Văn Tư,0913 222 333,Thành viên\n" +
		"An Xuyên,Ấp Không Có,,Võ Thị Năm,0914 333 444,Thành viên\n" +
		"An Xuyên,Ấp 1,,Lê Văn Ba,,Thành viên\n" +
		"An Xuyên,Ấp 1,,Trần Thị Bảy,0915 444 555,Phó chủ tịch\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := importCmd(ctx, []string{"roster", bad}, &out, cfg, log); err == nil {
		t.Fatalf("got no error for a bad roster; output %q", out.String())
	}
	want := "Không nhập được danh-sach.csv: 3 dòng có lỗi, chưa ghi gì vào cơ sở dữ liệu. Sửa các dòng dưới đây rồi nhập lại:\n" +
		"  Dòng 3: xã/phường này chưa có ấp/khóm “Ấp Không Có”. Nhập tệp đơn vị trước, hoặc ghi tên như trong tệp đó, rồi nhập lại.\n" +
		"  Dòng 4: thiếu “Số điện thoại”. Điền vào rồi nhập lại.\n" +
		"  Dòng 5: không hiểu vai trò “Phó chủ tịch”. Ghi Thành viên, Tổ trưởng, Cán bộ xã hoặc Cán bộ tỉnh rồi nhập lại.\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(out.String(), "0914") {
		t.Errorf("the report repeats a phone number: %q", out.String())
	}
}

// TestImportCommandRefusesOldWorkbook: an old .xls is refused whole with
// what to do, in the officer's language.
func TestImportCommandRefusesOldWorkbook(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Migrate: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	path := filepath.Join(t.TempDir(), "don-vi.xls")
	if err := os.WriteFile(path, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), 0o600); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{
		"vi": "Không nhập được don-vi.xls: máy chưa đọc được tệp .xls đời cũ. Mở tệp bằng Excel, lưu lại (Save As) thành .xlsx hoặc CSV UTF-8 rồi nhập lại.\n",
		"en": "Could not import don-vi.xls: old .xls workbooks cannot be read. Open the file in Excel, save it (Save As) as .xlsx or CSV UTF-8 and import again.\n",
	} {
		var out bytes.Buffer
		if err := importCmd(context.Background(), []string{"--lang", lang, "units", path}, &out, cfg, log); err == nil {
			t.Fatalf("%s: no error for an old workbook", lang)
		}
		if out.String() != want {
			t.Errorf("%s: got %q, want %q", lang, out.String(), want)
		}
	}
}

// englishWords are words of the English messages and errors that a
// Vietnamese officer must not be shown ("import roster: 3 bad rows").
var englishWords = regexp.MustCompile(`(?i)\b(import|rows?|bad|errors?|line|nothing|could|fix|again|the)\b`)

// TestImportCommandSaysNoEnglish: in --lang vi, a refused file is
// explained in Vietnamese on stdout, and main adds no English line to
// stderr after it; an error that was not explained is still printed.
func TestImportCommandSaysNoEnglish(t *testing.T) {
	cfg, log := importedUnits(t)
	dir := t.TempDir()
	roster := filepath.Join(dir, "danh-sach.csv")
	content := "Xã/Phường,Ấp/Khóm,Tổ,Họ và tên,Số điện thoại,Vai trò\n" +
		"An Xuyên,Ấp Không Có,,Võ Thị Năm,0914 333 444,Thành viên\n"
	old := filepath.Join(dir, "don-vi.xls")
	for path, data := range map[string]string{roster: content, old: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"--lang", "vi", "roster", roster}, {"--lang", "vi", "units", old}} {
		var stdout, stderr bytes.Buffer
		err := importCmd(context.Background(), args, &stdout, cfg, log)
		if err == nil {
			t.Fatalf("%v: no error; output %q", args, stdout.String())
		}
		printError(&stderr, err)
		if stderr.Len() > 0 {
			t.Errorf("%v: stderr = %q, want nothing after the Vietnamese lines", args, stderr.String())
		}
		if w := englishWords.FindString(stdout.String()); w != "" || stdout.Len() == 0 {
			t.Errorf("%v: stdout = %q, want Vietnamese only (found %q)", args, stdout.String(), w)
		}
	}
	var stderr bytes.Buffer
	printError(&stderr, errors.New("open store: no such file"))
	if got, want := stderr.String(), "cnsbot: open store: no such file\n"; got != want {
		t.Errorf("printError of an error not told = %q, want %q", got, want)
	}
}
