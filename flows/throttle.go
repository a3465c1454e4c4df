package flows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot"
)

// Inbound limits how many of one person's messages are handled in full,
// so that one person sending hundreds of messages does not take the send
// permits everyone else's answers need. Allow reports whether userID's
// next message may be handled; when it may not, tell is true for the first
// refusal of a while, when the person is told once to slow down.
// PersonLimit fits.
type Inbound interface {
	Allow(ctx context.Context, userID string) (ok, tell bool, err error)
}

// PersonLimit is an Inbound kept in this process's memory: perMinute
// messages a minute per person after a burst of burst (GCRA, the generic
// cell rate algorithm), and one "slow down" a minute. Memory is enough,
// and costs no round trip per event, because one replica at a time
// handles a person's events (the queue's partitions follow the route);
// when a partition moves to another replica, its people start there with
// a full burst. A Redis limit per event cost about a fifth of the
// throughput in the load test.
type PersonLimit struct {
	every, tolerance, tellEvery time.Duration

	mu        sync.Mutex
	people    map[string]*personRate
	nextSweep int
}

type personRate struct {
	tat  time.Time // the theoretical arrival time of the next message
	told time.Time // when the person was last told to slow down
}

// NewPersonLimit allows perMinute messages a minute per person, burst at
// once; perMinute <= 0 means no limit.
func NewPersonLimit(perMinute, burst int) *PersonLimit {
	l := &PersonLimit{tellEvery: time.Minute, people: map[string]*personRate{}, nextSweep: 1024}
	if perMinute > 0 {
		l.every = time.Minute / time.Duration(perMinute)
		l.tolerance = time.Duration(max(burst, 1)) * l.every
	}
	return l
}

// Allow counts one message of userID; see Inbound.
func (l *PersonLimit) Allow(_ context.Context, userID string) (ok, tell bool, err error) {
	if l.every == 0 {
		return true, false, nil
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.people[userID]
	if p == nil {
		if len(l.people) >= l.nextSweep {
			l.sweep(now)
		}
		p = &personRate{}
		l.people[userID] = p
	}
	tat := p.tat
	if tat.Before(now) {
		tat = now
	}
	if next := tat.Add(l.every); next.Sub(now) <= l.tolerance {
		p.tat = next
		return true, false, nil
	}
	if now.Sub(p.told) >= l.tellEvery {
		p.told = now
		return false, true, nil
	}
	return false, false, nil
}

// sweep forgets the people who could send a full burst again and were not
// told anything within the last minute: they are as if never seen.
func (l *PersonLimit) sweep(now time.Time) {
	for id, p := range l.people {
		if !p.tat.After(now) && now.Sub(p.told) >= l.tellEvery {
			delete(l.people, id)
		}
	}
	l.nextSweep = max(1024, 2*len(l.people))
}

// Message ids of the engine's own protective answers.
const (
	// slowDownID asks someone who writes too fast to wait a little.
	slowDownID = "common.slow_down"
	// sorryID tells someone that their message could not be handled.
	sorryID = "common.error.internal"
	// errorPrefix + an error code (cnsbot.E*) is the sentence for a chat
	// user whose event failed with that code.
	errorPrefix = "common.error."
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
// event. The sentence fits cause's code (common.error.invalid for
// EINVALID, …), common.error.internal for an error without one. It fits
// store.QueueOptions.Apology. It reads the session only for the language,
// and falls back to Vietnamese when that fails, since the failure may be
// what made the event fail.
func (e *Engine) Apology(ctx context.Context, payload []byte, cause error) (cnsbot.Outgoing, bool) {
	ev, err := e.decode(payload)
	if err != nil || ev.UserID == "" || ev.IsGroup() ||
		!strings.HasPrefix(ev.Route, "u:") {
		return cnsbot.Outgoing{}, false
	}
	switch ev.Kind {
	case cnsbot.KindText, cnsbot.KindMedia, cnsbot.KindSubmit, cnsbot.KindFollow:
	default:
		return cnsbot.Outgoing{}, false
	}
	lang := "vi"
	if s, err := e.sessions.Load(ctx, ev.Route); err == nil && s.Lang != "" {
		lang = s.Lang
	}
	id := sorryID
	if code := cnsbot.ErrorCode(cause); code != "" && e.texts.Has(lang, errorPrefix+code) {
		id = errorPrefix + code
	}
	return cnsbot.Outgoing{ID: ev.Key + "/sorry", To: cnsbot.Recipient{UserID: ev.UserID}, Kind: cnsbot.MsgText,
		Text: e.texts.T(lang, id, nil), Purpose: "reply", Lang: lang}, true
}
