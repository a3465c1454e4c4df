package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The layout of the sheet: the title block, two header rows (the people
// columns grouped under one heading), then the table from firstDataRow.
const (
	rowNation    = 1
	rowMotto     = 2
	rowTitle     = 4
	rowPeriod    = 5
	rowUnit      = 6
	rowMade      = 7
	rowHeader    = 9
	rowSubheader = 10
	firstDataRow = 11
)

// signatureRows is how far below the table the printed page goes: a blank
// row, the date line, the titles, the notes, and room to sign and stamp.
const signatureRows = 9

// Printing: A4 is paper size 9 in the OOXML numbering.
const paperA4 = 9

// Fills of the header, the commune subtotals and the total: greys that
// print well in black and white.
const (
	fillHeader   = "D9E1F2"
	fillSubtotal = "F2F2F2"
	fillTotal    = "D9D9D9"
)

// WriteXLSX writes the report as an XLSX workbook laid out for printing
// and signing: the unit and the national motto at the top, the title,
// period and date made, the table with its header row repeated on every
// page (A4 landscape, fitted to the page's width), commune subtotals and
// the total in bold, and the signature block. Texts come in lang ("vi" or
// "en").
func WriteXLSX(w io.Writer, r *Report, texts Texts, lang string) error {
	x, err := newSheet(r, texts, lang)
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	defer x.f.Close()
	if err := x.write(); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	if err := x.f.Write(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

// level is how a table row stands out: a team, a commune's subtotal, or
// the total.
type level int

const (
	levelRow level = iota
	levelSubtotal
	levelTotal
)

// sheet writes one report into one workbook.
type sheet struct {
	f     *excelize.File
	name  string
	r     *Report
	texts Texts
	lang  string
	cols  []numCol
	last  string // the table's last column, "Y"
	// styles of the table cells: [level][kind], kind textCell for names.
	cells  [3][4]int
	styles map[string]int
}

// textCell is the style slot of the naming cells, next to the numKinds.
const textCell = 3

func newSheet(r *Report, texts Texts, lang string) (*sheet, error) {
	x := &sheet{f: excelize.NewFile(), r: r, texts: texts, lang: lang, cols: numCols(), styles: map[string]int{}}
	x.name = x.t("reports.xlsx.sheet", nil)
	if err := x.f.SetSheetName("Sheet1", x.name); err != nil {
		x.f.Close()
		return nil, err
	}
	last, err := excelize.ColumnNumberToName(textCols + len(x.cols))
	if err != nil {
		x.f.Close()
		return nil, err
	}
	x.last = last
	if err := x.makeStyles(); err != nil {
		x.f.Close()
		return nil, err
	}
	return x, nil
}

func (x *sheet) t(id string, data map[string]any) string { return x.texts.T(x.lang, id, data) }

func (x *sheet) makeStyles() error {
	border := []excelize.Border{
		{Type: "left", Color: "808080", Style: 1}, {Type: "right", Color: "808080", Style: 1},
		{Type: "top", Color: "808080", Style: 1}, {Type: "bottom", Color: "808080", Style: 1},
	}
	font := func(bold, italic bool, size float64) *excelize.Font {
		return &excelize.Font{Family: "Times New Roman", Size: size, Bold: bold, Italic: italic}
	}
	center := &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}
	named := map[string]*excelize.Style{
		"unit":   {Font: font(true, false, 12), Alignment: center},
		"nation": {Font: font(true, false, 12), Alignment: center},
		"motto":  {Font: &excelize.Font{Family: "Times New Roman", Size: 13, Bold: true, Underline: "single"}, Alignment: center},
		"title":  {Font: font(true, false, 14), Alignment: center},
		"center": {Font: font(false, false, 12), Alignment: center},
		"italic": {Font: font(false, true, 12), Alignment: center},
		"sign":   {Font: font(true, false, 12), Alignment: center},
		"header": {Font: font(true, false, 11), Alignment: center, Border: border,
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fillHeader}}},
	}
	for name, st := range named {
		id, err := x.f.NewStyle(st)
		if err != nil {
			return fmt.Errorf("style %s: %w", name, err)
		}
		x.styles[name] = id
	}
	countFmt, percentFmt, hoursFmt := "#,##0", "0.0%", "#,##0.0"
	formats := [4]*string{kindCount: &countFmt, kindPercent: &percentFmt, kindHours: &hoursFmt}
	fills := [3]string{levelSubtotal: fillSubtotal, levelTotal: fillTotal}
	for lv := levelRow; lv <= levelTotal; lv++ {
		for k := range 4 {
			st := &excelize.Style{Font: font(lv != levelRow, false, 11), Border: border,
				Alignment: &excelize.Alignment{Vertical: "center", WrapText: k == textCell}, CustomNumFmt: formats[k]}
			if fills[lv] != "" {
				st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fills[lv]}}
			}
			id, err := x.f.NewStyle(st)
			if err != nil {
				return fmt.Errorf("table style: %w", err)
			}
			x.cells[lv][k] = id
		}
	}
	return nil
}

