package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
)

// Store is what announcements need from the database; *store.DB has it.
type Store interface {
	Candidates(ctx context.Context, a Announcement) ([]Candidate, error)
	OptedOut(ctx context.Context, userIDs []string) (map[string]bool, error)
	ClaimDueAnnouncements(ctx context.Context, now, staleBefore time.Time) ([]Announcement, error)
	SaveRecipients(ctx context.Context, announcementID int64, rows []Recipient) error
	UnqueuedRecipients(ctx context.Context, announcementID int64) ([]Recipient, error)
	MarkRecipientsQueued(ctx context.Context, announcementID int64, routes []string) error
	FinishAnnouncement(ctx context.Context, announcementID int64, at time.Time) error
}

// Windows says when people last wrote to the OA; *store.Queue has it (the
// chat sessions).
type Windows interface {
	LastSeen(ctx context.Context, userIDs []string) (map[string]Seen, error)
}

// Pusher queues messages; *store.Queue has it. Announcements go on the
// bulk lane by their Purpose.
type Pusher interface {
	Push(ctx context.Context, out ...cnsbot.Outgoing) error
}

// Keeper keeps a message for someone outside the window, to be delivered
// when they next write; *store.KeptCopies has it.
type Keeper interface {
	Keep(ctx context.Context, m cnsbot.Outgoing, reason string) error
}

// Texts renders the messages; *locales.Bundle has it.
type Texts interface {
	T(lang, id string, data map[string]any) string
}

// Recipient is one person or group of an announcement as it went out: the
// channel chosen and the message that carries it. The delivery log, keyed
// by MessageID, says what became of it.
type Recipient struct {
	ID             int64  `json:"-" gorm:"primaryKey"`
	AnnouncementID int64  `json:"announcement_id" gorm:"not null;uniqueIndex:uniq_announcement_recipients,priority:1"`
	Route          string `json:"-" gorm:"size:128;not null;uniqueIndex:uniq_announcement_recipients,priority:2"`
	Kind           string `json:"kind" gorm:"size:32;not null"`
	PersonID       int64  `json:"person_id,omitempty" gorm:"not null;default:0"`
	CommuneID      int64  `json:"commune_id" gorm:"not null;default:0"`
	HamletID       int64  `json:"hamlet_id" gorm:"not null;default:0"`
	Channel        string `json:"channel" gorm:"size:16;not null"`
	Reason         string `json:"reason" gorm:"size:32;not null;default:''"`
	// MessageID is the message sent or kept for the recipient; for someone
	// reached through a group, the group's post.
	MessageID string    `json:"-" gorm:"size:255;not null;default:'';index"`
	Lang      string    `json:"-" gorm:"size:8;not null;default:''"`
	Queued    bool      `json:"queued" gorm:"not null;default:false"`
	CreatedAt time.Time `json:"-"`
}

// Options configure a Service.
type Options struct {
	// StaleAfter is how long a claimed announcement may stay "sending"
	// before another replica takes it over (default 10 minutes).
	StaleAfter time.Duration
	Log        *slog.Logger
}

// Service plans and sends announcements.
type Service struct {
	st    Store
	win   Windows
	push  Pusher
	keep  Keeper
	texts Texts
	opts  Options
	log   *slog.Logger
}

// New returns a Service.
func New(st Store, win Windows, push Pusher, keep Keeper, texts Texts, opts Options) *Service {
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 10 * time.Minute
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, win: win, push: push, keep: keep, texts: texts, opts: opts, log: log.With("component", "announce")}
}

// MessageID is the id of the message of announcement id for route: the
// same on every replica and attempt, so the delivery log keeps one row.
func MessageID(id int64, route string) string {
	return "ann:" + strconv.FormatInt(id, 10) + ":" + route
}

// batch is how many messages are queued (and their rows marked) at once.
const batch = 500

