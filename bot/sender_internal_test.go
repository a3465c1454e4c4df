package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitListTitle(t *testing.T) {
	long := strings.Repeat("Bước 1: mở ứng dụng VNeID trên điện thoại. ", 4)
	cases := []struct {
		name, text, lead, title string
	}{
		{"short", "Bạn cần gì?", "", "Bạn cần gì?"},
		{"long with a question line", long + "\nBạn làm được chưa?", strings.TrimSpace(long), "Bạn làm được chưa?"},
		{"long single line", long, long, string([]rune(strings.TrimSpace(long))[:MaxListTitle-1]) + "…"},
	}
	for _, c := range cases {
		lead, title := splitListTitle(c.text)
		if lead != c.lead || title != c.title {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, lead, title, c.lead, c.title)
		}
		if n := utf8.RuneCountInString(title); n > MaxListTitle {
			t.Errorf("%s: title has %d characters, want at most %d", c.name, n, MaxListTitle)
		}
	}
}
