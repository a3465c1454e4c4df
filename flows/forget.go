package flows

import (
	"context"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// Forget drops everything the conversation's session knows of the person:
// the answers of any flow, the notes kept across flows, the language and
// the way back. What remains is the bookkeeping that keeps an event from
// being applied twice (its version and last event), which says nothing
// about the person and expires with the session. Handlers call it after
// erasing the person's data elsewhere, at their request.
func (c *Ctx) Forget() {
	c.endFlow()
	c.s.Notes = nil
	c.s.Lang = ""
}

// onUnfollow runs the handlers of an unfollow event. There is nobody to
// answer (Zalo refuses messages to someone who unfollowed) and nothing to
// change in the session, so no session is loaded or committed and
// anything a handler queues is dropped; handlers record the unfollow.
func (e *Engine) onUnfollow(ctx context.Context, ev cnsbot.Event) error {
	if len(e.handlers[cnsbot.KindUnfollow]) == 0 || ev.UserID == "" || !strings.HasPrefix(ev.Route, "u:") {
		return nil
	}
	c := e.newCtx(ctx, ev, &cnsbot.Session{Key: ev.Route})
	_, err := e.runHandlers(c, cnsbot.KindUnfollow)
	return err
}
