package vn

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
)

// PhoneProblem says why a text is not a Vietnamese mobile number. Its
// values are stable and short, fit to end a message id
// ("common.phone.landline").
type PhoneProblem string

// The problems ParsePhone reports.
const (
	PhoneEmpty     PhoneProblem = "empty"      // nothing but spaces
	PhoneNotNumber PhoneProblem = "not_number" // letters or symbols
	PhoneForeign   PhoneProblem = "foreign"    // a country code other than +84
	PhoneLandline  PhoneProblem = "landline"   // a fixed line (area code 2xx), not a mobile
	PhoneLength    PhoneProblem = "length"     // too few or too many digits
	PhonePrefix    PhoneProblem = "prefix"     // no Vietnamese network uses the prefix
)

// PhoneError is the error ParsePhone returns. It unwraps to a
// *cnsbot.Error with code EINVALID, so cnsbot.ErrorCode and
// cnsbot.ErrorMessage work on it, and it carries the Problem so that a
// flow can pick the sentence to show. Neither its message nor its fields
// contain the number itself, so it is safe to log.
type PhoneError struct {
	Problem PhoneProblem
	err     *cnsbot.Error
}

func (e *PhoneError) Error() string { return e.err.Error() }

// Unwrap returns the *cnsbot.Error with code EINVALID.
func (e *PhoneError) Unwrap() error { return e.err }

func phoneErr(p PhoneProblem, msg string) error {
	return &PhoneError{Problem: p, err: cnsbot.Errorf(cnsbot.EINVALID, "%s", msg)}
}

// mobilePrefix reports whether the two digits after the trunk 0 of a
// ten-digit national number belong to a mobile network. domain.md lists
// 03x, 05[25689], 07[06-9], 08[1-689] and 09x; 087 (iTel) and 055 (Reddi)
// are in service too and are accepted, since refusing a resident's real
// number costs more than accepting an unassigned one.
func mobilePrefix(a, b byte) bool {
	switch a {
	case '3', '9':
		return true
	case '5':
		return strings.IndexByte("25689", b) >= 0
	case '7':
		return b == '0' || ('6' <= b && b <= '9')
	case '8':
		return '1' <= b && b <= '9'
	}
	return false
}

// isPhoneSep reports whether r may separate digit groups in a written
// phone number: "0912 345 678", "0912.345.678", "(0290) 3831-234". Any
// space counts, and so do the invisible direction marks that phones wrap
// around a number copied from the contacts app.
func isPhoneSep(r rune) bool {
	switch r {
	case '.', '-', '(', ')':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// ParsePhone returns the Vietnamese mobile number written in s in E.164
// form, "+84" and nine digits. It accepts the national form
// ("0912345678"), the international ones ("+84912345678", "84912345678",
// "0084912345678", and "+84 0912…" with the trunk 0 left in) and any
// spaces, dots, dashes and parentheses between the digits. A landline, a
// foreign number or anything else returns a *PhoneError.
func ParsePhone(s string) (string, error) {
	var digits [16]byte
	n := 0
	plus := false
	seen := false
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			if n == len(digits) {
				return "", phoneErr(PhoneLength, "a mobile number has 10 digits")
			}
			digits[n] = byte(r)
			n++
			seen = true
		case r == '+' && !seen && !plus:
			plus = true
			seen = true
		case isPhoneSep(r):
		default:
			return "", phoneErr(PhoneNotNumber, "a phone number has only digits")
		}
	}
	if n == 0 {
		if plus {
			return "", phoneErr(PhoneNotNumber, "a phone number has only digits")
		}
		return "", phoneErr(PhoneEmpty, "no phone number given")
	}
	d := string(digits[:n])
	switch {
	case plus && strings.HasPrefix(d, "84"):
		d = d[2:]
	case plus:
		return "", phoneErr(PhoneForeign, "only Vietnamese numbers (+84) are accepted")
	case strings.HasPrefix(d, "0084"):
		d = d[4:]
	case strings.HasPrefix(d, "00"):
		return "", phoneErr(PhoneForeign, "only Vietnamese numbers (+84) are accepted")
	case strings.HasPrefix(d, "0"):
		d = d[1:]
	case strings.HasPrefix(d, "84") && len(d) >= 11:
		d = d[2:]
	default:
		return "", phoneErr(PhoneLength, "a mobile number has 10 digits and starts with 0")
	}
	// People often keep the trunk 0 after the country code: "+84 0912…".
	if len(d) == 10 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) > 0 && d[0] == '2' {
		return "", phoneErr(PhoneLandline, "this is a landline (area code 2xx), not a mobile number")
	}
	if len(d) != 9 {
		return "", phoneErr(PhoneLength, "a mobile number has 10 digits")
	}
	if !mobilePrefix(d[0], d[1]) {
		return "", phoneErr(PhonePrefix, "no Vietnamese mobile network uses this prefix")
	}
	return "+84" + d, nil
}

