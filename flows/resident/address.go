package resident

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
)

// How to address a resident. A team member asks an older neighbour how to
// call them and sticks to it; the bot asks once, when someone follows the
// OA, with a button for each common form, and "gọi tôi là chú Tư" (or
// "xưng hô") changes it at any time. The answer is a session note
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

const cmdAddress = "#xungho"

// matchAddress claims "#xungho <id>", "gọi tôi là <form>" and "xưng hô".
func matchAddress(text string) (string, bool) {
	t := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(t, cmdAddress); ok && (rest == "" || rest[0] == ' ') {
		return "#" + strings.TrimSpace(rest), true
	}
	words := strings.Fields(t)
	folded := vn.Fold(t)
	for _, w := range addressSetWords {
		n := len(strings.Fields(w))
		if strings.HasPrefix(folded, w+" ") && len(words) > n {
			return strings.Join(words[n:], " "), true
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

// onFollowAddress greets someone who follows the OA and has not said how
// to address them with the question instead of the menu; the menu comes
// with the answer. Anything typed instead works as at the menu.
func (r *residents) onFollowAddress(c *flows.Ctx) (bool, error) {
	if c.Note(flows.NoteAddress) != "" || c.Lang() == "en" {
		return false, nil
	}
	if _, roles, known, err := c.Person(); err != nil || (known && len(roles) > 0) {
		return false, err
	}
	r.askAddress(c, c.T("flows.welcome", nil))
	return true, nil
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
