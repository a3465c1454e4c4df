package reports

import (
	"slices"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// Private copies: when Zalo refuses a reminder or a notice because the
// person has not written to the OA for a while (-230, -232, -227), the
// sender posts it to the team's group when it has one and records the
// refusal with the message. When the person next writes, the window is
// open again, and this handler delivers the newest of those messages
// privately, ahead of the reply to what they wrote.
const (
	// maxCopies is how many copies one message of the person brings: the
	// newest. Older ones are skipped rather than delivered a few at a time
	// with every later message.
	maxCopies = 3
	// scanCopies bounds how many pending copies one event looks at.
	scanCopies = 20
	// copyPrefix starts a copy's message ID, which the delivery log keys
	// on; it is store.CopyPrefix.
	copyPrefix = "copy:"
)

// Reasons recorded for copies that are not sent.
const (
	reasonStale      = "out of date: the deadline passed or the report is in"
	reasonSuperseded = "superseded: newer messages were delivered instead"
)

// deliverCopies queues the private copies of the messages Zalo refused to
// the person who writes, with a short header. Its work is a convenience:
// a failing store is logged and the person's message handled as usual;
// the copies wait for their next message.
func (r *reports) deliverCopies(c *flows.Ctx) error {
	ctx, user := c.Context(), c.UserID()
	if user == "" || c.Event.IsGroup() {
		return nil
	}
	log := r.deps.Log.With("event", c.Event.Key)
	pending, err := r.deps.Copies.PendingCopies(ctx, user, scanCopies)
	if err != nil {
		log.WarnContext(ctx, "private copies not loaded", "err", err)
		return nil
	}
	var send []cnsbot.Outgoing
scan:
	for _, m := range pending {
		reason := ""
		switch {
		case len(send) == maxCopies:
			reason = reasonSuperseded
		case m.Purpose == "reminder":
			due, err := r.deps.Reminders.StillDue(ctx, m.ID, c.Now())
			if err != nil {
				// The rest wait for the person's next message.
				log.WarnContext(ctx, "private copy not checked", "id", m.ID, "err", err)
				break scan
			}
			if !due {
				reason = reasonStale
			}
		}
		if reason != "" {
			if err := r.deps.Copies.SkipCopy(ctx, m.ID, reason); err != nil {
				log.WarnContext(ctx, "private copy not skipped", "id", m.ID, "err", err)
			}
			continue
		}
		// Marked first: a copy queued twice would reach the person twice,
		// one never queued is offered again later.
		if err := r.deps.Copies.MarkCopyQueued(ctx, m.ID); err != nil {
			log.WarnContext(ctx, "private copy not marked", "id", m.ID, "err", err)
			continue
		}
		send = append(send, m)
	}
	if len(send) == 0 {
		return nil
	}
	c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: user}, Kind: cnsbot.MsgText,
		Text: r.deps.Texts.TN(c.Lang(), "reports.copies.header", len(send), nil), Purpose: "reply", Lang: c.Lang()})
	// The newest were chosen; they are told in the order they were sent.
	slices.Reverse(send)
	for _, m := range send {
		cp := m
		cp.ID = copyPrefix + m.ID
		cp.To = cnsbot.Recipient{UserID: user}
		// The group has had it already; and the copy answers the person's
		// own message, so it is a reply, which quiet hours do not hold.
		cp.FallbackGroup = ""
		cp.Purpose = "reply"
		c.Send(cp)
	}
	log.InfoContext(ctx, "private copies queued", "copies", len(send))
	return nil
}
