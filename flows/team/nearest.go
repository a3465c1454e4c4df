package team

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// Positions keep where members stand and the places of households (a
// *store.DB), for "nhà chưa đến" nearest first. Optional: without them
// the round goes by house number only, and a member's location outside a
// report is left to the other handlers, as before.
type Positions interface {
	// SharePlace keeps where a member stands, replacing what they shared
	// before; SharedPlace returns it if shared at or after since.
	SharePlace(ctx context.Context, personID int64, p cnsbot.Place, at time.Time) error
	SharedPlace(ctx context.Context, personID int64, since time.Time) (cnsbot.Place, bool, error)
	// AttachVisitPlace puts the location on the member's latest visit
	// recorded since, if it has none (and on its listed household, if that
	// has none); ok is false when there is no such visit.
	AttachVisitPlace(ctx context.Context, personID int64, since time.Time, p cnsbot.Place) (cnsbot.VisitPlace, bool, error)
	// NearestUnvisited is UnvisitedHouseholds nearest to from first, the
	// households without a place after, by house number.
	NearestUnvisited(ctx context.Context, hamletID, assignedTo int64, from cnsbot.Place, offset, limit int) ([]cnsbot.ListedHousehold, int, error)
}

const (
	// defaultNearestFor is how long a shared location sorts a member's
	// round, unless Deps.NearestFor says otherwise: a morning's or an
	// afternoon's round.
	defaultNearestFor = 2 * time.Hour
	// visitPlaceWindow is how soon after recording a visit a location the
	// member shares goes on that visit: the member is still at the door,
	// or just left it.
	visitPlaceWindow = 5 * time.Minute
	// noteRoundFrom is the private chat's note of the point page one of
	// "nhà chưa đến" was sorted from and when ("lat,lng,unix seconds"),
	// so that "Thêm…" goes on in the same order even if the member shared
	// another location in between. It is the member's own location, in
	// their own session, and holds as long as a shared location does
	// (Deps.NearestFor): "chuaden 10" typed days later is by house number.
	noteRoundFrom = "round_from"
)

func (d Deps) nearestFor() time.Duration {
	if d.NearestFor <= 0 {
		return defaultNearestFor
	}
	return d.NearestFor
}

// sharedLocation returns the first usable location an event carries.
func sharedLocation(ev cnsbot.Event) (cnsbot.Place, bool) {
	for _, a := range ev.Attachments {
		if p := (cnsbot.Place{Lat: a.Latitude, Lng: a.Longitude}); a.Type == "location" && p.Valid() {
			return p, true
		}
	}
	return cnsbot.Place{}, false
}

// teamFlow reports whether a flow is one of the team's (or the menu),
// where a member's location is theirs to read. In a resident's form
// ("nhờ tổ đến nhà" asked for oneself) it stays the form's.
func teamFlow(name string) bool {
	switch name {
	case "", "menu", FlowVisit, FlowMember, FlowClose, FlowLink:
		return true
	}
	return false
}

// shareHere keeps where a member stands. It is a convenience, so a failure
// is logged (without the place) and the conversation goes on.
func (t *teamFlows) shareHere(c *flows.Ctx, personID int64, p cnsbot.Place) {
	if t.deps.Positions == nil {
		return
	}
	if err := t.deps.Positions.SharePlace(c.Context(), personID, p, c.Now()); err != nil {
		t.deps.log().WarnContext(c.Context(), "share place", "person", personID, "err", err)
	}
}

