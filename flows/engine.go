// Package flows is the conversation engine: it turns one event of a
// conversation into the conversation's next state and the messages to send,
// and hands both to Sessions in one commit.
//
// Conversations are declared as data (see Flow and Step). Each event is
// handled in order for its route, reads the whole session, decides, and
// writes the whole session back with the outgoing messages; timeouts are
// stored deadlines, never goroutines.
//
// # Dispatch order
//
// A text message (or a tapped button's payload) in a private chat goes
// through these stages; the first that takes it answers it:
//
//	stage              what takes the text                          registered with
//	1 exits            the global words, typed alone: menu, hủy,    (the engine's own)
//	                   quay lại, giúp, English / Tiếng Việt, gặp
//	                   người hỗ trợ
//	2 resume answer    "tiếp tục" / "làm lại" after the question    (the engine's own)
//	                   of stage 5
//	3 step's reading   the current step's Parse: "1 3" as a list,   Step.Parse
//	                   "2" as two hours
//	4 commands         typed commands ("nhận HT7K3Q", "bc …"); at   Engine.Command
//	                   a question that takes free text, those that
//	                   Yield are passed over
//	5 resume offer     back after a while to a Resumable form:      Flow.Resumable
//	                   continue or start over?
//	6 step's input     the input kind: a choice (button, number,    Step.Input, Choices,
//	                   label, words), a number, a phone, text; at   MenuItem, Flow.Entries
//	                   the menu, its items and typed entries
//	7 fallbacks        unless the question takes free text: global  (the engine's own),
//	                   words with typos, typed entries into flows   Flow.Entries
//	8 not understood   the question again; after two misses, the    (the engine's own)
//	                   offer of a person
//
// Before stage 1, handlers added with OnHold may keep a text or media for
// someone else: while a person answers a resident ("gặp người hỗ trợ"),
// what the resident writes is theirs, not the bot's.
//
// A good answer is saved (Step.Save), Step.Then or the choice's Run may
// decide what comes next (Goto, Start, Done, Menu, Stay); otherwise the
// choice's Next, the step's Next, or else the next step of Steps that Skip
// does not pass over. The last step, and End, end the flow at the menu.
//
// Other events: a form (user_submit_info) answers a phone step; otherwise,
// and for photos, locations and follows, the handlers added with OnEvent
// run in order until one handles the event. OnIncoming hooks run before any of
// this for every event a person sends. Group events go to OnGroup handlers
// only, which decide whether the bot is addressed.
package flows

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/vn"
	json "github.com/goccy/go-json"
)

// Sessions loads and commits conversation state. Load returns a zero
// Session with Key set when none exists. Commit writes the whole session
// (Version+1) together with the outgoing messages in one atomic step, and
// returns a *cnsbot.Error with code ECONFLICT when the stored Version is no
// longer s.Version.
type Sessions interface {
	Load(ctx context.Context, route string) (cnsbot.Session, error)
	Commit(ctx context.Context, s cnsbot.Session, out []cnsbot.Outgoing) error
}

// Handoffs records that a person asked for, or was offered and took, a human
// helper. RecordHandoff must be idempotent on sourceEvent.
type Handoffs interface {
	RecordHandoff(ctx context.Context, userID, reason, sourceEvent string) error
}

// Directory finds the roster entry of a Zalo user, so that commands and menu
// items can depend on the person's roles. It returns an ENOTFOUND
// *cnsbot.Error for someone who is not on any roster.
//
// It is asked for every person whose menu is shown, most of them residents
// who are on no roster: an implementation should answer those from memory
// (store.DB keeps an index of linked Zalo ids for this).
type Directory interface {
	PersonByZalo(ctx context.Context, zaloUserID string) (cnsbot.Person, []cnsbot.Role, error)
}

