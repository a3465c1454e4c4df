package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/vn"
	"github.com/xuri/excelize/v2"
)

const importDir = "testdata/import"

// xlsxLayout says how a CSV fixture is laid out as an officer's workbook.
type xlsxLayout struct {
	sheet string
	// title rows come before the header.
	title []string
	// numeric columns (0-based) are stored as numbers where the cell,
	// without spaces, is all digits: Excel drops a phone's leading 0.
	numeric []int
	// merged columns have each run of equal values merged into one cell.
	merged []int
}

// xlsxFixtures maps each committed workbook to its CSV source and layout.
var xlsxFixtures = map[string]struct {
	source string
	layout xlsxLayout
}{
	"units.xlsx": {"units.csv", xlsxLayout{sheet: "Danh mục ấp khóm",
		title: []string{"DANH MỤC ẤP, KHÓM VÀ SỐ HỘ GIA ĐÌNH", ""}, numeric: []int{4}, merged: []int{0, 2}}},
	"roster.xlsx":        {"roster.csv", xlsxLayout{sheet: "Thành viên", numeric: []int{0, 5}, merged: []int{1}}},
	"units_broken.xlsx":  {"units_broken.csv", xlsxLayout{sheet: "Sheet1", numeric: []int{4}}},
	"roster_broken.xlsx": {"roster_broken.csv", xlsxLayout{sheet: "Sheet1"}},
}

