package report_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
)

func TestCSVCell(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\",\"Ấp 1\")", "'=HYPERLINK(\"http://x\",\"Ấp 1\")"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"-", "'-"},
		{"-1e5", "'-1e5"},
		{"-.5", "'-.5"},
		{"-5.", "'-5."},
		{"-1.2.3", "'-1.2.3"},
		// Numbers stay numbers: a negative count is not a formula.
		{"-3", "-3"},
		{"-1.5", "-1.5"},
		{"0", "0"},
		{"42.5", "42.5"},
		// Text that does not start a formula is left as it is.
		{"", ""},
		{"Ấp Tân Lộc", "Ấp Tân Lộc"},
		{"a=b", "a=b"},
		{" =1", " =1"},
		{"'=1", "'=1"},
	} {
		if got := report.CSVCell(tt.in); got != tt.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Names of communes, hamlets and teams are imported from officers' files:
// one that starts a formula comes out of the CSV export as text, and the
// figures, a negative one included, stay numbers.
func TestWriteCSVNeutralisesFormulas(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{Quarter: "2025Q3", Communes: []report.Commune{{
		ID: 1, Name: "=1+1",
		Rows: []report.Row{{No: 1, Commune: "=1+1", Hamlet: "@SUM(A1:A9)", HamletID: 2,
			Team: "-2+3", TeamID: 3, Figures: report.Figures{Households: -3}}},
	}}}
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, r, texts, "vi"); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range records {
		for j, cell := range rec {
			if cell != "" && (cell[0] == '=' || cell[0] == '+' || cell[0] == '@' || cell[0] == '\t' || cell[0] == '\r' ||
				(cell[0] == '-' && cell != "-3")) {
				t.Errorf("record %d cell %d is %q: a spreadsheet would run it", i, j, cell)
			}
		}
	}
	row := records[1]
	if got := row[1:4]; got[0] != "'=1+1" || got[1] != "'@SUM(A1:A9)" || got[2] != "'-2+3" {
		t.Errorf("row names %q, want them prefixed with an apostrophe", got)
	}
	if row[4] != "-3" {
		t.Errorf("households cell %q, want the number -3", row[4])
	}
}