// Options tune an Engine. The zero value works: defaults are filled in by
// NewEngine.
type Options struct {
	// Now returns the current time; tests set it.
	Now func() time.Time
	// PauseFor is how long the bot stays silent for a user after a human
	// agent wrote to them from the OA chat tool. Default 30 minutes.
	PauseFor time.Duration
	// ResumeAfter is how long a person may leave a resumable flow before the
	// engine asks whether to continue it or start over. Default 30 minutes.
	ResumeAfter time.Duration
	// Log receives the engine's logs; default slog.Default(). User text and
	// phone numbers are never logged.
	Log *slog.Logger
	// Handoffs records requests for a person. When nil, handoffs are only
	// logged.
	Handoffs Handoffs
	// Directory, when set, lets commands and menu items see roles.
	Directory Directory
	// InfoImageURL is the picture shown on request_user_info forms; Zalo
	// may require one.
	InfoImageURL string
	// Inbound, when set, is the per-person limit on messages handled in
	// full (see Inbound).
	Inbound Inbound
	// OwnSends, when set, recognises the echoes of the service's own
	// messages, so that only a human agent's pauses the bot (see OwnSends).
	OwnSends OwnSends
	// OwnSendGrace is how long to wait for a fresh echo's id to be
	// recorded; 0 means DefaultOwnSendGrace.
	OwnSendGrace time.Duration
	// KindOf classifies a queued event that has no Kind (bot.Kind in
	// production). Only events enqueued by a version before Event.Kind
	// lack one: during a rolling upgrade an old replica's webhook still
	// enqueues them for a new replica's engine, and they must not be
	// dropped unanswered. Nil leaves them as KindOther.
	KindOf func(eventName string) string
}

// GroupHandler handles an event in a Zalo group ("g:…" routes): a message,
// or a member joining or leaving (cnsbot.KindGroup). Group chatter must get
// no reply unless the bot is addressed, so the handler decides whether to
// answer at all.
type GroupHandler func(c *Ctx) error

// EventHandler handles one kind of event in a private chat
// (cnsbot.KindFollow, KindSubmit, KindMedia, KindUnfollow). It reports whether it handled the event; when it
// did not, the next handler, then the engine's default, runs.
type EventHandler func(c *Ctx) (handled bool, err error)

// Command is typed text that is matched before flows are: a member's
// "nhận HT7K3Q", "bc …", "đăng ký", or a resident's reference code. It may
// answer directly or start a flow.
type Command struct {
	// Name is for logs and tests.
	Name string
	// Match reports whether the text is this command and returns its
	// argument (the rest of the text, as typed). The text is prepared once
	// for every command (Text: as typed, folded, in words). See Prefix.
	Match func(t *Text) (args string, ok bool)
	// Run handles the command. When it reports false, matching goes on with
	// the next command and then the flows, so a command may look the
	// argument up before claiming the text. It must not reply when it
	// returns false.
	Run func(c *Ctx, args string) (handled bool, err error)
	// Yield, when set, leaves text typed at a question that takes free text
	// to that question: "báo cáo sau" typed as a note is the note, not a
	// report. Commands whose words cannot be an answer leave it unset.
	Yield bool
}

// MenuItem is one entry of the main menu.
type MenuItem struct {
	// ID is the button payload without "#"; typing it works too.
	ID string
	// Label is the message id of the button title.
	Label string
	// Words are more phrases that pick the item, matched folded.
	Words []string
	// Order sorts the menu, smallest first.
	Order int
	// Flow and Step say where the item leads.
	Flow, Step string
	// Run, when set, handles the item instead of starting Flow.
	Run func(c *Ctx) error
	// Show, when set, decides per person whether the item is offered (for
	// example only to team members).
	Show func(c *Ctx) bool
}

// Engine runs conversations. Register flows, commands and handlers before
// the first event; after that the Engine is safe for concurrent use.
type Engine struct {
	sessions Sessions
	texts    *locales.Bundle
	opts     Options
	log      *slog.Logger

	flows    map[string]*Flow
	order    []string
	commands []Command
	groups   []GroupHandler
	// matchers caches the index of each choice list (see choiceIndex),
	// by a hash of the list.
	matchers     sync.Map
	matcherCount atomic.Int64
	handlers     map[string][]EventHandler
	incoming     []func(c *Ctx) error
	holds        []EventHandler
	handoff      func(c *Ctx, reason string) error
	menu         []MenuItem
	// menuLists holds the menu's choices by which items are shown (a bit
	// per item): see menuChoices.
	menuLists sync.Map

	globals *vn.Matcher
	entries *vn.Matcher
	// dynEntries adds the flows' MoreEntries to entries, built for the
	// generations in dynGens.
	dynMu      sync.Mutex
	dynGens    []flowGen
	dynEntries *vn.Matcher
	echoes     echoState
}

// The name of the engine's own flow, the main menu.
const menuFlow = "menu"