// buildXLSX writes the CSV source as a workbook with the given layout.
func buildXLSX(t *testing.T, source string, lay xlsxLayout) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(importDir, source))
	if err != nil {
		t.Fatal(err)
	}
	recs, bad, err := readCSV(data)
	if err != nil || len(bad) > 0 {
		t.Fatalf("read %s: %v %v", source, err, bad)
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", lay.sheet); err != nil {
		t.Fatal(err)
	}
	row := 1
	for _, title := range lay.title {
		if title != "" {
			if err := f.SetCellValue(lay.sheet, "A1", title); err != nil {
				t.Fatal(err)
			}
		}
		row++
	}
	first := row
	for i, rec := range recs {
		for c, v := range rec.cells {
			cell, _ := excelize.CoordinatesToCellName(c+1, row)
			var value any = v
			digits := strings.ReplaceAll(v, " ", "")
			if i > 0 && slices.Contains(lay.numeric, c) && digits != "" && strings.Trim(digits, "0123456789") == "" {
				n, _ := strconv.ParseInt(digits, 10, 64)
				value = n
			}
			if v == "" {
				continue
			}
			if err := f.SetCellValue(lay.sheet, cell, value); err != nil {
				t.Fatal(err)
			}
		}
		row++
	}
	for _, c := range lay.merged {
		start := first + 1
		for r := first + 1; r <= row; r++ {
			cur, prev := "", ""
			if r < row {
				cur = cellOf(recs[r-first].cells, c)
			}
			prev = cellOf(recs[start-first].cells, c)
			if r < row && cur == prev {
				continue
			}
			if r-1 > start && prev != "" {
				top, _ := excelize.CoordinatesToCellName(c+1, start)
				bottom, _ := excelize.CoordinatesToCellName(c+1, r-1)
				if err := f.MergeCell(lay.sheet, top, bottom); err != nil {
					t.Fatal(err)
				}
			}
			start = r
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cellOf(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}

// TestImportFixturesUpToDate checks that each committed workbook holds what
// its generator makes of the CSV source; -update (flowstest.Update) rewrites
// them, as it does every golden file.
func TestImportFixturesUpToDate(t *testing.T) {
	for name, fx := range xlsxFixtures {
		want := buildXLSX(t, fx.source, fx.layout)
		path := filepath.Join(importDir, name)
		if flowstest.Update() {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./store -run TestImportFixturesUpToDate -update)", err)
		}
		g, _, err := readXLSX(got)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		w, _, err := readXLSX(want)
		if err != nil {
			t.Fatalf("read generated %s: %v", name, err)
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s is stale (run with -update):\ngot  %v\nwant %v", name, g, w)
		}
	}
}

func importFile(t *testing.T, db *DB, kind, name string) (ImportReport, error) {
	t.Helper()
	f, err := os.Open(filepath.Join(importDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return importReader(t, db, kind, f.Name(), f)
}

func importReader(t *testing.T, db *DB, kind, name string, r io.Reader) (ImportReport, error) {
	t.Helper()
	ctx := context.Background()
	switch kind {
	case "units":
		return db.ImportUnits(ctx, r, name)
	case "roster":
		return db.ImportRoster(ctx, r, name)
	}
	t.Fatalf("unknown import kind %q", kind)
	return ImportReport{}, nil
}

// mustImport imports a fixture that has to be good.
func mustImport(t *testing.T, db *DB, kind, name string) ImportReport {
	t.Helper()
	rep, err := importFile(t, db, kind, name)
	if err != nil {
		t.Fatalf("import %s: %v; row errors %v", name, err, rep.Errors)
	}
	return rep
}

// countRows returns the number of rows of each domain table.
func countRows(t *testing.T, db *DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"units", "teams", "people", "roles"} {
		var n int64
		if err := db.orm.Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

var teamCodeRE = regexp.MustCompile(`^CM[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$`)

func TestImportUnits(t *testing.T) {
	for _, file := range []string{"units.csv", "units.xlsx"} {
		t.Run(file, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *DB) {
				ctx := context.Background()
				rep := mustImport(t, db, "units", file)
				if rep.Rows != 13 || rep.Created != 13 || rep.Updated != 0 || len(rep.Errors) != 0 {
					t.Errorf("first import: got %+v, want 13 rows, 13 created", rep)
				}
				// 1 province, 1 district, 4 communes, 13 hamlets; a team each.
				want := map[string]int64{"units": 19, "teams": 13, "people": 0, "roles": 0}
				if got := countRows(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("rows: got %v, want %v", got, want)
				}

				communes, err := db.Communes(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, c := range communes {
					names = append(names, c.Name)
				}
				if got, want := strings.Join(names, ", "), "An Xuyên, Khánh Bình, Lý Văn Lâm, Tân Thành"; got != want {
					t.Errorf("communes: got %s, want %s", got, want)
				}
				tanThanh := communes[3]
				hamlets, err := db.Hamlets(ctx, tanThanh.ID)
				if err != nil {
					t.Fatal(err)
				}
				names = nil
				for _, h := range hamlets {
					names = append(names, fmt.Sprintf("%s=%d", h.Name, h.Households))
				}
				if got, want := strings.Join(names, ", "), "Khóm 1=842, Khóm 2=776, Khóm 3=690, Khóm 10=655"; got != want {
					t.Errorf("hamlets: got %s, want %s", got, want)
				}
				codes := map[string]bool{}
				for _, h := range hamlets {
					teams, err := db.TeamsOfHamlet(ctx, h.ID)
					if err != nil {
						t.Fatal(err)
					}
					if len(teams) != 1 {
						t.Fatalf("hamlet %s: got %d teams, want 1", h.Name, len(teams))
					}
					if got, want := teams[0].Name, "Tổ CNSCĐ "+h.Name; got != want {
						t.Errorf("team name: got %q, want %q", got, want)
					}
					if !teamCodeRE.MatchString(teams[0].Code) || codes[teams[0].Code] {
						t.Errorf("team code %q: want CM and 4 distinct unambiguous characters", teams[0].Code)
					}
					codes[teams[0].Code] = true
				}
				// The district row hangs its commune under the district.
				kb, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "khanh binh")
				if err != nil {
					t.Fatal(err)
				}
				district, err := db.Unit(ctx, *kb.ParentID)
				if err != nil || district.Kind != cnsbot.UnitDistrict || district.Name != "Trần Văn Thời" {
					t.Errorf("parent of Khánh Bình: got %+v, %v, want district Trần Văn Thời", district, err)
				}

				// Importing again changes nothing.
				before := countRows(t, db)
				rep = mustImport(t, db, "units", file)
				if rep.Rows != 13 || rep.Created != 0 || rep.Updated != 0 {
					t.Errorf("second import: got %+v, want 13 rows, nothing created or updated", rep)
				}
				if got := countRows(t, db); fmt.Sprint(got) != fmt.Sprint(before) {
					t.Errorf("rows after second import: got %v, want %v", got, before)
				}
			})
		})
	}
}

func TestImportUnitsUpdatesCounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mustImport(t, db, "units", "units.csv")
		// Same places spelled differently: new counts, one new hamlet, a
		// semicolon-separated file without BOM.
		csv := "Tinh;Huyen;Xa/Phuong;Ap/Khom;So ho\n" +
			"ca mau;;AN XUYÊN;ấp 1;1.020\n" +
			"Cà Mau;;AN XUYÊN;Ấp 2;548\n" +
			"Cà Mau;;An  Xuyen;Ấp 4;233\n"
		rep, err := db.ImportUnits(ctx, strings.NewReader(csv), "units.csv")
		if err != nil {
			t.Fatalf("import: %v %v", err, rep.Errors)
		}
		if rep.Rows != 3 || rep.Created != 1 || rep.Updated != 1 {
			t.Errorf("got %+v, want 3 rows, 1 created, 1 updated", rep)
		}
		ax, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
		if err != nil {
			t.Fatal(err)
		}
		ap1, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &ax.ID, "Ấp 1")
		if err != nil {
			t.Fatal(err)
		}
		// The latest spelling is kept; the count is the new one.
		if ap1.Households != 1020 || ap1.Name != "ấp 1" {
			t.Errorf("Ấp 1: got %q with %d households, want %q with 1020", ap1.Name, ap1.Households, "ấp 1")
		}
		if ax.Name != "An Xuyen" {
			t.Errorf("commune name: got %q, want the latest spelling %q", ax.Name, "An Xuyen")
		}
		hamlets, err := db.Hamlets(ctx, ax.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(hamlets) != 6 {
			t.Errorf("An Xuyên: got %d hamlets, want 6", len(hamlets))
		}
	})
}

