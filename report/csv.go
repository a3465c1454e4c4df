package report

import (
	"encoding/csv"
	"fmt"
	"io"
)

// bom is UTF-8's byte order mark: without it Excel reads a CSV file in the
// computer's legacy code page and garbles every Vietnamese letter.
const bom = "\ufeff"

// WriteCSV writes the report's table as CSV, in UTF-8 with a byte order
// mark: one header row (each people column names its area), the rows,
// each commune's subtotal and the total. Shares are percentages and hours
// have one decimal, with a point as the decimal mark. The title block and
// signatures are the XLSX's: CSV is for other programs.
func WriteCSV(w io.Writer, r *Report, texts Texts, lang string) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
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
		out := append(make([]string, 0, len(header)), label[:]...)
		for _, c := range cols {
			v, ok := c.get(f)
			if !ok {
				out = append(out, "")
				continue
			}
			out = append(out, plain(c, v))
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
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
