package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// TestOneClockForSessions runs the engine on the real queue with a demo
// clock set weeks ahead of the wall clock and moved in the middle of a
// form. The session's stamp follows the engine's clock, so answering the
// next question is not taken for coming back after a while ("Làm tiếp?").
func TestOneClockForSessions(t *testing.T) {
	for name, open := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := open(t)
			q := newQueue(t, rdb, store.QueueOptions{Prefix: prefix})
			texts, err := locales.New()
			if err != nil {
				t.Fatal(err)
			}
			clock := flowstest.NewClock(time.Now().Add(30 * 24 * time.Hour))
			e := flows.NewEngine(q, texts, flows.Options{Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			e.Register(&flows.Flow{Name: "form", Title: "flows.menu.name", Resumable: true, Steps: []*flows.Step{
				{Name: "a", Ask: "t.ask.a", Input: flows.InputText, Save: "a"},
				{Name: "b", Ask: "t.ask.b", Input: flows.InputText, Save: "b"},
				{Name: "c", Ask: "t.ask.c", Input: flows.InputText, Save: "c"},
			}})
			e.MenuItem(flows.MenuItem{ID: "form", Label: "common.menu", Flow: "form"})
			ctx := context.Background()
			say := func(i int, text string) {
				t.Helper()
				ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "clock-" + string(rune('a'+i)),
					Route: "u:clock", UserID: "clock", Text: text, Time: clock.Now()}
				if err := e.Handle(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			say(0, "#form")
			say(1, "một")
			clock.Advance(5 * time.Minute) // the demo clock moves mid-form
			say(2, "hai")
			s, err := q.Load(ctx, "u:clock")
			if err != nil {
				t.Fatal(err)
			}
			if s.Step != "c" || s.Data["a"] != "một" || s.Data["b"] != "hai" {
				t.Errorf("at %s with b=%q: the answer was taken for a return after a while", s.Step, s.Data["b"])
			}
			if !s.UpdatedAt.Equal(clock.Now().UTC()) {
				t.Errorf("session stamped %v, want the engine's clock %v", s.UpdatedAt, clock.Now().UTC())
			}
		})
	}
}
