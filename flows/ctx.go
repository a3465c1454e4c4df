package flows

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
)

// Ctx is what a step, command or handler sees of one event: the event, the
// conversation's session, and ways to answer. Everything it sends is
// committed with the session in one step, after the handler returns.
type Ctx struct {
	// Event is the event being handled.
	Event cnsbot.Event

	ctx   context.Context
	e     *Engine
	s     *cnsbot.Session
	now   time.Time
	out   []cnsbot.Outgoing
	tr    *transition
	isNew bool
	// welcomed is set once the menu greeted someone new.
	welcomed bool

	personLoaded bool
	person       cnsbot.Person
	roles        []cnsbot.Role
	personFound  bool
}

type trKind int

const (
	trGoto trKind = iota + 1
	trStart
	trDone
	trStay
	trMenu
)

// transition is what a handler decided to do next; the engine applies it
// after the handler returns, so handlers never recurse into each other.
type transition struct {
	kind  trKind
	flow  string
	step  string
	data  map[string]string
	title string
}

func (e *Engine) newCtx(ctx context.Context, ev cnsbot.Event, s *cnsbot.Session) *Ctx {
	if s.Data == nil {
		s.Data = make(map[string]string)
	}
	return &Ctx{Event: ev, ctx: ctx, e: e, s: s, now: e.opts.Now()}
}

// Context returns the context of the event's handling.
func (c *Ctx) Context() context.Context { return c.ctx }

// Now returns the time the event is handled at.
func (c *Ctx) Now() time.Time { return c.now }

// Session returns the conversation's session. Handlers may read it; they
// change it through Set, Goto, Start and Done.
func (c *Ctx) Session() *cnsbot.Session { return c.s }

// UserID returns the Zalo user who acted.
func (c *Ctx) UserID() string { return c.Event.UserID }

// Lang returns the conversation's language, "vi" unless the person chose
// English.
func (c *Ctx) Lang() string {
	if c.s.Lang == "" {
		return "vi"
	}
	return c.s.Lang
}

// FlowName and StepName return where the conversation is; both are empty
// at the main menu.
func (c *Ctx) FlowName() string { return c.s.Flow }

// StepName returns the current step's name.
func (c *Ctx) StepName() string { return c.s.Step }

// NoteAddress is the session note holding how the person wants to be
// addressed in Vietnamese ("chú", "cô Lan", "bạn"), as they chose it.
const NoteAddress = "address"

// T returns the message id's text in the conversation's language,
// addressing the person as they chose (NoteAddress fills the texts'
// {{.ban}} / {{.Ban}}; see locales.VarAddress) unless data says otherwise.
func (c *Ctx) T(id string, data map[string]any) string {
	return c.e.texts.T(c.Lang(), id, c.addressed(data))
}

// TN is T for a plural message: the form that count takes in the
// conversation's language, the count read as {{.Count}} (locales.TN).
func (c *Ctx) TN(id string, count int, data map[string]any) string {
	return c.e.texts.TN(c.Lang(), id, count, c.addressed(data))
}

// addressed adds to data the address the person chose, unless data has
// one or the person has not chosen.
func (c *Ctx) addressed(data map[string]any) map[string]any {
	if _, set := data[locales.VarAddress]; !set && c.ownChat() {
		if form := c.Note(NoteAddress); form != "" {
			d := c.e.texts.Address(c.Lang(), form)
			maps.Copy(d, data)
			return d
		}
	}
	return data
}

// TIn returns the message id's text in the given language, for messages to
// other people.
func (c *Ctx) TIn(lang, id string, data map[string]any) string {
	if lang == "" {
		lang = "vi"
	}
	return c.e.texts.T(lang, id, data)
}

// Button returns a button titled with the message id label whose payload is
// "#"+id, which is also a valid typed command.
func (c *Ctx) Button(label, id string) cnsbot.Button {
	return cnsbot.Button{Title: c.T(label, nil), Payload: "#" + id}
}

