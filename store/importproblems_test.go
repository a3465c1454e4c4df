package store

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/locales"
)

// rowCodeLiteral is a problem code (a row's or a whole file's) as the
// store's code writes it.
var rowCodeLiteral = regexp.MustCompile(`"(imports\.(?:row|file)\.[a-z0-9_]+)"`)

// rowCodesInSource returns every problem code the store's (non-test)
// source names, so that a code added anywhere is checked.
func rowCodesInSource(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rowCodeLiteral.FindAllStringSubmatch(string(src), -1) {
			codes = append(codes, m[1])
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

func TestEveryRowProblemHasTexts(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	codes := rowCodesInSource(t)
	if len(codes) < 40 {
		t.Fatalf("found %d problem codes in the source, want the 40 or more of importproblems.go", len(codes))
	}
	for _, code := range codes {
		for _, lang := range []string{"vi", "en"} {
			if !texts.Has(lang, code) {
				t.Errorf("%s has no %s text in locales/imports.%s.toml", code, lang, lang)
			}
		}
	}
	// And no text stays once its code is gone.
	for _, id := range texts.IDs("vi") {
		if (strings.HasPrefix(id, "imports.row.") || strings.HasPrefix(id, "imports.file.")) && !slices.Contains(codes, id) {
			t.Errorf("%s has a text but the store never uses it", id)
		}
	}
}

// TestColumnNamesAreHeaders checks that every column an import knows has a
// name in each language, and that the name is a header the import reads:
// "add the column X" must work when the officer does it.
func TestColumnNamesAreHeaders(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range [][]column{unitColumns, rosterColumns, householdColumns} {
		for _, c := range spec {
			for _, lang := range []string{"vi", "en"} {
				id := columnMessage(c.name)
				if !texts.Has(lang, id) {
					t.Errorf("column %q has no %s name (%s)", c.name, lang, id)
					continue
				}
				name := texts.T(lang, id, nil)
				if headerKey(name) != headerKey(c.name) && !slices.ContainsFunc(c.aliases, func(a string) bool {
					return headerKey(a) == headerKey(name)
				}) {
					t.Errorf("column %q: the %s name %q is not a header the import reads", c.name, lang, name)
				}
			}
		}
	}
}

func TestRowErrorTexts(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	e := RowError{Line: 12, Problems: []RowProblem{{Code: RowEmpty, Column: colPhone}, {Code: RowSameRow, Other: 4}}}
	for lang, want := range map[string][]string{
		"vi": {"Dòng 12: thiếu “Số điện thoại”. Điền vào rồi nhập lại.", "Dòng 12: trùng với dòng 4. Bỏ một dòng rồi nhập lại."},
		"en": {"Line 12: “Phone” is empty. Fill it in and import again.", "Line 12: same as line 4. Remove one of them and import again."},
	} {
		got := e.Texts(func(id string, data map[string]any) string { return texts.T(lang, id, data) })
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", lang, got, want)
		}
	}
}
