package report_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
)

// The CSV of the seed's report is the golden file on both databases, and
// reads back as a table: a header and a row per team, subtotal and total.
func TestWriteCSV(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range built(t, "") {
		t.Run(name, func(t *testing.T) {
			for _, lang := range []string{"vi", "en"} {
				var buf bytes.Buffer
				if err := report.WriteCSV(&buf, r, texts, lang); err != nil {
					t.Fatal(err)
				}
				flowstest.Golden(t, filepath.Join("testdata", "report_2025Q3."+lang+".csv"), buf.String())

				body, ok := bytes.CutPrefix(buf.Bytes(), []byte("\xef\xbb\xbf"))
				if !ok {
					t.Fatalf("%s: no UTF-8 byte order mark", lang)
				}
				records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				// A header, five rows, three subtotals, the total.
				if len(records) != 10 {
					t.Fatalf("%s: %d records, want 10", lang, len(records))
				}
				for i, rec := range records {
					if len(rec) != 25 {
						t.Errorf("%s record %d has %d fields, want 25", lang, i, len(rec))
					}
				}
				if lang != "vi" {
					continue
				}
				// Records: 0 the header; 1–2 Phường 5's teams, 3 its subtotal;
				// 4–6 Tân Lộc's rows, 7 its subtotal; 8 Xã Trống's; 9 the total.
				cells := map[[2]int]string{
					{0, 0}: "STT", {0, 9}: "Người được hướng dẫn: Cài VNeID", {0, 7}: "Tỷ lệ hộ lũy kế (%)",
					{4, 0}: "3", {4, 3}: "Tổ Ấp 1", {4, 7}: "1", {4, 8}: "1.3", {4, 21}: "2.5",
					{6, 3}: "(chưa có tổ)", {6, 7}: "0",
					{7, 0}: "", {7, 1}: "Cộng Xã Tân Lộc", {7, 4}: "430", {7, 23}: "3",
					{8, 7}: "",
					{9, 1}: "TỔNG CỘNG", {9, 4}: "530", {9, 7}: "0.8", {9, 21}: "3.8",
				}
				for at, want := range cells {
					if got := records[at[0]][at[1]]; got != want {
						t.Errorf("record %d field %d: got %q, want %q", at[0], at[1], got, want)
					}
				}
				if strings.Contains(string(body), "reports.") {
					t.Errorf("a message id shows:\n%s", body)
				}
			}
		})
	}
}

// TestWriteCSVVietnamese: the Vietnamese-Excel CSV separates cells with
// ';' and writes decimal commas, so that Excel with Vietnamese regional
// settings opens it in columns and reads "1,3" as a number; it holds the
// same table as the plain CSV.
func TestWriteCSVVietnamese(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range built(t, "") {
		t.Run(name, func(t *testing.T) {
			var plain, vn bytes.Buffer
			if err := report.WriteCSV(&plain, r, texts, "vi"); err != nil {
				t.Fatal(err)
			}
			if err := report.WriteCSVVietnamese(&vn, r, texts, "vi"); err != nil {
				t.Fatal(err)
			}
			read := func(b []byte, comma rune) [][]string {
				body, ok := bytes.CutPrefix(b, []byte("\xef\xbb\xbf"))
				if !ok {
					t.Fatal("no UTF-8 byte order mark")
				}
				cr := csv.NewReader(bytes.NewReader(body))
				cr.Comma = comma
				recs, err := cr.ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				return recs
			}
			want, got := read(plain.Bytes(), ','), read(vn.Bytes(), ';')
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			first := strings.SplitN(strings.TrimPrefix(vn.String(), "\ufeff"), "\n", 2)[0]
			if n := strings.Count(first, ";"); n != 24 {
				t.Errorf("the header has %d semicolons, want 24 (25 columns)", n)
			}
			decimals := 0
			for i := range want {
				for j := range want[i] {
					w := want[i][j]
					if i > 0 && j >= 4 && strings.Contains(w, ".") {
						w = strings.Replace(w, ".", ",", 1)
						decimals++
					}
					if got[i][j] != w {
						t.Errorf("record %d field %d: got %q, want %q", i, j, got[i][j], w)
					}
				}
			}
			if decimals == 0 || strings.Contains(vn.String(), "1.3") {
				t.Errorf("want decimal commas (1,3), found %d decimals", decimals)
			}
		})
	}
	if err := report.WriteCSVAs(io.Discard, &report.Report{}, texts, "vi", report.CSVFormat{Comma: '\t'}); err == nil {
		t.Error("a tab separator: want an error")
	}
}
