package flows

import (
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"golang.org/x/text/unicode/norm"
)

// Input is one answer as a step sees it.
type Input struct {
	// Text is the message text, NFC-normalized and trimmed.
	Text string
	// Folded is Text folded for matching (vn.Fold).
	Folded string
	// Payload is set when the text is a button payload ("#…").
	Payload bool
	// Choice is the choice the answer selected, for choice steps.
	Choice *Choice
	// Phone is the E.164 mobile number of a phone step's answer.
	Phone string
	// Number is an InputNumber step's answer.
	Number int
	// Info is the form a user_submit_info event carried.
	Info *cnsbot.UserInfo
}

func newInput(text string) *Input {
	t := strings.TrimSpace(norm.NFC.String(text))
	return &Input{Text: t, Folded: vn.Fold(t), Payload: strings.HasPrefix(t, "#")}
}

// firstNumber returns the first whole number written in s.
func firstNumber(s string) (int, bool) {
	start := -1
	for i := 0; i <= len(s); i++ {
		digit := i < len(s) && s[i] >= '0' && s[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			if i-start > 9 {
				return 0, false
			}
			n, err := strconv.Atoi(s[start:i])
			return n, err == nil
		}
	}
	return 0, false
}

// Prefix returns a Command.Match that recognizes text starting with one of
// the phrases (compared folded, as whole words) and returns the rest of
// the text as typed, so arguments keep their diacritics and case.
func Prefix(phrases ...string) func(text string) (string, bool) {
	folded := make([][]string, 0, len(phrases))
	for _, p := range phrases {
		if w := vn.Words(p); len(w) > 0 {
			folded = append(folded, w)
		}
	}
	return func(text string) (string, bool) {
		raw := strings.Fields(strings.TrimSpace(norm.NFC.String(text)))
		var w words
		for _, want := range folded {
			if rest, ok := w.cut(raw, want); ok {
				return rest, true
			}
		}
		return "", false
	}
}

// words are the folded forms of a message's raw words, folded as far as
// the phrases compared so far needed and shared between them: a command's
// phrases cost one fold of the message's first words, not one per phrase
// (issue 19).
type words struct {
	got  []string
	ends []int // ends[i]: len(got) once raw[i] is folded
}

// cut consumes raw words whose folded forms spell want, and returns what
// follows. A raw word may fold to several words ("#bc" to "bc",
// "vneid+dvc" to two).
func (w *words) cut(raw, want []string) (string, bool) {
	for i := range raw {
		if i == len(w.ends) {
			w.got = append(w.got, vn.Words(raw[i])...)
			w.ends = append(w.ends, len(w.got))
		}
		n := w.ends[i]
		if n < len(want) {
			continue
		}
		if n > len(want) {
			return "", false
		}
		for j := range want {
			if w.got[j] != want[j] {
				return "", false
			}
		}
		return strings.Join(raw[i+1:], " "), true
	}
	return "", false
}
