package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
)

// BulkLimiter is optionally implemented by a Limiter (store.Limiter does)
// that has a lane below pushes for officers' announcements; without it an
// announcement waits as a push.
type BulkLimiter interface {
	WaitBulk(ctx context.Context) error
}

// Limiter paces outgoing calls; one limit is shared by all replicas.
// Wait is for a reply to someone who just wrote, WaitPush for a push
// (a reminder, a notification, an announcement): a push gets a permit only
// when no reply is waiting for one, so a burst of pushes never holds a
// conversation up for longer than a permit's interval.
type Limiter interface {
	Wait(ctx context.Context) error
	WaitPush(ctx context.Context) error
}

// DeliveryLog records what became of each outgoing message.
type DeliveryLog interface {
	Delivered(ctx context.Context, m cnsbot.Outgoing, zaloMsgID string) error
	Undeliverable(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error
	Held(ctx context.Context, m cnsbot.Outgoing, until time.Time, reason string) error
}

// FallbackLog is optionally implemented by a DeliveryLog (store.DB does)
// that records a message posted to its fallback group, with the code and
// reason of the recipient's refusal. Without it the Sender calls Delivered
// with the message's To set to the group, so that the log says where the
// message actually went.
type FallbackLog interface {
	Fallback(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error
}

// Purposes of outgoing messages that are pushes, not replies: they are
// never sent during quiet hours.
const (
	PurposeReply    = "reply"
	PurposeNotify   = "notify"
	PurposeReminder = "reminder"
	// PurposeAnnounce is an officer's announcement (announce.Purpose).
	PurposeAnnounce = "announce"
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Location is where quiet hours are counted, Asia/Ho_Chi_Minh. When nil,
	// a fixed UTC+7 zone is used (Vietnam has no daylight saving), so the
	// library does not depend on the system's time zone database.
	Location *time.Location
	// QuietStart and QuietEnd are the hours (local) between which no push is
	// sent: 22 and 6 when both are zero.
	QuietStart, QuietEnd int
	// NoQuiet sends pushes at any hour. Zalo holds only promotional sends at
	// night (-234); consultation and group messages go 24/24, so the quiet
	// night is the operator's courtesy to choose, not a rule.
	NoQuiet bool

	// Texts words the plain-text forms of a refused list or form (the
	// "type 1, 2 or 3" line) in the recipient's language; locales.Bundle
	// is one. Nil leaves those lines out.
	Texts Texts
	// Capabilities remembers, for every replica and the next start, which
	// message kinds the OA's Zalo refuses (nil: learn nothing, try always).
	Capabilities CapabilityStore
	// RetryRefused is how long a refused kind is not tried again
	// (DefaultRetryRefused when zero).
	RetryRefused time.Duration
	// Pictures are the guides' pictures, for MsgImage messages; nil sends
	// none (the step's text goes alone).
	Pictures Pictures
	// InfoImageURL is the image of request_user_info forms that come
	// without one; Zalo's v3 page requires it. Empty: such forms are asked
	// as text instead.
	InfoImageURL string
	// UserQuotaHold is how long a message refused for the recipient's own
	// quota (-218) waits (default 1 h).
	UserQuotaHold time.Duration
	// SetupHold is how long messages wait after an OA setup fault (-209,
	// -212, -221, -223, -224) before they are tried again (default 15 min).
	SetupHold time.Duration
	// OnSent, when set, is called with the ids Zalo returned for every
	// message (or part, or fallback post) this Sender got accepted, e.g. to
	// tell the service's own sends from a human agent's in oa_send_* echoes.
	OnSent func(ctx context.Context, m cnsbot.Outgoing, zaloMsgIDs []string)
	// OnSetupCleared, when set, is called once Zalo accepts a message
	// after an OA setup fault this Sender saw: the messages held for it
	// (reasons SetupReasons) can go now instead of at the end of their
	// SetupHold.
	OnSetupCleared func(ctx context.Context)
	// OnUndeliverable, when set, is called once a message is recorded as
	// undeliverable, so that a person who wrote it hears that it did not
	// arrive (a relayed answer to a resident outside the messaging
	// window, say).
	OnUndeliverable func(ctx context.Context, m cnsbot.Outgoing, code int, reason string)
	// TransactionReminders (REMINDER_CHANNEL=transaction) sends a reminder
	// that Zalo refused for the 7-day window as a transaction message,
	// before the group fallback.
	TransactionReminders bool
	// CommandPayloads are button payloads that are commands valid at any
	// step (the next page, the share form), not a step's choices: a
	// refused list shows them as commands to type, never as numbers.
	CommandPayloads []string
	// OptedOut, when set, reports whether a person said "dừng nhận tin":
	// an announcement queued for them before they said it is not sent but
	// recorded as undeliverable (code 0, reason "opted_out"). Asked for
	// announcements only, at the moment each is sent, so that the word is
	// honoured by every replica however long the announcement waited.
	OptedOut func(ctx context.Context, userID string) (bool, error)
}

// Texts is the message catalogue (locales.Bundle).
type Texts interface {
	T(lang, id string, data map[string]any) string
}

// Sender delivers outgoing messages with Zalo's rules: it paces calls,
// retries what is transient (by returning the error to the queue), holds
// pushes at night, records what cannot be delivered and falls back to a
// group when a person is out of reach.
//
// Idempotency: the queue may call Deliver again for the same message (a
// retry, or after a crash). Within one process the Sender remembers what
// was already sent for a message ID (the parts of a split text, a message
// whose log write failed) and does not send it again. A crash between
// Zalo's answer and the delivery log write, or a retry on another replica
// after one, can still resend the message: Zalo has no idempotency key, so
// that window cannot be closed from this side. The queue must not call
// Deliver concurrently for the same message ID (it delivers a partition's
// outbox in order, one message at a time).
type Sender struct {
	c      *Client
	lim    Limiter
	dlog   DeliveryLog
	cfg    SenderConfig
	logger *slog.Logger
	m      *Metrics

	caps     *capabilities
	commands map[string]bool // SenderConfig.CommandPayloads

	mu       sync.Mutex
	progress map[string]*progress
	// setupCode and setupSince describe an OA setup fault (zero when none);
	// setupClears counts the faults cleared.
	setupCode            int
	setupSince, setupLog time.Time
	setupClears          uint64
}

// progress is what was already done for one message ID.
type progress struct {
	parts    int      // text parts sent to the recipient
	ids      []string // their Zalo ids
	sent     bool     // the whole message went out (only the log write is left)
	fallback bool     // it went to the fallback group
	code     int      // the code that caused the fallback
	reason   string
	touched  time.Time
	// plain is set once a list or form is being sent as plain text instead;
	// plainParts counts its parts sent.
	plain      bool
	plainText  string
	plainParts int
}

// Progress entries are dropped when their message is done with; the sweep
// drops those of messages this replica stopped seeing (the queue gave up,
// or another replica took the partition).
const (
	progressSweepAt = 1024
	progressMaxAge  = time.Hour
)

// NewSender returns a Sender. lim may be nil (no pacing); logger and m may be nil.
func NewSender(c *Client, lim Limiter, log DeliveryLog, cfg SenderConfig, logger *slog.Logger, m *Metrics) *Sender {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("ICT", 7*3600)
	}
	if cfg.QuietStart == 0 && cfg.QuietEnd == 0 {
		cfg.QuietStart, cfg.QuietEnd = 22, 6
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserQuotaHold <= 0 {
		cfg.UserQuotaHold = time.Hour
	}
	if cfg.SetupHold <= 0 {
		cfg.SetupHold = 15 * time.Minute
	}
	commands := make(map[string]bool, len(cfg.CommandPayloads))
	for _, p := range cfg.CommandPayloads {
		commands[p] = true
	}
	return &Sender{c: c, lim: lim, dlog: log, cfg: cfg, logger: logger, m: m, progress: map[string]*progress{},
		caps: newCapabilities(cfg.Capabilities, cfg.RetryRefused, cfg.Now), commands: commands}
}

// Deliver sends m. It returns nil when m is done with (delivered, held for
// the morning, or recorded as undeliverable) and an error when the queue
// should keep it and retry later (see RetryDelay for a hint).
func (s *Sender) Deliver(ctx context.Context, m cnsbot.Outgoing) error {
	p := s.begin(m.ID)
	if !p.sent && isPush(m) && s.quiet(s.cfg.Now()) {
		return s.hold(ctx, m, "quiet_hours")
	}
	if !p.sent && m.Purpose == PurposeAnnounce && m.To.UserID != "" && s.cfg.OptedOut != nil {
		out, err := s.cfg.OptedOut(ctx, m.To.UserID)
		if err != nil {
			s.count("retry")
			return fmt.Errorf("deliver: opt-out: %w", err)
		}
		if out {
			return s.undeliverable(ctx, m, 0, "opted_out")
		}
	}
	if !p.sent {
		if s.lim != nil {
			wait := s.lim.Wait
			if !isReply(m) {
				wait = s.lim.WaitPush
			}
			if b, ok := s.lim.(BulkLimiter); ok && m.Purpose == PurposeAnnounce {
				wait = b.WaitBulk
			}
			if err := wait(ctx); err != nil {
				s.count("retry")
				return fmt.Errorf("deliver: rate limiter: %w", err)
			}
		}
		if err := s.send(ctx, m, p); err != nil {
			return s.failed(ctx, m, p, err)
		}
		p.sent = true
		s.setupCleared(ctx)
	}
	if p.fallback {
		// Only the record of an earlier fallback failed: write it again.
		return s.fallbackDone(ctx, m, p)
	}
	if !logged(m) {
		// A plain reply to someone who just wrote needs no record: the
		// log is for pushes officers follow up and for failures, and a
		// database write per reply would dominate the hot path.
		s.finish(m.ID)
		s.count("ok")
		return nil
	}
	if err := s.dlog.Delivered(ctx, m, firstID(p.ids)); err != nil {
		// Sent but not recorded: keep the message so that the write is
		// retried; p.sent stops a second send.
		s.count("error")
		return fmt.Errorf("deliver: record delivered: %w", err)
	}
	s.finish(m.ID)
	s.count("ok")
	return nil
}

// send sends the whole message, resuming a split text after its last
// part sent. A list or a form that Zalo refuses (or is known to refuse) is
// sent as plain text the person can answer by typing, never dropped.
func (s *Sender) send(ctx context.Context, m cnsbot.Outgoing, p *progress) error {
	if p.plain {
		return s.sendPlain(ctx, m, p, "")
	}
	switch {
	case m.Kind == cnsbot.MsgList && m.To.UserID != "":
		if s.caps.refused(ctx, FeatureList) {
			return s.sendPlain(ctx, m, p, "known_refused")
		}
		full := m
		if lead, title := splitListTitle(m.Text); lead != "" {
			// A long title goes first as text, then the buttons under its
			// last line; p.parts resumes after the text on a retry.
			if p.parts == 0 {
				if err := s.sendTextParts(ctx, m, lead, p); err != nil {
					return err
				}
			}
			m.Text = title
		}
		ids, err := s.c.Send(ctx, m)
		p.ids = append(p.ids, ids...)
		s.sentIDs(ctx, m, ids)
		if refusedShape(err) {
			s.learn(ctx, FeatureList, err)
			if p.parts > 0 {
				// The lead is out already: only the title goes with the options.
				full = m
			}
			return s.sendPlain(ctx, full, p, "refused")
		}
		if err == nil {
			s.learn(ctx, FeatureList, nil)
		}
		return err
	case m.Kind == cnsbot.MsgImage:
		return s.sendImage(ctx, m, p)
	case m.Kind == cnsbot.MsgRequestInfo:
		m = s.formShape(m)
		if m.ImageURL == "" {
			return s.sendPlain(ctx, m, p, "no_image")
		}
		if s.caps.refused(ctx, FeatureRequestInfo) {
			return s.sendPlain(ctx, m, p, "known_refused")
		}
		ids, err := s.c.Send(ctx, m)
		p.ids = append(p.ids, ids...)
		s.sentIDs(ctx, m, ids)
		if refusedShape(err) {
			s.learn(ctx, FeatureRequestInfo, err)
			return s.sendPlain(ctx, m, p, "refused")
		}
		if err == nil {
			s.learn(ctx, FeatureRequestInfo, nil)
		}
		return err
	case m.Kind != cnsbot.MsgText && m.Kind != "":
		ids, err := s.c.Send(ctx, m)
		p.ids = append(p.ids, ids...)
		s.sentIDs(ctx, m, ids)
		return err
	}
	if m.Text == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty text")
	}
	return s.sendTextParts(ctx, m, m.Text, p)
}

// sentIDs reports the ids of what Zalo just accepted to OnSent, at once,
// so that a message whose later part fails still has its earlier parts'
// ids known.
func (s *Sender) sentIDs(ctx context.Context, m cnsbot.Outgoing, ids []string) {
	if s.cfg.OnSent != nil && len(ids) > 0 {
		s.cfg.OnSent(ctx, m, ids)
	}
}

// refusedShape reports whether Zalo refused what was sent rather than
// whom it went to or when: -201 (a field is invalid), or a code this
// service does not know (-233 and the like). Sent as text, it goes through.
func refusedShape(err error) bool {
	return err != nil && Classify(err) == ClassBug && Code(err) != 0
}

// learn records Zalo's verdict on feature (err nil: accepted) and counts
// and logs a refusal.
func (s *Sender) learn(ctx context.Context, feature string, err error) {
	code := Code(err)
	if rerr := s.caps.record(ctx, feature, code); rerr != nil {
		s.logger.Warn("capability not saved", "feature", feature, "err", rerr)
	}
	if err != nil {
		s.logger.Warn("zalo refused a message kind; sending it as text", "feature", feature, "code", code,
			"reason", Reason(err))
	}
}

// sendPlain sends m (a list or a form) as text, resuming after its last
// part sent. reason is counted the first time ("" on a resumed send).
func (s *Sender) sendPlain(ctx context.Context, m cnsbot.Outgoing, p *progress, reason string) error {
	if !p.plain {
		p.plain = true
		feature := FeatureList
		if m.Kind == cnsbot.MsgRequestInfo {
			feature = FeatureRequestInfo
			p.plainText = FormAsText(s.cfg.Texts, m)
		} else {
			p.plainText = ListAsNumbered(s.cfg.Texts, m, s.commands)
		}
		if s.m != nil && reason != "" {
			s.m.Degraded.WithLabelValues(feature, reason).Inc()
		}
	}
	parts := SplitText(p.plainText, MaxTextLen)
	for p.plainParts < len(parts) {
		ids, err := s.c.SendText(ctx, m.To, parts[p.plainParts])
		if err != nil {
			return err
		}
		p.ids = append(p.ids, ids...)
		s.sentIDs(ctx, m, ids)
		p.plainParts++
	}
	return nil
}

// Zalo's v3 limits of a request_user_info element.
const (
	MaxFormTitle    = 100
	MaxFormSubtitle = 500
)

// formShape makes m a form as Zalo's v3 page documents it: one element
// with title (≤100), subtitle (≤500) and image_url all present.
func (s *Sender) formShape(m cnsbot.Outgoing) cnsbot.Outgoing {
	m.Text = truncate(strings.TrimSpace(m.Text), MaxFormTitle)
	m.Subtitle = truncate(strings.TrimSpace(m.Subtitle), MaxFormSubtitle)
	if m.Subtitle == "" {
		m.Subtitle = m.Text
	}
	if m.ImageURL == "" {
		m.ImageURL = s.cfg.InfoImageURL
	}
	return m
}

// truncate cuts s to at most n characters, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// sendTextParts sends text split at MaxTextLen, from part p.parts on.
func (s *Sender) sendTextParts(ctx context.Context, m cnsbot.Outgoing, text string, p *progress) error {
	parts := SplitText(text, MaxTextLen)
	for p.parts < len(parts) {
		ids, err := s.c.SendText(ctx, m.To, parts[p.parts])
		if err != nil {
			return err
		}
		p.ids = append(p.ids, ids...)
		s.sentIDs(ctx, m, ids)
		p.parts++
	}
	return nil
}

// MaxListTitle is the longest list-template title sent as it is. Zalo's
// limit is not documented where we could read it (unsure); community code
// keeps titles to about 100 characters, so longer ones are split.
const MaxListTitle = 100

// splitListTitle returns ("", text) when text fits a list title. Otherwise
// it returns the text to send first and a title for the list: the last line
// when it fits, else the last sentence when it fits, else listPointer, so
// that no words are ever shown twice.
func splitListTitle(text string) (lead, title string) {
	if utf8.RuneCountInString(text) <= MaxListTitle {
		return "", text
	}
	trimmed := strings.TrimSpace(text)
	if i := strings.LastIndexByte(trimmed, '\n'); i > 0 {
		last := strings.TrimSpace(trimmed[i+1:])
		if listItem(last) {
			// The text ends with a list ("1. VNeID … 10. Khác", "• HT…"):
			// its last item as the card's big title would read as the
			// question, and set it apart from the items before it.
			return trimmed, listPointer
		}
		if last != "" && utf8.RuneCountInString(last) <= MaxListTitle {
			return strings.TrimSpace(trimmed[:i]), last
		}
	}
	// The last sentence: after the last ". ", "! " or "? " that leaves a
	// sentence short enough.
	for end := len(trimmed); ; {
		i := strings.LastIndexAny(trimmed[:end], ".!?")
		if i <= 0 {
			break
		}
		if i+1 < len(trimmed) && trimmed[i+1] == ' ' {
			last := strings.TrimSpace(trimmed[i+1:])
			if utf8.RuneCountInString(last) > MaxListTitle {
				break
			}
			if last != "" {
				return strings.TrimSpace(trimmed[:i+1]), last
			}
		}
		end = i
	}
	return trimmed, listPointer
}

// listItem reports whether a line is an item of a list: "• …", "- …",
// "1. …", "10) …".
func listItem(line string) bool {
	for _, p := range []string{"•", "- ", "* ", "– ", "◦"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 0 && i < len(line) && (line[i] == '.' || line[i] == ')')
}

// listPointer is the title of a list whose text went before it: a pointing
// hand, which needs no translation.
const listPointer = "👇"

// failed decides what a send error means for m.
func (s *Sender) failed(ctx context.Context, m cnsbot.Outgoing, p *progress, err error) error {
	code, reason := Code(err), Reason(err)
	switch class := Classify(err); class {
	case ClassNight:
		return s.hold(ctx, m, reason)
	case ClassPermanent:
		if s.cfg.TransactionReminders && m.Purpose == PurposeReminder && m.To.UserID != "" && p.parts == 0 &&
			reason == "outside_window" {
			if done, err := s.viaTransaction(ctx, m, p, code, reason); done {
				return err
			}
		}
		if m.FallbackGroup != "" && m.To.UserID != "" && m.Kind != cnsbot.MsgRequestInfo && p.parts == 0 {
			return s.fallback(ctx, m, p, code, reason)
		}
		s.logger.Info("message undeliverable", "id", m.ID, "purpose", m.Purpose, "code", code, "reason", reason)
		return s.undeliverable(ctx, m, code, reason)
	case ClassBug, ClassGroupGone:
		// Zalo refused the request itself, or the group is gone: nobody can
		// fix this by retrying. Log the shape, never the text or the ids.
		s.logger.Error("zalo refused a message", "class", class.String(), "code", code, "reason", reason,
			"kind", m.Kind, "purpose", m.Purpose, "to_group", m.To.GroupID != "",
			"text_chars", utf8.RuneCountInString(m.Text), "buttons", len(m.Buttons),
			"subtitle", m.Subtitle != "", "image", m.ImageURL != "", "err", redact(err))
		return s.undeliverable(ctx, m, code, reason)
	case ClassQuota:
		s.logger.Error("zalo quota used up; messages wait", "code", code, "purpose", m.Purpose)
		s.count("retry")
		return fmt.Errorf("deliver: %w", err)
	case ClassUserQuota:
		// This person's quota: hold their message and let the partition
		// go on to the next one.
		s.logger.Info("recipient's quota used up; message held", "id", m.ID, "code", code, "purpose", m.Purpose)
		return s.holdUntil(ctx, m, s.cfg.Now().Add(s.cfg.UserQuotaHold), reason)
	case ClassSetup:
		clears := s.setupFault(code)
		if err := s.holdUntil(ctx, m, s.cfg.Now().Add(s.cfg.SetupHold), reason); err != nil {
			return err
		}
		if s.setupClearsNow() != clears && s.cfg.OnSetupCleared != nil {
			// The fault cleared while this message was being held, and
			// what was held then went without it: let it go too.
			s.cfg.OnSetupCleared(ctx)
		}
		return nil
	default:
		// Retry, or Refresh when the refreshed token was refused again.
		s.logger.Warn("send failed, will retry", "id", m.ID, "class", class.String(), "code", code, "reason", reason)
		s.count("retry")
		return fmt.Errorf("deliver: %w", err)
	}
}

// fallback posts m to its fallback group after the recipient refused it.
func (s *Sender) fallback(ctx context.Context, m cnsbot.Outgoing, p *progress, code int, reason string) error {
	g := m
	g.To = cnsbot.Recipient{GroupID: m.FallbackGroup}
	var ids []string
	var err error
	if m.Kind == cnsbot.MsgList {
		var id string
		id, err = s.c.SendList(ctx, g.To, m.Text, m.Subtitle, m.Buttons)
		if id != "" {
			ids = []string{id}
		}
	} else {
		ids, err = s.c.SendText(ctx, g.To, m.Text)
	}
	if err != nil {
		if c := Classify(err); c == ClassRetry || c == ClassRefresh || c == ClassQuota {
			s.count("retry")
			return fmt.Errorf("deliver to fallback group: %w", err)
		}
		s.logger.Error("fallback group refused the message", "code", Code(err), "reason", Reason(err), "purpose", m.Purpose)
		return s.undeliverable(ctx, m, code, reason)
	}
	p.sent, p.fallback, p.ids, p.code, p.reason = true, true, ids, code, reason
	s.sentIDs(ctx, g, ids)
	return s.fallbackDone(ctx, m, p)
}

// fallbackDone records a message posted to its fallback group.
func (s *Sender) fallbackDone(ctx context.Context, m cnsbot.Outgoing, p *progress) error {
	var err error
	if fl, ok := s.dlog.(FallbackLog); ok {
		err = fl.Fallback(ctx, m, p.code, p.reason)
	} else {
		g := m
		g.To = cnsbot.Recipient{GroupID: m.FallbackGroup}
		err = s.dlog.Delivered(ctx, g, firstID(p.ids))
	}
	if err != nil {
		s.count("error")
		return fmt.Errorf("deliver: record fallback: %w", err)
	}
	s.finish(m.ID)
	s.count("fallback")
	s.logger.Info("message sent to fallback group", "id", m.ID, "purpose", m.Purpose, "code", p.code, "reason", p.reason)
	return nil
}

func (s *Sender) undeliverable(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error {
	if err := s.dlog.Undeliverable(ctx, m, code, reason); err != nil {
		s.count("error")
		return fmt.Errorf("deliver: record undeliverable: %w", err)
	}
	s.finish(m.ID)
	s.count("undeliverable")
	if s.cfg.OnUndeliverable != nil {
		s.cfg.OnUndeliverable(ctx, m, code, reason)
	}
	return nil
}

// hold records m as held until the end of the quiet hours; the held-message
// pump pushes it again then.
func (s *Sender) hold(ctx context.Context, m cnsbot.Outgoing, reason string) error {
	return s.holdUntil(ctx, m, s.morning(s.cfg.Now()), reason)
}

// holdUntil records m as held until until.
func (s *Sender) holdUntil(ctx context.Context, m cnsbot.Outgoing, until time.Time, reason string) error {
	if err := s.dlog.Held(ctx, m, until, reason); err != nil {
		s.count("error")
		return fmt.Errorf("deliver: record held: %w", err)
	}
	s.finish(m.ID)
	s.count("held")
	return nil
}

// setupLogEvery spaces the error lines of a lasting setup fault.
const setupLogEvery = 15 * time.Minute

// setupFault records an OA setup fault: the alert gauge, Health, and an
// error log line when it starts and every setupLogEvery while it lasts. It
// returns how many faults were cleared so far.
func (s *Sender) setupFault(code int) (clears uint64) {
	now := s.cfg.Now()
	s.mu.Lock()
	first := s.setupCode == 0
	if first {
		s.setupSince = now
	}
	s.setupCode = code
	logNow := first || now.Sub(s.setupLog) >= setupLogEvery
	if logNow {
		s.setupLog = now
	}
	since, clears := s.setupSince, s.setupClears
	s.mu.Unlock()
	if s.m != nil {
		s.m.Alerts.WithLabelValues(AlertSetup).Set(1)
		s.m.SetupFaults.WithLabelValues(fmt.Sprint(code)).Inc()
	}
	if logNow {
		s.logger.Error("zalo refuses this OA's messages (setup fault): messages are held; fix the OA in Zalo's console, then run cnsbot zalo check",
			"code", code, "reason", Reason(&APIError{Code: code}), "since", since)
	}
	return clears
}

// setupCleared ends a setup fault after a send Zalo accepted, and lets
// the messages held for it go (OnSetupCleared).
func (s *Sender) setupCleared(ctx context.Context) {
	s.mu.Lock()
	was := s.setupCode
	s.setupCode, s.setupSince, s.setupLog = 0, time.Time{}, time.Time{}
	if was != 0 {
		s.setupClears++
	}
	s.mu.Unlock()
	if was != 0 {
		if s.m != nil {
			s.m.Alerts.WithLabelValues(AlertSetup).Set(0)
		}
		s.logger.Info("zalo accepts this OA's messages again: setup fault cleared", "code", was)
		if s.cfg.OnSetupCleared != nil {
			s.cfg.OnSetupCleared(ctx)
		}
	}
}

// setupClearsNow returns how many setup faults were cleared so far.
func (s *Sender) setupClearsNow() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setupClears
}

// Health reports an OA setup fault seen by this Sender (code 0: none),
// for /readyz and the dashboard.
func (s *Sender) Health() (code int, since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setupCode, s.setupSince
}

// quiet reports whether t falls in the quiet hours.
func (s *Sender) quiet(t time.Time) bool {
	if s.cfg.NoQuiet {
		return false
	}
	h := t.In(s.cfg.Location).Hour()
	if s.cfg.QuietStart > s.cfg.QuietEnd {
		return h >= s.cfg.QuietStart || h < s.cfg.QuietEnd
	}
	return h >= s.cfg.QuietStart && h < s.cfg.QuietEnd
}

// morning returns the next QuietEnd:00 local after t.
func (s *Sender) morning(t time.Time) time.Time {
	l := t.In(s.cfg.Location)
	m := time.Date(l.Year(), l.Month(), l.Day(), s.cfg.QuietEnd, 0, 0, 0, s.cfg.Location)
	if !m.After(l) {
		m = m.AddDate(0, 0, 1)
	}
	return m
}

// isPush reports whether m is a push (a reminder or notification) rather
// than a reply to someone who just wrote: pushes wait for the morning.
func isPush(m cnsbot.Outgoing) bool {
	return m.Purpose == PurposeReminder || m.Purpose == PurposeNotify || m.Purpose == PurposeAnnounce
}

// isReply reports whether m answers someone who just wrote (Purpose
// "reply", or none): it goes before every push for a send permit. The
// queue draws the same line (store.IsPush).
func isReply(m cnsbot.Outgoing) bool {
	return m.Purpose == "" || m.Purpose == PurposeReply
}

func (s *Sender) begin(id string) *progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		return &progress{}
	}
	now := time.Now()
	if len(s.progress) >= progressSweepAt {
		for k, p := range s.progress {
			if now.Sub(p.touched) > progressMaxAge {
				delete(s.progress, k)
			}
		}
	}
	p, ok := s.progress[id]
	if !ok {
		p = &progress{}
		s.progress[id] = p
	}
	p.touched = now
	return p
}

func (s *Sender) finish(id string) {
	s.mu.Lock()
	delete(s.progress, id)
	s.mu.Unlock()
}

func (s *Sender) count(result string) {
	if s.m != nil {
		s.m.Sends.WithLabelValues(result).Inc()
	}
}

func firstID(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// redact returns err's text only when it cannot carry message content:
// Zalo's API errors and the validation errors of this package do not.
func redact(err error) string {
	var ae *APIError
	var ce *cnsbot.Error
	if errors.As(err, &ae) || errors.As(err, &ce) {
		return err.Error()
	}
	return "error"
}

// logged reports whether a successful delivery of m is recorded in the
// delivery log: pushes (notifications, reminders) and anything that was
// held before, whose row must leave the held state.
func logged(m cnsbot.Outgoing) bool {
	return m.Released || (m.Purpose != "" && m.Purpose != PurposeReply)
}
