package team_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

func location(lat, lng float64) cnsbot.Event {
	return cnsbot.Event{Name: "user_send_location", Kind: cnsbot.KindMedia,
		Attachments: []cnsbot.Attachment{{Type: "location", Latitude: lat, Longitude: lng}}}
}

// TestResidentLocationsUnchanged: a resident's location is answered as it
// was before members' locations meant anything: attached to their open
// request, or the engine's "received" otherwise; and it is nobody's place.
func TestResidentLocationsUnchanged(t *testing.T) {
	run := func(opts options) (withRequest, without string, f *fixture) {
		f = newFixture(t, opts)
		withPlacedList(t, f)
		r := f.helpRequest(t, "2001", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
		// Codes are random: the transcripts compare with "{code}".
		withRequest = strings.ReplaceAll(flowstest.Render(f.chat(t, "2001").Do(location(9.1769, 105.1513)), "2001"), r.Code, "{code}")
		without = flowstest.Render(f.chat(t, "2002").Do(location(9.1769, 105.1513)), "2002")
		return withRequest, without, f
	}
	gotWith, gotWithout, f := run(options{})
	wantWith, wantWithout, _ := run(options{noPositions: true})
	if gotWith != wantWith || gotWithout != wantWithout {
		t.Errorf("residents' locations answered\n%s%s\nwant, as without positions,\n%s%s", gotWith, gotWithout, wantWith, wantWithout)
	}
	if !strings.Contains(gotWith, "{code}") || strings.Contains(gotWith+gotWithout, "📍") {
		t.Errorf("resident with a request got\n%s", gotWith)
	}
	if _, ok, err := f.db.SharedPlace(f.ctx, f.person(t, "0987654321").ID, f.clock.Now().Add(-time.Hour)); ok || err != nil {
		t.Errorf("a resident's location became a member's place (%v)", err)
	}
}

// TestGroupNearestFirst: a member's location shared in the team's group
// gets no reply; it goes on the visit she just confirmed there, and sorts
// her "#chuaden"; another member's stays by house number.
func TestGroupNearestFirst(t *testing.T) {
	f := newFixture(t, options{})
	withPlacedList(t, f)
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G-LINKED"); err != nil {
		t.Fatal(err)
	}
	g := f.group(t, "G-LINKED")
	// A report confirmed in the group, then her location: it goes on the
	// visit and number 8 gets its place, without a word in the group.
	g.Say(zMai, "#bc so 8, vneid, 1 nguoi, 15p")
	if got := flowstest.Texts(g.Say(zMai, "#ok")); !strings.Contains(got, "Võ Văn Sáu – 8") {
		t.Fatalf("group report: %s", got)
	}
	ev := location(9.1769, 105.1513)
	ev.Name, ev.UserID = "user_send_group_location", zMai
	if out := g.Do(ev); len(out) != 0 {
		t.Errorf("a location in the group got a reply: %s", flowstest.Texts(out))
	}
	hs, err := f.db.MatchHouseholds(f.ctx, f.team(t, "An Xuyên", "Ấp 1").HamletID, "8")
	if err != nil || len(hs) != 1 {
		t.Fatalf("number 8: %v %v", hs, err)
	}
	if h, _ := f.db.ListedHousehold(f.ctx, hs[0].ID); h.PlacedFrom != cnsbot.PlacedFromVisit {
		t.Errorf("number 8 placed from %q, want the group report's visit", h.PlacedFrom)
	}
	got := flowstest.Texts(g.Say(zMai, "#chuaden"))
	if !strings.Contains(got, "gần bạn nhất trước") || !strings.Contains(got, "1. Trần Văn Năm – 12 (~10 m)") {
		t.Errorf("Mai's #chuaden:\n%s", got)
	}
	got = flowstest.Texts(g.Say(zNgoc, "#chuaden"))
	if !strings.Contains(got, "theo số nhà") || strings.Contains(got, "📍") {
		t.Errorf("Ngọc's #chuaden:\n%s", got)
	}
}
