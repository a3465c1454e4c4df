package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// bom is UTF-8's byte order mark: without it Excel reads a CSV file in the
// computer's legacy code page and garbles every Vietnamese letter.
const bom = "\ufeff"

// CSVCell returns a text cell for a CSV file that spreadsheets open: a
// text that starts with '=', '+', '-', '@', a tab or a carriage return gets
// an apostrophe in front, so that Excel, LibreOffice and Google Sheets show
// it as text instead of running it as a formula ("=HYPERLINK(…)" in a team
// name typed by anyone who can edit a roster would otherwise be a link, or
// worse, in an officer's spreadsheet). A plain number such as "-3" or
// "-1.5" is left alone: it is a number, not a formula, and must stay one.
// Every CSV export of text that came from outside (names, places, messages,
// log entries) must write its cells through it; XLSX files set a cell's type
// and need nothing.
func CSVCell(s string) string {
	if s == "" || !formulaStart(s[0]) || negativeNumber(s) {
		return s
	}
	return "'" + s
}

// formulaStart reports whether a spreadsheet may read a cell starting with b
// as a formula, or as a formula once it trims the cell.
func formulaStart(b byte) bool {
	switch b {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// negativeNumber reports whether s is a minus sign and a decimal number
// with digits on both sides of any point or decimal comma ("-3", "-1.5",
// "-1,5"), as the report writes them.
func negativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	digits := s[1:]
	if i := strings.IndexAny(digits, ".,"); i >= 0 {
		if i == 0 || i == len(digits)-1 {
			return false
		}
		digits = digits[:i] + digits[i+1:]
	}
	return strings.Trim(digits, "0123456789") == ""
}

// CSVFormat is how a CSV file separates its cells and writes decimals.
type CSVFormat struct {
	// Comma separates the cells: ',' or ';'.
	Comma rune
	// DecimalComma writes "2,5" rather than "2.5".
	DecimalComma bool
}

// The two CSV formats. CSVPlain is for programs and spreadsheets set to
// English. CSVVietnamese is for Excel on a computer with Vietnamese
// regional settings, whose list separator is ';' and decimal mark ','
// (a comma-separated file opens there as one column, and "2.5" as a
// date or text); the dashboard gives it to Vietnamese readers.
var (
	CSVPlain      = CSVFormat{Comma: ','}
	CSVVietnamese = CSVFormat{Comma: ';', DecimalComma: true}
)

// WriteCSV writes the report's table as CSVPlain; see WriteCSVAs.
func WriteCSV(w io.Writer, r *Report, texts Texts, lang string) error {
	return WriteCSVAs(w, r, texts, lang, CSVPlain)
}

// WriteCSVVietnamese writes the report's table as CSVVietnamese.
func WriteCSVVietnamese(w io.Writer, r *Report, texts Texts, lang string) error {
	return WriteCSVAs(w, r, texts, lang, CSVVietnamese)
}

// WriteCSVAs writes the report's table as CSV, in UTF-8 with a byte order
// mark: one header row (each people column names its area), the rows,
// each commune's subtotal and the total. Shares are percentages and hours
// have one decimal, with the format's decimal mark. The title block and
// signatures are the XLSX's: CSV is for other programs. The notes the
// XLSX prints under its date (hamlets counted from their household lists,
// households "chưa khớp") follow the total, after an empty row.
func WriteCSVAs(w io.Writer, r *Report, texts Texts, lang string, format CSVFormat) error {
	if format.Comma != ',' && format.Comma != ';' {
		return fmt.Errorf("write csv: separator %q: want ',' or ';'", format.Comma)
	}
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.Comma = format.Comma
	cols := numCols()
	header := make([]string, 0, textCols+len(cols))
	for _, id := range textHeaders {
		header = append(header, texts.T(lang, id, nil))
	}
	for _, c := range cols {
		if c.area != "" {
			header = append(header, texts.T(lang, "reports.csv.people", map[string]any{"Area": texts.T(lang, "calendar.area."+c.area, nil)}))
			continue
		}
		header = append(header, texts.T(lang, c.header, nil))
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	record := func(label [textCols]string, f Figures) []string {
		out := make([]string, 0, len(header))
		for _, cell := range label {
			// Names of places and teams come from imported files.
			out = append(out, CSVCell(cell))
		}
		for _, c := range cols {
			v, ok := c.get(f)
			if !ok {
				out = append(out, "")
				continue
			}
			s := plain(c, v)
			if format.DecimalComma {
				s = strings.Replace(s, ".", ",", 1)
			}
			out = append(out, s)
		}
		return out
	}
	for _, c := range r.Communes {
		for _, row := range c.Rows {
			if err := cw.Write(record(rowLabel(texts, lang, row), row.Figures)); err != nil {
				return fmt.Errorf("write csv: %w", err)
			}
		}
		label := [textCols]string{colCommune: texts.T(lang, "reports.xlsx.subtotal", map[string]any{"Commune": c.Name})}
		if err := cw.Write(record(label, c.Subtotal)); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	label := [textCols]string{colCommune: texts.T(lang, "reports.xlsx.total", nil)}
	if err := cw.Write(record(label, r.Total)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if err := writeNotes(cw, len(header), notes(texts, lang, r)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// writeNotes writes the notes after an empty row, each in the commune
// column where the subtotals put their labels, with no number: every
// record as wide as the header, so that a strict reader (one that wants
// the same number of fields in each record) reads the file, a script that
// takes the rows with a number skips them as it skips the subtotals, and
// a spreadsheet shows each note on a row of its own below the table.
func writeNotes(cw *csv.Writer, width int, notes []string) error {
	if len(notes) == 0 {
		return nil
	}
	if err := cw.Write(make([]string, width)); err != nil {
		return err
	}
	for _, n := range notes {
		rec := make([]string, width)
		rec[colCommune] = CSVCell(n)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
