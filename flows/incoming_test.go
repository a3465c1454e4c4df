package flows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

// An incoming handler runs for each event a person sends privately, before
// the engine decides, and what it sends goes out ahead of the reply in the
// same commit.
func TestOnIncoming(t *testing.T) {
	f := newFixture(t)
	var seen []string
	f.engine.OnIncoming(func(c *flows.Ctx) error {
		seen = append(seen, c.Event.Name)
		c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: c.UserID()}, Kind: cnsbot.MsgText, Text: "kept for " + c.UserID()})
		return nil
	})
	c := f.start(t, "u1")
	seen = nil

	out := c.Do(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "in-1", Text: "order"})
	if got := flowstest.Texts(out); got != "kept for u1\nt.ask.name" {
		t.Errorf("messages %q, want the handler's first, then the reply", got)
	}
	if out[0].ID != "in-1/0" || out[0].Purpose != "notify" {
		t.Errorf("handler's message: id %q purpose %q, want derived from the event", out[0].ID, out[0].Purpose)
	}
	if c.Session().Step != "name" {
		t.Errorf("the handler changed the conversation: at %q", c.Session().Step)
	}

	// Every kind of event from the person, but once per event: a
	// redelivered event is skipped whole.
	if out := c.Do(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "in-1", Text: "order"}); len(out) != 0 {
		t.Errorf("redelivery sent %v", flowstest.Texts(out))
	}
	c.Photo("https://example.com/a.jpg")
	c.Submit(cnsbot.UserInfo{Name: "Lan"})
	c.Follow()
	if fmt.Sprint(seen) != "[user_send_text user_send_image user_submit_info follow]" {
		t.Errorf("ran for %v", seen)
	}

	// Not for the bot's echoes, a human agent's messages, groups, or while
	// the agent has paused the bot.
	seen = nil
	c.Do(cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, Text: "t.ask.name"})
	c.Do(cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, AdminID: "admin-1", Text: "Chào chị"})
	if out := c.Say("Lan"); len(out) != 0 {
		t.Errorf("while paused: %v", flowstest.Texts(out))
	}
	g := cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, Key: "in-g", Route: "g:G1", GroupID: "G1", UserID: "u1", Text: "menu"}
	if err := f.engine.Handle(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Errorf("ran for %v, want none", seen)
	}
	f.clock.Advance(31 * time.Minute)
	c.Say("Lan")
	if fmt.Sprint(seen) != "[user_send_text]" {
		t.Errorf("after the pause: ran for %v", seen)
	}
}

// A handler's error fails the event: nothing is committed, and the queue
// retries the event.
func TestOnIncomingError(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, "u1")
	boom := errors.New("database down")
	f.engine.OnIncoming(func(*flows.Ctx) error { return boom })
	v := c.Session().Version
	err := f.engine.Handle(context.Background(), cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "in-e", Route: "u:u1", UserID: "u1", Text: "order"})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want the handler's error", err)
	}
	if s := c.Session(); s.Version != v || s.LastEvent == "in-e" {
		t.Errorf("a failed event was committed: %+v", s)
	}
}