// NewEngine returns an Engine that keeps state in s and speaks with texts.
func NewEngine(s Sessions, texts *locales.Bundle, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PauseFor <= 0 {
		opts.PauseFor = 30 * time.Minute
	}
	if opts.ResumeAfter <= 0 {
		opts.ResumeAfter = 30 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	e := &Engine{
		sessions: s,
		texts:    texts,
		opts:     opts,
		log:      opts.Log,
		flows:    make(map[string]*Flow),
		handlers: make(map[string][]EventHandler),
		globals:  vn.NewMatcher(globalPhrases),
	}
	e.Register(e.menuDefinition())
	e.MenuItem(MenuItem{ID: cmdEnglish, Label: "common.lang.en", Order: 1000, Run: func(c *Ctx) error { return c.e.setLang(c, "en") },
		Show: func(c *Ctx) bool { return c.Lang() != "en" }})
	e.MenuItem(MenuItem{ID: cmdVietnamese, Label: "common.lang.vi", Order: 1000, Run: func(c *Ctx) error { return c.e.setLang(c, "vi") },
		Show: func(c *Ctx) bool { return c.Lang() == "en" }})
	return e
}

// Register adds a flow. It panics when the declaration is invalid or the
// name is taken, since that is a programming mistake found at startup.
func (e *Engine) Register(f *Flow) {
	if err := f.Validate(); err != nil {
		panic("flows: " + err.Error())
	}
	if _, ok := e.flows[f.Name]; ok {
		panic("flows: flow " + f.Name + " registered twice")
	}
	f.index()
	e.flows[f.Name] = f
	e.order = append(e.order, f.Name)
	e.buildEntries()
}

// Command adds a typed command, matched before flows in the order added.
func (e *Engine) Command(c Command) { e.commands = append(e.commands, c) }

// OnGroup adds a handler of group events, messages and members joining or
// leaving alike. Handlers run in the order added until one answers (sends
// a message or moves the conversation), so that several packages can each
// own their group commands. Without any the bot says nothing in groups.
func (e *Engine) OnGroup(h GroupHandler) { e.groups = append(e.groups, h) }

// OnEvent adds a handler for a kind of event in a private chat
// (cnsbot.KindFollow, KindSubmit, KindMedia, KindUnfollow, and KindEcho
// for a human agent's message from the OA chat tool, whose handlers may
// not reply). Handlers run in
// the order added until one handles the event. Unfollow handlers get no session and cannot reply
// (see onUnfollow).
func (e *Engine) OnEvent(kind string, h EventHandler) {
	e.handlers[kind] = append(e.handlers[kind], h)
}

// OnIncoming adds a handler that runs for every event a person sends in
// their private chat (text, media, forms, follow), before the engine
// decides what the event means, so that it can queue messages ahead of the
// reply: the private copies of reminders Zalo refused while the person was
// away, say. It does not run for echoes, group events, or while a human
// agent has paused the bot for the person. Handlers run in the order
// added; an error fails the event, which the queue then retries, so a
// handler whose work is optional logs its own errors instead. Like every
// side effect of deciding, a handler's must be idempotent on the event's
// key.
func (e *Engine) OnIncoming(h func(c *Ctx) error) { e.incoming = append(e.incoming, h) }

// OnHold adds a handler that may take a person's text or media before the
// engine decides what it means: while a person (a team member, an officer)
// is answering the resident, what the resident writes is for that person,
// not for the bot. It runs after OnIncoming's handlers, not while a human
// agent has paused the bot, and in the order added; a handler that reports
// true has kept the event, which the engine then records as applied.
func (e *Engine) OnHold(h EventHandler) { e.holds = append(e.holds, h) }

// OnHandoff replaces what happens when a person asks for a human helper
// ("gặp người hỗ trợ", or the offer after two misses): h answers the
// person and records the request. Without it the engine records it with
// Options.Handoffs and says someone will write.
func (e *Engine) OnHandoff(h func(c *Ctx, reason string) error) { e.handoff = h }

// MenuItem adds an entry to the main menu.
func (e *Engine) MenuItem(item MenuItem) {
	e.menu = append(e.menu, item)
	sort.SliceStable(e.menu, func(i, j int) bool { return e.menu[i].Order < e.menu[j].Order })
	e.menuLists.Clear()
	e.buildEntries()
}

// Flows returns the registered flows in registration order, the engine's
// main menu first.
func (e *Engine) Flows() []*Flow {
	out := make([]*Flow, 0, len(e.order))
	for _, name := range e.order {
		out = append(out, e.flows[name])
	}
	return out
}

// Flow returns the named flow, or nil.
func (e *Engine) Flow(name string) *Flow { return e.flows[name] }

// Check reports the first reference to an unknown flow, step or message id
// among the registered flows and menu items. Call it once everything is
// registered (the wiring and the tests do).
func (e *Engine) Check() error {
	for _, name := range e.order {
		f := e.flows[name]
		for _, s := range f.Steps {
			for _, ch := range s.Choices {
				if ch.Start == "" {
					continue
				}
				g := e.flows[ch.Start]
				if g == nil {
					return fmt.Errorf("flow %s step %s: choice %s starts unknown flow %s", f.Name, s.Name, ch.ID, ch.Start)
				}
				if ch.StartAt != "" && g.step(ch.StartAt) == nil {
					return fmt.Errorf("flow %s step %s: choice %s starts %s at unknown step %s", f.Name, s.Name, ch.ID, ch.Start, ch.StartAt)
				}
			}
		}
		for _, id := range f.MessageIDs() {
			if err := e.hasText(id); err != nil {
				return fmt.Errorf("flow %s: %w", f.Name, err)
			}
		}
	}
	for _, m := range e.menu {
		if err := e.hasText(m.Label); err != nil {
			return fmt.Errorf("menu item %s: %w", m.ID, err)
		}
		if m.Run != nil {
			continue
		}
		f := e.flows[m.Flow]
		if f == nil {
			return fmt.Errorf("menu item %s: unknown flow %s", m.ID, m.Flow)
		}
		if m.Step != "" && f.step(m.Step) == nil {
			return fmt.Errorf("menu item %s: unknown step %s/%s", m.ID, m.Flow, m.Step)
		}
	}
	return nil
}

func (e *Engine) hasText(id string) error {
	for _, lang := range []string{"vi", "en"} {
		if !e.texts.Has(lang, id) {
			return fmt.Errorf("message %s missing in %s", id, lang)
		}
	}
	return nil
}

// HandleEvent decodes a queued event and handles it. A payload that is not
// an event can never succeed, so it is logged and dropped rather than
// returned as an error that would block the conversation's queue.
func (e *Engine) HandleEvent(ctx context.Context, payload []byte) error {
	ev, err := e.decode(payload)
	if err != nil {
		e.log.ErrorContext(ctx, "drop undecodable event", "err", err, "bytes", len(payload))
		return nil
	}
	return e.Handle(ctx, ev)
}

// decode reads a queued event, classifying it with Options.KindOf when it
// was queued without a Kind.
func (e *Engine) decode(payload []byte) (cnsbot.Event, error) {
	var ev cnsbot.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, err
	}
	if ev.Kind == "" {
		ev.Kind = cnsbot.KindOther
		if e.opts.KindOf != nil {
			ev.Kind = e.opts.KindOf(ev.Name)
		}
	}
	return ev, nil
}