// memberLocation answers a location a member shares outside a visit
// report. Shared within visitPlaceWindow of recording a visit without one,
// it goes on that visit (and its household, if that has no place yet);
// either way it is where the member stands, which sorts "nhà chưa đến" for
// Deps.NearestFor. Residents' locations are not the team's: it leaves them
// to the residents' handler (attached to their request).
func (t *teamFlows) memberLocation(c *flows.Ctx) (bool, error) {
	p, ok := sharedLocation(c.Event)
	if !ok || t.deps.Positions == nil || !teamFlow(c.FlowName()) {
		return false, nil
	}
	m, ok, err := whoami(c)
	if err != nil || !ok {
		return false, err
	}
	ctx := c.Context()
	vp, attached, err := t.deps.Positions.AttachVisitPlace(ctx, m.person.ID, c.Now().Add(-visitPlaceWindow), p)
	if err != nil {
		return false, fmt.Errorf("attach visit place: %w", err)
	}
	t.shareHere(c, m.person.ID, p)
	var text string
	if attached {
		text = c.T("households.place.visit", map[string]any{"household": vp.Visit.Household, "placed": vp.Placed})
	} else {
		text = c.T("households.place.here", map[string]any{"hours": hoursText(c.Lang(), int(t.deps.nearestFor()/time.Minute))})
	}
	if f := c.FlowName(); f != "" && f != "menu" {
		c.Reprompt(text)
		return true, nil
	}
	c.Reply(text, c.Button("households.btn.unvisited", cmdUnvisited), c.Button("common.menu", "menu"))
	return true, nil
}

// groupLocation takes a location a member shares in the team's group as
// the private chat does (the visit just confirmed with "#ok", else where
// they stand, for their next "#chuaden"), but says nothing: in a group the
// bot speaks only when addressed.
func (t *teamFlows) groupLocation(c *flows.Ctx) error {
	p, ok := sharedLocation(c.Event)
	if !ok || t.deps.Positions == nil {
		return nil
	}
	m, ok, err := whoami(c)
	if err != nil || !ok {
		return err
	}
	if _, _, err := t.deps.Positions.AttachVisitPlace(c.Context(), m.person.ID, c.Now().Add(-visitPlaceWindow), p); err != nil {
		return fmt.Errorf("attach visit place: %w", err)
	}
	t.shareHere(c, m.person.ID, p)
	return nil
}

// roundFrom returns the point a page of the round is sorted from, ok false
// for the house-number order. Page one uses the member's location if they
// shared it within Deps.NearestFor; in the private chat, the pages after
// it use the point page one used (noteRoundFrom), so that the order holds.
// The group has no note of one member's: there each page asks again.
func (t *teamFlows) roundFrom(c *flows.Ctx, personID int64, offset int, group bool) (cnsbot.Place, bool, error) {
	if t.deps.Positions == nil || personID == 0 {
		return cnsbot.Place{}, false, nil
	}
	if !group && offset > 0 {
		p, ok := parseRoundFrom(c.Note(noteRoundFrom), c.Now().Add(-t.deps.nearestFor()))
		return p, ok, nil
	}
	p, ok, err := t.deps.Positions.SharedPlace(c.Context(), personID, c.Now().Add(-t.deps.nearestFor()))
	if err != nil {
		return cnsbot.Place{}, false, fmt.Errorf("shared place: %w", err)
	}
	if !group {
		note := ""
		if ok {
			note = strconv.FormatFloat(p.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(p.Lng, 'f', -1, 64) +
				"," + strconv.FormatInt(c.Now().Unix(), 10)
		}
		c.SetNote(noteRoundFrom, note)
	}
	return p, ok, nil
}

// parseRoundFrom reads noteRoundFrom: the point, if the note was written
// after since. A note without its time (written before notes had one) is
// as old as can be.
func parseRoundFrom(note string, since time.Time) (cnsbot.Place, bool) {
	f := strings.Split(note, ",")
	if len(f) != 3 {
		return cnsbot.Place{}, false
	}
	at, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || time.Unix(at, 0).Before(since) {
		return cnsbot.Place{}, false
	}
	var p cnsbot.Place
	var err1, err2 error
	p.Lat, err1 = strconv.ParseFloat(f[0], 64)
	p.Lng, err2 = strconv.ParseFloat(f[1], 64)
	return p, err1 == nil && err2 == nil && p.Valid()
}

// distanceText writes a distance as a member reads it: "~350 m" to the
// nearest ten metres, "~1,2 km" (Vietnamese decimal comma) from a
// kilometre.
func distanceText(c *flows.Ctx, metres float64) string {
	if metres < 995 {
		return c.T("households.nearest.m", map[string]any{"n": max(10, int(math.Round(metres/10))*10)})
	}
	km := strconv.FormatFloat(math.Round(metres/100)/10, 'f', 1, 64)
	if c.Lang() != "en" {
		km = strings.Replace(km, ".", ",", 1)
	}
	return c.T("households.nearest.km", map[string]any{"n": km})
}
