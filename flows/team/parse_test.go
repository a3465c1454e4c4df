package team_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/team"
)

// reportLines are one-line reports as members type them after "bc": with
// and without diacritics, with the separators they use, in any order.
var reportLines = []struct {
	line string
	want team.Report
	ok   bool
}{
	{"ấp 3, nhà ông Năm, vneid+dvc, 2 người, 30p",
		team.Report{Hamlet: "ấp 3", Household: "nhà ông Năm", Areas: []string{"vneid", "dvc"}, People: 2, Minutes: 30}, true},
	{"ap 3, nha ong Nam, vneid+dvc, 2 nguoi, 30p",
		team.Report{Hamlet: "ap 3", Household: "nha ong Nam", Areas: []string{"vneid", "dvc"}, People: 2, Minutes: 30}, true},
	{"Ấp Tân Dân; nhà bà Tư Lành; định danh, thanh toán; 3 người; 1 tiếng",
		team.Report{Hamlet: "Ấp Tân Dân", Household: "nhà bà Tư Lành", Areas: []string{"vneid", "ttkdtm"}, People: 3, Minutes: 60}, true},
	{"nhà ông Sáu | vneid2 | 1 ng | 45'",
		team.Report{Household: "nhà ông Sáu", Areas: []string{"vneid2"}, People: 1, Minutes: 45}, true},
	{"nha ba Hai, vneid muc 2, 2ng, 1g30",
		team.Report{Household: "nha ba Hai", Areas: []string{"vneid2"}, People: 2, Minutes: 90}, true},
	{"ông Bảy Chà, camau-g, yte, 4 người, 1h30p",
		team.Report{Household: "ông Bảy Chà", Areas: []string{"camaug", "yte"}, People: 4, Minutes: 90}, true},
	{"Số 12 đường Lý Thường Kiệt, dịch vụ công, 1 người, 20 phút",
		team.Report{Household: "Số 12 đường Lý Thường Kiệt", Areas: []string{"dvc"}, People: 1, Minutes: 20}, true},
	{"nhà chị Thu, tmdt, ttkdtm, 2 người, 1,5h",
		team.Report{Household: "nhà chị Thu", Areas: []string{"tmdt", "ttkdtm"}, People: 2, Minutes: 90}, true},
	{"nha chu Ut; thuong mai dien tu + thanh toan; 2 nguoi; 2 tieng",
		team.Report{Household: "nha chu Ut", Areas: []string{"tmdt", "ttkdtm"}, People: 2, Minutes: 120}, true},
	{"bà Năm Bông, an toàn, giáo dục, 3, 40",
		team.Report{Household: "bà Năm Bông", Areas: []string{"giaoduc", "antoan"}, People: 3, Minutes: 40}, true},
	{"hộ anh Khánh, y tế, 5 người, nửa tiếng",
		team.Report{Household: "hộ anh Khánh", Areas: []string{"yte"}, People: 5, Minutes: 30}, true},
	{"nhà cô Hạnh, khác, 1 người, 15p, hỏi về điện mặt trời",
		team.Report{Household: "nhà cô Hạnh", Areas: []string{"khac"}, People: 1, Minutes: 15, Note: "hỏi về điện mặt trời"}, true},
	// Spaces only: the areas, people and time come off the end.
	{"nhà ông Năm vneid dvc 2 người 30p",
		team.Report{Household: "nhà ông Năm", Areas: []string{"vneid", "dvc"}, People: 2, Minutes: 30}, true},
	{"ap 3 nha ong Nam vneid 2 nguoi 30p",
		team.Report{Hamlet: "ap 3", Household: "nha ong Nam", Areas: []string{"vneid"}, People: 2, Minutes: 30}, true},
	{"NHÀ BÀ TƯ, VNEID, 2 NGƯỜI, 1 TIẾNG",
		team.Report{Household: "NHÀ BÀ TƯ", Areas: []string{"vneid"}, People: 2, Minutes: 60}, true},
	{"nhà ông Tám - cài vneid và dvc - 2 người - 45 phút",
		team.Report{Household: "nhà ông Tám", Areas: []string{"vneid", "dvc"}, People: 2, Minutes: 45}, true},
	{"khóm 2, nhà dì Ba, camaug, 1 người, một tiếng rưỡi",
		team.Report{Hamlet: "khóm 2", Household: "nhà dì Ba", Areas: []string{"camaug"}, People: 1, Minutes: 90}, true},
	// A typo in a long area name is forgiven.
	{"nhà ông Chín, vneld, 2 người, 30p",
		team.Report{Household: "nhà ông Chín", Areas: []string{"vneid"}, People: 2, Minutes: 30}, true},
	// "bà Khác" is a person, not the area "other".
	{"bà Khác, vneid, 1 người, 20p",
		team.Report{Household: "bà Khác", Areas: []string{"vneid"}, People: 1, Minutes: 20}, true},
	// Telex leftovers: "nhaf" is nhà, "vneid" stays.
	{"nhaf oong Naam, vneid, 2 nguowif, 30p",
		team.Report{Household: "nhaf oong Naam", Areas: []string{"vneid"}, People: 2, Minutes: 30}, true},
	{"ấp Bà Điều nhà ông Út, đinh danh, 2 người, 30 phút",
		team.Report{Hamlet: "ấp Bà Điều", Household: "nhà ông Út", Areas: []string{"vneid"}, People: 2, Minutes: 30}, true},
	{"nhà số 30, vneid, 2 người, 30p",
		team.Report{Household: "nhà số 30", Areas: []string{"vneid"}, People: 2, Minutes: 30}, true},
	// Incomplete: what was read is kept for the step-by-step form.
	{"nhà ông Năm, vneid",
		team.Report{Household: "nhà ông Năm", Areas: []string{"vneid"}}, false},
	{"nhà ông Năm",
		team.Report{Household: "nhà ông Năm"}, false},
	{"vneid, 2 người, 30p",
		team.Report{Areas: []string{"vneid"}, People: 2, Minutes: 30}, false},
	{"ấp 3, nhà ông Năm, hướng dẫn bà con, 30p",
		team.Report{Hamlet: "ấp 3", Household: "nhà ông Năm", Minutes: 30, Note: "hướng dẫn bà con"}, false},
	{"", team.Report{}, false},
	{",,, ;;; ||", team.Report{}, false},
	{"nhà ông Năm, vneid, 0 người, 30p",
		team.Report{Household: "nhà ông Năm", Areas: []string{"vneid"}, Minutes: 30, Note: "0 người"}, false},
	{"nhà ông Năm, vneid, 2 người, 99 giờ",
		team.Report{Household: "nhà ông Năm", Areas: []string{"vneid"}, People: 2, Note: "99 giờ"}, false},
}

