package flowstest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
)

// Handler is what a Chat drives: a *flows.Engine.
type Handler interface {
	Handle(ctx context.Context, ev cnsbot.Event) error
}

// Chat is one person's private conversation with the bot, driven event by
// event as the queue would, with the replies of each event returned.
type Chat struct {
	TB       testing.TB
	Handler  Handler
	Sessions *Sessions
	Clock    *Clock
	UserID   string
	n        int
}

// Say sends a text message (or a tapped button's payload).
func (c *Chat) Say(text string) []cnsbot.Outgoing {
	return c.Do(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Text: text})
}

// Follow sends a follow event.
func (c *Chat) Follow() []cnsbot.Outgoing {
	return c.Do(cnsbot.Event{Name: "follow", Kind: cnsbot.KindFollow})
}

// Submit sends the answer to a request_user_info form.
func (c *Chat) Submit(info cnsbot.UserInfo) []cnsbot.Outgoing {
	return c.Do(cnsbot.Event{Name: "user_submit_info", Kind: cnsbot.KindSubmit, Info: &info})
}

// Photo sends an image.
func (c *Chat) Photo(url string) []cnsbot.Outgoing {
	return c.Do(cnsbot.Event{Name: "user_send_image", Kind: cnsbot.KindMedia, Attachments: []cnsbot.Attachment{{Type: "image", URL: url}}})
}

// Do handles ev, filling in its key, route, user and time, and returns the
// messages its commit added.
func (c *Chat) Do(ev cnsbot.Event) []cnsbot.Outgoing {
	c.TB.Helper()
	c.n++
	if ev.Key == "" {
		ev.Key = fmt.Sprintf("%s-m%d", c.UserID, c.n)
	}
	if ev.UserID == "" {
		ev.UserID = c.UserID
	}
	if ev.Route == "" {
		ev.Route = "u:" + c.UserID
	}
	if ev.Time.IsZero() && c.Clock != nil {
		ev.Time = c.Clock.Now()
	}
	before := len(c.Sessions.Outbox())
	if err := c.Handler.Handle(context.Background(), ev); err != nil {
		c.TB.Fatalf("handle %s %q: %v", ev.Name, ev.Text, err)
	}
	return c.Sessions.Outbox()[before:]
}

// Session returns the conversation's stored session.
func (c *Chat) Session() cnsbot.Session { return c.Sessions.Get("u:" + c.UserID) }

// Render writes messages as a transcript: replies to self as "<", messages
// to others as "<< to …", buttons indented under their message.
func Render(out []cnsbot.Outgoing, self string) string { return render(out, self, nil) }

// Menu tells the main menu by its buttons' payloads; *flows.Engine is one.
type Menu interface {
	IsMenu(payloads []string) bool
}

// Transcript writes messages as Render does, except that the main menu's
// buttons are the one line "[menu]": golden transcripts show that the
// menu was offered, not what is on it, so that a new menu item changes
// only the menu's own golden files. Assertions about the menu's buttons
// use Render.
func Transcript(out []cnsbot.Outgoing, self string, menu Menu) string {
	return render(out, self, menu)
}

func render(out []cnsbot.Outgoing, self string, menu Menu) string {
	var b strings.Builder
	for _, m := range out {
		prefix := "< "
		if m.To.UserID != self || m.To.GroupID != "" {
			prefix = fmt.Sprintf("<< to %s (%s): ", m.To, m.Purpose)
		}
		text := m.Text
		if m.Kind == cnsbot.MsgRequestInfo {
			text = "[form] " + m.Text + " / " + m.Subtitle
		}
		b.WriteString(prefix)
		b.WriteString(strings.ReplaceAll(text, "\n", "\n  "))
		b.WriteString("\n")
		if menu != nil && len(m.Buttons) > 0 && menu.IsMenu(Payloads([]cnsbot.Outgoing{m})) {
			b.WriteString("    [menu]\n")
			continue
		}
		for _, btn := range m.Buttons {
			fmt.Fprintf(&b, "    [%s] %s\n", btn.Title, btn.Payload)
		}
	}
	return b.String()
}

// Texts returns the messages' texts joined, for quick assertions.
func Texts(out []cnsbot.Outgoing) string {
	parts := make([]string, 0, len(out))
	for _, m := range out {
		parts = append(parts, m.Text)
	}
	return strings.Join(parts, "\n")
}

// Payloads returns every button payload of the messages.
func Payloads(out []cnsbot.Outgoing) []string {
	var p []string
	for _, m := range out {
		for _, b := range m.Buttons {
			p = append(p, b.Payload)
		}
	}
	return p
}
