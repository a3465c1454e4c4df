package resident_test

import (
	"context"
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
	ctx := context.Background()
	req := cnsbot.HelpRequest{ResidentUserID: "r1", HamletID: 12, Problem: "Cài VNeID", SourceEvent: "e1"}
	if err := f.desk.CreateHelpRequest(ctx, &req); err != nil {
		t.Fatal(err)
	}
	c := f.chat(t, "r1")
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
	old := cnsbot.HelpRequest{ResidentUserID: "r2", HamletID: 12, Problem: "x", SourceEvent: "e2"}
	if err := f.desk.CreateHelpRequest(ctx, &old); err != nil {
		t.Fatal(err)
	}
	f.desk.CloseAt(old.Code, f.clock.Now().Add(-resident.RateWithin-1))
	c2 := f.chat(t, "r2")
	c2.Say("menu")
	if got := flowstest.Texts(c2.Say("3")); strings.Contains(got, "chấm điểm") || f.desk.Requests[1].Rating != 0 {
		t.Errorf("closed long ago: %q, want the menu's item", got)
	}
}
