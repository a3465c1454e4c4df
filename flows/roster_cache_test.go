package flows_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
)

// countingDirectory knows nobody, or one person once enrolled, and counts
// lookups.
type countingDirectory struct {
	mu       sync.Mutex
	lookups  int
	enrolled bool
}

func (d *countingDirectory) PersonByZalo(_ context.Context, id string) (cnsbot.Person, []cnsbot.Role, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookups++
	if !d.enrolled {
		return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.ENOTFOUND, "no one")
	}
	return cnsbot.Person{ID: 1, FullName: "Lê Văn Hùng"}, []cnsbot.Role{{Role: cnsbot.RoleMember, Approved: true}}, nil
}

// TestRosterLookupOncePerEvent checks that an event asks the roster once
// however many menu items want the person's roles, that the next event
// asks again (the Directory, not the session, knows who is on a roster),
// and that enrolment forgets the answer at once, so the confirmation
// already shows the members' menu.
func TestRosterLookupOncePerEvent(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := &countingDirectory{}
	sessions, clock := flowstest.NewSessions(), flowstest.NewClock(t0)
	e := flows.NewEngine(sessions, texts, flows.Options{Now: clock.Now, Directory: dir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for i, id := range []string{"members", "leaders"} {
		e.MenuItem(flows.MenuItem{ID: id, Label: "t.menu.order", Order: i + 1,
			Show: func(c *flows.Ctx) bool { ok, _ := c.HasRole(cnsbot.RoleMember); return ok },
			Run:  func(c *flows.Ctx) error { c.Reply("t.group"); return nil }})
	}
	e.Command(flows.Command{Name: "enrol", Match: flows.Prefix("dang ky"), Run: func(c *flows.Ctx, _ string) (bool, error) {
		if ok, _ := c.HasRole(cnsbot.RoleMember); ok {
			t.Error("a member before enrolling")
		}
		dir.mu.Lock()
		dir.enrolled = true
		dir.mu.Unlock()
		c.ForgetPerson()
		c.Menu("")
		return true, nil
	}})
	chat := &flowstest.Chat{TB: t, Handler: e, Sessions: sessions, Clock: clock, UserID: "r1"}

	chat.Say("menu")
	if dir.lookups != 1 {
		t.Fatalf("one menu with two member items asked the roster %d times, want 1", dir.lookups)
	}
	chat.Say("menu")
	if dir.lookups != 2 {
		t.Fatalf("second event: %d lookups, want 2", dir.lookups)
	}
	out := chat.Say("đăng ký")
	if dir.lookups != 4 {
		t.Fatalf("enrolment: %d lookups in all, want 4 (before and after the link)", dir.lookups)
	}
	if !hasButton(out, "members") {
		t.Fatalf("the menu after enrolment has no member item: %+v", out)
	}
}

// hasButton reports whether any message offers a button with payload id.
func hasButton(out []cnsbot.Outgoing, id string) bool {
	for _, m := range out {
		for _, b := range m.Buttons {
			if strings.Contains(b.Payload, id) {
				return true
			}
		}
	}
	return false
}
