package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/camau-cns/cnsbot"
)

// SentLog remembers the message ids Zalo returns for the service's own
// messages. Zalo echoes every message an OA sends as an oa_send_* event,
// and whether it marks the service's own API sends with sender.admin_id
// (as it marks a human agent's) is not documented: the flows tell the two
// apart by these ids, so that the bot never pauses itself for a user.
type SentLog interface {
	RememberSent(ctx context.Context, to cnsbot.Recipient, msgID string) error
}

// rememberTimeout bounds the write of one id: a slow store must not hold
// up the outbox for long, and a lost id costs at most a needless pause
// (see flows.OwnSends for why it does not).
const rememberTimeout = 500 * time.Millisecond

// RememberSends makes c record in l the id of every message it sends to a
// user (group echoes never pause anyone). Call it before the first send.
// Errors are logged (at most once a minute), never returned: the message
// was sent.
func (c *Client) RememberSends(l SentLog, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.sent = &sentRecorder{log: l, logger: log}
}

type sentRecorder struct {
	log    SentLog
	logger *slog.Logger
	warned atomic.Int64 // unix nanoseconds of the last warning
}

// remember records id in the background. Zalo accepted the message: until
// the outbox acknowledges it, a crash makes the restarted service send it
// again (Zalo has no idempotency key), so nothing is added to that window;
// an echo that overtakes the write is waited for (flows.OwnSendGrace).
func (r *sentRecorder) remember(ctx context.Context, to cnsbot.Recipient, id string) {
	if r == nil || id == "" || to.UserID == "" {
		return
	}
	// Recorded even if the caller's context is about to end.
	ctx = context.WithoutCancel(ctx)
	go r.write(ctx, to, id)
}

func (r *sentRecorder) write(ctx context.Context, to cnsbot.Recipient, id string) {
	ctx, cancel := context.WithTimeout(ctx, rememberTimeout)
	defer cancel()
	err := r.log.RememberSent(ctx, to, id)
	if err == nil {
		return
	}
	now := time.Now().UnixNano()
	if last := r.warned.Load(); now-last > int64(time.Minute) && r.warned.CompareAndSwap(last, now) {
		r.logger.Warn("cannot record the id of a message the bot sent; its echo will not pause the bot, but cannot be told from a human agent's", "err", err)
	}
}
