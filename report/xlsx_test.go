package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
)

// The seed's report, written and read back cell by cell. The table's
// columns: A–D name the row, E–I households and shares, J–S the ten
// areas, T–Y members, hours, visits and help requests. Rows 9–10 are the
// header, 11 on the table: Phường 5's two teams and subtotal (11–13),
// Tân Lộc's three rows and subtotal (14–17), Xã Trống's subtotal (18),
// the total (19).
func TestWriteXLSX(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range built(t, "") {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				lang  string
				cells map[string]string // formatted as Excel shows them
				raw   map[string]string // the stored values
			}{
				{"vi", map[string]string{
					"A1": "CÀ MAU", "R1": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "R2": "Độc lập - Tự do - Hạnh phúc",
					"A4":  "BÁO CÁO KẾT QUẢ HOẠT ĐỘNG CỦA TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
					"A5":  "Quý 3 năm 2025 (từ ngày 01/07/2025 đến ngày 30/09/2025)",
					"A6":  "Đơn vị: Cà Mau",
					"A7":  "Ngày lập: 05/10/2025",
					"A9":  "STT",
					"B9":  "Xã, phường",
					"D9":  "Tổ CNSCĐ",
					"E9":  "Số hộ",
					"H9":  "Tỷ lệ hộ lũy kế (%)",
					"I9":  "So với chỉ tiêu 80% (%)",
					"J9":  "Số người được hướng dẫn theo lĩnh vực",
					"J10": "Cài VNeID", "S10": "Khác",
					"T9": "Số thành viên", "Y9": "Yêu cầu hỗ trợ đã giải quyết",
					// A team's row.
					"A14": "3", "B14": "Xã Tân Lộc", "C14": "Ấp 1", "D14": "Tổ Ấp 1",
					"E14": "200", "F14": "2", "G14": "2", "H14": "1.0%",
					"J14": "3", "L14": "3", "M14": "2", "O14": "1", "T14": "2", "U14": "2", "V14": "2.5", "W14": "3",
					"X14": "1", "Y14": "2",
					// A hamlet without a team: no share of unknown households.
					"C16": "Ấp 10", "D16": "(chưa có tổ)", "E16": "80", "X16": "1",
					// Subtotals and the total.
					"B13": "Cộng Phường 5", "E13": "100", "P13": "4", "Q13": "1", "S13": "4",
					"B17": "Cộng Xã Tân Lộc", "E17": "430", "X17": "3", "Y17": "2",
					"B18": "Cộng Xã Trống", "E18": "0", "H18": "",
					"B19": "TỔNG CỘNG", "E19": "530", "G19": "4", "H19": "0.8%", "T19": "6", "W19": "5", "X19": "4",
					// The signature block.
					"R21": "Cà Mau, ngày 05 tháng 10 năm 2025",
					"B22": "NGƯỜI LẬP BIỂU", "R22": "THỦ TRƯỞNG ĐƠN VỊ",
					"B23": "(Ký, ghi rõ họ tên)", "R23": "(Ký tên, đóng dấu)",
				}, map[string]string{
					"H14": "0.01", "I14": "0.0125", "V14": "2.5", "H16": "0", "H18": "", "V19": "3.83333333333333",
				}},
				{"en", map[string]string{
					"R1": "SOCIALIST REPUBLIC OF VIET NAM",
					"A5": "Quarter 3 of 2025 (from 01/07/2025 to 30/09/2025)",
					"A9": "No.", "E9": "Households", "J9": "People guided, by area", "J10": "VNeID install",
					"D16": "(no team yet)", "B17": "Total Xã Tân Lộc", "B19": "GRAND TOTAL",
					"R21": "Cà Mau, 05/10/2025", "B22": "PREPARED BY", "R22": "HEAD OF UNIT",
				}, nil},
			}
			for _, tt := range tests {
				t.Run(tt.lang, func(t *testing.T) {
					f, sheet := readXLSX(t, r, texts, tt.lang)
					for at, want := range tt.cells {
						if got, err := f.GetCellValue(sheet, at); err != nil || got != want {
							t.Errorf("%s: got %q (%v), want %q", at, got, err, want)
						}
					}
					for at, want := range tt.raw {
						if got, err := f.GetCellValue(sheet, at, excelize.Options{RawCellValue: true}); err != nil || got != want {
							t.Errorf("%s raw: got %q (%v), want %q", at, got, err, want)
						}
					}
					noMessageIDs(t, f, sheet)
				})
			}
			f, sheet := readXLSX(t, r, texts, "vi")
			checkStyles(t, f, sheet)
			checkLayout(t, f, sheet)
		})
	}
}

