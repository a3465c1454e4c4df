package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/camau-cns/cnsbot"
)

// reportConfig is an embedded database with seedLeader's team and one
// visit in 2025Q3.
func reportConfig(t *testing.T) Config {
	t.Helper()
	cfg := calendarConfig(t)
	db := calendarDB(t, cfg)
	defer db.Close()
	seedLeader(t, db)
	team, err := db.TeamByCode(context.Background(), "TL1")
	if err != nil {
		t.Fatal(err)
	}
	leaders, err := db.TeamLeaders(context.Background(), team.ID)
	if err != nil || len(leaders) != 1 {
		t.Fatalf("leaders of TL1: %v, %v", leaders, err)
	}
	leader := leaders[0]
	v := cnsbot.Visit{PersonID: leader.ID, TeamID: team.ID, Household: "nhà ông Năm", Areas: "vneid", People: 2, Minutes: 90,
		VisitedAt: time.Date(2025, 8, 1, 9, 0, 0, 0, vietnam), SourceEvent: "rc-1"}
	if _, err := db.RecordVisit(context.Background(), &v); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runReport(t *testing.T, cfg Config, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := reportCmd(context.Background(), args, &out, cfg, slog.New(slog.DiscardHandler))
	return out.String(), err
}

func TestReportCSV(t *testing.T) {
	cfg := reportConfig(t)
	out, err := runReport(t, cfg, "--quarter", "2025Q3", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(out, "\ufeff")
	if !ok {
		t.Fatalf("no byte order mark: %q", out[:min(len(out), 20)])
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The header, the team, the commune's subtotal, the total.
	if len(records) != 4 {
		t.Fatalf("%d records, want 4:\n%s", len(records), body)
	}
	if got := strings.Join(records[1][:10], ","); got != "1,Xã Tân Lộc,Ấp 1,Tổ Ấp 1,120,1,1,0.8,1,2" {
		t.Errorf("team row %q", got)
	}
	if got := records[3][1]; got != "TỔNG CỘNG" {
		t.Errorf("total row names %q", got)
	}

	en, err := runReport(t, cfg, "--quarter", "2025q3", "--format", "csv", "--lang", "en", "--commune", "tan loc")
	if err != nil || !strings.HasPrefix(en, "\ufeffNo.,") || !strings.Contains(en, "GRAND TOTAL") {
		t.Errorf("English, one commune: %v\n%s", err, en)
	}
}

func TestReportXLSXFile(t *testing.T) {
	cfg := reportConfig(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "bao-cao.xlsx")
	out, err := runReport(t, cfg, "--quarter", "2025Q3", "--commune", "Xã Tân Lộc", "--out", path)
	if err != nil || out != "" {
		t.Fatalf("got %v and stdout %q, want the file only", err, out)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	for at, want := range map[string]string{"A1": "UBND XÃ TÂN LỘC", "A3": "Số:        /BC-UBND", "D11": "Tổ Ấp 1", "E11": "120", "L11": "1.5"} {
		if got, _ := f.GetCellValue(sheet, at); got != want {
			t.Errorf("%s: got %q, want %q", at, got, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %v, want the report alone", entries)
	}

	// A .csv file name picks the format.
	csvPath := filepath.Join(dir, "bao-cao.csv")
	if _, err := runReport(t, cfg, "--quarter", "2025Q3", "--out", csvPath); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(csvPath); err != nil || !bytes.HasPrefix(b, []byte("\ufeffSTT,")) {
		t.Errorf("csv file: %v %q", err, b[:min(len(b), 20)])
	}
}

func TestReportErrors(t *testing.T) {
	cfg := reportConfig(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "csv"}, "--quarter is required"},
		{[]string{"--quarter", "2025Q3", "--format", "pdf"}, `--format "pdf"`},
		{[]string{"--quarter", "2025Q3", "--lang", "fr"}, `--lang "fr"`},
		{[]string{"--quarter", "2025Q9"}, `quarter "2025Q9"`},
		{[]string{"--quarter", "2025Q3", "--commune", "Xã Không Có"}, `no commune named "Xã Không Có"`},
		{[]string{"--quarter", "2025Q3", "extra"}, "unexpected arguments"},
		{[]string{"--quarter", "2025Q3", "--out", filepath.Join(t.TempDir(), "missing", "r.xlsx")}, "report:"},
	}
	for _, tt := range tests {
		_, err := runReport(t, cfg, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error with %q", tt.args, err, tt.want)
		}
	}
}
