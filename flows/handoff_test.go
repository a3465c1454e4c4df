package flows_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
)

// fakeOwnSends knows some ids as the service's own; an id in late becomes
// known only after that many look-ups (the sender records it after Zalo's
// echo arrived).
type fakeOwnSends struct {
	mu    sync.Mutex
	ours  map[string]bool
	late  map[string]int
	err   error
	calls int
}

func (f *fakeOwnSends) SentByUs(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return false, f.err
	}
	if n, ok := f.late[id]; ok {
		if n <= 1 {
			return true, nil
		}
		f.late[id] = n - 1
		return false, nil
	}
	return f.ours[id], nil
}

func newEchoFixture(t *testing.T, own *fakeOwnSends, log *bytes.Buffer) *fixture {
	t.Helper()
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{sessions: flowstest.NewSessions(), handoffs: &flowstest.Handoffs{}, clock: flowstest.NewClock(t0), texts: texts}
	f.engine = flows.NewEngine(f.sessions, texts, flows.Options{Now: f.clock.Now, Handoffs: f.handoffs,
		Log: slog.New(slog.NewTextHandler(log, nil)), OwnSends: own, OwnSendGrace: 300 * time.Millisecond})
	f.engine.Register(orderFlow())
	f.engine.MenuItem(flows.MenuItem{ID: "order", Label: "t.menu.order", Flow: "order", Order: 1})
	return f
}

// TestEchoOfOwnSendNeverPauses: whatever Zalo puts in admin_id, the echo of
// a message the service sent (known by its msg_id) does not pause the bot;
// an agent's message (any other msg_id) does.
func TestEchoOfOwnSendNeverPauses(t *testing.T) {
	tests := []struct {
		name   string
		own    *fakeOwnSends
		echo   cnsbot.Event
		pauses bool
		log    string
	}{
		{
			name: "own send with admin_id",
			own:  &fakeOwnSends{ours: map[string]bool{"81d74a9cd71d6f473608": true}},
			echo: cnsbot.Event{Key: "81d74a9cd71d6f473608", AdminID: "7311123400998877665"},
			log:  "zalo sets sender.admin_id",
		},
		{
			name:   "agent message",
			own:    &fakeOwnSends{ours: map[string]bool{"81d74a9cd71d6f473608": true}},
			echo:   cnsbot.Event{Key: "0f1e2d3c4b5a69788796", AdminID: "7311123400998877665"},
			pauses: true,
		},
		{
			name: "own send recorded after its echo arrived",
			own:  &fakeOwnSends{late: map[string]int{"81d74a9cd71d6f473608": 3}},
			echo: cnsbot.Event{Key: "81d74a9cd71d6f473608", AdminID: "7311123400998877665"},
		},
		{
			name: "store down",
			own:  &fakeOwnSends{err: errors.New("redis: connection refused")},
			echo: cnsbot.Event{Key: "0f1e2d3c4b5a69788796", AdminID: "7311123400998877665"},
			log:  "cannot tell an echo",
		},
		{
			name: "no admin_id",
			own:  &fakeOwnSends{},
			echo: cnsbot.Event{Key: "0f1e2d3c4b5a69788796"},
		},
		{
			name: "agent message older than the pause",
			own:  &fakeOwnSends{},
			echo: cnsbot.Event{Key: "0f1e2d3c4b5a69788796", AdminID: "7311123400998877665", Time: t0.Add(-31 * time.Minute)},
		},
		{
			name:   "agent message without msg_id",
			own:    &fakeOwnSends{},
			echo:   cnsbot.Event{Key: "oa_send_text:1646843870823903717:1773133200000", AdminID: "7311123400998877665"},
			pauses: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			f := newEchoFixture(t, tt.own, &log)
			c := f.start(t, "u1")
			c.Say("order")
			ev := tt.echo
			ev.Name, ev.Kind, ev.Text = "oa_send_text", cnsbot.KindEcho, "Chào chị"
			if out := c.Do(ev); len(out) != 0 {
				t.Fatalf("echo replied: %v", out)
			}
			paused := c.Session().PausedUntil.After(f.clock.Now())
			if paused != tt.pauses {
				t.Errorf("paused: got %v, want %v", paused, tt.pauses)
			}
			out := c.Say("Lan")
			if replied := len(out) > 0; replied == tt.pauses {
				t.Errorf("next message answered: %v, want %v", replied, !tt.pauses)
			}
			if tt.log != "" && !strings.Contains(log.String(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, log.String())
			}
		})
	}
}

// TestEchoGraceIsBounded: an agent's message is not held longer than the
// grace waiting for an id that never comes.
func TestEchoGraceIsBounded(t *testing.T) {
	own := &fakeOwnSends{}
	f := newEchoFixture(t, own, &bytes.Buffer{})
	c := f.start(t, "u1")
	start := time.Now()
	c.Do(cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, Key: "0f1e2d3c4b5a69788796", AdminID: "a1"})
	if took := time.Since(start); took > time.Second {
		t.Errorf("echo took %v, want at most about the grace (300ms)", took)
	}
	if own.calls < 2 {
		t.Errorf("look-ups: got %d, want the id asked again during the grace", own.calls)
	}
}
