package resident

import (
	"slices"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// A request's answers picked from buttons are stored as codes, not as the
// button's words, and shown in the language of whoever reads them: the
// team's group in Vietnamese, a member or officer in theirs, the resident
// in theirs. Typed answers are kept, and shown, as typed.

// TimeCodes are the preferred times a resident can pick (see
// cnsbot.PreferredTimes); each is shown by "resident.time.<code>".
var TimeCodes = cnsbot.PreferredTimes

// timeCode is the code of a time choice's label ("resident.time.morning").
func timeCode(label string) string { return strings.TrimPrefix(label, "resident.time.") }

// topicLabels are the words of the topics a resident can pick as their
// problem: a request whose Problem is empty needs its Topic's.
var topicLabels = func() map[string]string {
	m := map[string]string{}
	for _, c := range problemTopics {
		m[c.ID] = c.Label
	}
	return m
}()

// Translator renders a message id in a language.
type Translator func(lang, id string, data map[string]any) string

// TimeText shows a request's preferred time in a language.
func TimeText(tr Translator, lang, stored string) string {
	if slices.Contains(TimeCodes, stored) {
		return tr(lang, "resident.time."+stored, nil)
	}
	return stored
}

// ProblemText shows what a request needs help with in a language: what
// the resident typed (or the guide they came from), else the words of the
// topic they tapped.
func ProblemText(tr Translator, lang string, r cnsbot.HelpRequest) string {
	if r.Problem != "" {
		return r.Problem
	}
	label, ok := topicLabels[r.Topic]
	if !ok {
		label = topicLabels[cnsbot.AreaOther]
	}
	return tr(lang, label, nil)
}

// requestWords are a request's problem and preferred time in a language,
// for the messages about it.
func requestWords(tr Translator, lang string, r cnsbot.HelpRequest, data map[string]any) map[string]any {
	out := make(map[string]any, len(data)+2)
	for k, v := range data {
		out[k] = v
	}
	out["problem"] = ProblemText(tr, lang, r)
	out["time"] = TimeText(tr, lang, r.PreferredTime)
	return out
}