// Dispatch sends every announcement whose time has come at now, and takes
// over those a replica began and did not finish within StaleAfter. It
// returns how many it sent. Errors on one announcement do not stop the
// others; it stays claimed and is taken over later.
func (s *Service) Dispatch(ctx context.Context, now time.Time) (int, error) {
	due, err := s.st.ClaimDueAnnouncements(ctx, now, now.Add(-s.opts.StaleAfter))
	if err != nil {
		return 0, fmt.Errorf("dispatch announcements: %w", err)
	}
	var errs []error
	n := 0
	for _, a := range due {
		if err := s.send(ctx, a, now); err != nil {
			errs = append(errs, fmt.Errorf("announcement %d: %w", a.ID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// send plans a at now, records every recipient, then queues the messages
// of those not queued yet: the posts to groups first (people outside the
// window count on them), then the consultation messages, and keeps the
// copies of those outside it. A second run after a crash plans nobody
// twice (the rows are keyed by recipient) and queues only what is left.
func (s *Service) send(ctx context.Context, a Announcement, now time.Time) error {
	plan, err := s.Plan(ctx, a, now)
	if err != nil {
		return err
	}
	posts := map[int64]string{} // hamlet → the group post people rely on
	for _, t := range plan.Targets {
		if t.IsGroup() && (posts[t.HamletID] == "" || t.Kind == KindHouseholdGroup) {
			posts[t.HamletID] = MessageID(a.ID, t.Route())
		}
	}
	rows := make([]Recipient, 0, len(plan.Targets))
	for _, t := range plan.Targets {
		r := Recipient{AnnouncementID: a.ID, Route: t.Route(), Kind: t.Kind, PersonID: t.PersonID, CommuneID: t.CommuneID,
			HamletID: t.HamletID, Channel: t.Channel, Reason: t.Reason, Lang: t.Lang, CreatedAt: now}
		switch t.Channel {
		case ChannelDirect, ChannelLater:
			r.MessageID = MessageID(a.ID, r.Route)
		case ChannelGroup:
			r.MessageID = posts[t.HamletID]
		}
		rows = append(rows, r)
	}
	if err := s.st.SaveRecipients(ctx, a.ID, rows); err != nil {
		return err
	}
	left, err := s.st.UnqueuedRecipients(ctx, a.ID)
	if err != nil {
		return err
	}
	var groups, direct, later []Recipient
	for _, r := range left {
		switch {
		case r.Channel == ChannelDirect && strings.HasPrefix(r.Route, "g:"):
			groups = append(groups, r)
		case r.Channel == ChannelDirect:
			direct = append(direct, r)
		case r.Channel == ChannelLater:
			later = append(later, r)
		}
	}
	for _, list := range [][]Recipient{groups, direct} {
		for len(list) > 0 {
			chunk := list[:min(batch, len(list))]
			list = list[len(chunk):]
			msgs := make([]cnsbot.Outgoing, len(chunk))
			routes := make([]string, len(chunk))
			for i, r := range chunk {
				msgs[i], routes[i] = s.Message(a, r), r.Route
			}
			if err := s.push.Push(ctx, msgs...); err != nil {
				return err
			}
			if err := s.st.MarkRecipientsQueued(ctx, a.ID, routes); err != nil {
				return err
			}
		}
	}
	for len(later) > 0 {
		chunk := later[:min(batch, len(later))]
		later = later[len(chunk):]
		routes := make([]string, len(chunk))
		for i, r := range chunk {
			if err := s.keep.Keep(ctx, s.Message(a, r), ReasonOutsideWindow); err != nil {
				return err
			}
			routes[i] = r.Route
		}
		if err := s.st.MarkRecipientsQueued(ctx, a.ID, routes); err != nil {
			return err
		}
	}
	if err := s.st.FinishAnnouncement(ctx, a.ID, now); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "announcement sent", "announcement", a.ID, "direct", plan.Counts[ChannelDirect],
		"via_group", plan.Counts[ChannelGroup], "later", plan.Counts[ChannelLater], "none", plan.Counts[ChannelNone],
		"groups", plan.Groups)
	return nil
}

// Payloads of the opt-out buttons; typed, they work too.
const (
	PayloadStop   = "#dungnhantin"
	PayloadResume = "#nhantin"
)

// Message is the message of a for r: to a person, the text with a button
// to stop receiving announcements (and one for the link), the picture on
// top; to a group, text only (Zalo takes no buttons there), with the link
// written out.
func (s *Service) Message(a Announcement, r Recipient) cnsbot.Outgoing {
	lang := r.Lang
	if lang == "" {
		lang = "vi"
	}
	text := s.texts.T(lang, "announce.header", nil) + "\n" + strings.TrimSpace(a.Text)
	m := cnsbot.Outgoing{ID: MessageID(a.ID, r.Route), Purpose: Purpose, Ref: "announcement:" + strconv.FormatInt(a.ID, 10), Lang: lang}
	if g, ok := strings.CutPrefix(r.Route, "g:"); ok {
		m.To = cnsbot.Recipient{GroupID: g}
		m.Kind = cnsbot.MsgText
		if a.LinkURL != "" {
			text += "\n" + s.texts.T(lang, "announce.link_line", map[string]any{"url": a.LinkURL})
		}
		m.Text = text
		return m
	}
	m.To = cnsbot.Recipient{UserID: strings.TrimPrefix(r.Route, "u:")}
	m.Kind = cnsbot.MsgList
	m.Text = text
	m.ImageURL = a.ImageURL
	if a.LinkURL != "" {
		m.Buttons = append(m.Buttons, cnsbot.Button{Title: s.texts.T(lang, "announce.link_button", nil), URL: a.LinkURL})
	}
	m.Buttons = append(m.Buttons, cnsbot.Button{Title: s.texts.T(lang, "announce.stop_button", nil), Payload: PayloadStop})
	return m
}

// Run dispatches due announcements every interval until ctx ends, on
// every replica: the claim in the database makes one of them send each.
func (s *Service) Run(ctx context.Context, every time.Duration, now func() time.Time) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Dispatch(ctx, now()); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "dispatch announcements", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TableName is the recipients' table.
func (Recipient) TableName() string { return "announcement_recipients" }
