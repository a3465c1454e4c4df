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
