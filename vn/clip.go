package vn

import "unicode/utf8"

// Clip cuts s to at most n runes (letters with their tone marks count as
// one when NFC-normalized), for text kept in a column or a message of
// bounded length.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