// Handle applies one event to its conversation: load the session, skip the
// event if it was already applied, decide, and commit the session with the
// outgoing messages. A concurrent commit (ECONFLICT) is retried once on the
// fresh session; every side effect of deciding is idempotent on the
// event's key, so deciding twice is safe.
func (e *Engine) Handle(ctx context.Context, ev cnsbot.Event) error {
	kind := ev.Kind
	switch kind {
	case cnsbot.KindUnfollow:
		return e.onUnfollow(ctx, ev)
	case cnsbot.KindOther:
		return nil
	case cnsbot.KindEcho:
		// Echoes of the bot's own messages are frequent and carry nothing to
		// remember; only a human agent's message changes state.
		if !e.agentEcho(ctx, ev) {
			return nil
		}
	}
	switch {
	case strings.HasPrefix(ev.Route, "g:"):
		// Group chatter is most of a group's traffic; without anyone to
		// hear it there is nothing to decide or remember.
		if len(e.groups) == 0 {
			return nil
		}
	case !strings.HasPrefix(ev.Route, "u:"):
		return nil
	}
	if ev.Key == "" {
		// The webhook always sets a key; without one, the outgoing ids
		// derived from it would collide across events.
		ev.Key = ev.Name + ":" + ev.Route + ":" + strconv.FormatInt(ev.Time.UnixMilli(), 10)
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		err = e.handleOnce(ctx, ev, kind)
		if cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			return err
		}
		e.log.InfoContext(ctx, "session changed meanwhile, retrying", "route_kind", routeKind(ev.Route), "event", ev.Key)
	}
	return err
}

