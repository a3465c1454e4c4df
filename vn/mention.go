package vn

import (
	"strings"
	"unicode/utf8"
)

// NoMention returns s with every Zalo group mention made inert, so that text
// a person typed (a resident's name or problem) can be posted in a team's
// Zalo group without notifying anyone. Zalo's group message API reads
// "[@<user_id>]" in the text as a mention of that member, and (per
// third-party notes) "[@<group_id>]" as a mention of the whole group.
//
// Each "[" that is followed by an at sign ("@", or its full-width "＠" and
// small "﹫" forms, in case Zalo folds them), possibly after spaces or
// invisible characters, becomes "(", and the first "]" after it on the same
// line becomes ")": "[@123]" reads "(@123)". Brackets are replaced rather
// than something invisible inserted, so that no normalisation on Zalo's
// side can bring the mention back. Lengths in bytes and in UTF-16 units are
// unchanged, so text already split to Zalo's limit stays within it.
// NoMention is idempotent.
func NoMention(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	var b []byte
	closing := false // a "[" was replaced and its "]" is still to come
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '[' && atFollows(s[i+1:]):
			b = ensure(b, s)
			b[i] = '('
			closing = true
		case c == ']' && closing:
			b = ensure(b, s)
			b[i] = ')'
			closing = false
		case c == '\n':
			closing = false
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// ensure returns b, or a copy of s to edit when b is still nil.
func ensure(b []byte, s string) []byte {
	if b == nil {
		b = []byte(s)
	}
	return b
}

// atFollows reports whether s starts with an at sign, after any spaces and
// invisible characters.
func atFollows(s string) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch r {
		case '@', '＠', '﹫':
			return true
		case ' ', '\t', '\u00a0', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u3000':
			s = s[n:]
		default:
			return false
		}
	}
	return false
}