// MaskPhone hides the middle of a phone number for display and logs:
// "+84912345678" becomes "+8491****678". Text that is not a mobile number
// keeps only its last three digits.
func MaskPhone(e164 string) string {
	if p, err := ParsePhone(e164); err == nil {
		return p[:5] + "****" + p[9:]
	}
	return maskDigits(e164)
}

// maskDigits replaces every digit of s but the last three with '*'.
func maskDigits(s string) string {
	total := 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			total++
		}
	}
	b := []byte(s)
	seen := 0
	for i, c := range b {
		if '0' <= c && c <= '9' {
			if seen < total-3 {
				b[i] = '*'
			}
			seen++
		}
	}
	return string(b)
}

// numberSpan is a stretch of text made of digit groups and the separators
// between them, with an optional leading '+'.
type numberSpan struct {
	start, end int   // byte offsets in the text
	groups     []int // byte offset where each digit group starts and ends, in pairs
	digits     int
}

// numberSpans returns the digit runs of text. A run breaks at anything
// other than a digit or a phone separator, so "ấp 3, 0912345678" holds two.
func numberSpans(text string) []numberSpan {
	var spans []numberSpan
	var cur *numberSpan
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case '0' <= r && r <= '9':
			if cur == nil {
				start := i
				if i > 0 && text[i-1] == '+' {
					start = i - 1
				}
				spans = append(spans, numberSpan{start: start})
				cur = &spans[len(spans)-1]
			}
			gs := len(cur.groups)
			if gs == 0 || cur.groups[gs-1] != i {
				cur.groups = append(cur.groups, i, i+1)
			} else {
				cur.groups[gs-1] = i + 1
			}
			cur.digits++
			cur.end = i + 1
		case cur != nil && isPhoneSep(r):
		default:
			cur = nil
		}
		i += size
	}
	return spans
}

// FindPhone returns the first Vietnamese mobile number written in a free
// sentence, in E.164 form: "sdt toi la 0912 345 678 nhe" gives
// "+84912345678". Digit groups are never split, so the tail of an ID card
// number is not taken for a phone.
func FindPhone(text string) (string, bool) {
	for _, sp := range numberSpans(text) {
		groups := sp.groups
		for i := 0; i < len(groups); i += 2 {
			from := groups[i]
			if i == 0 {
				from = sp.start
			}
			found := ""
			for j := i; j < len(groups); j += 2 {
				to := groups[j+1]
				if digitCount(text[from:to]) > 14 {
					break
				}
				if p, err := ParsePhone(text[from:to]); err == nil {
					found = p
				}
			}
			if found != "" {
				return found, true
			}
		}
	}
	return "", false
}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			n++
		}
	}
	return n
}

// RedactPhones masks every run of digits in s long enough to be a phone
// number (nine digits or more, separators allowed between them): mobiles
// become "+8491****678" and any other run, landlines and ID card numbers
// among them, keeps only its last three digits. Use it on any text that
// may reach a log.
func RedactPhones(s string) string {
	spans := numberSpans(s)
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.digits < 9 {
			continue
		}
		b.WriteString(s[last:sp.start])
		raw := s[sp.start:sp.end]
		if p, err := ParsePhone(raw); err == nil {
			b.WriteString(MaskPhone(p))
		} else {
			b.WriteString(maskDigits(raw))
		}
		last = sp.end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// ShowPhone writes a mobile number for people to read, the way Vietnamese
// write it, with its middle hidden: "+84912345678" becomes "0912 ••• 678".
// The dashboard shows residents' numbers so; the logs keep MaskPhone's
// form, which the log checks look for. Text that is not a mobile number
// keeps only its last three digits.
func ShowPhone(e164 string) string {
	if p, err := ParsePhone(e164); err == nil {
		return "0" + p[3:6] + " ••• " + p[9:]
	}
	return maskDigits(e164)
}
