package flows_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// TestGroupHandlersFirstAnswerWins checks that several packages can each
// own group commands, and that chatter nobody answers writes nothing.
func TestGroupHandlersFirstAnswerWins(t *testing.T) {
	f := newFixture(t)
	var calls []string
	f.engine.OnGroup(func(c *flows.Ctx) error {
		calls = append(calls, "a")
		if c.Event.Text == "#a" {
			c.Reply(c.T("t.group", nil))
		}
		return nil
	})
	f.engine.OnGroup(func(c *flows.Ctx) error {
		calls = append(calls, "b")
		if strings.HasPrefix(c.Event.Text, "#") {
			c.Reply(c.T("t.group", nil))
		}
		return nil
	})
	cases := []struct {
		text      string
		wantCalls string
		wantOut   int
	}{
		{"#a", "a", 1},
		{"#b", "a b", 1},
		{"chào cả nhà", "a b", 0},
	}
	for i, tc := range cases {
		calls = nil
		before := len(f.sessions.Outbox())
		ev := cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, Key: fmt.Sprint("grp-", i), Route: "g:G9", GroupID: "G9", UserID: "u1", Text: tc.text}
		if err := f.engine.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(calls, " "); got != tc.wantCalls {
			t.Errorf("%q: handlers called %q, want %q", tc.text, got, tc.wantCalls)
		}
		if n := len(f.sessions.Outbox()) - before; n != tc.wantOut {
			t.Errorf("%q: %d messages, want %d", tc.text, n, tc.wantOut)
		}
	}
	if s := f.sessions.Get("g:G9"); s.LastEvent != "grp-1" {
		t.Errorf("group session last event %q, want %q: ignored chatter must not be committed", s.LastEvent, "grp-1")
	}
}
