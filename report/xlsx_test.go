package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
)

// The seed's report, written and read back cell by cell. The first
// sheet's columns: A–D name the row, E–I households and shares, J–O
// members, hours, visits and help requests; the appendix's: A–D, then the
// ten areas E–N. Rows 1–3 are the unit block, 5–7 the title, period and
// date made, 9–10 the header, 11 on the table: Phường 5's two teams and
// subtotal (11–13), Tân Lộc's three rows and subtotal (14–17), Xã
// Trống's subtotal (18), the total (19), then the signatures (21–22).
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
				areas map[string]string // the appendix's
				raw   map[string]string // the stored values
			}{
				{"vi", map[string]string{
					"A1": "UBND TỈNH CÀ MAU", "A2": "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "A3": "Số:        /BC-SKHCN",
					"J1": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "J2": "Độc lập - Tự do - Hạnh phúc",
					"J3": "Cà Mau, ngày      tháng      năm 2025",
					"A5": "BÁO CÁO KẾT QUẢ HOẠT ĐỘNG CỦA TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
					"A6": "Quý 3 năm 2025 (từ ngày 01/07/2025 đến ngày 30/09/2025)",
					"A7": "Ngày lập: 05/10/2025",
					"A9": "STT",
					"B9": "Xã, phường",
					"D9": "Tổ CNSCĐ",
					"E9": "Số hộ",
					"H9": "Tỷ lệ hộ lũy kế (%)",
					"I9": "So với chỉ tiêu 80% (%)",
					"J9": "Số thành viên", "O9": "Yêu cầu hỗ trợ đã giải quyết",
					// A team's row.
					"A14": "3", "B14": "Xã Tân Lộc", "C14": "Ấp 1", "D14": "Tổ Ấp 1",
					"E14": "200", "F14": "2", "G14": "2", "H14": "1.0%",
					"J14": "2", "K14": "2", "L14": "2.5", "M14": "3", "N14": "1", "O14": "2",
					// A hamlet without a team: no share of unknown households.
					"C16": "Ấp 10", "D16": "(chưa có tổ)", "E16": "80", "N16": "1",
					// Subtotals and the total.
					"B13": "Cộng Phường 5", "E13": "100",
					"B17": "Cộng Xã Tân Lộc", "E17": "430", "N17": "3", "O17": "2",
					"B18": "Cộng Xã Trống", "E18": "0", "H18": "",
					"B19": "TỔNG CỘNG", "E19": "530", "G19": "4", "H19": "0.8%", "J19": "6", "M19": "5", "N19": "4",
					// The signature block.
					"B21": "NGƯỜI LẬP BIỂU", "J21": "THỦ TRƯỞNG ĐƠN VỊ",
					"B22": "(Ký, ghi rõ họ tên)", "J22": "(Ký tên, đóng dấu)",
				}, map[string]string{
					"A1": "UBND TỈNH CÀ MAU", "A2": "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "A3": "",
					"A5": "PHỤ LỤC: SỐ NGƯỜI ĐƯỢC HƯỚNG DẪN THEO LĨNH VỰC",
					"E9": "Số người được hướng dẫn theo lĩnh vực", "E10": "Cài VNeID", "N10": "Khác",
					"B14": "Xã Tân Lộc", "E14": "3", "G14": "3", "H14": "2", "J14": "1",
					"B13": "Cộng Phường 5", "K13": "4", "L13": "1", "N13": "4",
					"B19": "TỔNG CỘNG", "B21": "",
				}, map[string]string{
					"H14": "0.01", "I14": "0.0125", "L14": "2.5", "H16": "0", "H18": "", "L19": "3.83333333333333",
				}},
				{"en", map[string]string{
					"A2": "DEPARTMENT OF SCIENCE AND TECHNOLOGY", "J1": "SOCIALIST REPUBLIC OF VIET NAM",
					"A6": "Quarter 3 of 2025 (from 01/07/2025 to 30/09/2025)",
					"A9": "No.", "E9": "Households",
					"D16": "(no team yet)", "B17": "Total Xã Tân Lộc", "B19": "GRAND TOTAL",
					"J3": "Cà Mau, ……/……/2025", "B21": "PREPARED BY", "J21": "HEAD OF UNIT",
				}, map[string]string{"E9": "People guided, by area", "E10": "VNeID install"}, nil},
			}
			for _, tt := range tests {
				t.Run(tt.lang, func(t *testing.T) {
					f, sheets := readXLSX(t, r, texts, tt.lang)
					for i, cells := range []map[string]string{tt.cells, tt.areas} {
						for at, want := range cells {
							if got, err := f.GetCellValue(sheets[i], at); err != nil || got != want {
								t.Errorf("%s!%s: got %q (%v), want %q", sheets[i], at, got, err, want)
							}
						}
						noMessageIDs(t, f, sheets[i])
					}
					for at, want := range tt.raw {
						if got, err := f.GetCellValue(sheets[0], at, excelize.Options{RawCellValue: true}); err != nil || got != want {
							t.Errorf("%s raw: got %q (%v), want %q", at, got, err, want)
						}
					}
				})
			}
			f, sheets := readXLSX(t, r, texts, "vi")
			checkStyles(t, f, sheets[0])
			checkLayout(t, f, sheets)
		})
	}
}

// A commune's report is its People's Committee's, dated at the commune.
func TestWriteXLSXCommune(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range built(t, "Tân Lộc") {
		t.Run(name, func(t *testing.T) {
			f, sheets := readXLSX(t, r, texts, "vi")
			for at, want := range map[string]string{"A1": "UBND XÃ TÂN LỘC", "A2": "", "A3": "Số:        /BC-UBND",
				"J3": "Xã Tân Lộc, ngày      tháng      năm 2025"} {
				if got, _ := f.GetCellValue(sheets[0], at); got != want {
					t.Errorf("%s: got %q, want %q", at, got, want)
				}
			}
		})
	}
}