// The optional "Tên cũ" column gives a commune's names before the 2025
// merger; a later file without it keeps them.
func TestImportUnitsFormerNames(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		csv := "Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ,Tên cũ\n" +
			"Cà Mau,Xã Cái Nước,Ấp Cái Nước,400, Thị trấn Cái Nước ;Xã Tân Hưng Tây; thị trấn cái nước;\n" +
			"Cà Mau,Xã Cái Nước,Ấp Tân Bửu,300,\n" +
			"Cà Mau,Phường An Xuyên,Khóm 1,500,\n"
		rep, err := db.ImportUnits(ctx, strings.NewReader(csv), "units.csv")
		if err != nil || rep.Created != 3 {
			t.Fatalf("import: %v %+v", err, rep)
		}
		cn, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Xã Cái Nước")
		if err != nil {
			t.Fatal(err)
		}
		if want := "Thị trấn Cái Nước; Xã Tân Hưng Tây"; cn.FormerNames != want {
			t.Errorf("former names %q, want %q (trimmed, repeats and blanks dropped)", cn.FormerNames, want)
		}
		// Again without the column: nothing changes.
		rep, err = db.ImportUnits(ctx, strings.NewReader("Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ\nCà Mau,Xã Cái Nước,Ấp Cái Nước,400\n"), "units.csv")
		if err != nil || rep.Updated != 0 {
			t.Fatalf("reimport: %v %+v", err, rep)
		}
		if cn, _ = db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Xã Cái Nước"); cn.FormerNames == "" {
			t.Error("a file without “Tên cũ” erased the former names")
		}
		// A new former name is an update; the pickers see it.
		rep, err = db.ImportUnits(ctx, strings.NewReader("Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ,Tên cũ\nCà Mau,Phường An Xuyên,Khóm 1,500,Phường 5\n"), "units.csv")
		if err != nil || rep.Updated != 1 {
			t.Fatalf("update: %v %+v", err, rep)
		}
		communes, err := db.Communes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range communes {
			if u.Name == "Phường An Xuyên" && u.FormerNames != "Phường 5" {
				t.Errorf("An Xuyên: former names %q, want Phường 5", u.FormerNames)
			}
		}
	})
}

// wantErrors is the expected row errors of a broken file: line → its
// problems as codes writes them.
type wantErrors map[int]string

