package locales

import (
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"text/template/parse"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// messageFile is one embedded file, parsed on its own.
type messageFile struct {
	name, area, lang string
	messages         map[string]*i18n.Message
}

var fileName = regexp.MustCompile(`^([a-z0-9_]+)\.([a-z]{2})\.toml$`)

// readFiles parses every embedded message file.
func readFiles(t *testing.T) []messageFile {
	t.Helper()
	names, err := fs.Glob(files, "*.toml")
	if err != nil {
		t.Fatal(err)
	}
	var out []messageFile
	for _, name := range names {
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: want a name like <area>.<lang>.toml, lower case", name)
			continue
		}
		buf, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := i18n.ParseMessageFileBytes(buf, name, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		f := messageFile{name: name, area: m[1], lang: m[2], messages: make(map[string]*i18n.Message)}
		for _, msg := range mf.Messages {
			f.messages[msg.ID] = msg
		}
		out = append(out, f)
	}
	return out
}

// forms returns a message's plural forms that have text, by CLDR name.
func forms(m *i18n.Message) map[string]string {
	all := map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other}
	maps.DeleteFunc(all, func(_, v string) bool { return v == "" })
	return all
}

func isPlural(m *i18n.Message) bool {
	return m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != ""
}

// pluralRule asks go-i18n itself which plural form each whole count takes
// in lang, so the test follows the library's CLDR data rather than a copy.
// It returns each form used and the counts that select it.
func pluralRule(t *testing.T, lang string) map[string][]int {
	t.Helper()
	b := i18n.NewBundle(language.English)
	tag := language.Make(lang)
	probe := &i18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	if err := b.AddMessages(tag, probe); err != nil {
		t.Fatal(err)
	}
	loc := i18n.NewLocalizer(b, lang)
	rule := make(map[string][]int)
	counts := []int{1000, 10000, 100000, 1000000}
	for n := range 201 {
		counts = append(counts, n)
	}
	for _, n := range counts {
		form, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			t.Fatalf("probe %s with %d: %v", lang, n, err)
		}
		rule[form] = append(rule[form], n)
	}
	return rule
}

func TestPluralRules(t *testing.T) {
	// CLDR (as shipped with go-i18n 2.7) puts Vietnamese with "i = 0 or
	// n = 1": zero and one take "one". If an upgrade changes this, the
	// Vietnamese plural messages need a second look.
	vi := pluralRule(t, "vi")
	if got := vi["one"]; !slices.Equal(got, []int{0, 1}) {
		t.Errorf("vi one = %v, want [0 1]", got)
	}
	if got := slices.Sorted(maps.Keys(vi)); !slices.Equal(got, []string{"one", "other"}) {
		t.Errorf("vi forms = %v, want [one other]", got)
	}
	en := pluralRule(t, "en")
	if got := en["one"]; !slices.Equal(got, []int{1}) {
		t.Errorf("en one = %v, want [1]", got)
	}
}

// templateVars returns the fields a message template reads ({{.Name}}
// gives "Name"), or an error if it does not parse.
func templateVars(text string) (map[string]bool, error) {
	vars := make(map[string]bool)
	if !strings.Contains(text, "{{") {
		return vars, nil
	}
	tr := parse.New("msg")
	tr.Mode = parse.SkipFuncCheck
	if _, err := tr.Parse(text, "{{", "}}", make(map[string]*parse.Tree)); err != nil {
		return nil, err
	}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			vars[n.Ident[0]] = true
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	walk(tr.Root)
	return vars, nil
}

func messageVars(t *testing.T, file string, m *i18n.Message) []string {
	t.Helper()
	all := make(map[string]bool)
	for form, text := range forms(m) {
		vars, err := templateVars(text)
		if err != nil {
			t.Errorf("%s: %s (%s): %v", file, m.ID, form, err)
			continue
		}
		maps.Copy(all, vars)
	}
	return slices.Sorted(maps.Keys(all))
}

