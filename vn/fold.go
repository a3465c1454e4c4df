// Package vn handles Vietnamese text as residents type it: with or without
// diacritics, with Telex leftovers, with typos, and with phone numbers in
// every common spelling. It has no state; every function is safe for
// concurrent use.
package vn

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Fold returns the form of s that commands and keywords are matched on:
// canonical decomposition, combining marks dropped, đ and Đ mapped to d,
// lower case, anything that is neither a letter nor a digit turned into a
// space, runs of spaces collapsed and the ends trimmed. "Cài VNeID!" and
// "cai  vneid" both fold to "cai vneid"; "hoà" and "hòa" both fold to "hoa".
//
// Fold also repairs what Telex typing leaves behind when the input method
// is off: runs of "d" become one ("ddi" → "di"), and a word that is not a
// Vietnamese syllable but becomes one once its trailing tone key
// (s, f, r, x, j) is dropped and its vowel keys (aa, ee, oo, aw, ow, uw, w)
// are read as the vowels they stand for is replaced by that syllable
// ("caif" → "cai", "vieetj" → "viet", "dduwowcj" → "duoc"). Words that are
// already syllables, and words that no reading turns into one ("sms",
// "vneid", "yes"), are kept as they are.
//
// Fold is idempotent: Fold(Fold(s)) == Fold(s).
func Fold(s string) string {
	if s == "" || isFolded(s) {
		// Commands, choice ids and phrases are folded already, and the
		// engine folds them again on every message: no copy for those.
		return s
	}
	return fold(s)
}

// fold is Fold without the shortcut for folded input.
func fold(s string) string {
	f := folder{buf: make([]byte, 0, len(s))}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			f.ascii(c)
			i++
			continue
		}
		// NFC followed by NFD is NFD, so the NFC step of the usual recipe
		// is implied. Decomposing rune by rune gives what NFD of the whole
		// string gives, but for the order of the marks, which are dropped.
		p := norm.NFD.PropertiesString(s[i:])
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if d := p.Decomposition(); d != nil {
			for _, r := range string(d) {
				f.rune(r)
			}
		} else if hangulFirst <= r && r <= hangulLast {
			for _, r := range norm.NFD.String(string(r)) {
				f.rune(r)
			}
		} else {
			f.rune(r)
		}
	}
	b := fixWords(f.buf)
	if len(b) == 0 {
		return ""
	}
	// b is not written again, so the string can share its memory: one
	// allocation per Fold rather than two.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// isFolded reports, cheaply and without allocating, whether s is certainly
// its own folded form: lower-case ASCII letters and digits in words
// separated by single spaces, and no word that a Telex repair could
// change. It may say false for a folded s; Fold then does the full work.
func isFolded(s string) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ' ' {
			c := s[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
				return false
			}
			continue
		}
		// A word ends at i: empty words mean a space at an end or two
		// in a row.
		if i == start {
			return false
		}
		w := s[start:i]
		if strings.Contains(w, "dd") || hasTelexKeysString(w) {
			return false
		}
		start = i + 1
	}
	return true
}

// hasTelexKeysString is hasTelexKeys for a string of lower-case ASCII.
func hasTelexKeysString(word string) bool {
	if isToneKey(word[len(word)-1]) {
		return true
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c == 'w' {
			return true
		}
		if i > 0 && (c == 'a' || c == 'e' || c == 'o') && word[i-1] == c {
			return true
		}
	}
	return false
}

// The precomposed Hangul syllables, which the normalizer decomposes by
// algorithm rather than from its tables.
const (
	hangulFirst = 0xAC00
	hangulLast  = 0xD7A3
)

// folder accumulates the folded form of a text, rune by rune.
type folder struct {
	buf          []byte
	pendingSpace bool
}

func (f *folder) emit(r rune) {
	if f.pendingSpace && len(f.buf) > 0 {
		f.buf = append(f.buf, ' ')
	}
	f.pendingSpace = false
	f.buf = utf8.AppendRune(f.buf, r)
}

func (f *folder) ascii(c byte) {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		f.emit(rune(c))
	case 'A' <= c && c <= 'Z':
		f.emit(rune(c + 'a' - 'A'))
	default:
		f.pendingSpace = true
	}
}

// rune folds one rune of a canonical decomposition.
func (f *folder) rune(r rune) {
	switch {
	case r < utf8.RuneSelf:
		f.ascii(byte(r))
	case unicode.Is(unicode.Mn, r):
		// The tone and vowel marks of Vietnamese: dropped without
		// splitting the word.
	case r == 'đ' || r == 'Đ':
		f.emit('d')
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		f.emit(lowerBase(r))
	default:
		f.pendingSpace = true
	}
}

// lowerBase lower-cases r and strips any marks its lower-case form would
// decompose into, so that a second Fold finds nothing left to change.
func lowerBase(r rune) rune {
	l := unicode.ToLower(r)
	if l == r || l < utf8.RuneSelf {
		return l
	}
	var tmp [utf8.UTFMax]byte
	d := norm.NFD.Bytes(utf8.AppendRune(tmp[:0], l))
	base, _ := utf8.DecodeRune(d)
	if base == utf8.RuneError || unicode.ToLower(base) != base {
		return l
	}
	return base
}

// Words returns the words of the folded form of s.
func Words(s string) []string {
	f := Fold(s)
	if f == "" {
		return []string{}
	}
	// Fold leaves single spaces between words and none at the ends.
	words := make([]string, 0, strings.Count(f, " ")+1)
	for {
		i := strings.IndexByte(f, ' ')
		if i < 0 {
			return append(words, f)
		}
		words = append(words, f[:i])
		f = f[i+1:]
	}
}