// codes returns a row error's problems space-separated, each as its code
// without the common prefix and with its column, if any, after a colon:
// "empty:households not_whole_number:households".
func codes(e RowError) string {
	var out []string
	for _, p := range e.Problems {
		s := strings.TrimPrefix(p.Code, "imports.row.")
		if p.Column != "" {
			s += ":" + p.Column
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func checkRowErrors(t *testing.T, rep ImportReport, err error, want wantErrors) {
	t.Helper()
	if cnsbot.ErrorCode(err) != cnsbot.EINVALID {
		t.Errorf("error: got %v, want an EINVALID error", err)
	}
	got := map[int]string{}
	for _, e := range rep.Errors {
		if _, dup := got[e.Line]; dup {
			t.Errorf("line %d reported twice", e.Line)
		}
		got[e.Line] = codes(e)
	}
	for line, wantCodes := range want {
		gotCodes, ok := got[line]
		switch {
		case !ok:
			t.Errorf("line %d: no error, want %q", line, wantCodes)
		case gotCodes != wantCodes:
			t.Errorf("line %d: got %q, want %q", line, gotCodes, wantCodes)
		}
	}
	for line, reason := range got {
		if _, ok := want[line]; !ok {
			t.Errorf("line %d: unexpected error %q", line, reason)
		}
	}
	if rep.Created != 0 || rep.Updated != 0 {
		t.Errorf("a failed import reports %d created and %d updated, want 0", rep.Created, rep.Updated)
	}
}

func TestImportUnitsBroken(t *testing.T) {
	brokenUnits := wantErrors{
		3: "empty:households",
		4: "empty:hamlet",
		5: "not_whole_number:households",
		6: "same_hamlet",
		7: "empty:province",
		8: "not_whole_number:households",
	}
	tests := []struct {
		file string
		want wantErrors
	}{
		{"units_broken.csv", brokenUnits},
		{"units_broken.xlsx", brokenUnits},
		{"roster.csv", wantErrors{1: "missing_column:province missing_column:households"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *DB) {
				rep, err := importFile(t, db, "units", tt.file)
				checkRowErrors(t, rep, err, tt.want)
				want := map[string]int64{"units": 0, "teams": 0, "people": 0, "roles": 0}
				if got := countRows(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("rows after a failed import: got %v, want %v", got, want)
				}
			})
		})
	}
}

// rosterOf describes everyone's roles as "name role place" lines, sorted.
func rosterOf(t *testing.T, db *DB) []string {
	t.Helper()
	var people []cnsbot.Person
	if err := db.orm.Order("id").Find(&people).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range people {
		_, roles, err := db.PersonByPhone(context.Background(), p.Phone)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			unit, err := db.Unit(context.Background(), r.UnitID)
			if err != nil {
				t.Fatal(err)
			}
			place := unit.Name
			if r.TeamID != nil {
				team, err := db.Team(context.Background(), *r.TeamID)
				if err != nil {
					t.Fatal(err)
				}
				place = team.Name
			}
			out = append(out, fmt.Sprintf("%s|%s|%s|%v", p.FullName, r.Role, place, r.Approved))
		}
	}
	slices.Sort(out)
	return out
}

var wantRoster = []string{
	"Dương Hoàng Nam|member|Tổ CNSCĐ Ấp Bà Điều|true",
	"Huỳnh Quốc Bảo|province_officer|Cà Mau|true",
	"Huỳnh Thị Kim Thoa|member|Tổ CNSCĐ Ấp 2|true",
	"Lâm Văn Tèo|member|Tổ CNSCĐ Ấp 2|true",
	"Lê Hoàng Phúc|member|Tổ CNSCĐ Ấp 1|true",
	"Nguyễn Thị Hồng Nhung|member|Tổ CNSCĐ Khóm 1|true",
	"Nguyễn Văn Hùng|leader|Tổ CNSCĐ Ấp 1|true",
	"Ngô Thanh Tâm|leader|Tổ CNSCĐ Khóm 1|true",
	"Phạm Minh Tuấn|leader|Tổ CNSCĐ Ấp 2|true",
	"Quách Thị Lệ|member|Tổ CNSCĐ Ấp Bà Điều|true",
	"Trương Công Danh|commune_officer|Tân Thành|true",
	"Trần Thị Mai|member|Tổ CNSCĐ Ấp 1|true",
	"Tô Văn Sáu|leader|Tổ CNSCĐ Ấp Bà Điều|true",
	"Võ Thị Thu Hà|commune_officer|An Xuyên|true",
	"Đặng Thị Bích Ngọc|member|Tổ CNSCĐ Ấp 1|true",
}