// cell names the cell at a 1-based column and row.
func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// text writes a merged, styled line from column c1 to c2.
func (x *sheet) text(row, c1, c2 int, value, style string) error {
	from, to := cell(c1, row), cell(c2, row)
	if c2 > c1 {
		if err := x.f.MergeCell(x.name, from, to); err != nil {
			return err
		}
	}
	if err := x.f.SetCellValue(x.name, from, value); err != nil {
		return err
	}
	return x.f.SetCellStyle(x.name, from, to, x.styles[style])
}

func (x *sheet) write() error {
	ncols := textCols + len(x.cols)
	if err := x.titleBlock(ncols); err != nil {
		return err
	}
	if err := x.headers(); err != nil {
		return err
	}
	row := firstDataRow
	for _, c := range x.r.Communes {
		for _, r := range c.Rows {
			if err := x.tableRow(row, levelRow, rowLabel(x.texts, x.lang, r), r.Figures); err != nil {
				return err
			}
			row++
		}
		label := [textCols]string{colCommune: x.t("reports.xlsx.subtotal", map[string]any{"Commune": c.Name})}
		if err := x.tableRow(row, levelSubtotal, label, c.Subtotal); err != nil {
			return err
		}
		row++
	}
	label := [textCols]string{colCommune: x.t("reports.xlsx.total", nil)}
	if err := x.tableRow(row, levelTotal, label, x.r.Total); err != nil {
		return err
	}
	lastRow := row
	if err := x.signatures(lastRow+2, ncols); err != nil {
		return err
	}
	return x.pageSetup(lastRow)
}

func (x *sheet) titleBlock(ncols int) error {
	r := x.r
	// The unit on the left, the national motto on the right, as on every
	// Vietnamese official document; the left block spans the naming
	// columns, the right one the last third of the table.
	right := ncols - ncols/3 + 1
	period := x.t("reports.xlsx.period", map[string]any{
		"N": quarterNumber(r.Quarter), "Year": r.Start.Year(),
		"From": r.Start.Format(dateLayout), "To": r.End.AddDate(0, 0, -1).Format(dateLayout),
	})
	lines := []struct {
		row, c1, c2  int
		value, style string
	}{
		{rowNation, 1, textCols, strings.ToUpper(unitName(x.texts, x.lang, r)), "unit"},
		{rowNation, right, ncols, x.t("reports.xlsx.nation", nil), "nation"},
		{rowMotto, right, ncols, x.t("reports.xlsx.motto", nil), "motto"},
		{rowTitle, 1, ncols, x.t("reports.xlsx.title", nil), "title"},
		{rowPeriod, 1, ncols, period, "italic"},
		{rowUnit, 1, ncols, x.t("reports.xlsx.unit", map[string]any{"Unit": unitName(x.texts, x.lang, r)}), "center"},
		{rowMade, 1, ncols, x.t("reports.xlsx.made", map[string]any{"Date": r.Made.Format(dateLayout)}), "italic"},
	}
	for _, l := range lines {
		if err := x.text(l.row, l.c1, l.c2, l.value, l.style); err != nil {
			return err
		}
	}
	if err := x.f.SetRowHeight(x.name, rowTitle, 24); err != nil {
		return err
	}
	return x.f.SetDocProps(&excelize.DocProperties{
		Title:    x.t("reports.xlsx.doc_title", map[string]any{"Quarter": x.quarterLabel()}),
		Creator:  "cnsbot",
		Language: x.lang,
	})
}