// fixWords applies the per-word Telex repairs to a space-separated folded
// buffer in place; every repair shortens or keeps a word, so writing never
// overtakes reading.
func fixWords(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); {
		end := r
		for end < len(b) && b[end] != ' ' {
			end++
		}
		word := fixWord(b[r:end])
		if w > 0 {
			b[w] = ' '
			w++
		}
		w += copy(b[w:], word)
		r = end + 1
	}
	return b[:w]
}

// fixWord returns the repaired form of one folded word; the result aliases
// word's memory.
func fixWord(word []byte) []byte {
	word = collapseD(word)
	if !isLowerASCIIWord(word) || !hasTelexKeys(word) || isSyllable(word) {
		return word
	}
	var tmp [64]byte
	if len(word) > len(tmp) {
		return word
	}
	cand := telexVowels(tmp[:0], stripToneKey(word))
	if !isSyllable(cand) {
		return word
	}
	return word[:copy(word, cand)]
}

// collapseD turns every run of 'd' into one 'd' in place: Telex types đ as
// "dd", and after folding đ is d.
func collapseD(word []byte) []byte {
	w := 0
	for r := 0; r < len(word); r++ {
		if word[r] == 'd' && w > 0 && word[w-1] == 'd' {
			continue
		}
		word[w] = word[r]
		w++
	}
	return word[:w]
}

func isLowerASCIIWord(word []byte) bool {
	for _, c := range word {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return len(word) > 0
}

// hasTelexKeys reports whether word shows a sign of Telex typing: a
// trailing tone key, a doubled vowel key or a w. Without one, no repair
// can apply and the syllable check is skipped.
func hasTelexKeys(word []byte) bool {
	if isToneKey(word[len(word)-1]) {
		return true
	}
	for i, c := range word {
		if c == 'w' {
			return true
		}
		if i > 0 && (c == 'a' || c == 'e' || c == 'o') && word[i-1] == c {
			return true
		}
	}
	return false
}

func isToneKey(c byte) bool {
	return c == 's' || c == 'f' || c == 'r' || c == 'x' || c == 'j'
}

// stripToneKey drops one trailing Telex tone key. No Vietnamese syllable
// ends in s, f, r, x or j, so the letter can only be a tone key.
func stripToneKey(word []byte) []byte {
	if len(word) > 1 && isToneKey(word[len(word)-1]) {
		return word[:len(word)-1]
	}
	return word
}

// telexVowels appends word to dst with the Telex vowel keys read as the
// folded vowels they produce: aa (â) → a, ee (ê) → e, oo (ô) → o,
// aw (ă) → a, ow (ơ) → o, uw (ư) → u, and w after a consonant or at the
// start (ư) → u.
func telexVowels(dst, word []byte) []byte {
	for i := 0; i < len(word); i++ {
		c := word[i]
		switch {
		case c == 'w':
			if i == 0 {
				dst = append(dst, 'u')
				break
			}
			switch word[i-1] {
			case 'a', 'o', 'u':
				// The w only changes the vowel before it.
			case 'e', 'i', 'y':
				// Not Telex ("new"): keep it, so no syllable comes out.
				dst = append(dst, c)
			default:
				dst = append(dst, 'u')
			}
		case (c == 'a' || c == 'e' || c == 'o') && i+1 < len(word) && word[i+1] == c:
			dst = append(dst, c)
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Vietnamese syllables, folded: an optional initial consonant, a vowel
// nucleus (with its glides), an optional final consonant. The tables are
// loose on purpose; they only decide whether a Telex repair produced
// something that reads as Vietnamese.
var (
	initials = []string{"ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
		"b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", ""}
	finals = []string{"ng", "nh", "ch", "c", "m", "n", "p", "t", ""}
)

// nucleus returns what may follow a folded vowel group, and false when b is
// not one. The rare "oo" of loanwords (xoong, boong) is left out: far more
// often it is the Telex for ô ("khoong" for không), so "xoong" folds to
// "xong". A switch rather than a map: Fold runs this for many words of
// every message, and the switch needs no hashing.
func nucleus(b []byte) (nucleusKind, bool) {
	switch string(b) {
	case "a", "e", "i", "o", "u", "y",
		"oa", "oe", "ua", "ue", "uo", "uy":
		return anyFinal, true
	case "ie", "ye", "uye":
		return needsFinal, true
	case "ai", "ao", "au", "ay", "eo", "eu",
		"ia", "iu", "oi", "ui", "uu",
		"ieu", "yeu", "oai", "oay", "oao", "oeo",
		"uay", "uoi", "uou", "uya", "uyu":
		return noFinal, true
	}
	return 0, false
}

type nucleusKind uint8

const (
	anyFinal nucleusKind = iota
	needsFinal
	noFinal
)

// isSyllable reports whether word (lower-case ASCII) splits into initial,
// nucleus and final as a folded Vietnamese syllable does.
func isSyllable(word []byte) bool {
	for _, ini := range initials {
		if !hasPrefix(word, ini) {
			continue
		}
		rest := word[len(ini):]
		if len(rest) == 0 || len(rest) > 5 {
			continue // a nucleus is 1 to 3 letters, a final at most 2
		}
		for _, fin := range finals {
			if len(fin) >= len(rest) || !hasSuffix(rest, fin) {
				continue
			}
			kind, ok := nucleus(rest[:len(rest)-len(fin)])
			if !ok {
				continue
			}
			if (kind == needsFinal && fin == "") || (kind == noFinal && fin != "") {
				continue
			}
			return true
		}
	}
	return false
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func hasSuffix(b []byte, s string) bool { return len(b) >= len(s) && string(b[len(b)-len(s):]) == s }
