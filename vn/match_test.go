package vn

import (
	"fmt"
	"slices"
	"testing"
)

// globalIntents are the commands every flow honours, as the flows spell them.
var globalIntents = map[string][]string{
	"cancel":  {"hủy", "hủy bỏ", "thôi", "cancel", "stop"},
	"back":    {"quay lại", "trở lại", "back"},
	"menu":    {"menu", "trở về menu", "về menu", "main menu"},
	"help":    {"giúp", "giúp đỡ", "trợ giúp", "help"},
	"human":   {"gặp người hỗ trợ", "người thật", "tổng đài", "nhân viên", "talk to a person"},
	"install": {"cài", "cài đặt", "tải", "tải về", "install", "download"},
	"vneid":   {"vneid", "định danh điện tử", "định danh"},
	"camaug":  {"camau-g", "camaug", "cà mau g"},
	"lang_en": {"english", "tiếng anh"},
	"lang_vi": {"tiếng việt", "vietnamese"},
}

func TestMatch(t *testing.T) {
	m := NewMatcher(globalIntents)
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"hủy", "cancel", true},
		{"huy", "cancel", true},
		{"huỷ", "cancel", true},
		{"HỦY!", "cancel", true},
		{"cancel", "cancel", true},
		{"quay lai", "back", true},
		{"quay lại", "back", true},
		{"back", "back", true},
		{"menu", "menu", true},
		{"trở về menu", "menu", true},
		{"giúp", "help", true},
		{"giup", "help", true},
		{"help", "help", true},
		{"gặp người hỗ trợ", "human", true},
		{"gap nguoi ho tro", "human", true},
		{"nguoi that", "human", true},
		{"tong dai", "human", true},
		{"cho toi gap nguoi ho tro voi", "human", true},
		{"tieng viet", "lang_vi", true},
		{"English", "lang_en", true},
		// Contained as whole words: the longer phrase wins.
		{"toi muon cai dat vneid", "install", true},
		{"làm sao tải về", "install", true},
		// Near matches.
		{"menuu", "menu", true},
		{"hepl", "help", true},
		{"instal", "install", true},
		{"dowload", "install", true},
		{"caidat", "install", true},
		{"vn eid", "vneid", true},
		{"vnied", "vneid", true},
		// Telex leftovers fold before matching.
		{"huyr", "cancel", true},
		{"quay laij", "back", true},
		{"gaapj nguowif hoox trowj", "human", true},
		// No match.
		{"", "", false},
		{"???", "", false},
		{"xin chao", "", false},
		{"hay", "", false},
		{"man", "", false},
	}
	for _, tt := range tests {
		got, ok := m.Match(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Match(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestMatchVneidInstall(t *testing.T) {
	m := NewMatcher(globalIntents)
	got := m.MatchAll("cai vneid ko dc")
	if !slices.Contains(got, "vneid") || !slices.Contains(got, "install") {
		t.Errorf("MatchAll(%q) = %q, want vneid and install", "cai vneid ko dc", got)
	}
	// A flow that lists both words as one intent finds it by the phrase.
	m = NewMatcher(map[string][]string{
		"vneid.install": {"cài vneid", "cài đặt vneid", "tải vneid"},
		"vneid.forgot":  {"quên mật khẩu vneid"},
		"vneid":         {"vneid"},
	})
	if got, ok := m.Match("cai vneid ko dc"); got != "vneid.install" || !ok {
		t.Errorf("Match(%q) = %q, %v, want vneid.install", "cai vneid ko dc", got, ok)
	}
}

func TestMatchAll(t *testing.T) {
	m := NewMatcher(globalIntents)
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"xin chao", nil},
		{"huy", []string{"cancel"}},
		{"cai vneid ko dc", []string{"vneid", "install"}},
		{"huy cai dat", []string{"install", "cancel"}},
		{"tai camaug", []string{"camaug", "install"}},
		{"instal vneid", []string{"vneid", "install"}},
	}
	for _, tt := range tests {
		if got := m.MatchAll(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("MatchAll(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchTieBreakIsDeterministic(t *testing.T) {
	intents := map[string][]string{
		"b": {"chung"},
		"a": {"chung"},
		"c": {"rieng"},
	}
	for range 20 {
		m := NewMatcher(intents)
		if got, _ := m.Match("chung"); got != "a" {
			t.Fatalf("Match(chung) = %q, want a (smaller id)", got)
		}
		if got, _ := m.Match("rieng chung"); got != "c" {
			t.Fatalf("Match(rieng chung) = %q, want c (found first)", got)
		}
		if got, _ := m.Match("chunh"); got != "a" {
			t.Fatalf("Match(chunh) = %q, want a (smaller id)", got)
		}
	}
}

func TestMatchEmptyPhrases(t *testing.T) {
	m := NewMatcher(map[string][]string{"x": {"", "!!"}})
	if got, ok := m.Match("!!"); ok {
		t.Errorf("Match(!!) = %q, true, want no match", got)
	}
}

func TestMatchFunc(t *testing.T) {
	if !Match("Hủy bỏ", "huy bo", "cancel") {
		t.Error("Match(Hủy bỏ, huy bo, cancel) = false, want true")
	}
	if Match("tiếp tục", "huy", "cancel") {
		t.Error("Match(tiếp tục, huy, cancel) = true, want false")
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"vneid", "vneid", 0},
		{"vneid", "vnied", 2},
		{"kitten", "sitting", 3},
		{"hủy", "huy", 1},
		{"người", "nguoi", 2},
		{"flaw", "lawn", 2},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestEditDistanceLimitAndTranspose(t *testing.T) {
	tests := []struct {
		a, b      string
		transpose bool
		limit     int
		want      int
	}{
		{"vneid", "vnied", true, 2, 1},
		{"vneid", "vnied", false, 2, 2},
		{"abcdef", "ghijkl", false, 2, 3},
		{"abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz012345678", false, 1, 1},
		{"a", "abcd", false, 1, 2},
	}
	for _, tt := range tests {
		if got := editDistance([]rune(tt.a), []rune(tt.b), tt.transpose, tt.limit); got != tt.want {
			t.Errorf("editDistance(%q, %q, %v, %d) = %d, want %d", tt.a, tt.b, tt.transpose, tt.limit, got, tt.want)
		}
	}
}

// benchIntents returns about forty intents, the size of the resident
// menus with the global commands.
func benchIntents() map[string][]string {
	intents := make(map[string][]string, 40)
	for k, v := range globalIntents {
		intents[k] = v
	}
	topics := []string{"mật khẩu", "mã passcode", "điện thoại mới", "mất điện thoại", "mã otp", "số điện thoại",
		"mức 2", "công an", "kích hoạt", "đăng nhập", "phản ánh", "dịch vụ công", "thanh toán", "thương mại điện tử",
		"đặt khám", "sổ sức khỏe", "kết quả học tập", "an toàn mạng", "tình trạng", "đánh giá", "ảnh", "vị trí",
		"xã", "ấp", "thời gian", "xác nhận", "sửa", "tiếp tục", "làm lại"}
	for i, topic := range topics {
		intents[fmt.Sprintf("topic%02d", i)] = []string{topic, "quên " + topic, topic + " không được"}
	}
	return intents
}

func BenchmarkMatch(b *testing.B) {
	m := NewMatcher(benchIntents())
	inputs := []string{
		"huy",                  // exact
		"cai vneid ko dc",      // contained
		"quen mat khau vneid",  // contained, longer phrase
		"toi bi mat dien thoi", // near
		"xin chao ban",         // nothing
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range inputs {
			m.Match(s)
		}
	}
}

func BenchmarkNewMatcher(b *testing.B) {
	intents := benchIntents()
	b.ReportAllocs()
	for b.Loop() {
		NewMatcher(intents)
	}
}
