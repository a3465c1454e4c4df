package flows

import (
	"slices"
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

	// msg is the message prepared once for commands and matchers.
	msg *Text
}

func newInput(text string) *Input {
	t := NewText(text)
	return &Input{Text: t.Raw, Folded: t.Folded, Payload: strings.HasPrefix(t.Raw, "#"), msg: t}
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

// Text is a typed message as commands and matchers read it. The engine
// prepares it once per event (NewText): some thirty commands and several
// matchers read each message, and normalizing and folding it again in each
// of them cost more than the rest of the turn (issue 19).
type Text struct {
	// Raw is the message NFC-normalized and trimmed, as typed: arguments
	// keep their diacritics and case.
	Raw string
	// Folded is vn.Fold(Raw), what commands and keywords are compared on.
	Folded string

	words  []string // the words of Folded, once asked for
	fields []string // strings.Fields(Raw), once asked for
	// ends[i] is the number of folded words in fields[:i+1], for as many
	// fields as a command's prefix needed so far.
	ends []int
}

// NewText prepares text for matching.
func NewText(text string) *Text {
	raw := strings.TrimSpace(norm.NFC.String(text))
	return &Text{Raw: raw, Folded: vn.Fold(raw)}
}

// Words returns the words of Folded, as vn.Words(Raw) would. The slice is
// shared: do not modify it.
func (t *Text) Words() []string {
	if t.words == nil {
		t.words = strings.Fields(t.Folded)
		if t.words == nil {
			t.words = []string{}
		}
	}
	return t.words
}

// Fields returns the words of Raw as typed (strings.Fields). The slice is
// shared: do not modify it.
func (t *Text) Fields() []string {
	if t.fields == nil {
		t.fields = strings.Fields(t.Raw)
		if t.fields == nil {
			t.fields = []string{}
		}
	}
	return t.fields
}

// after returns the raw text after the first n folded words, when they end
// where a typed word ends: "#bc ấp 3" after one word is "ấp 3", but
// "vneid+dvc" has no end after "vneid". A typed word may fold to several
// words, or to none ("…"). The folded words of the whole text are those of
// its typed words one after another, since folding never joins two words
// (TestTextWordsByField), so the boundary is found by folding typed words
// only until n is reached, and only for a text whose first words already
// matched a prefix.
func (t *Text) after(n int) (string, bool) {
	fields := t.Fields()
	for i := range fields {
		if i == len(t.ends) {
			got := 0
			if i > 0 {
				got = t.ends[i-1]
			}
			t.ends = append(t.ends, got+len(vn.Words(fields[i])))
		}
		switch end := t.ends[i]; {
		case end == n:
			return strings.Join(fields[i+1:], " "), true
		case end > n:
			return "", false
		}
	}
	return "", false
}

// Prefix returns a Command.Match that recognizes text starting with one of
// the phrases (compared folded, as whole words) and returns the rest of
// the text as typed, so arguments keep their diacritics and case. It
// compares the text's folded words, so a text that starts otherwise costs
// no folding at all.
func Prefix(phrases ...string) func(t *Text) (string, bool) {
	folded := make([][]string, 0, len(phrases))
	for _, p := range phrases {
		if w := vn.Words(p); len(w) > 0 {
			folded = append(folded, w)
		}
	}
	return func(t *Text) (string, bool) {
		words := t.Words()
		for _, want := range folded {
			if len(want) > len(words) || !slices.Equal(words[:len(want)], want) {
				continue
			}
			if rest, ok := t.after(len(want)); ok {
				return rest, true
			}
		}
		return "", false
	}
}
