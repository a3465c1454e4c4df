package bot

import (
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// ListAsNumbered renders a list for a person whose Zalo refused the list
// template: the title, the subtitle, then the options.
//
// In a reply (the question of the step the person is at), the buttons that
// send a payload are numbered, and a last line says "type 1, 2 or 3": the
// flows engine takes the number of a choice on the page shown, or its
// words, as the answer. In a push (a notice, a reminder) the person may be
// in the middle of another step, where a number would answer that step
// instead: each option then shows the command to type (its payload, which
// is a valid typed command by design). Links and phone numbers are written
// out; Zalo makes them tappable in text.
//
// commands are payloads that are commands valid at any step ("#them" for
// the next page, "#chiase" for the share form), not choices of the step:
// the engine does not take a number for them, so they show the command to
// type even in a reply, and are not counted in the numbering.
func ListAsNumbered(texts Texts, m cnsbot.Outgoing, commands map[string]bool) string {
	lang := m.Lang
	if lang == "" {
		lang = "vi"
	}
	t := func(id string, data map[string]any) string {
		if texts == nil {
			return ""
		}
		return texts.T(lang, id, data)
	}
	payloads := 0
	for _, b := range m.Buttons {
		if b.Payload != "" && !commands[b.Payload] {
			payloads++
		}
	}
	numbered := isReply(m) && payloads >= 2

	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.Text))
	if sub := strings.TrimSpace(m.Subtitle); sub != "" {
		b.WriteString("\n")
		b.WriteString(sub)
	}
	if len(m.Buttons) > 0 {
		b.WriteString("\n")
	}
	n := 0
	for _, btn := range m.Buttons {
		b.WriteString("\n")
		switch {
		case btn.Payload != "" && numbered && !commands[btn.Payload]:
			n++
			b.WriteString(strconv.Itoa(n) + ". " + btn.Title)
		case btn.Payload != "":
			line := t("zalo.list.command", map[string]any{"title": btn.Title, "command": btn.Payload})
			if line == "" {
				line = btn.Title + ": " + btn.Payload
			}
			b.WriteString("• " + line)
		case btn.URL != "":
			b.WriteString("• " + btn.Title + ": " + btn.URL)
		case btn.Phone != "":
			b.WriteString("• " + btn.Title + ": " + btn.Phone)
		default:
			b.WriteString("• " + btn.Title)
		}
	}
	if numbered {
		if hint := t("zalo.list.hint", map[string]any{"numbers": numberList(n, t("zalo.list.or", nil))}); hint != "" {
			b.WriteString("\n\n")
			b.WriteString(hint)
		}
	}
	return b.String()
}

// numberList writes "1, 2 hoặc 3" for n = 3 (or is the word for "or").
func numberList(n int, or string) string {
	if or == "" {
		or = "/"
	}
	var parts []string
	for i := 1; i < n; i++ {
		parts = append(parts, strconv.Itoa(i))
	}
	last := strconv.Itoa(n)
	if len(parts) == 0 {
		return last
	}
	return strings.Join(parts, ", ") + " " + or + " " + last
}

// FormAsText renders a request_user_info form that cannot be sent as one
// (Zalo refused it, or there is no image for it): its title and subtitle,
// and a line asking the person to type the answer instead. Flows that ask
// with a form also take a typed phone number.
func FormAsText(texts Texts, m cnsbot.Outgoing) string {
	lang := m.Lang
	if lang == "" {
		lang = "vi"
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.Text))
	if sub := strings.TrimSpace(m.Subtitle); sub != "" && sub != strings.TrimSpace(m.Text) {
		b.WriteString("\n")
		b.WriteString(sub)
	}
	if texts != nil {
		if ask := texts.T(lang, "zalo.form.by_text", nil); ask != "" {
			b.WriteString("\n")
			b.WriteString(ask)
		}
	}
	return b.String()
}