// Reply answers in the conversation: a text, or a button list when buttons
// are given. Lists hold at most five buttons; more are sent as further
// lists. In a group, buttons are dropped (Zalo groups take text only).
func (c *Ctx) Reply(text string, buttons ...cnsbot.Button) {
	to := cnsbot.Recipient{UserID: c.Event.UserID}
	if c.Event.IsGroup() {
		to = cnsbot.Recipient{GroupID: c.Event.GroupID}
		buttons = nil
	}
	if len(buttons) == 0 {
		c.out = append(c.out, cnsbot.Outgoing{To: to, Kind: cnsbot.MsgText, Text: text, Purpose: "reply", Lang: c.Lang()})
		return
	}
	for i := 0; i < len(buttons); i += maxButtons {
		end := min(i+maxButtons, len(buttons))
		title := text
		if i > 0 {
			title = c.T("flows.more.title", nil)
		}
		c.out = append(c.out, cnsbot.Outgoing{To: to, Kind: cnsbot.MsgList, Text: title,
			Buttons: append([]cnsbot.Button(nil), buttons[i:end]...), Purpose: "reply", Lang: c.Lang()})
	}
}

// ReplyImage sends a stored picture (the SHA-256 of its bytes, see
// content.Image) in the person's chat. The sender uploads it to Zalo once
// and sends the attachment; when Zalo refuses, it sends the picture's
// public address, and failing that nothing: the text that follows stands
// alone.
func (c *Ctx) ReplyImage(sha string) {
	if c.Event.IsGroup() {
		return
	}
	c.out = append(c.out, cnsbot.Outgoing{To: cnsbot.Recipient{UserID: c.Event.UserID}, Kind: cnsbot.MsgImage,
		Image: sha, Purpose: "reply", Lang: c.Lang()})
}

// RequestInfo sends Zalo's request_user_info form, whose answer arrives as
// a user_submit_info event.
func (c *Ctx) RequestInfo(titleID, subtitleID string) {
	c.out = append(c.out, cnsbot.Outgoing{
		To:       cnsbot.Recipient{UserID: c.Event.UserID},
		Kind:     cnsbot.MsgRequestInfo,
		Text:     c.T(titleID, nil),
		Subtitle: c.T(subtitleID, nil),
		ImageURL: c.e.opts.InfoImageURL,
		Purpose:  "reply",
		Lang:     c.Lang(),
	})
}

// Send queues a message to someone else (a team notification), committed
// with this conversation's session. An empty ID is derived from the event.
func (c *Ctx) Send(m cnsbot.Outgoing) {
	if m.Purpose == "" {
		m.Purpose = "notify"
	}
	c.out = append(c.out, m)
}

// Outgoing returns what the handling has queued so far.
func (c *Ctx) Outgoing() []cnsbot.Outgoing { return c.out }

// Get returns an answer saved in the session.
func (c *Ctx) Get(key string) string { return c.s.Data[key] }

// Set saves a value in the session; an empty value deletes the key.
func (c *Ctx) Set(key, value string) {
	if value == "" {
		delete(c.s.Data, key)
		return
	}
	c.s.Data[key] = value
}

// Note returns a note kept across flows (see cnsbot.Session.Notes).
func (c *Ctx) Note(key string) string { return c.s.Notes[key] }

// SetNote keeps a note across flows; an empty value deletes it.
func (c *Ctx) SetNote(key, value string) {
	if value == "" {
		delete(c.s.Notes, key)
		return
	}
	if c.s.Notes == nil {
		c.s.Notes = map[string]string{}
	}
	c.s.Notes[key] = value
}

// Goto moves to another step of the current flow once the handler returns,
// and asks its question.
func (c *Ctx) Goto(step string) { c.tr = &transition{kind: trGoto, step: step} }

// Start starts a flow at a step ("" for its start) with the given data,
// once the handler returns. "Back" from its first step returns here.
func (c *Ctx) Start(flow, step string, data map[string]string) {
	c.tr = &transition{kind: trStart, flow: flow, step: step, data: data}
}

// Done ends the current flow without saying more; the handler has replied.
func (c *Ctx) Done() { c.tr = &transition{kind: trDone} }

// Menu ends the current flow and shows the main menu, titled with text
// (the menu's usual question when empty).
func (c *Ctx) Menu(text string) { c.tr = &transition{kind: trMenu, title: text} }

// Stay keeps the conversation at the current step without asking again
// (the handler has said what is needed).
func (c *Ctx) Stay() { c.tr = &transition{kind: trStay} }

