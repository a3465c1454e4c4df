package store

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// tinyWorkbook writes an .xlsx by hand, as small as an attacker would: the
// least of the parts Excel and excelize need, and a first sheet with a
// header, one hamlet and whatever extra is given (rows inside sheetData,
// and elements after it).
func tinyWorkbook(t testing.TB, extraRows, afterData string, pad int, extraParts ...[2]string) []byte {
	t.Helper()
	sheet := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c r="A1" t="inlineStr"><is><t>Tỉnh</t></is></c><c r="B1" t="inlineStr"><is><t>Xã</t></is></c>` +
		`<c r="C1" t="inlineStr"><is><t>Ấp</t></is></c><c r="D1" t="inlineStr"><is><t>Số hộ</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>Cà Mau</t></is></c><c r="B2" t="inlineStr"><is><t>Tân Lộc</t></is></c>` +
		`<c r="C2" t="inlineStr"><is><t>Ấp 1</t></is></c><c r="D2"><v>450</v></c></row>` +
		extraRows + `</sheetData>` + afterData + strings.Repeat(" ", pad) + `</worksheet>`
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet},
	}
	for _, p := range extraParts {
		parts = append(parts, struct{ name, body string }{p[0], p[1]})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocated runs f and returns how many bytes it allocated in all. A
// watchdog ends the test binary if the heap passes 1 GiB: without the
// limits these files grow it until the machine runs out of memory.
func allocated(t *testing.T, f func()) uint64 {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > 1<<30 {
					panic(fmt.Sprintf("%s: heap at %d MiB and growing: the import is not bounded", t.Name(), m.HeapAlloc>>20))
				}
			}
		}
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	close(stop)
	wg.Wait()
	return after.TotalAlloc - before.TotalAlloc
}

// A workbook that describes a huge sheet in a few bytes is refused, as too
// large, before anything lays the sheet out, and the refusal costs little
// memory. The first case is the one that took the import to 957 MB and
// then a crash: a cell on the sheet's last row and a merged range over the
// whole sheet.
func TestImportRefusesSpreadsheetBombs(t *testing.T) {
	const budget = 50 << 20
	lastRow := `<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>`
	wholeSheet := `<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>`
	tests := []struct {
		name, file string
		data       []byte
	}{
		{"merged range over the whole sheet", "units.xlsx", tinyWorkbook(t, lastRow, wholeSheet, 0)},
		{"merged range alone", "units.xlsx", tinyWorkbook(t, "", wholeSheet, 0)},
		{"cell on the last row", "units.xlsx", tinyWorkbook(t, lastRow, "", 0)},
		{"empty cell on the last row", "units.xlsx", tinyWorkbook(t, `<row r="1048576"><c r="A1048576" s="1"/></row>`, "", 0)},
		{"cell in the last column", "units.xlsx", tinyWorkbook(t, `<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>`, "", 0)},
		{"rows × columns", "units.xlsx", tinyWorkbook(t, `<row r="40000"><c r="CV40000"><v>1</v></c></row>`, "", 0)},
		{"many merged ranges", "units.xlsx", tinyWorkbook(t, "", `<mergeCells>`+strings.Repeat(`<mergeCell ref="E5:F6"/>`, maxImportMerges+1)+`</mergeCells>`, 0)},
		{"unzips to 65 MiB", "units.xlsx", tinyWorkbook(t, "", "", 65<<20)},
		{"4 million shared strings", "units.xlsx", tinyWorkbook(t, `<row r="3"><c r="A3" t="s"><v>0</v></c></row>`, "", 0,
			[2]string{"xl/sharedStrings.xml", `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
				strings.Repeat("<si><t/></si>", 4<<20) + `</sst>`})},
		{"csv line of 2 million commas", "units.csv", []byte("Tỉnh,Xã,Ấp,Số hộ\n" + strings.Repeat(",", 2<<20) + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasSuffix(tt.file, ".xlsx") && len(tt.data) > 200<<10 {
				t.Fatalf("the file is %d bytes, want a small one", len(tt.data))
			}
			var (
				rep ImportReport
				err error
			)
			grew := allocated(t, func() {
				rep, err = (&DB{}).ImportUnits(context.Background(), bytes.NewReader(tt.data), tt.file)
			})
			t.Logf("%d-byte file: %v; allocated %.1f MiB", len(tt.data), err, float64(grew)/(1<<20))
			if !errors.Is(err, ErrSheetTooLarge) || cnsbot.ErrorCode(err) != cnsbot.ETOOLARGE {
				t.Errorf("got %v (code %s), want ErrSheetTooLarge with code %s", err, cnsbot.ErrorCode(err), cnsbot.ETOOLARGE)
			}
			if rep.Rows != 0 || rep.Created != 0 {
				t.Errorf("report %+v, want nothing read", rep)
			}
			if grew > budget {
				t.Errorf("allocated %d MiB to refuse it, want under %d MiB", grew>>20, budget>>20)
			}
		})
	}
}

// The hand-written workbook itself is an ordinary file: without the bomb
// it reads as the table it holds.
func TestTinyWorkbookReads(t *testing.T) {
	data := tinyWorkbook(t, `<row r="3"><c r="A3" t="inlineStr"><is><t>Cà Mau</t></is></c>`+
		`<c r="B3" t="inlineStr"><is><t>Tân Lộc</t></is></c><c r="C3" t="inlineStr"><is><t>Ấp 2</t></is></c><c r="D3"><v>300</v></c></row>`,
		`<mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>`, 0)
	recs, bad, err := readTable(bytes.NewReader(data), "units.xlsx")
	if err != nil || len(bad) > 0 {
		t.Fatalf("read: %v %v", err, bad)
	}
	if got := fmt.Sprint(recs); got != "[{1 [Tỉnh Xã Ấp Số hộ]} {2 [Cà Mau Tân Lộc Ấp 1 450]} {3 [Cà Mau Tân Lộc Ấp 2 300]}]" {
		t.Errorf("got %s", got)
	}
}
