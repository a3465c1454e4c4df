package vn

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NameCase writes a person's name as names are written, each word with a
// capital: residents type "tran thi lan" or "TRẦN THỊ LAN" in the chat,
// and the dashboard shows "Trần Thị Lan". Spacing is tidied; a word
// already mixed in case ("McDonald") is left as typed.
func NameCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if mixedCase(w) {
			continue
		}
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + strings.ToLower(w[n:])
	}
	return strings.Join(words, " ")
}

// mixedCase reports whether a word has a capital after a small letter,
// the sign of a deliberate spelling.
func mixedCase(w string) bool {
	lower := false
	for _, r := range w {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r) && lower:
			return true
		}
	}
	return false
}
