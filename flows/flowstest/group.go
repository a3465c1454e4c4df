package flowstest

import (
	"context"
	"fmt"
	"testing"

	"github.com/camau-cns/cnsbot"
)

// Group is a Zalo group's conversation with the bot: several people write
// in it, join it and leave it, and each event is handled as the queue
// would, on the group's route.
type Group struct {
	TB       testing.TB
	Handler  Handler
	Sessions *Sessions
	Clock    *Clock
	GroupID  string
	n        int
}

// Say sends a text message from userID to the group.
func (g *Group) Say(userID, text string) []cnsbot.Outgoing {
	return g.Do(cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, UserID: userID, Text: text})
}

// Join sends a user_join_group event for userID.
func (g *Group) Join(userID string) []cnsbot.Outgoing {
	return g.Do(cnsbot.Event{Name: "user_join_group", Kind: cnsbot.KindGroup, UserID: userID})
}

// Leave sends a user_out_group event for userID.
func (g *Group) Leave(userID string) []cnsbot.Outgoing {
	return g.Do(cnsbot.Event{Name: "user_out_group", Kind: cnsbot.KindGroup, UserID: userID})
}

// Photo sends an image from userID to the group.
func (g *Group) Photo(userID, url string) []cnsbot.Outgoing {
	return g.Do(cnsbot.Event{Name: "user_send_group_image", Kind: cnsbot.KindMedia, UserID: userID,
		Attachments: []cnsbot.Attachment{{Type: "image", URL: url}}})
}

// Do handles ev in the group, filling in its key, group, route and time,
// and returns the messages its commit added.
func (g *Group) Do(ev cnsbot.Event) []cnsbot.Outgoing {
	g.TB.Helper()
	g.n++
	if ev.Key == "" {
		ev.Key = fmt.Sprintf("%s-g%d", g.GroupID, g.n)
	}
	ev.GroupID = g.GroupID
	ev.Route = "g:" + g.GroupID
	if ev.Time.IsZero() && g.Clock != nil {
		ev.Time = g.Clock.Now()
	}
	before := len(g.Sessions.Outbox())
	if err := g.Handler.Handle(context.Background(), ev); err != nil {
		g.TB.Fatalf("handle %s %q in group: %v", ev.Name, ev.Text, err)
	}
	return g.Sessions.Outbox()[before:]
}

// Session returns the group's stored session.
func (g *Group) Session() cnsbot.Session { return g.Sessions.Get("g:" + g.GroupID) }
