package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// Inbound limits how many of one person's messages are handled in full,
// so that one person sending hundreds of messages does not take the send
// permits everyone else's answers need. Allow reports whether userID's
// next message may be handled; when it may not, tell is true for the first
// refusal of a while, when the person is told once to slow down. A store's
// per-user rate limit in Redis (store.InboundLimit) fits.
type Inbound interface {
	Allow(ctx context.Context, userID string) (ok, tell bool, err error)
}

// Message ids of the engine's own protective answers.
const (
	// slowDownID asks someone who writes too fast to wait a little.
	slowDownID = "common.slow_down"
	// sorryID tells someone that their message could not be handled.
	sorryID = "common.error.internal"
)

// throttled reports whether a person's message is over their inbound
// limit and must get no full handling. The first one over the limit for a
// while commits the session with one kind message (and so acknowledges
// the event with it); the others are acknowledged without a word.
func (e *Engine) throttled(ctx context.Context, ev cnsbot.Event, kind string, s *cnsbot.Session) (bool, error) {
	if e.opts.Inbound == nil || ev.UserID == "" || !strings.HasPrefix(ev.Route, "u:") ||
		e.opts.Now().Before(s.PausedUntil) {
		// While a person from the OA talks to them, the bot says nothing.
		return false, nil
	}
	switch kind {
	case cnsbot.KindText, cnsbot.KindMedia:
	default:
		// A follow, a shared phone number (user_submit_info): rare, and
		// each one matters.
		return false, nil
	}
	ok, tell, err := e.opts.Inbound.Allow(ctx, ev.UserID)
	if err != nil {
		return false, fmt.Errorf("inbound limit: %w", err)
	}
	if ok {
		return false, nil
	}
	e.log.InfoContext(ctx, "message over the person's inbound limit: not handled", "event", ev.Key, "told", tell)
	if !tell {
		return true, nil
	}
	c := e.newCtx(ctx, ev, s)
	c.Reply(c.T(slowDownID, nil))
	s.LastEvent = ev.Key
	s.UpdatedAt = c.now
	out := c.out
	for i := range out {
		out[i].ID = ev.Key + "/" + fmt.Sprint(i)
	}
	if err := e.sessions.Commit(ctx, *s, out); err != nil {
		return true, fmt.Errorf("commit session: %w", err)
	}
	return true, nil
}

// Apology returns the message that tells the person who sent an event
// that it could not be handled (the queue gave it up as dead after every
// attempt failed), in their language, or false when nobody is to be told:
// a group's event, an event not from a person, or a payload that is not an
// event. It fits store.QueueOptions.Apology. It reads the session only for
// the language, and falls back to Vietnamese when that fails, since the
// failure may be what made the event fail.
func (e *Engine) Apology(ctx context.Context, payload []byte) (cnsbot.Outgoing, bool) {
	var ev cnsbot.Event
	if err := json.Unmarshal(payload, &ev); err != nil || ev.UserID == "" || ev.IsGroup() ||
		!strings.HasPrefix(ev.Route, "u:") {
		return cnsbot.Outgoing{}, false
	}
	switch KindOf(ev.Name) {
	case cnsbot.KindText, cnsbot.KindMedia, cnsbot.KindSubmit, cnsbot.KindFollow:
	default:
		return cnsbot.Outgoing{}, false
	}
	lang := "vi"
	if s, err := e.sessions.Load(ctx, ev.Route); err == nil && s.Lang != "" {
		lang = s.Lang
	}
	return cnsbot.Outgoing{ID: ev.Key + "/sorry", To: cnsbot.Recipient{UserID: ev.UserID}, Kind: cnsbot.MsgText,
		Text: e.texts.T(lang, sorryID, nil), Purpose: "reply", Lang: lang}, true
}