func TestImportRoster(t *testing.T) {
	for _, file := range []string{"roster.csv", "roster.xlsx"} {
		t.Run(file, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *DB) {
				ctx := context.Background()
				mustImport(t, db, "units", "units.csv")
				rep := mustImport(t, db, "roster", file)
				if rep.Rows != 15 || rep.Created != 15 || rep.Updated != 0 {
					t.Errorf("first import: got %+v, want 15 rows, 15 created", rep)
				}
				if got := rosterOf(t, db); !slices.Equal(got, wantRoster) {
					t.Errorf("roster:\ngot  %q\nwant %q", got, wantRoster)
				}
				p, roles, err := db.PersonByZalo(ctx, "5630211893524187712")
				if err != nil || p.FullName != "Nguyễn Văn Hùng" || p.Phone != "+84912345678" || len(roles) != 1 {
					t.Errorf("PersonByZalo: got %+v %+v %v, want Nguyễn Văn Hùng, +84912345678, one role", p, roles, err)
				}

				before := countRows(t, db)
				rep = mustImport(t, db, "roster", file)
				if rep.Rows != 15 || rep.Created != 0 || rep.Updated != 0 {
					t.Errorf("second import: got %+v, want 15 rows, nothing created or updated", rep)
				}
				if got := countRows(t, db); fmt.Sprint(got) != fmt.Sprint(before) {
					t.Errorf("rows after second import: got %v, want %v", got, before)
				}
			})
		})
	}
}

func TestImportRosterChanges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mustImport(t, db, "units", "units.csv")
		mustImport(t, db, "roster", "roster.csv")
		ap1 := findHamlet(t, db, "An Xuyên", "Ấp 1")
		teams, err := db.TeamsOfHamlet(ctx, ap1.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Someone enrolled from chat before the leader put them on the roster.
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "Châu Văn Lợi", Phone: "0916 000 111"}, teams[0].ID); err != nil {
			t.Fatal(err)
		}
		// English headers and roles; the team by code; a renamed person;
		// a new Zalo id; a member who also leads.
		csv := "commune,hamlet,team,full name,phone,role,zalo id\n" +
			"An Xuyen,Ap 1," + strings.ToLower(teams[0].Code) + ",Châu Văn Lợi,0916000111,member,\n" +
			"an xuyen,ap 1,,Trần Thị Mai Anh,0987654321,member,\n" +
			"An Xuyên,Ấp 1,,Lê Hoàng Phúc,0903112233,leader,778899\n" +
			"An Xuyên,Ấp 1,,Lê Hoàng Phúc,0903112233,member,\n"
		rep, err := db.ImportRoster(ctx, strings.NewReader(csv), "roster.csv")
		if err != nil {
			t.Fatalf("import: %v %v", err, rep.Errors)
		}
		if rep.Rows != 4 || rep.Created != 0 || rep.Updated != 3 {
			t.Errorf("got %+v, want 4 rows, 0 created, 3 updated", rep)
		}
		p, roles, err := db.PersonByPhone(ctx, "0916000111")
		if err != nil || len(roles) != 1 || !roles[0].Approved {
			t.Errorf("pending member after roster import: got %+v %+v %v, want one approved role", p, roles, err)
		}
		p, _, err = db.PersonByPhone(ctx, "+84987654321")
		if err != nil || p.FullName != "Trần Thị Mai Anh" {
			t.Errorf("renamed person: got %q %v, want Trần Thị Mai Anh", p.FullName, err)
		}
		p, roles, err = db.PersonByZalo(ctx, "778899")
		if err != nil || p.FullName != "Lê Hoàng Phúc" || len(roles) != 2 {
			t.Errorf("leader: got %+v %+v %v, want Lê Hoàng Phúc with 2 roles", p, roles, err)
		}
	})
}

