package store

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/xuri/excelize/v2"
)

// Limits of an imported table. A province's roster is about ten thousand
// people in fewer than ten columns; the limits leave several times that.
// They exist because a spreadsheet describes its size instead of holding
// it: a 1.6 KB workbook with one cell on its last row and a merged range
// over the whole sheet (A1:XFD1048576) made the import allocate without
// end (957 MB, then a crash at 4 GB), and excelize itself allocates a row
// for every row number and a cell for every column up to the last one used.
const (
	// MaxImportRows is the last row (XLSX) or the number of lines (CSV)
	// an import reads.
	MaxImportRows = 50_000
	// MaxImportColumns is the last column an import reads.
	MaxImportColumns = 100
	// MaxImportCells bounds a sheet's extent, rows × columns, merged
	// ranges included: what excelize and the import lay out in memory
	// (about 0.2 KB a cell in excelize's worksheet, so under 100 MB).
	MaxImportCells = 400_000
	// maxImportUnzipped bounds the workbook's parts once unzipped: a
	// sheet of MaxImportCells cells is well under it.
	maxImportUnzipped = 64 << 20
	// maxImportMerges bounds the merged ranges of a sheet: excelize
	// compares every pair of them when it reads the sheet.
	maxImportMerges = 10_000
)

// ErrSheetTooLarge is the error, with code ETOOLARGE, of an import whose
// table is larger than the limits above (its message says which). The CLI
// tells the officer so in their language.
var ErrSheetTooLarge = cnsbot.Errorf(cnsbot.ETOOLARGE, "the table is too large to import")

func sheetTooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSheetTooLarge, fmt.Sprintf(format, args...))
}

// checkWorkbook measures every worksheet of an .xlsx file from its XML,
// streaming and without building anything, and refuses the file when one is
// larger than the limits, before excelize lays a sheet out in memory. A
// file that is not a zip is left to excelize to refuse.
func checkWorkbook(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	var unzipped uint64
	for _, f := range zr.File {
		// archive/zip refuses to read past the size an entry declares, so
		// the declared sizes bound what any reader of the file unzips.
		unzipped += f.UncompressedSize64
		if unzipped > maxImportUnzipped {
			return sheetTooLarge("the workbook unzips to more than %d MiB", maxImportUnzipped>>20)
		}
	}
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		check := checkSheetXML
		switch {
		case name == "xl/sharedstrings.xml":
			check = checkSharedStrings
		case !strings.HasPrefix(name, "xl/worksheets/") || !strings.HasSuffix(name, ".xml"):
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return cnsbot.Errorf(cnsbot.EINVALID, "cannot open the workbook: %v", err)
		}
		err = check(rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// checkSharedStrings refuses a shared-string table with more strings than a
// sheet may have cells: excelize keeps an entry for each (about 40 bytes
// even when it leaves the text on disk), and an empty one is 13 bytes of
// XML that compresses to almost nothing. It counts the <si> start tags (any
// namespace prefix) byte by byte: an XML decoder would allocate for each.
func checkSharedStrings(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		if _, err := br.ReadSlice('<'); err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return nil // the end, or a broken file that excelize reports
		}
		// The tag's name, up to 32 bytes: "si" or "prefix:si".
		var name [32]byte
		k := 0
		for k < len(name) {
			b, err := br.ReadByte()
			if err != nil {
				return nil
			}
			if b == '>' || b == '/' || b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '<' {
				if b == '<' {
					_ = br.UnreadByte()
				}
				break
			}
			name[k] = b
			k++
		}
		tag := name[:k]
		if i := bytes.LastIndexByte(tag, ':'); i >= 0 {
			tag = tag[i+1:]
		}
		if string(tag) == "si" {
			if n++; n > MaxImportCells {
				return sheetTooLarge("the workbook has more than %d shared strings", MaxImportCells)
			}
		}
	}
}

