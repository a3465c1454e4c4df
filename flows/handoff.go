package flows

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot"
)

// OwnSends tells whether a Zalo message id is one that Zalo returned for
// one of the service's own sends (store.SentIDs, filled by the bot's
// client). Zalo echoes everything the OA sends as oa_send_* events, and
// sender.admin_id marks a human agent writing from the OA chat tool; whether
// Zalo also sets it on messages sent through the API is not documented. The
// engine asks OwnSends before taking an echo for a human agent, so that the
// bot never pauses itself.
type OwnSends interface {
	SentByUs(ctx context.Context, msgID string) (bool, error)
}

// DefaultOwnSendGrace is how long the engine waits, for a fresh echo whose id
// is not known yet, for the sender to record it: Zalo may post the echo
// before its answer to the send reaches the service.
const DefaultOwnSendGrace = 2 * time.Second

// echoState is what the engine learns from echoes.
type echoState struct {
	adminOnOwn sync.Once
}

// agentEcho reports whether an echo is a human agent's message to a user,
// which pauses the bot for that user: it carries admin_id, is not in a group,
// is recent enough for a pause to matter, and its msg_id is not one the
// service sent. When that cannot be told (the store does not answer), the
// echo is taken for the bot's own: a missed pause lets the bot answer next
// to the agent; a wrong one silences it for nothing.
func (e *Engine) agentEcho(ctx context.Context, ev cnsbot.Event) bool {
	if ev.AdminID == "" || ev.IsGroup() || ev.UserID == "" {
		return false
	}
	if !ev.Time.IsZero() && e.opts.Now().Sub(ev.Time) >= e.opts.PauseFor {
		// The pause it asked for is already over (a re-sent or long-queued echo).
		return false
	}
	if e.opts.OwnSends == nil {
		return true
	}
	id := echoMsgID(ev)
	if id == "" {
		// No msg_id: admin_id is all there is to go by.
		return true
	}
	grace := e.opts.OwnSendGrace
	if grace <= 0 {
		grace = DefaultOwnSendGrace
	}
	start := time.Now()
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		ours, err := e.opts.OwnSends.SentByUs(ctx, id)
		if err != nil {
			e.log.WarnContext(ctx, "cannot tell an echo from a human agent's message; not pausing the bot", "err", err)
			return false
		}
		if ours {
			e.echoes.adminOnOwn.Do(func() {
				e.log.InfoContext(ctx, "zalo sets sender.admin_id on echoes of the bot's own API sends (recognised by msg_id, no pause)")
			})
			return false
		}
		fresh := ev.Time.IsZero() || e.opts.Now().Sub(ev.Time) < grace
		if !fresh || time.Since(start)+wait > grace {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// echoMsgID returns an echo's msg_id: the webhook keys oa_send_* events by
// their msg_id, and keys events without one as name:actor:timestamp.
func echoMsgID(ev cnsbot.Event) string {
	if ev.Key == "" || strings.Contains(ev.Key, ":") {
		return ""
	}
	return ev.Key
}
