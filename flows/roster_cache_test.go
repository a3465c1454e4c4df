package flows_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

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

// TestRosterLookupRemembered checks that a resident's menus do not ask the
// roster each time, that the answer expires, and that enrolment in the chat
// forgets it at once.
func TestRosterLookupRemembered(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := &countingDirectory{}
	sessions, clock := flowstest.NewSessions(), flowstest.NewClock(t0)
	e := flows.NewEngine(sessions, texts, flows.Options{Now: clock.Now, Directory: dir, RosterCacheFor: 10 * time.Minute,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.MenuItem(flows.MenuItem{ID: "members", Label: "t.menu.order", Order: 1,
		Show: func(c *flows.Ctx) bool { return c.HasRole(cnsbot.RoleMember) },
		Run:  func(c *flows.Ctx) error { c.Reply("t.group"); return nil }})
	e.Command(flows.Command{Name: "enrol", Match: flows.Prefix("dang ky"), Run: func(c *flows.Ctx, _ string) (bool, error) {
		dir.mu.Lock()
		dir.enrolled = true
		dir.mu.Unlock()
		c.ForgetPerson()
		c.Reply("t.group")
		return true, nil
	}})
	chat := &flowstest.Chat{TB: t, Handler: e, Sessions: sessions, Clock: clock, UserID: "r1"}

	chat.Say("menu")
	chat.Say("menu")
	chat.Say("menu")
	if dir.lookups != 1 {
		t.Fatalf("three menus asked the roster %d times, want 1", dir.lookups)
	}
	clock.Advance(11 * time.Minute)
	chat.Say("menu")
	if dir.lookups != 2 {
		t.Fatalf("after the cache expired: %d lookups, want 2", dir.lookups)
	}
	chat.Say("đăng ký")
	chat.Say("menu")
	if dir.lookups != 3 {
		t.Fatalf("after enrolment: %d lookups, want 3 (the cache forgotten)", dir.lookups)
	}
	if got := chat.Session().Notes["not_on_roster"]; got != "" {
		t.Fatalf("enrolled member still noted as not on the roster (%q)", got)
	}
}