func TestImportRosterBroken(t *testing.T) {
	brokenRoster := wantErrors{
		3:  "unknown_commune:commune",
		4:  "unknown_hamlet:hamlet",
		5:  "phone_landline:phone",
		6:  "unknown_role:role",
		7:  "empty:full name",
		8:  "phone_other_name",
		9:  "unknown_team:team",
		10: "zalo_rounded:zalo id",
	}
	tests := []struct {
		file string
		want wantErrors
	}{
		{"roster_broken.csv", brokenRoster},
		{"roster_broken.xlsx", brokenRoster},
		{"roster_no_phone.csv", wantErrors{1: "missing_column:phone"}},
		{"units.csv", wantErrors{1: "missing_column:full name missing_column:phone missing_column:role"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *DB) {
				mustImport(t, db, "units", "units.csv")
				before := countRows(t, db)
				rep, err := importFile(t, db, "roster", tt.file)
				checkRowErrors(t, rep, err, tt.want)
				if got := countRows(t, db); fmt.Sprint(got) != fmt.Sprint(before) {
					t.Errorf("rows after a failed import: got %v, want %v", got, before)
				}
			})
		})
	}
}

func TestImportRosterUnknownPlaces(t *testing.T) {
	// Without units nothing in a roster can be placed, and nothing is created.
	forEachDialect(t, func(t *testing.T, db *DB) {
		rep, err := importFile(t, db, "roster", "roster.csv")
		if cnsbot.ErrorCode(err) != cnsbot.EINVALID || len(rep.Errors) != 15 {
			t.Errorf("got %v with %d row errors, want EINVALID and 15", err, len(rep.Errors))
		}
		want := map[string]int64{"units": 0, "teams": 0, "people": 0, "roles": 0}
		if got := countRows(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows: got %v, want %v", got, want)
		}
	})
}

func TestImportFileFormats(t *testing.T) {
	tests := []struct {
		name, file, content string
		code                string
		refusal             string // the FileRefusal's code
		errLine             int
	}{
		{name: "old xls", file: "roster.xls", content: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", code: cnsbot.EINVALID, refusal: FileOldXLS},
		{name: "windows-1258", file: "roster.csv", content: "X\xE3/Ph\xFD\xF4ng\n", code: cnsbot.EINVALID, refusal: FileNotUTF8},
		{name: "empty", file: "roster.csv", content: "", code: cnsbot.EINVALID, errLine: 1},
		{name: "not a workbook", file: "units.xlsx", content: "PK\x03\x04garbage", code: cnsbot.EINVALID, refusal: FileNotWorkbook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := (&DB{}).ImportUnits(context.Background(), strings.NewReader(tt.content), tt.file)
			if got := cnsbot.ErrorCode(err); got != tt.code {
				t.Errorf("error: got %v (%s), want code %s", err, got, tt.code)
			}
			var refusal *FileRefusal
			switch {
			case errors.As(err, &refusal) && refusal.Code != tt.refusal:
				t.Errorf("refusal: got %s, want %q", refusal.Code, tt.refusal)
			case refusal == nil && tt.refusal != "":
				t.Errorf("error %v is no refusal, want %s", err, tt.refusal)
			}
			if tt.errLine != 0 && (len(rep.Errors) != 1 || rep.Errors[0].Line != tt.errLine) {
				t.Errorf("row errors: got %v, want one on line %d", rep.Errors, tt.errLine)
			}
		})
	}
}