func TestFilesComeInPairs(t *testing.T) {
	byArea := make(map[string]map[string]messageFile)
	for _, f := range readFiles(t) {
		if byArea[f.area] == nil {
			byArea[f.area] = make(map[string]messageFile)
		}
		byArea[f.area][f.lang] = f
	}
	if len(byArea) == 0 {
		t.Fatal("no message files")
	}
	langs := []string{"vi", "en"}
	for area, files := range byArea {
		for _, lang := range slices.Sorted(maps.Keys(files)) {
			if !slices.Contains(langs, lang) {
				t.Errorf("%s: language %q is not one of %v", files[lang].name, lang, langs)
			}
		}
		vi, en := files["vi"], files["en"]
		if vi.name == "" || en.name == "" {
			t.Errorf("area %q: want both %s.vi.toml and %s.en.toml", area, area, area)
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(vi.messages)) {
			if _, ok := en.messages[id]; !ok {
				t.Errorf("%s: %s is missing (it is in %s)", en.name, id, vi.name)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(en.messages)) {
			if _, ok := vi.messages[id]; !ok {
				t.Errorf("%s: %s is missing (it is in %s)", vi.name, id, en.name)
			}
		}
	}
}

func TestMessages(t *testing.T) {
	rules := map[string]map[string][]int{"vi": pluralRule(t, "vi"), "en": pluralRule(t, "en")}
	files := readFiles(t)
	// id → lang → message, across areas.
	byID := make(map[string]map[string]*i18n.Message)
	fileOf := make(map[string]string)
	for _, f := range files {
		for id, m := range f.messages {
			if byID[id] == nil {
				byID[id] = make(map[string]*i18n.Message)
			}
			if _, dup := byID[id][f.lang]; dup {
				t.Errorf("%s: %s is also defined in %s", f.name, id, fileOf[f.lang+" "+id])
			}
			byID[id][f.lang] = m
			fileOf[f.lang+" "+id] = f.name
		}
	}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		msgs := byID[id]
		plural := false
		for _, m := range msgs {
			plural = plural || isPlural(m)
		}
		var want []string
		wantLang := ""
		for _, lang := range slices.Sorted(maps.Keys(msgs)) {
			m, file := msgs[lang], fileOf[lang+" "+id]
			fs := forms(m)
			if m.Other == "" {
				t.Errorf("%s: %s has no text (other)", file, id)
			}
			for form, text := range fs {
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: %s (%s) is blank", file, id, form)
				}
				if !norm.NFC.IsNormalString(text) {
					t.Errorf("%s: %s (%s) is not NFC: %q", file, id, form, text)
				}
			}
			if plural {
				checkPluralForms(t, file, m, rules[lang])
			}
			// The address variables are Vietnamese's own (see VarAddress).
			vars := slices.DeleteFunc(messageVars(t, file, m), func(v string) bool {
				return v == VarAddress || v == VarAddressStart
			})
			if want == nil && wantLang == "" {
				want, wantLang = vars, lang
			} else if !slices.Equal(vars, want) {
				t.Errorf("%s: %s uses %v, want %v as in %s", file, id, vars, want, wantLang)
			}
		}
	}
}

// checkPluralForms fails unless m has exactly the plural forms that rule
// selects, and unless a form shared by several counts (Vietnamese "one"
// is 0 and 1) shows the count when "other" does.
func checkPluralForms(t *testing.T, file string, m *i18n.Message, rule map[string][]int) {
	t.Helper()
	fs := forms(m)
	for form, counts := range rule {
		text, ok := fs[form]
		if !ok {
			t.Errorf("%s: %s lacks the plural form %q (used for %v)", file, m.ID, form, counts[:min(len(counts), 5)])
			continue
		}
		if len(counts) > 1 && form != "other" {
			vars, _ := templateVars(text)
			otherVars, _ := templateVars(m.Other)
			if (otherVars["Count"] || otherVars["PluralCount"]) && !vars["Count"] && !vars["PluralCount"] {
				t.Errorf("%s: %s (%s) covers the counts %v but does not show {{.Count}}", file, m.ID, form, counts)
			}
		}
	}
	for form := range fs {
		if _, ok := rule[form]; !ok {
			t.Errorf("%s: %s has the plural form %q, which the language never uses", file, m.ID, form)
		}
	}
}