// Person returns the roster entry of the person who acted, if the engine
// has a Directory and the person is on a roster. It is looked up once per
// event.
func (c *Ctx) Person() (cnsbot.Person, []cnsbot.Role, bool, error) {
	if c.personLoaded {
		return c.person, c.roles, c.personFound, nil
	}
	d := c.e.opts.Directory
	if d == nil || c.Event.UserID == "" {
		c.personLoaded = true
		return cnsbot.Person{}, nil, false, nil
	}
	p, roles, err := d.PersonByZalo(c.ctx, c.Event.UserID)
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
	case err != nil:
		return cnsbot.Person{}, nil, false, fmt.Errorf("look up person: %w", err)
	default:
		c.person, c.roles, c.personFound = p, roles, true
	}
	c.personLoaded = true
	return c.person, c.roles, c.personFound, nil
}

// ownChat reports whether the session is the acting person's private chat:
// only there do the session's notes speak of that person (a group's
// session is shared by all who write in it).
func (c *Ctx) ownChat() bool { return c.Event.Route == "u:"+c.Event.UserID }

// ForgetPerson drops what this event learnt of the person's roster entry,
// after enrolment linked this chat to someone on the roster.
func (c *Ctx) ForgetPerson() { c.personLoaded = false }

// HasRole reports whether the person who acted holds role (approved). An
// error means the roster could not be read, which is not a "no": a command
// returns it (the event is retried, then answered), a menu may hide the
// item for this once.
func (c *Ctx) HasRole(role string) (bool, error) {
	_, roles, found, err := c.Person()
	if err != nil || !found {
		return false, err
	}
	for _, r := range roles {
		if r.Role == role && r.Approved {
			return true, nil
		}
	}
	return false, nil
}

// Handoff records that the person wants a human helper and tells them what
// happens next. It ends the current flow. The handler set with
// Engine.OnHandoff, when there is one, does all of this instead.
func (c *Ctx) Handoff(reason string) error {
	if c.e.handoff != nil {
		return c.e.handoff(c, reason)
	}
	if h := c.e.opts.Handoffs; h != nil {
		if err := h.RecordHandoff(c.ctx, c.Event.UserID, reason, c.Event.Key); err != nil {
			return fmt.Errorf("record handoff: %w", err)
		}
	} else {
		c.e.log.WarnContext(c.ctx, "handoff not recorded: no Handoffs configured", "reason", reason)
	}
	c.Reply(c.T("flows.handoff.done", nil), c.Button("common.menu", cmdMenu))
	c.Done()
	return nil
}

// TryCommands runs the registered commands on the event's text, as the
// engine does in private chats; a group handler may use it once it has
// decided the bot is addressed.
func (c *Ctx) TryCommands(text string) (bool, error) {
	return c.e.runCommands(c, NewText(text), false)
}

// endFlow leaves any flow: the person is at the main menu.
func (c *Ctx) endFlow() {
	c.s.Flow, c.s.Step = "", ""
	c.s.History = nil
	c.s.Misses = 0
	for k := range c.s.Data {
		delete(c.s.Data, k)
	}
}

// data returns the session's answers as template data, without the
// engine's own keys.
func (c *Ctx) data() map[string]any {
	m := make(map[string]any, len(c.s.Data))
	for k, v := range c.s.Data {
		if !strings.HasPrefix(k, "_") {
			m[k] = v
		}
	}
	return m
}

// Edit goes to step to change an answer, and after that answer returns to
// returnTo (a summary) instead of following the flow onwards. A step's
// code that calls Goto itself (a commune's hamlet, say) still does so.
func (c *Ctx) Edit(step, returnTo string) {
	c.Set(keyReturn, returnTo)
	c.Goto(step)
}

// Reprompt asks the current step's question again after lead, for event
// handlers that interrupt a flow (a photo sent mid-form).
func (c *Ctx) Reprompt(lead string) { c.e.reask(c, lead) }

// Continue moves on to step as a step's Next would: when the person is
// changing an answer from a summary (see Edit), it returns there instead.
func (c *Ctx) Continue(step string) {
	if ret := c.Get(keyReturn); ret != "" {
		c.Set(keyReturn, "")
		step = ret
	}
	c.Goto(step)
}
