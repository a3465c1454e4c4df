package flowstest

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// globalCase is one global command tried at a step, and what must follow.
type globalCase struct {
	input string
	check func(before, after cnsbot.Session, out []cnsbot.Outgoing) error
}

func atMenu(_, after cnsbot.Session, out []cnsbot.Outgoing) error {
	if after.Flow != "" || after.Step != "" {
		return fmt.Errorf("at %s/%s, want the main menu", after.Flow, after.Step)
	}
	if len(out) == 0 || len(out[len(out)-1].Buttons) == 0 {
		return fmt.Errorf("no menu buttons in %q", Texts(out))
	}
	return nil
}

func wentBack(before, after cnsbot.Session, out []cnsbot.Outgoing) error {
	if len(out) == 0 {
		return fmt.Errorf("no reply")
	}
	if len(before.History) == 0 {
		return atMenu(before, after, out)
	}
	if after.Flow != before.Flow || after.Step != before.History[len(before.History)-1] {
		return fmt.Errorf("at %s/%s, want %s/%s", after.Flow, after.Step, before.Flow, before.History[len(before.History)-1])
	}
	if len(after.History) != len(before.History)-1 {
		return fmt.Errorf("history %v, want %v", after.History, before.History[:len(before.History)-1])
	}
	return nil
}

var globalCases = []globalCase{
	{"hủy", atMenu}, {"#huy", atMenu}, {"huỷ bỏ", atMenu},
	{"menu", atMenu}, {"#menu", atMenu}, {"Menu", atMenu},
	{"quay lại", wentBack}, {"#quaylai", wentBack}, {"quay lai", wentBack},
}

// EveryStep checks that cancel, back and menu work at every step of every
// flow the engine has, typed or tapped. Each step is entered with data as
// its answers so far and the step before it (in declaration order) as its
// history. The flows come from the engine, so a new flow or step is tested
// without naming it here.
func EveryStep(t *testing.T, e *flows.Engine, sessions *Sessions, data map[string]string, now time.Time) {
	t.Helper()
	n := 0
	for _, f := range e.Flows() {
		for i, st := range f.Steps {
			for _, gc := range globalCases {
				name := fmt.Sprintf("%s/%s/%s", f.Name, st.Name, gc.input)
				n++
				user := fmt.Sprintf("u-every-%d", n)
				t.Run(name, func(t *testing.T) {
					before := cnsbot.Session{Key: "u:" + user, Flow: f.Name, Step: st.Name,
						Data: maps.Clone(data), LastEvent: "setup", Version: 3, UpdatedAt: now}
					if f.Name == "menu" {
						before.Flow, before.Step = "", ""
					}
					if i > 0 {
						before.History = []string{f.Steps[i-1].Name}
					}
					sessions.Put(before)
					out, err := handle(e, sessions, cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k-" + name,
						Route: "u:" + user, UserID: user, Text: gc.input, Time: now})
					if err != nil {
						t.Fatalf("handle: %v", err)
					}
					after := sessions.Get("u:" + user)
					if err := gc.check(before, after, out); err != nil {
						t.Errorf("%s at %s/%s: %v\n%s", gc.input, f.Name, st.Name, err, Render(out, user))
					}
				})
			}
		}
	}
}

// handle runs one event through e and returns the messages it committed.
func handle(e *flows.Engine, s *Sessions, ev cnsbot.Event) ([]cnsbot.Outgoing, error) {
	before := len(s.Outbox())
	if err := e.Handle(context.Background(), ev); err != nil {
		return nil, err
	}
	return s.Outbox()[before:], nil
}