func readXLSX(t *testing.T, r *report.Report, texts *locales.Bundle, lang string) (*excelize.File, []string) {
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
	if len(sheets) != 2 {
		t.Fatalf("sheets %v, want the report and its appendix", sheets)
	}
	return f, sheets
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
		{"O9", true, "D9E1F2", ""},
		{"B14", false, "", ""},
		{"E14", false, "", "#,##0"},
		{"H14", false, "", "0.0%"},
		{"I14", false, "", "0.0%"},
		{"L14", false, "", "#,##0.0"},
		{"B13", true, "F2F2F2", ""},
		{"H13", true, "F2F2F2", "0.0%"},
		{"B19", true, "D9D9D9", ""},
		{"E19", true, "D9D9D9", "#,##0"},
		{"A5", true, "", ""},
	}
	for _, tt := range tests {
		s := style(tt.at)
		bold := s.Font != nil && s.Font.Bold
		if bold != tt.bold || fill(s) != tt.fill || numFmt(s) != tt.numFmt {
			t.Errorf("%s: bold %v fill %q format %q, want %v %q %q", tt.at, bold, fill(s), numFmt(s), tt.bold, tt.fill, tt.numFmt)
		}
	}
}

func checkLayout(t *testing.T, f *excelize.File, sheets []string) {
	t.Helper()
	names := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		names[dn.Scope+" "+dn.Name] = dn.RefersTo
	}
	for i, want := range []struct {
		last, area string
		merged     []string
	}{
		{"O", "$A$1:$O$27", []string{"A5:O5", "A9:A10", "E9:E10", "O9:O10", "B13:D13", "B19:D19", "I1:O1", "A2:D2", "B21:D21"}},
		{"N", "$A$1:$N$19", []string{"A5:N5", "E9:N9", "A9:A10", "B19:D19", "H1:N1"}},
	} {
		sheet := sheets[i]
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.XSplit != 4 || panes.YSplit != 10 || panes.TopLeftCell != "E11" {
			t.Errorf("%s: panes %+v (%v), want frozen at E11", sheet, panes, err)
		}
		pl, err := f.GetPageLayout(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Size == nil || *pl.Size != 9 || pl.Orientation == nil || *pl.Orientation != "landscape" ||
			pl.FitToWidth == nil || *pl.FitToWidth != 1 || pl.FitToHeight == nil || *pl.FitToHeight != 0 {
			t.Errorf("%s: page layout %+v, want A4 landscape, one page wide", sheet, pl)
		}
		quoted := "'" + sheet + "'!"
		if got := names[sheet+" _xlnm.Print_Titles"]; got != quoted+"$9:$10" {
			t.Errorf("%s: print titles %q, want the header rows", sheet, got)
		}
		if got := names[sheet+" _xlnm.Print_Area"]; got != quoted+want.area {
			t.Errorf("%s: print area %q, want %s", sheet, got, want.area)
		}
		merged, err := f.GetMergeCells(sheet)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, m := range merged {
			refs = append(refs, m.GetStartAxis()+":"+m.GetEndAxis())
		}
		for _, m := range want.merged {
			if !strings.Contains(" "+strings.Join(refs, " ")+" ", " "+m+" ") {
				t.Errorf("%s: merged cells %v lack %s", sheet, refs, m)
			}
		}
		// No type under 9 pt anywhere, and one typeface.
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r := range len(rows) + 3 {
			for c := 1; c <= 15; c++ {
				at, _ := excelize.CoordinatesToCellName(c, r+1)
				id, err := f.GetCellStyle(sheet, at)
				if err != nil || id == 0 {
					continue
				}
				st, err := f.GetStyle(id)
				if err != nil || st.Font == nil {
					continue
				}
				if st.Font.Size < 9 || st.Font.Family != "Times New Roman" {
					t.Errorf("%s!%s: font %s %v pt, want Times New Roman, at least 9 pt", sheet, at, st.Font.Family, st.Font.Size)
				}
			}
		}
		hf, err := f.GetHeaderFooter(sheet)
		if err != nil || !strings.Contains(hf.OddFooter, `&"Times New Roman,Regular"&10`) {
			t.Errorf("%s: footer %+v (%v), want it in the body's typeface and size", sheet, hf, err)
		}
	}
	// The widths must fill no more than an A4 landscape page between 1 cm
	// margins (about 112 units of 7 pt), and a long header's column must
	// be wider than a short one's.
	for i, last := range []string{"O", "N"} {
		n, _ := excelize.ColumnNameToNumber(last)
		total := 0.0
		for c := 1; c <= n; c++ {
			name, _ := excelize.ColumnNumberToName(c)
			w, err := f.GetColWidth(sheets[i], name)
			if err != nil {
				t.Fatal(err)
			}
			total += w
		}
		if total > 112 {
			t.Errorf("%s: columns %.1f units wide, more than an A4 landscape page holds at full size", sheets[i], total)
		}
	}
	households, _ := f.GetColWidth(sheets[0], "E")
	resolved, _ := f.GetColWidth(sheets[0], "O")
	if resolved <= households {
		t.Errorf("the resolved requests' column (%v) is no wider than the households' (%v): its header breaks mid-phrase", resolved, households)
	}
	props, err := f.GetDocProps()
	if err != nil || props.Title != "Báo cáo Tổ CNSCĐ quý 3/2025" || props.Creator != "cnsbot" {
		t.Errorf("doc props %+v (%v)", props, err)
	}
}
