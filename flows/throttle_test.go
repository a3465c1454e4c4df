package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
)

// TestInboundLimitSlowsOneFlooder sends 50 messages from one person at
// once, with a limit of 20 a minute after a burst of 5: five are handled,
// the sixth gets the one kind message, the rest nothing, and every event
// is marked applied or left without effect. Someone else writing meanwhile
// is answered as usual.
func TestInboundLimitSlowsOneFlooder(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	clock := flowstest.NewClock(t0)
	e := flows.NewEngine(sessions, texts, flows.Options{Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inbound: flows.NewPersonLimit(20, 5)})
	ctx := context.Background()
	say := func(user string, i int) int {
		before := len(sessions.Outbox())
		err := e.Handle(ctx, cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: fmt.Sprintf("%s-%d", user, i),
			Route: "u:" + user, UserID: user, Text: "menu", Time: clock.Now()})
		if err != nil {
			t.Fatalf("handle %s #%d: %v", user, i, err)
		}
		return len(sessions.Outbox()) - before
	}
	slow := texts.T("vi", "common.slow_down", nil)
	var told, silent int
	for i := range 50 {
		n := say("flood", i)
		switch {
		case i < 5:
			if n == 0 {
				t.Fatalf("message %d within the burst got no answer", i)
			}
		case n == 1 && sessions.Outbox()[len(sessions.Outbox())-1].Text == slow:
			told++
		case n == 0:
			silent++
		default:
			t.Fatalf("message %d over the limit got %d answers", i, n)
		}
	}
	if told != 1 || silent != 44 {
		t.Errorf("over the limit: %d told, %d silent; want 1 told, 44 silent", told, silent)
	}
	if n := say("neighbour", 0); n == 0 {
		t.Errorf("someone else got no answer while one person flooded")
	}
	if !strings.Contains(slow, "đợi") || texts.T("en", "common.slow_down", nil) == slow {
		t.Errorf("the kind message is %q, want the Vietnamese one asking to wait", slow)
	}
}

// TestApology builds the message for a person whose event was given up as
// dead, in their language, and none for a group's event.
func TestApology(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	sessions.Put(cnsbot.Session{Key: "u:en", Lang: "en"})
	e := flows.NewEngine(sessions, texts, flows.Options{})
	payload := func(ev cnsbot.Event) []byte { b, _ := json.Marshal(ev); return b }
	m, ok := e.Apology(context.Background(), payload(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k1", Route: "u:en", UserID: "en", Time: time.Now()}),
		errors.New("nil map"))
	if !ok || m.To.UserID != "en" || m.Text != texts.T("en", "common.error.internal", nil) || m.Purpose != "reply" || m.ID == "" {
		t.Errorf("got %+v, %v; want the English apology to the sender", m, ok)
	}
	if _, ok := e.Apology(context.Background(), payload(cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, Key: "k2", Route: "g:1",
		UserID: "x", GroupID: "1"}), nil); ok {
		t.Errorf("got an apology for a group's event, want none")
	}
	if _, ok := e.Apology(context.Background(), []byte("not json"), nil); ok {
		t.Errorf("got an apology for an undecodable payload, want none")
	}
}

// TestPersonLimit lets a person's burst through, then refuses, telling
// them once; another person is not affected; the burst comes back with
// time, and 0 turns the limit off.
func TestPersonLimit(t *testing.T) {
	ctx := context.Background()
	l := flows.NewPersonLimit(600, 3) // one message every 100 ms after 3 at once
	count := func(user string, n int) (allowed, told int) {
		for range n {
			ok, tell, err := l.Allow(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				allowed++
			}
			if tell {
				told++
			}
		}
		return allowed, told
	}
	if allowed, told := count("flood", 10); allowed != 3 || told != 1 {
		t.Errorf("got %d allowed and %d told of 10 at once, want 3 and 1", allowed, told)
	}
	if allowed, _ := count("neighbour", 1); allowed != 1 {
		t.Errorf("another person was refused")
	}
	time.Sleep(250 * time.Millisecond)
	if allowed, told := count("flood", 5); allowed != 2 || told != 0 {
		t.Errorf("after 250 ms got %d allowed and %d told, want 2 (one per 100 ms) and 0 (told once a minute)", allowed, told)
	}
	off := flows.NewPersonLimit(0, 0)
	for range 100 {
		if ok, _, _ := off.Allow(ctx, "flood"); !ok {
			t.Fatal("refused with the limit off")
		}
	}
}
