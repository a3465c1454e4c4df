package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

func TestIsMenu(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name     string
		payloads []string
		want     bool
	}{
		{"the whole menu", []string{"#order", "#fruit", "#en"}, true},
		{"the menu in English", []string{"#order", "#fruit", "#vi"}, true},
		{"a page of a long menu", []string{"#order", "#fruit", "#them"}, true},
		{"a question offering two menu items", []string{"#order", "#fruit"}, false},
		{"menu items and a command", []string{"#order", "#fruit", "#menu"}, false},
		{"a choice list that pages", []string{"#nho", "#lon", "#them"}, false},
		{"not a payload", []string{"order", "#en"}, false},
		{"no buttons", nil, false},
	} {
		if got := f.engine.IsMenu(c.payloads); got != c.want {
			t.Errorf("%s %v: got %v, want %v", c.name, c.payloads, got, c.want)
		}
	}
}

// TestTranscriptMenuToken checks that a transcript shows the menu, every
// page of it, as one token, so that one more menu item leaves it as it was,
// while Render (which assertions use) keeps the buttons.
func TestTranscriptMenuToken(t *testing.T) {
	play := func(extra int) (transcript, rendered string) {
		f := newFixture(t)
		for i := range extra {
			f.engine.MenuItem(flows.MenuItem{ID: fmt.Sprintf("x%d", i), Label: "t.menu.x", Flow: "fruit", Order: 3 + i})
		}
		c := f.chat(t, "u1")
		var tr, r strings.Builder
		for _, in := range []string{"menu", "#them", "#fruit", "hủy"} {
			out := c.Say(in)
			tr.WriteString(flowstest.Transcript(out, "u1", f.engine))
			r.WriteString(flowstest.Render(out, "u1"))
		}
		return tr.String(), r.String()
	}
	before, beforeAll := play(4)
	after, afterAll := play(5)
	if beforeAll == afterAll {
		t.Fatalf("Render shows no new item:\n%s", afterAll)
	}
	if before != after {
		t.Errorf("a new menu item changed the transcript:\n%s\nwas\n%s", after, before)
	}
	// "menu", "More…" and "hủy" each end at a page of the menu.
	if n := strings.Count(after, "    [menu]\n"); n != 3 || strings.Contains(after, "#x") || strings.Contains(after, "#order") {
		t.Errorf("got %d [menu] tokens, want 3 and no menu buttons:\n%s", n, after)
	}
	// The fruit list pages too, and is not the menu.
	if !strings.Contains(after, "#f1") || !strings.Contains(after, "#them") {
		t.Errorf("the transcript hides a list that is not the menu:\n%s", after)
	}
}
