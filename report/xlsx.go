package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The layout of both sheets: the unit block (three rows, the unit on the
// left, the national motto and the place and date on the right), the
// title, period and date made, two header rows (a group of columns under
// one heading), then the table from firstDataRow.
const (
	rowUnit1     = 1
	rowUnit2     = 2
	rowNumber    = 3
	rowTitle     = 5
	rowPeriod    = 6
	rowMade      = 7
	rowHeader    = 9
	rowSubheader = 10
	firstDataRow = 11
)

// signatureRows is how far below the table the printed page goes: a blank
// row, the titles, the notes, and room to sign and stamp.
const signatureRows = 8

// Printing: A4 is paper size 9 in the OOXML numbering.
const paperA4 = 9

// Type sizes in points. A signed report is read on paper: nothing is
// smaller than 9 pt as printed, so the table is 10 pt on a page that is
// not shrunk (the indicators by area go to a second sheet rather than
// squeezing 25 columns onto one page).
const (
	sizeTable = 10
	sizeBlock = 12
	// No type prints under 9 pt (TestXLSXPrints): the widths below keep
	// each sheet within one A4 landscape page's width at 100%.
	sizeTitle = 14
)

// bodyFont is the typeface of every cell and of the page footer:
// Vietnamese official documents are set in Times New Roman (Decree
// 30/2020).
const bodyFont = "Times New Roman"

// Fills of the header, the commune subtotals and the total: greys that
// print well in black and white.
const (
	fillHeader   = "D9E1F2"
	fillSubtotal = "F2F2F2"
	fillTotal    = "D9D9D9"
)

// WriteXLSX writes the report as an XLSX workbook laid out for printing
// and signing, as Vietnamese official reports are: the issuing unit, the
// document number line and the national motto with the place and date at
// the top, the title, period and date made, the table with its header
// rows repeated on every page (A4 landscape, at full size), commune
// subtotals and the total in bold, and the signature block. The first
// sheet has households, members, visits and help requests; the second,
// an appendix, the people guided in each area. Texts come in lang ("vi"
// or "en").
func WriteXLSX(w io.Writer, r *Report, texts Texts, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	all := numCols()
	var main, areas []numCol
	for _, c := range all {
		if c.area != "" {
			areas = append(areas, c)
		} else {
			main = append(main, c)
		}
	}
	sheets := []*sheet{
		{name: texts.T(lang, "reports.xlsx.sheet", nil), cols: main, title: "reports.xlsx.title", signed: true},
		{name: texts.T(lang, "reports.xlsx.sheet_areas", nil), cols: areas, title: "reports.xlsx.title_areas",
			group: "reports.xlsx.people_group"},
	}
	for i, x := range sheets {
		x.f, x.r, x.texts, x.lang, x.styles = f, r, texts, lang, map[string]int{}
		if i == 0 {
			if err := f.SetSheetName("Sheet1", x.name); err != nil {
				return fmt.Errorf("write xlsx: %w", err)
			}
		} else if _, err := f.NewSheet(x.name); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
		if err := x.write(); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:    texts.T(lang, "reports.xlsx.doc_title", map[string]any{"Quarter": sheets[0].quarterLabel()}),
		Creator:  "cnsbot",
		Language: lang,
	}); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	if err := f.Write(w); err != nil {
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

// sheet writes one table of the report into one sheet of the workbook.
type sheet struct {
	f     *excelize.File
	name  string
	r     *Report
	texts Texts
	lang  string
	cols  []numCol
	// title is the sheet's title's message id; group, when set, heads
	// every column of cols on the first header row; signed sheets end
	// with the signature block.
	title, group string
	signed       bool
	last         string // the table's last column, "O"
	// styles of the table cells: [level][kind], kind textCell for names.
	cells  [3][4]int
	styles map[string]int
}

// textCell is the style slot of the naming cells, next to the numKinds.
const textCell = 3

func (x *sheet) t(id string, data map[string]any) string { return x.texts.T(x.lang, id, data) }

func (x *sheet) makeStyles() error {
	border := []excelize.Border{
		{Type: "left", Color: "808080", Style: 1}, {Type: "right", Color: "808080", Style: 1},
		{Type: "top", Color: "808080", Style: 1}, {Type: "bottom", Color: "808080", Style: 1},
	}
	font := func(bold, italic bool, size float64) *excelize.Font {
		return &excelize.Font{Family: bodyFont, Size: size, Bold: bold, Italic: italic}
	}
	center := &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}
	named := map[string]*excelize.Style{
		"agency": {Font: font(false, false, sizeBlock), Alignment: center},
		// The issuing unit, underlined as the short rule under it is drawn.
		"unit":   {Font: &excelize.Font{Family: bodyFont, Size: sizeBlock, Bold: true, Underline: "single"}, Alignment: center},
		"nation": {Font: font(true, false, sizeBlock), Alignment: center},
		"motto":  {Font: &excelize.Font{Family: bodyFont, Size: sizeBlock + 1, Bold: true, Underline: "single"}, Alignment: center},
		"number": {Font: font(false, false, sizeBlock+1), Alignment: center},
		"title":  {Font: font(true, false, sizeTitle), Alignment: center},
		"center": {Font: font(false, false, sizeBlock), Alignment: center},
		"italic": {Font: font(false, true, sizeBlock), Alignment: center},
		"sign":   {Font: font(true, false, sizeBlock), Alignment: center},
		"header": {Font: font(true, false, sizeTable), Alignment: center, Border: border,
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
			st := &excelize.Style{Font: font(lv != levelRow, false, sizeTable), Border: border,
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
	last, err := excelize.ColumnNumberToName(ncols)
	if err != nil {
		return err
	}
	x.last = last
	if err := x.makeStyles(); err != nil {
		return err
	}
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
	if x.signed {
		if err := x.signatures(lastRow+2, ncols); err != nil {
			return err
		}
		lastRow += signatureRows
	}
	return x.pageSetup(lastRow)
}

// issuer returns the unit block's lines as official documents have them
// (Decree 30/2020): the superior body above the issuing one, in capitals.
// A commune's report is its People's Committee's ("UBND XÃ TÂN LỘC"); the
// province's is the Department of Science and Technology's, under the
// provincial People's Committee. The abbreviation goes in the number line.
func (x *sheet) issuer() (superior, unit, abbr string) {
	if x.r.Commune != "" {
		return "", strings.ToUpper(x.t("reports.xlsx.commune_unit", map[string]any{"Commune": x.r.Commune})),
			x.t("reports.xlsx.commune_abbr", nil)
	}
	if x.r.Unit != "" {
		superior = strings.ToUpper(x.t("reports.xlsx.province_unit", map[string]any{"Province": provinceName(x.r.Unit)}))
	}
	return superior, strings.ToUpper(x.t("reports.xlsx.department", nil)), x.t("reports.xlsx.department_abbr", nil)
}

// provinceName strips "Tỉnh " from a province's name, which the unit
// block's template writes itself.
func provinceName(s string) string {
	for _, p := range []string{"Tỉnh ", "tỉnh ", "TỈNH "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

// place is the place name of the date line: the commune for a commune's
// report, the province for the province's (Decree 30/2020).
func (x *sheet) place() string {
	if x.r.Commune != "" {
		return x.r.Commune
	}
	return provinceName(unitName(x.texts, x.lang, x.r))
}

func (x *sheet) titleBlock(ncols int) error {
	r := x.r
	// The unit on the left over the naming columns, the national motto and
	// the date on the right over the last columns.
	right := rightBlock(ncols)
	period := x.t("reports.xlsx.period", map[string]any{
		"N": quarterNumber(r.Quarter), "Year": r.Start.Year(),
		"From": r.Start.Format(dateLayout), "To": r.End.AddDate(0, 0, -1).Format(dateLayout),
	})
	superior, unit, abbr := x.issuer()
	unitRow := rowUnit2
	if superior == "" {
		unitRow = rowUnit1
	}
	type line struct {
		row, c1, c2  int
		value, style string
	}
	lines := []line{
		{unitRow, 1, textCols, unit, "unit"},
		{rowNation, right, ncols, x.t("reports.xlsx.nation", nil), "nation"},
		{rowMotto, right, ncols, x.t("reports.xlsx.motto", nil), "motto"},
		{rowTitle, 1, ncols, x.t(x.title, nil), "title"},
		{rowPeriod, 1, ncols, period, "italic"},
		{rowMade, 1, ncols, x.t("reports.xlsx.made", map[string]any{"Date": r.Made.Format(dateLayout)}) + x.listedNote(), "italic"},
	}
	if superior != "" {
		lines = append(lines, line{rowUnit1, 1, textCols, superior, "agency"})
	}
	if x.signed {
		// The number and the day are the clerk's to fill in when the report
		// is signed and sent; the year is known.
		lines = append(lines,
			line{rowNumber, 1, textCols, x.t("reports.xlsx.number", map[string]any{"Abbr": abbr}), "number"},
			line{rowNumber, right, ncols, x.t("reports.xlsx.date_line", map[string]any{"Place": x.place(), "Year": r.Made.Year()}), "italic"})
	}
	for _, l := range lines {
		if err := x.text(l.row, l.c1, l.c2, l.value, l.style); err != nil {
			return err
		}
	}
	for row, h := range map[int]float64{rowUnit1: 17, rowUnit2: 17, rowNumber: 20, rowTitle: 22} {
		if err := x.f.SetRowHeight(x.name, row, h); err != nil {
			return err
		}
	}
	return nil
}

// The unit block shares its rows with the motto: the nation on the first
// row, the motto on the second.
const (
	rowNation = rowUnit1
	rowMotto  = rowUnit2
)

// headers writes the two header rows: each column's header spans both,
// except a group's columns, whose heading spans them on the first row
// above each column's name.
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
	groupStart := col
	for _, c := range x.cols {
		if x.group == "" {
			if err := vertical(c.header); err != nil {
				return err
			}
			col++
			continue
		}
		name := x.t(c.header, nil)
		if c.area != "" {
			name = x.t("calendar.area."+c.area, nil)
		}
		if err := x.text(rowSubheader, col, col, name, "header"); err != nil {
			return err
		}
		col++
	}
	if x.group != "" {
		if err := x.text(rowHeader, groupStart, col-1, x.t(x.group, nil), "header"); err != nil {
			return err
		}
	}
	if err := x.f.SetRowHeight(x.name, rowHeader, 28); err != nil {
		return err
	}
	if err := x.f.SetRowHeight(x.name, rowSubheader, 54); err != nil {
		return err
	}
	// At 100% the naming columns and the figures fill an A4 landscape
	// page's width between 1 cm margins (LibreOffice prints a width unit
	// as about 7 pt): on the first sheet 4 narrow figures of 5.5 units and
	// 7 of 7.5, on the appendix 10 of 7, with their headers wrapped. A
	// wide column holds a header's longest two words ("giải quyết"):
	// narrower, and such a phrase breaks across lines. The naming columns
	// wrap long names.
	for _, w := range []struct {
		from, to string
		width    float64
	}{{"A", "A", 4}, {"B", "B", 11}, {"C", "C", 9}, {"D", "D", 12}} {
		if err := x.f.SetColWidth(x.name, w.from, w.to, w.width); err != nil {
			return err
		}
	}
	for i, c := range x.cols {
		width := 7.5
		switch {
		case x.group != "":
			width = 7
		case c.narrow:
			width = 5.5
		}
		name, err := excelize.ColumnNumberToName(textCols + i + 1)
		if err != nil {
			return err
		}
		if err := x.f.SetColWidth(x.name, name, name, width); err != nil {
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

// rightBlock is the first column of the block on the right of the title
// and of the signatures. Seven figure columns: the national title, 12 pt
// bold capitals, needs about 300 pt, and six columns (270 pt) wrapped it
// onto a second line that its row then cut off.
func rightBlock(ncols int) int { return ncols - 6 }

// signatures writes the two signatures under the table: who made the
// report on the left, the head of the unit on the right.
func (x *sheet) signatures(row, ncols int) error {
	right := rightBlock(ncols)
	lines := []struct {
		row, c1, c2  int
		value, style string
	}{
		{row, colCommune + 1, textCols, x.t("reports.xlsx.preparer", nil), "sign"},
		{row, right, ncols, x.t("reports.xlsx.head", nil), "sign"},
		{row + 1, colCommune + 1, textCols, x.t("reports.xlsx.preparer_note", nil), "italic"},
		{row + 1, right, ncols, x.t("reports.xlsx.head_note", nil), "italic"},
	}
	for _, l := range lines {
		if err := x.text(l.row, l.c1, l.c2, l.value, l.style); err != nil {
			return err
		}
	}
	return nil
}

// pageSetup makes the sheet print on A4 landscape, one page wide at
// (nearly) full size, with the header rows on every page
// and page numbers in the footer in the body's typeface, and freezes the
// naming columns and the header rows on screen.
func (x *sheet) pageSetup(lastRow int) error {
	// One page wide: the widths above fit at full size, so fitting only
	// guards against a printer's wider margins, by a few percent.
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
	footer := fmt.Sprintf(`&C&"%s,Regular"&%d%s`, bodyFont, sizeTable, x.t("reports.xlsx.page", nil))
	if err := x.f.SetHeaderFooter(x.name, &excelize.HeaderFooterOptions{OddFooter: footer}); err != nil {
		return err
	}
	quoted := "'" + strings.ReplaceAll(x.name, "'", "''") + "'"
	for _, dn := range []excelize.DefinedName{
		{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("%s!$%d:$%d", quoted, rowHeader, rowSubheader), Scope: x.name},
		// The print area runs past the signature block's notes, leaving room
		// on the page to sign.
		{Name: "_xlnm.Print_Area", RefersTo: fmt.Sprintf("%s!$A$1:$%s$%d", quoted, x.last, lastRow), Scope: x.name},
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

// listedNote says, after the date made, what notes says; "" when no
// hamlet has a list.
func (x *sheet) listedNote() string {
	n := notes(x.texts, x.lang, x.r)
	if len(n) == 0 {
		return ""
	}
	return " — " + strings.Join(n, " ")
}