// sampleData returns template data with a value for every field that a
// message reads.
func sampleData(t *testing.T, m *i18n.Message) map[string]any {
	data := make(map[string]any)
	for _, v := range messageVars(t, m.ID, m) {
		data[v] = "«" + v + "»"
	}
	return data
}

func TestEveryMessageRenders(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range b.Langs() {
		for _, id := range b.IDs(lang) {
			m := b.messages[lang][id]
			data := sampleData(t, m)
			var outs []string
			if isPlural(m) {
				for _, n := range []int{0, 1, 2, 5, 21} {
					outs = append(outs, b.TN(lang, id, n, data))
				}
			} else {
				outs = append(outs, b.T(lang, id, data))
			}
			if isPlural(m) {
				checkPluralRenders(t, b, lang, id, m, data)
			}
			for _, out := range outs {
				if out == id || strings.TrimSpace(out) == "" {
					t.Errorf("%s %s renders as %q", lang, id, out)
				}
				if strings.Contains(out, "<no value>") || strings.Contains(out, "{{") {
					t.Errorf("%s %s renders as %q: template not filled", lang, id, out)
				}
			}
		}
	}
}

// checkPluralRenders renders a plural message with a count of 1 and of
// 2, as numbers (sampleData fills the other fields with strings): each
// shows its count when its form does, and in English, which says 1 and 2
// differently ("1 report", "2 reports"), the two forms must differ, or 1
// reads as a plural. Vietnamese nouns do not change with the count: its
// forms may be the same words.
func checkPluralRenders(t *testing.T, b *Bundle, lang, id string, m *i18n.Message, data map[string]any) {
	t.Helper()
	rule := pluralRule(t, lang)
	for _, n := range []int{1, 2} {
		form := m.Other
		if slices.Contains(rule["one"], n) {
			form = m.One
		}
		vars, _ := templateVars(form)
		out := b.TN(lang, id, n, data)
		if (vars["Count"] || vars["PluralCount"]) && !strings.Contains(out, strconv.Itoa(n)) {
			t.Errorf("%s %s with %d renders as %q, without the count", lang, id, n, out)
		}
	}
	if lang == "en" && m.One == m.Other {
		t.Errorf("%s %s: the form for 1 is the form for 2: %q", lang, id, m.Other)
	}
}

// TestCountsReadRight: English messages that carry a count read right for
// 1 and for 2 (they were "1 reports", "1 hamlets", "1 rows have errors").
func TestCountsReadRight(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		data      map[string]any
		one, two  string
		twoPrefix bool
	}{
		{"households.unmatched.line", map[string]any{"household": "Nhà 5"}, "“Nhà 5”: 1 report, not on the list", "“Nhà 5”: 2 reports, not on the list", false},
		{"households.unmatched.line", map[string]any{"household": "Nhà 5", "matches": 1}, "“Nhà 5”: 1 report, possible matches on the list: 1", "“Nhà 5”: 2 reports, possible matches on the list: 1", false},
		{"households.report.listed", nil, "of 1 hamlet are counted from its imported household list", "of 2 hamlets are counted from their imported household lists", true},
		{"households.figures.listed", nil, "of 1 hamlet are counted from its household list.", "of 2 hamlets are counted from their household lists.", true},
		{"households.counted.report_unmatched", nil, "1 household typed in reports does not match", "2 households typed in reports do not match", true},
		{"households.counted.figures_unmatched", nil, "1 typed household does not match", "2 typed households do not match", true},
		{"households.confirm.head", nil, "1 new household that a member added is waiting", "2 new households that members added are waiting", true},
		{"households.split.share", map[string]any{"name": "Lan", "from": "1", "to": "9"}, "Lan: 1 house, from 1 to 9", "Lan: 2 houses, from 1 to 9", false},
		{"households.unvisited.end", nil, "(1 house not visited)", "(2 houses not visited)", true},
		{"households.web.import_failed", nil, "Not imported: 1 row has errors", "Not imported: 2 rows have errors", true},
		{"cli.import.failed", map[string]any{"File": "a.xlsx"}, "a.xlsx: 1 row has errors", "a.xlsx: 2 rows have errors", true},
		{"team.areas.more", nil, "• …and 1 more area", "• …and 2 more areas", false},
		{"announce.web.groups_count", nil, "Posted to 1 Zalo group", "Posted to 2 Zalo groups", false},
		{"web.calendar.more_reporters", nil, "… and 1 more reporter:", "… and 2 more reporters:", true},
	}
	for _, tt := range tests {
		for n, want := range map[int]string{1: tt.one, 2: tt.two} {
			got := b.TN("en", tt.id, n, tt.data)
			if ok := strings.Contains(got, want); !ok || (!tt.twoPrefix && got != want) {
				t.Errorf("TN(en, %s, %d) = %q, want %q", tt.id, n, got, want)
			}
		}
	}
}