func (e *Engine) handleOnce(ctx context.Context, ev cnsbot.Event, kind string) error {
	s, err := e.sessions.Load(ctx, ev.Route)
	if err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	if s.LastEvent == ev.Key {
		return nil
	}
	if s.Key == "" {
		s.Key = ev.Route
	}
	if over, err := e.throttled(ctx, ev, kind, &s); over || err != nil {
		return err
	}
	var before []byte
	group := strings.HasPrefix(ev.Route, "g:")
	if group {
		before, _ = json.Marshal(s)
	}
	c := e.newCtx(ctx, ev, &s)
	if err := e.dispatch(c, kind); err != nil {
		return err
	}
	if group && len(c.out) == 0 {
		// Chatter the bot ignored changes nothing: most of a group's
		// traffic then costs no write. Replaying it is as harmless.
		if after, err := json.Marshal(s); err == nil && bytes.Equal(before, after) {
			return nil
		}
	}
	s.LastEvent = ev.Key
	s.UpdatedAt = c.now
	out := c.out
	for i := range out {
		if out[i].ID == "" {
			out[i].ID = ev.Key + "/" + strconv.Itoa(i)
		}
	}
	if err := e.sessions.Commit(ctx, s, out); err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

// dispatch decides what an event means for the conversation.
func (e *Engine) dispatch(c *Ctx, kind string) error {
	s := c.s
	if kind == cnsbot.KindEcho {
		s.PausedUntil = c.now.Add(e.opts.PauseFor)
		// A human agent wrote to the person: handlers may note it (a
		// handoff answered from the OA chat tool), never reply.
		sent := len(c.out)
		_, err := e.runHandlers(c, kind)
		c.out = c.out[:sent]
		return err
	}
	if c.Event.IsGroup() || strings.HasPrefix(c.Event.Route, "g:") {
		return e.dispatchGroup(c)
	}
	if c.now.Before(s.PausedUntil) {
		// A person from the OA is talking to them; the bot keeps quiet but
		// still records the event as applied.
		return nil
	}
	if kind != cnsbot.KindGroup {
		for _, h := range e.incoming {
			if err := h(c); err != nil {
				return fmt.Errorf("incoming handler: %w", err)
			}
		}
	}
	if kind == cnsbot.KindText || kind == cnsbot.KindMedia {
		for _, h := range e.holds {
			held, err := h(c)
			if err != nil {
				return fmt.Errorf("hold handler: %w", err)
			}
			if held {
				return nil
			}
		}
	}
	isNew := s.Version == 0 && s.LastEvent == "" && s.Flow == ""
	switch kind {
	case cnsbot.KindFollow:
		if handled, err := e.runHandlers(c, kind); handled || err != nil {
			return err
		}
		c.endFlow()
		c.isNew = true
		e.showMenu(c, "")
		return nil
	case cnsbot.KindSubmit:
		return e.onSubmit(c)
	case cnsbot.KindMedia:
		return e.onMedia(c)
	case cnsbot.KindText:
		if !isNew {
			return e.onText(c)
		}
		c.isNew = true
		if err := e.onText(c); err != nil {
			return err
		}
		if _, _, onRoster, err := c.Person(); err == nil && onRoster {
			// A member's, leader's or officer's first words (a report,
			// "tiến độ") are answered as such: the residents' welcome
			// is not for them.
			c.welcomed = true
		}
		if !c.welcomed && len(c.out) > 0 {
			// The first answer is not the menu (the words asked for a
			// guide, say): the welcome goes before it.
			c.Reply(c.T("flows.welcome", nil))
			last := len(c.out) - 1
			c.out = slices.Insert(c.out[:last], 0, c.out[last])
		}
		return nil
	}
	return nil
}

func (e *Engine) dispatchGroup(c *Ctx) error {
	for _, h := range e.groups {
		sent := len(c.out)
		if err := h(c); err != nil {
			return err
		}
		if len(c.out) > sent || c.tr != nil {
			return nil
		}
	}
	return nil
}

func (e *Engine) runHandlers(c *Ctx, kind string) (bool, error) {
	for _, h := range e.handlers[kind] {
		handled, err := h(c)
		if err != nil {
			return false, err
		}
		if handled {
			return true, nil
		}
	}
	return false, nil
}

// routeKind returns "user" or "group" for logs, which must not carry ids
// that identify a person.
func routeKind(route string) string {
	if strings.HasPrefix(route, "g:") {
		return "group"
	}
	return "user"
}