func TestReadTable(t *testing.T) {
	tests := []struct {
		name, content string
		want          string
	}{
		{"comma with BOM", "\uFEFFa,b\n1,2\n", "[{1 [a b]} {2 [1 2]}]"},
		{"semicolon", "a;b\n\"1;x\";2\n", "[{1 [a b]} {2 [1;x 2]}]"},
		{"tab", "a\tb\n1\t2\n", "[{1 [a b]} {2 [1 2]}]"},
		{"commas inside a semicolon file", "Tên;Số hộ\n\"Nguyễn, Văn\";1,250\n", "[{1 [Tên Số hộ]} {2 [Nguyễn, Văn 1,250]}]"},
		{"blank lines keep numbering", "a,b\n\n,\n1,2\n", "[{1 [a b]} {4 [1 2]}]"},
		{"multi-line cell", "a,b\n\"x\ny\",1\n2,3\n", "[{1 [a b]} {2 [x\ny 1]} {4 [2 3]}]"},
		{"CRLF", "a,b\r\n1,2\r\n", "[{1 [a b]} {2 [1 2]}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, bad, err := readTable(strings.NewReader(tt.content), "x.csv")
			if err != nil || len(bad) > 0 {
				t.Fatalf("got %v %v", err, bad)
			}
			if got := fmt.Sprint(recs); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestReadXLSXMergedAndTitled(t *testing.T) {
	fx := xlsxFixtures["units.xlsx"]
	recs, bad, err := readXLSX(buildXLSX(t, fx.source, fx.layout))
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	// Title on line 1, a blank line 2, the header on line 3.
	if recs[0].line != 1 || recs[1].line != 3 || recs[2].line != 4 {
		t.Errorf("lines: got %d, %d, %d, want 1, 3, 4", recs[0].line, recs[1].line, recs[2].line)
	}
	// Row 8 is the last An Xuyên hamlet, inside the merged commune cell.
	if got := fmt.Sprint(recs[6]); got != "{8 [Cà Mau  An Xuyên Ấp Bào Sen 389]}" {
		t.Errorf("merged row: got %s", got)
	}
}

func TestParseCount(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"450", 450, true}, {"1.250", 1250, true}, {"1,250", 1250, true}, {"450.0", 450, true},
		{" 612 ", 612, true}, {"0", 0, true}, {"", 0, false}, {"-7", 0, false}, {"4.5", 0, false},
		{"12,34", 0, false}, {"khoảng 500", 0, false}, {"123456", 0, false},
	}
	for _, tt := range tests {
		got, bad := parseCount(strings.TrimSpace(tt.in), colHouseholds, maxHamletHouseholds)
		if (bad == nil) != tt.ok || got != tt.want {
			t.Errorf("parseCount(%q): got %d, %v, want %d, ok %v", tt.in, got, bad, tt.want, tt.ok)
		}
	}
}

func TestParseRosterPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0912 345 678", "+84912345678"},
		{"912345678", "+84912345678"}, // a spreadsheet number lost its 0
		{"+84 903 112 233", "+84903112233"},
		{"0987.654.321", "+84987654321"},
		{"0290 3831 234", ""},
		{"", ""},
		{"12345", ""},
	}
	for _, tt := range tests {
		got, bad := parseRosterPhone(tt.in)
		if got != tt.want || (bad == nil) != (tt.want != "") {
			t.Errorf("parseRosterPhone(%q): got %q, %v, want %q", tt.in, got, bad, tt.want)
		}
		if bad != nil && bad.Value != "" {
			t.Errorf("parseRosterPhone(%q): problem %+v repeats the number", tt.in, bad)
		}
	}
}

func TestImportNamesAreFolded(t *testing.T) {
	// The tables are written folded; a key that Fold changes would never match.
	for k := range roleNames {
		if vn.Fold(k) != k {
			t.Errorf("role name %q folds to %q", k, vn.Fold(k))
		}
	}
	for _, spec := range [][]column{unitColumns, rosterColumns} {
		seen := map[string]string{}
		for _, c := range spec {
			for _, a := range append([]string{c.name}, c.aliases...) {
				k := headerKey(a)
				if prev, dup := seen[k]; dup && prev != c.name {
					t.Errorf("header %q means both %s and %s", a, prev, c.name)
				}
				seen[k] = c.name
			}
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"Tổ trưởng", cnsbot.RoleLeader}, {"TO TRUONG", cnsbot.RoleLeader}, {"thành viên", cnsbot.RoleMember},
		{"Cán bộ xã", cnsbot.RoleCommuneOfficer}, {"commune_officer", cnsbot.RoleCommuneOfficer},
		{"Cán bộ tỉnh", cnsbot.RoleProvinceOfficer}, {"Province Officer", cnsbot.RoleProvinceOfficer},
	} {
		if got, ok := parseRole(tt.in); !ok || got != tt.want {
			t.Errorf("parseRole(%q): got %q, %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}

func findHamlet(t *testing.T, db *DB, commune, hamlet string) cnsbot.Unit {
	t.Helper()
	ctx := context.Background()
	c, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, commune)
	if err != nil {
		t.Fatalf("commune %s: %v", commune, err)
	}
	h, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &c.ID, hamlet)
	if err != nil {
		t.Fatalf("hamlet %s: %v", hamlet, err)
	}
	return h
}