func TestBundle(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Langs(); !slices.Equal(got, []string{"vi", "en"}) {
		t.Errorf("Langs() = %v, want [vi en]", got)
	}
	tests := []struct {
		lang, id, want string
	}{
		{"vi", "common.cancel", "Hủy"},
		{"en", "common.cancel", "Cancel"},
		{"", "common.cancel", "Hủy"},
		{"fr", "common.cancel", "Hủy"},
		{"en-US", "common.cancel", "Cancel"},
		{"EN", "common.cancel", "Cancel"},
		{"vi_VN", "common.back", "Quay lại"},
		{"vi", "no.such.id", "no.such.id"},
		{"en", "no.such.id", "no.such.id"},
	}
	for _, tt := range tests {
		if got := b.T(tt.lang, tt.id, nil); got != tt.want {
			t.Errorf("T(%q, %q) = %q, want %q", tt.lang, tt.id, got, tt.want)
		}
	}
	langTests := []struct{ in, want string }{
		{"vi", "vi"}, {"en", "en"}, {"en-GB", "en"}, {" En ", "en"}, {"", "vi"}, {"zh", "vi"}, {"vie", "vi"},
	}
	for _, tt := range langTests {
		if got := b.Lang(tt.in); got != tt.want {
			t.Errorf("Lang(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if !b.Has("vi", "common.cancel") || !b.Has("en-US", "common.cancel") {
		t.Error("Has(common.cancel) = false, want true")
	}
	if b.Has("fr", "common.cancel") || b.Has("vi", "no.such.id") {
		t.Error("Has of a missing language or id = true, want false")
	}
	if got := b.IDs("fr"); len(got) != 0 {
		t.Errorf("IDs(fr) = %v, want none", got)
	}
	if ids := b.IDs("vi"); !slices.IsSorted(ids) || !slices.Contains(ids, "common.menu") {
		t.Errorf("IDs(vi) = %v, want sorted with common.menu", ids)
	}
}

func TestTN(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang  string
		count int
		want  string
	}{
		{"vi", 0, "0 phút"},
		{"vi", 1, "1 phút"},
		{"vi", 5, "5 phút"},
		{"en", 0, "0 minutes"},
		{"en", 1, "1 minute"},
		{"en", 2, "2 minutes"},
	}
	for _, tt := range tests {
		if got := b.TN(tt.lang, "common.duration.minutes", tt.count, nil); got != tt.want {
			t.Errorf("TN(%q, minutes, %d) = %q, want %q", tt.lang, tt.count, got, tt.want)
		}
	}
	data := map[string]any{"Name": "Lan"}
	b.TN("en", "common.duration.minutes", 3, data)
	if len(data) != 1 {
		t.Errorf("TN changed its data: %v", data)
	}
}

func TestLoadErrors(t *testing.T) {
	good := []byte("[common]\nyes = \"Có\"\n")
	tests := []struct {
		name  string
		fsys  fstest.MapFS
		wants string
	}{
		{"duplicate across files", fstest.MapFS{
			"a.vi.toml": {Data: []byte("[x]\nhello = \"Chào\"\n")},
			"b.vi.toml": {Data: []byte("[x]\nhello = \"Xin chào\"\n")},
		}, `"x.hello" already defined in a.vi.toml`},
		{"bad toml", fstest.MapFS{
			"a.vi.toml": {Data: []byte("[x\nhello = ")},
		}, "parse a.vi.toml"},
		{"no language", fstest.MapFS{
			"a.vi.toml": {Data: good},
			"toml.toml": {Data: good},
		}, "no language"},
		{"no vietnamese", fstest.MapFS{
			"a.en.toml": {Data: good},
		}, "no vi message file"},
		{"mixed reserved keys", fstest.MapFS{
			"a.vi.toml": {Data: []byte("[menu]\nother = \"Khác\"\nvneid = \"VNeID\"\n")},
		}, "reserved keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.fsys)
			if err == nil || !strings.Contains(err.Error(), tt.wants) {
				t.Errorf("load = %v, want an error with %q", err, tt.wants)
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	b, err := load(fstest.MapFS{
		"a.vi.toml": {Data: []byte("[a]\nhi = \"Chào {{.Name}}\"\n")},
		"a.en.toml": {Data: []byte("[a]\nhi = \"Hi {{.Name}}\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.T("en", "a.hi", map[string]any{"Name": "Lan"}), "Hi Lan"; got != want {
		t.Errorf("T(en, a.hi) = %q, want %q", got, want)
	}
	if got, want := fmt.Sprint(b.Langs()), "[vi en]"; got != want {
		t.Errorf("Langs() = %s, want %s", got, want)
	}
}

// districtTexts are the only texts that may name a district, a town (thị
// trấn) or the former Department of Information and Communications: the
// labels of the district level, which the reminders and the dashboard
// render only for a deadline of a schedule that has a district step
// (calendar.Schedule.HasLevel). Since 1 July 2025 there are no districts
// and the default schedule has none (calendar.Default), so any other text
// that says "huyện" would speak of something that no longer exists.
// The name of plan 220's preset says its chain, districts included: it is
// shown only where that preset is chosen or listed as history. An old
// units file may still have a district column, which an import names only
// when the file has it twice.
var districtTexts = []string{"calendar.level.district", "web.level.district", "web.schedule.plan220",
	"imports.column.district"}

// outdatedWords are the words of the three-level
// government that must not appear elsewhere.
// Whole words: "chuyện" holds "huyện".
var outdatedWords = regexp.MustCompile(`(?i)(^|[^\p{L}])(huyện|thị trấn|tt&tt|thông tin và truyền thông|districts?|townships?|information and communications)($|[^\p{L}])`)

func TestNoDistrictOutsideTheDistrictLevel(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for _, lang := range b.Langs() {
		for _, id := range b.IDs(lang) {
			m := b.messages[lang][id]
			for form, text := range forms(m) {
				if !outdatedWords.MatchString(text) {
					continue
				}
				if slices.Contains(districtTexts, id) {
					allowed++
					continue
				}
				t.Errorf("%s %s (%s) says %q: there are no districts since July 2025; say “xã, phường” / “commune or ward”",
					lang, id, form, outdatedWords.FindStringSubmatch(text)[2])
			}
		}
	}
	// The test must be able to see a district word: the allowed labels do
	// have one in each language.
	if want := len(districtTexts) * len(b.Langs()); allowed != want {
		t.Errorf("%d district labels matched, want %d: the pattern or the labels changed", allowed, want)
	}
}

// Issue 19 (engine): texts without data are rendered once.

// TestPlainCache renders every message without data twice, the second from
// the cache, and compares both with a render that bypasses it.
func TestPlainCache(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"vi", "en", "EN", "fr", ""} {
		for _, id := range b.IDs("vi") {
			want := b.localize(lang, id, nil, nil)
			for range 2 {
				if got := b.T(lang, id, nil); got != want {
					t.Fatalf("T(%q, %q) = %q, want %q", lang, id, got, want)
				}
			}
		}
	}
	n := len(b.plain)
	if max := len(b.IDs("vi")) + len(b.IDs("en")); n > max {
		t.Errorf("%d cached texts for %d messages", n, max)
	}
	b.T("vi", "no.such.id", nil)
	if len(b.plain) != n {
		t.Error("an unknown id was cached")
	}
	// Data still reaches the template.
	if got := b.T("vi", "common.cancel", map[string]any{"x": 1}); got != "Hủy" {
		t.Errorf("T with data = %q", got)
	}
}

// oneThenPlural finds "1 reports": the number 1, not the end of a fraction
// ("1/2 days" counts the 2) nor part of a larger number, then a word that
// ends in a plural s.
var oneThenPlural = regexp.MustCompile(`(?:^|[^\d/.,])1 (\p{L}+[^s\P{L}]s)\b`)

// notPlurals end in s without being plural nouns; a name or a word that
// the test puts where a number goes can be followed by them.
var notPlurals = []string{"this", "is", "was", "has", "does", "its", "his", "yes", "as", "us", "wants", "needs", "stays"}

// neverOne are the English messages that TestNoOnePlural lets say "1
// <plural>", each with why: numbers that are never 1 where the text is
// said.
var neverOne = map[string]string{
	"calendar.escalate.title":           "{{.Quarter}} is a quarter's name",
	"cli.import.too_large":              "the import limits",
	"imports.row.former_names_too_long": "a length limit",
	"imports.row.too_long":              "a length limit",
	"imports.row.households_too_many":   "over a hamlet's limit",
	"handoff.team.expired":              "the hand-off's timeout",
	"privacy.consent.ask":               "the retention period",
	"households.place.here":             "how long a location holds",
	"resident.notify.stale":             "the stale-request threshold",
	"households.link.choose":            "said for two matches or more",
	"households.pick.ask":               "said for two matches or more",
	"team.week.none":                    "the plan's days and hours",
}

// TestNoOnePlural renders every English message with 1 in every field (and
// as the count of a plural message) and fails on "1 visits": a message
// with several counts must phrase each so that it reads right for 1, since
// go-i18n picks a message's form by one count only. Fields that are not
// numbers read "1" too; a message that does not render so is skipped.
func TestNoOnePlural(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, id := range b.IDs("en") {
		m := b.messages["en"][id]
		data := make(map[string]any)
		for _, v := range messageVars(t, id, m) {
			data[v] = 1
		}
		if len(data) == 0 {
			continue
		}
		out := b.T("en", id, data)
		if isPlural(m) {
			out = b.TN("en", id, 1, data)
		}
		if out == id || strings.Contains(out, "<no value>") || neverOne[id] != "" {
			continue
		}
		checked++
		for _, match := range oneThenPlural.FindAllStringSubmatch(out, -1) {
			if !slices.Contains(notPlurals, strings.ToLower(match[1])) {
				t.Errorf("en %s with 1 reads %q: %q", id, strings.TrimSpace(match[0]), out)
			}
		}
	}
	// The pattern must see a message that reads right: "1 minute".
	if got := b.TN("en", "common.duration.minutes", 1, nil); oneThenPlural.MatchString(got) {
		t.Errorf("common.duration.minutes with 1 = %q, flagged", got)
	}
	for _, s := range []string{"after 1 minutes", "1 reports"} {
		if !oneThenPlural.MatchString(s) {
			t.Errorf("the pattern misses %q", s)
		}
	}
	if checked == 0 {
		t.Error("no message was checked")
	}
	for id := range neverOne {
		if !b.Has("en", id) {
			t.Errorf("neverOne lists %s, which is not an English message", id)
		}
	}
}
