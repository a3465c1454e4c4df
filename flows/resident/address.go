package resident

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// How to address a resident. A team member asks an older neighbour how to
// call them and sticks to it; the bot asks once, as the first question of
// a request for a home visit (addressStep), with a button for each common
// form, and "gọi tôi là chú Tư" (or "xưng hô") sets or changes it at any
// time. Until then texts use locales' respectful default, "anh chị". The answer is a session note
// (flows.NoteAddress) that every text's {{.ban}} reads.
// Each id has a button label ("resident.address.<id>") and the Vietnamese
// form it stores ("resident.address.form.<id>").
var addressForms = []string{"co", "chu", "anh", "chi", "ban"}

// Typed words of the address command: "gọi tôi là …" sets the form,
// "xưng hô" alone asks again.
var (
	addressSetWords = []string{"goi toi la", "goi tui la", "goi minh la", "call me"}
	addressAskWords = []string{"xung ho", "cach xung ho", "doi xung ho", "how to call me"}
)

// maxAddressLen bounds a typed form ("chú Tư", "bà Năm Lửa").
const maxAddressLen = 30

const (
	cmdAddress  = "#xungho"
	stepAddress = "address"
)

// matchAddress claims "#xungho <id>", "gọi tôi là <form>" and "xưng hô".
func matchAddress(t *flows.Text) (string, bool) {
	if rest, ok := strings.CutPrefix(t.Raw, cmdAddress); ok && (rest == "" || rest[0] == ' ') {
		return "#" + strings.TrimSpace(rest), true
	}
	folded := t.Folded
	for _, w := range addressSetWords {
		if !strings.HasPrefix(folded, w) || len(folded) == len(w) || folded[len(w)] != ' ' {
			continue
		}
		if n := strings.Count(w, " ") + 1; len(t.Fields()) > n {
			return strings.Join(t.Fields()[n:], " "), true
		}
	}
	for _, w := range addressAskWords {
		if folded == w {
			return "", true
		}
	}
	return "", false
}

// addressCommand stores the form given, or asks for one.
func (r *residents) addressCommand(c *flows.Ctx, arg string) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	form := arg
	if id, ok := strings.CutPrefix(arg, "#"); ok {
		form = ""
		if slices.Contains(addressForms, id) {
			form = c.TIn("vi", "resident.address.form."+id, nil)
		}
	}
	form = strings.Join(strings.Fields(form), " ")
	if form == "" || utf8.RuneCountInString(form) > maxAddressLen || strings.ContainsAny(form, "0123456789#@/:") {
		r.askAddress(c, "")
		return true, nil
	}
	form = lowerFirst(form)
	c.SetNote(flows.NoteAddress, form)
	c.Menu(c.T("resident.address.done", nil))
	return true, nil
}

// askAddress asks how to address the person, with a button per form.
func (r *residents) askAddress(c *flows.Ctx, lead string) {
	buttons := make([]cnsbot.Button, 0, len(addressForms))
	for _, id := range addressForms {
		buttons = append(buttons, cnsbot.Button{Title: c.T("resident.address."+id, nil), Payload: cmdAddress + " " + id})
	}
	text := c.T("resident.address.ask", nil)
	if lead != "" {
		text = lead + "\n\n" + text
	}
	c.Reply(text, buttons...)
}

// needAddress reports whether to ask how to address the person: a
// Vietnamese conversation that has not said yet.
func needAddress(c *flows.Ctx) bool {
	return c.Note(flows.NoteAddress) == "" && c.Lang() != "en"
}

// addressStep is the request's first question for someone who has not
// said how to be addressed: the request is where a team member will meet
// them, so it is asked there, once. A button or a typed form ("ông Tư").
func (r *residents) addressStep() *flows.Step {
	st := &flows.Step{Name: stepAddress, Ask: "resident.address.ask_come", Help: "resident.address.help",
		Input: flows.InputChoice, Free: true, MaxLen: maxAddressLen}
	for _, id := range addressForms {
		st.Choices = append(st.Choices, flows.Choice{ID: id, Label: "resident.address." + id})
	}
	st.Then = func(c *flows.Ctx, in flows.Input) error {
		form := in.Text
		if in.Choice != nil {
			form = c.TIn("vi", "resident.address.form."+in.Choice.ID, nil)
		}
		form = strings.Join(strings.Fields(form), " ")
		if form == "" || strings.ContainsAny(form, "0123456789#@/:") {
			c.Reprompt("")
			return nil
		}
		c.SetNote(flows.NoteAddress, lowerFirst(form))
		c.Goto("name")
		return nil
	}
	return st
}

// onVoice answers a voice message kindly: the bot cannot listen, so it
// says what works instead (a few typed words, a button, a person) and asks
// the current question again, wherever the resident is.
func (r *residents) onVoice(c *flows.Ctx) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	for _, a := range c.Event.Attachments {
		if a.Type == "audio" {
			c.Reprompt(c.T("resident.media.voice", nil))
			return true, nil
		}
	}
	return false, nil
}