// headers writes the two header rows: each column's header spans both,
// except the people columns, whose group heading spans them on the first
// row above each area's name.
func (x *sheet) headers() error {
	col := 1
	vertical := func(id string) error {
		if err := x.text(rowHeader, col, col, x.t(id, nil), "header"); err != nil {
			return err
		}
		from, to := cell(col, rowHeader), cell(col, rowSubheader)
		if err := x.f.MergeCell(x.name, from, to); err != nil {
			return err
		}
		return x.f.SetCellStyle(x.name, from, to, x.styles["header"])
	}
	for _, id := range textHeaders {
		if err := vertical(id); err != nil {
			return err
		}
		col++
	}
	groupStart := 0
	for _, c := range x.cols {
		if c.area == "" {
			if err := vertical(c.header); err != nil {
				return err
			}
			col++
			continue
		}
		if groupStart == 0 {
			groupStart = col
		}
		if err := x.text(rowSubheader, col, col, x.t("calendar.area."+c.area, nil), "header"); err != nil {
			return err
		}
		if err := x.text(rowHeader, groupStart, col, x.t("reports.xlsx.people_group", nil), "header"); err != nil {
			return err
		}
		col++
	}
	if err := x.f.SetRowHeight(x.name, rowHeader, 30); err != nil {
		return err
	}
	if err := x.f.SetRowHeight(x.name, rowSubheader, 48); err != nil {
		return err
	}
	firstFigure, err := excelize.ColumnNumberToName(textCols + 1)
	if err != nil {
		return err
	}
	widths := []struct {
		from, to string
		width    float64
	}{
		{"A", "A", 5}, {"B", "B", 18}, {"C", "C", 16}, {"D", "D", 22}, {firstFigure, x.last, 10.5},
	}
	for _, w := range widths {
		if err := x.f.SetColWidth(x.name, w.from, w.to, w.width); err != nil {
			return err
		}
	}
	return nil
}

// tableRow writes one row of the table. A subtotal's or the total's label
// spans the naming columns.
func (x *sheet) tableRow(row int, lv level, label [textCols]string, f Figures) error {
	for i, v := range label {
		if v == "" {
			continue
		}
		if err := x.f.SetCellValue(x.name, cell(i+1, row), v); err != nil {
			return err
		}
	}
	if err := x.f.SetCellStyle(x.name, cell(1, row), cell(textCols, row), x.cells[lv][textCell]); err != nil {
		return err
	}
	if lv != levelRow {
		if err := x.f.MergeCell(x.name, cell(colCommune+1, row), cell(textCols, row)); err != nil {
			return err
		}
	}
	for i, c := range x.cols {
		at := cell(textCols+i+1, row)
		if v, ok := c.get(f); ok {
			var err error
			if c.kind == kindCount {
				err = x.f.SetCellInt(x.name, at, int64(v))
			} else {
				err = x.f.SetCellFloat(x.name, at, v, -1, 64)
			}
			if err != nil {
				return err
			}
		}
		if err := x.f.SetCellStyle(x.name, at, at, x.cells[lv][c.kind]); err != nil {
			return err
		}
	}
	return nil
}