func TestParseReport(t *testing.T) {
	if len(reportLines) < 25 {
		t.Fatalf("only %d lines; keep at least 25", len(reportLines))
	}
	for _, tt := range reportLines {
		got, ok := team.ParseReport(tt.line)
		if ok != tt.ok || !sameReport(got, tt.want) {
			t.Errorf("ParseReport(%q):\n got %+v ok=%v\nwant %+v ok=%v", tt.line, got, ok, tt.want, tt.ok)
		}
		if ok != (len(got.Missing()) == 0) {
			t.Errorf("ParseReport(%q): ok=%v but missing %v", tt.line, ok, got.Missing())
		}
	}
}

func sameReport(a, b team.Report) bool {
	return a.Hamlet == b.Hamlet && a.Household == b.Household && slices.Equal(a.Areas, b.Areas) &&
		a.People == b.People && a.Minutes == b.Minutes && a.Note == b.Note
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"30", 30, true}, {"30p", 30, true}, {"30 phút", 30, true}, {"30 phut", 30, true}, {"30ph", 30, true},
		{"45'", 45, true}, {"45 min", 45, true}, {"1h", 60, true}, {"1 h", 60, true}, {"1 tiếng", 60, true},
		{"1 tieng", 60, true}, {"1 giờ", 60, true}, {"1g30", 90, true}, {"1h30", 90, true}, {"1h30p", 90, true},
		{"1 tiếng 30 phút", 90, true}, {"1 giờ 15", 75, true}, {"1,5h", 90, true}, {"1.5 giờ", 90, true},
		{"nửa tiếng", 30, true}, {"một tiếng rưỡi", 90, true}, {"2 tiếng rưỡi", 150, true}, {"2", 120, true},
		{"hai tiếng", 120, true}, {"90", 90, true}, {"2 hours", 120, true},
		{"", 0, false}, {"abc", 0, false}, {"0", 0, false}, {"0p", 0, false}, {"13h", 0, false},
		{"30p 20p", 0, false}, {"1h 2h", 0, false}, {"30 người", 0, false}, {"1.5p", 0, false},
	}
	for _, tt := range tests {
		got, ok := team.ParseDuration(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseDuration(%q): got %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParsePeople(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"2", 2, true}, {"2 người", 2, true}, {"2ng", 2, true}, {"hai người", 2, true}, {"12 nguoi", 12, true},
		{"3 people", 3, true}, {"0", 0, false}, {"100", 0, false}, {"hai", 2, true}, {"2 phút", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, ok := team.ParsePeople(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParsePeople(%q): got %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseAreas(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"vneid, dvc", []string{"vneid", "dvc"}},
		{"1 3", []string{"vneid", "camaug"}},
		{"1, 4, 10", []string{"vneid", "dvc", "khac"}},
		{"dinh danh + thanh toan", []string{"vneid", "ttkdtm"}},
		{"Định danh mức 2 và Y tế", []string{"vneid2", "yte"}},
		{"camau-g", []string{"camaug"}},
		{"CaMauG", []string{"camaug"}},
		{"giáo dục, an toàn, khác", []string{"giaoduc", "antoan", "khac"}},
		{"dvc dvc vneid", []string{"vneid", "dvc"}},
		{"11", nil},
		{"vneid, nấu ăn", nil},
		{"", nil},
		{"và", nil},
	}
	for _, tt := range tests {
		got, ok := team.ParseAreas(tt.in)
		if !slices.Equal(got, tt.want) || ok != (tt.want != nil) {
			t.Errorf("ParseAreas(%q): got %v %v, want %v", tt.in, got, ok, tt.want)
		}
	}
}

// FuzzParseReport checks that any line is read without a panic, and that
// what a complete report says could be stored.
func FuzzParseReport(f *testing.F) {
	for _, tt := range reportLines {
		f.Add(tt.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, ok := team.ParseReport(line)
		if r.Minutes < 0 || r.Minutes > 720 || r.People < 0 || r.People > 99 {
			t.Errorf("ParseReport(%q): minutes %d people %d out of range", line, r.Minutes, r.People)
		}
		for i, a := range r.Areas {
			if !slices.Contains(cnsbot.Areas, a) || slices.Contains(r.Areas[:i], a) {
				t.Errorf("ParseReport(%q): bad areas %v", line, r.Areas)
			}
		}
		if utf8.RuneCountInString(r.Household) > 200 || utf8.RuneCountInString(r.Note) > 500 {
			t.Errorf("ParseReport(%q): household or note too long", line)
		}
		if ok {
			if r.Minutes < 1 || r.People < 1 || len(r.Areas) == 0 || strings.TrimSpace(r.Household) == "" {
				t.Errorf("ParseReport(%q) = %+v, ok but incomplete", line, r)
			}
		}
		if utf8.ValidString(line) && !utf8.ValidString(r.Household+r.Note+r.Hamlet) {
			t.Errorf("ParseReport(%q): invalid UTF-8 out of valid input", line)
		}
	})
}

// TestParseReportKnownHamlets: a hamlet's name without "ấp" is a hamlet
// when the member's commune has it, not the household.
func TestParseReportKnownHamlets(t *testing.T) {
	hamlets := []string{"Ấp Cây Trâm", "Ấp Tân Hòa", "Khóm 3"}
	for _, tt := range []struct {
		line, hamlet, household string
	}{
		{"cay tram, nha ba Hai Loan, vneid, 2 nguoi, 30p", "cay tram", "nha ba Hai Loan"},
		{"Cây Trâm nhà bà Hai Loan, vneid, 2 người, 30p", "Cây Trâm", "nhà bà Hai Loan"},
		{"khóm 3, nhà ông Năm, vneid, 1, 20p", "khóm 3", "nhà ông Năm"},
		// Not a known hamlet: the household, as before.
		{"Cây Dừa, vneid, 2 người, 30p", "", "Cây Dừa"},
		// A known name later in the line is not the hamlet.
		{"nhà ông Năm, tan hoa, vneid, 2 người, 30p", "", "nhà ông Năm"},
	} {
		r, _ := team.ParseReport(tt.line, hamlets...)
		if r.Hamlet != tt.hamlet || r.Household != tt.household {
			t.Errorf("ParseReport(%q): hamlet %q household %q, want %q and %q", tt.line, r.Hamlet, r.Household, tt.hamlet, tt.household)
		}
	}
}