func readXLSX(t *testing.T, r *report.Report, texts *locales.Bundle, lang string) (*excelize.File, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, r, texts, lang); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("sheets %v, want one", sheets)
	}
	return f, sheets[0]
}

// noMessageIDs fails when a cell shows a message id: a text missing from
// the message files.
func noMessageIDs(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		for j, v := range row {
			if strings.HasPrefix(v, "reports.") || strings.HasPrefix(v, "calendar.") {
				at, _ := excelize.CoordinatesToCellName(j+1, i+1)
				t.Errorf("%s shows the message id %q", at, v)
			}
		}
	}
}

func checkStyles(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	style := func(at string) *excelize.Style {
		t.Helper()
		id, err := f.GetCellStyle(sheet, at)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fill := func(s *excelize.Style) string {
		if len(s.Fill.Color) == 0 {
			return ""
		}
		return strings.ToUpper(s.Fill.Color[0])
	}
	numFmt := func(s *excelize.Style) string {
		if s.CustomNumFmt == nil {
			return ""
		}
		return *s.CustomNumFmt
	}
	tests := []struct {
		at     string
		bold   bool
		fill   string
		numFmt string
	}{
		{"A9", true, "D9E1F2", ""},
		{"J10", true, "D9E1F2", ""},
		{"B14", false, "", ""},
		{"E14", false, "", "#,##0"},
		{"H14", false, "", "0.0%"},
		{"I14", false, "", "0.0%"},
		{"V14", false, "", "#,##0.0"},
		{"B13", true, "F2F2F2", ""},
		{"H13", true, "F2F2F2", "0.0%"},
		{"B19", true, "D9D9D9", ""},
		{"E19", true, "D9D9D9", "#,##0"},
		{"A4", true, "", ""},
	}
	for _, tt := range tests {
		s := style(tt.at)
		bold := s.Font != nil && s.Font.Bold
		if bold != tt.bold || fill(s) != tt.fill || numFmt(s) != tt.numFmt {
			t.Errorf("%s: bold %v fill %q format %q, want %v %q %q", tt.at, bold, fill(s), numFmt(s), tt.bold, tt.fill, tt.numFmt)
		}
	}
}

func checkLayout(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.XSplit != 4 || panes.YSplit != 10 || panes.TopLeftCell != "E11" {
		t.Errorf("panes %+v (%v), want frozen at E11", panes, err)
	}
	pl, err := f.GetPageLayout(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Size == nil || *pl.Size != 9 || pl.Orientation == nil || *pl.Orientation != "landscape" ||
		pl.FitToWidth == nil || *pl.FitToWidth != 1 || pl.FitToHeight == nil || *pl.FitToHeight != 0 {
		t.Errorf("page layout %+v, want A4 landscape, one page wide", pl)
	}
	props, err := f.GetSheetProps(sheet)
	if err != nil || props.FitToPage == nil || !*props.FitToPage {
		t.Errorf("sheet props %+v (%v), want fit to page", props, err)
	}
	names := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		names[dn.Name] = dn.RefersTo
	}
	if got := names["_xlnm.Print_Titles"]; got != "'Báo cáo'!$9:$10" {
		t.Errorf("print titles %q, want the header rows", got)
	}
	if got := names["_xlnm.Print_Area"]; got != "'Báo cáo'!$A$1:$Y$28" {
		t.Errorf("print area %q", got)
	}
	merged, err := f.GetMergeCells(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, m := range merged {
		refs = append(refs, m.GetStartAxis()+":"+m.GetEndAxis())
	}
	for _, want := range []string{"A4:Y4", "J9:S9", "A9:A10", "E9:E10", "Y9:Y10", "B13:D13", "B19:D19", "R1:Y1"} {
		if !strings.Contains(strings.Join(refs, " "), want) {
			t.Errorf("merged cells %v lack %s", refs, want)
		}
	}
	if w, err := f.GetColWidth(sheet, "D"); err != nil || w != 22 {
		t.Errorf("column D width %v (%v), want 22", w, err)
	}
	props2, err := f.GetDocProps()
	if err != nil || props2.Title != "Báo cáo Tổ CNSCĐ quý 3/2025" || props2.Creator != "cnsbot" {
		t.Errorf("doc props %+v (%v)", props2, err)
	}
}