// signatures writes the date line and the two signatures under the table:
// who made the report on the left, the head of the unit on the right.
func (x *sheet) signatures(row, ncols int) error {
	made := x.r.Made
	month := fmt.Sprint(int(made.Month()))
	if made.Month() < 3 {
		// Vietnamese official dates write January and February with a
		// leading zero (Decree 30/2020), so that nothing can be added.
		month = fmt.Sprintf("%02d", int(made.Month()))
	}
	right := ncols - ncols/3 + 1
	dateLine := x.t("reports.xlsx.date_line", map[string]any{
		"Place": unitName(x.texts, x.lang, x.r), "Day": fmt.Sprintf("%02d", made.Day()), "Month": month, "Year": made.Year(),
	})
	lines := []struct {
		row, c1, c2  int
		value, style string
	}{
		{row, right, ncols, dateLine, "italic"},
		{row + 1, colCommune + 1, textCols + 2, x.t("reports.xlsx.preparer", nil), "sign"},
		{row + 1, right, ncols, x.t("reports.xlsx.head", nil), "sign"},
		{row + 2, colCommune + 1, textCols + 2, x.t("reports.xlsx.preparer_note", nil), "italic"},
		{row + 2, right, ncols, x.t("reports.xlsx.head_note", nil), "italic"},
	}
	for _, l := range lines {
		if err := x.text(l.row, l.c1, l.c2, l.value, l.style); err != nil {
			return err
		}
	}
	return nil
}

// pageSetup makes the sheet print on A4 landscape, as wide as one page,
// with the header rows on every page and page numbers in the footer, and
// freezes the naming columns and the header rows on screen.
func (x *sheet) pageSetup(lastRow int) error {
	size, orientation, wide, tall := paperA4, "landscape", 1, 0
	if err := x.f.SetPageLayout(x.name, &excelize.PageLayoutOptions{
		Size: &size, Orientation: &orientation, FitToWidth: &wide, FitToHeight: &tall,
	}); err != nil {
		return err
	}
	fit := true
	if err := x.f.SetSheetProps(x.name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	side, edge, centered := 0.4, 0.6, true
	if err := x.f.SetPageMargins(x.name, &excelize.PageLayoutMarginsOptions{
		Left: &side, Right: &side, Top: &edge, Bottom: &edge, Horizontally: &centered,
	}); err != nil {
		return err
	}
	if err := x.f.SetHeaderFooter(x.name, &excelize.HeaderFooterOptions{OddFooter: "&C" + x.t("reports.xlsx.page", nil)}); err != nil {
		return err
	}
	quoted := "'" + strings.ReplaceAll(x.name, "'", "''") + "'"
	for _, dn := range []excelize.DefinedName{
		{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("%s!$%d:$%d", quoted, rowHeader, rowSubheader), Scope: x.name},
		// The print area runs past the signature block's notes, leaving room
		// on the page to sign.
		{Name: "_xlnm.Print_Area", RefersTo: fmt.Sprintf("%s!$A$1:$%s$%d", quoted, x.last, lastRow+signatureRows), Scope: x.name},
	} {
		if err := x.f.SetDefinedName(&dn); err != nil {
			return err
		}
	}
	topLeft := cell(textCols+1, firstDataRow)
	return x.f.SetPanes(x.name, &excelize.Panes{
		Freeze: true, XSplit: textCols, YSplit: firstDataRow - 1, TopLeftCell: topLeft, ActivePane: "bottomRight",
		Selection: []excelize.Selection{{SQRef: topLeft, ActiveCell: topLeft, Pane: "bottomRight"}},
	})
}

func (x *sheet) quarterLabel() string {
	return x.t("calendar.quarter", map[string]any{"N": quarterNumber(x.r.Quarter), "Year": x.r.Start.Year()})
}

// dateLayout is the day-month-year order Vietnam writes dates in.
const dateLayout = "02/01/2006"

// quarterNumber returns 3 for "2025Q3".
func quarterNumber(q string) int {
	if len(q) == 0 {
		return 0
	}
	return int(q[len(q)-1] - '0')
}
