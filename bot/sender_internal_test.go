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
		{"long single line ending in a short sentence", long, strings.TrimSpace(strings.TrimSuffix(long, "Bước 1: mở ứng dụng VNeID trên điện thoại. ")), "Bước 1: mở ứng dụng VNeID trên điện thoại."},
		{"one long sentence", strings.Repeat("chữ ", 40) + "\n" + strings.Repeat("dài ", 40), strings.TrimSpace(strings.Repeat("chữ ", 40) + "\n" + strings.Repeat("dài ", 40)), listPointer},
	}
	for _, c := range cases {
		lead, title := splitListTitle(c.text)
		if lead != c.lead || title != c.title {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, lead, title, c.lead, c.title)
		}
		// Nothing is shown twice and nothing is lost.
		if lead != "" && title != listPointer && strings.Join(strings.Fields(lead+" "+title), " ") != strings.Join(strings.Fields(c.text), " ") {
			t.Errorf("%s: text %q then title %q do not add up to the message", c.name, lead, title)
		}
		if n := utf8.RuneCountInString(title); n > MaxListTitle {
			t.Errorf("%s: title has %d characters, want at most %d", c.name, n, MaxListTitle)
		}
	}
}
