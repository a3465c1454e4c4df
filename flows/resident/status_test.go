package resident_test

import (
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
)

// TestBareNumberRatesClosedRequest: the closing notice asks "chấm từ 1 đến
// 5"; a resident who types "5" rates the request instead of picking the
// menu's fifth item, but only for a request closed lately and not rated.
func TestBareNumberRatesClosedRequest(t *testing.T) {
	f := newFixture(t)
	// Each resident asks for a visit through the bot, as residents do.
	ask := func(c *flowstest.Chat) cnsbot.HelpRequest {
		t.Helper()
		for _, in := range []string{"#dennha", "#dongy", "#co", "Nguyễn Thị Lan", "0912 345 678", "tan thanh", "tan hoa",
			"máy không lên VNeID", "#sang", "#gui"} {
			c.Say(in)
		}
		if len(f.desk.Requests) == 0 {
			t.Fatal("no request made")
		}
		return f.desk.Requests[len(f.desk.Requests)-1]
	}
	c := f.chat(t, "r1")
	c.Say("menu")
	req := ask(c)
	c.Say("menu")
	if got := flowstest.Texts(c.Say("3")); strings.Contains(got, "chấm điểm") {
		t.Fatalf("open request: %q, want the menu's item, not a rating", got)
	}
	c.Say("menu")
	f.desk.CloseAt(req.Code, f.clock.Now().Add(-resident.RateWithin+1))
	if got := flowstest.Texts(c.Say("5 sao")); !strings.Contains(got, "đã chấm điểm") {
		t.Fatalf("after the closing notice, 5 sao: %q, want thanks for the rating", got)
	}
	if got := f.desk.Requests[0].Rating; got != 5 {
		t.Errorf("rating %d, want 5", got)
	}
	// Rated: the next "4" is the menu's again.
	if got := flowstest.Texts(c.Say("3")); strings.Contains(got, "chấm điểm") {
		t.Errorf("already rated: %q, want no second rating", got)
	}
	// Closed too long ago: the number is the menu's.
	c2 := f.chat(t, "r2")
	c2.Say("menu")
	old := ask(c2)
	f.desk.CloseAt(old.Code, f.clock.Now().Add(-resident.RateWithin-1))
	c2.Say("menu")
	if got := flowstest.Texts(c2.Say("3")); strings.Contains(got, "chấm điểm") || f.desk.Requests[1].Rating != 0 {
		t.Errorf("closed long ago: %q, want the menu's item", got)
	}
}