// checkSheetXML reads a worksheet's XML for its extent: the last row and
// column of any row or cell element, whether or not it holds a value (an
// empty one costs as much), and its merged ranges.
func checkSheetXML(r io.Reader) error {
	d := xml.NewDecoder(r)
	var (
		lastRow, lastCol int // the sheet's extent so far
		row, col         int // the current row, and its last cell
		merges           int
		merged           int64
	)
	extent := func() error {
		switch {
		case lastRow > MaxImportRows:
			return sheetTooLarge("a sheet reaches row %d; at most %d rows are read", lastRow, MaxImportRows)
		case lastCol > MaxImportColumns:
			return sheetTooLarge("a sheet reaches column %d; at most %d columns are read", lastCol, MaxImportColumns)
		case int64(lastRow)*int64(lastCol) > MaxImportCells:
			return sheetTooLarge("a sheet spans %d rows × %d columns; at most %d cells are read", lastRow, lastCol, MaxImportCells)
		}
		return nil
	}
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// excelize reports a broken sheet better, with its own words.
			return nil
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "row":
			row++
			if v, ok := attr(el, "r"); ok {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return cnsbot.Errorf(cnsbot.EINVALID, "cannot read the workbook: row number %q", v)
				}
				row = n
			}
			col = 0
			lastRow = max(lastRow, row)
		case "c":
			col++
			if v, ok := attr(el, "r"); ok {
				c, n, err := excelize.CellNameToCoordinates(v)
				if err != nil {
					return cnsbot.Errorf(cnsbot.EINVALID, "cannot read the workbook: cell %q", v)
				}
				col = c
				lastRow = max(lastRow, n)
			}
			lastCol = max(lastCol, col)
		case "mergeCell":
			merges++
			if merges > maxImportMerges {
				return sheetTooLarge("a sheet has more than %d merged ranges", maxImportMerges)
			}
			ref, _ := attr(el, "ref")
			c1, r1, c2, r2, err := rangeCoordinates(ref)
			if err != nil {
				return cnsbot.Errorf(cnsbot.EINVALID, "cannot read the workbook: merged range %q", ref)
			}
			merged += int64(r2-r1+1) * int64(c2-c1+1)
			if merged > MaxImportCells {
				return sheetTooLarge("merged ranges cover more than %d cells", MaxImportCells)
			}
			// The import copies a merged range's value into each of its cells.
			lastRow, lastCol = max(lastRow, r2), max(lastCol, c2)
		default:
			continue
		}
		if err := extent(); err != nil {
			return err
		}
	}
}

func attr(el xml.StartElement, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// rangeCoordinates reads "B2:D9" (or "B2", one cell) into ordered corners.
func rangeCoordinates(ref string) (c1, r1, c2, r2 int, err error) {
	from, to, ok := strings.Cut(ref, ":")
	if !ok {
		to = from
	}
	if c1, r1, err = excelize.CellNameToCoordinates(from); err != nil {
		return
	}
	if c2, r2, err = excelize.CellNameToCoordinates(to); err != nil {
		return
	}
	return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2), nil
}

// checkCSV refuses a CSV file with more lines or more fields on a line than
// an import reads, before encoding/csv splits it: 32 MiB of commas on one
// line is 32 million fields, half a gigabyte of strings. Quoted fields may
// hold delimiters and line breaks, which do not count.
func checkCSV(data []byte, delim rune) error {
	if delim >= 0x80 {
		return nil
	}
	d := byte(delim)
	lines, fields, quoted := 1, 1, false
	for _, b := range data {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == d:
			fields++
			if fields > MaxImportColumns {
				return sheetTooLarge("line %d has more than %d fields", lines, MaxImportColumns)
			}
		case b == '\n':
			lines++
			fields = 1
			if lines > MaxImportRows+1 {
				return sheetTooLarge("the file has more than %d lines", MaxImportRows)
			}
		}
	}
	return nil
}
