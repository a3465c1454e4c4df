// Package handoff puts a person behind "gặp người hỗ trợ": the request goes
// to the hamlet's team (in its Zalo group, else privately) and the
// commune's officers with what the resident wrote just before; one of them
// answers from their own chat ("trả lời CODE …", relayed to the resident
// through the OA and signed with their name) and closes it ("xong CODE").
// Meanwhile the bot keeps quiet for the resident: what they write is kept
// and passed on to whoever answers. Unanswered after a number of working
// hours, the team's leaders and the commune's officers are told again.
//
// Everything a person reads lives in locales/handoff.*.toml.
package handoff

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/vn"
)

// Store keeps handoffs and their messages (a *store.DB). Lookups that find
// nothing return an ENOTFOUND *cnsbot.Error; HandoffFor also for a code the
// person may not answer.
type Store interface {
	OpenHandoff(ctx context.Context, h *cnsbot.Handoff) error
	OpenHandoffOf(ctx context.Context, userID string) (cnsbot.Handoff, error)
	HandoffOf(ctx context.Context, userID, code string) (cnsbot.Handoff, error)
	HandoffFor(ctx context.Context, code string, personID int64) (cnsbot.Handoff, error)
	AnswerHandoff(ctx context.Context, id, personID int64, text, sourceEvent string, at time.Time) error
	HandoffAnsweredByAgent(ctx context.Context, id int64, at time.Time) error
	KeepHandoffMessage(ctx context.Context, id int64, text, sourceEvent string, at time.Time) error
	HandoffMessages(ctx context.Context, id int64) ([]cnsbot.HandoffMessage, error)
	CloseHandoff(ctx context.Context, id int64, by *int64, reason string, at time.Time) (bool, error)
	UnansweredHandoffs(ctx context.Context) ([]cnsbot.Handoff, error)
	MarkHandoffEscalated(ctx context.Context, id int64, at time.Time) error
	ResidentPlace(ctx context.Context, userID string) (hamletID, communeID int64, err error)
}

// People finds who is told and who answers (a *store.DB).
type People interface {
	PersonByID(ctx context.Context, id int64) (cnsbot.Person, []cnsbot.Role, error)
	TeamMembers(ctx context.Context, teamID int64) ([]cnsbot.Person, error)
	TeamLeaders(ctx context.Context, teamID int64) ([]cnsbot.Person, error)
	CommuneOfficers(ctx context.Context, communeID int64) ([]cnsbot.Person, error)
	Team(ctx context.Context, id int64) (cnsbot.Team, error)
	Unit(ctx context.Context, id int64) (cnsbot.Unit, error)
	Communes(ctx context.Context) ([]cnsbot.Unit, error)
	Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error)
}

// Deps is what handoffs need.
type Deps struct {
	Store  Store
	People People
	Texts  *locales.Bundle
	// PauseFor is how long the bot stays quiet after a person's last
	// answer before the handoff closes by itself; default 30 minutes (the
	// engine's pause after a human agent writes from the OA chat tool).
	PauseFor time.Duration
	// EscalateAfter is how much working time a handoff may wait for a
	// first answer before leaders and officers are told again; default 4
	// hours.
	EscalateAfter time.Duration
	// Hours are the working hours EscalateAfter counts; the zero value is
	// DefaultHours.
	Hours WorkingHours
	Log   *slog.Logger
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

func (d Deps) pause() time.Duration {
	if d.PauseFor <= 0 {
		return 30 * time.Minute
	}
	return d.PauseFor
}

func (d Deps) escalateAfter() time.Duration {
	if d.EscalateAfter <= 0 {
		return 4 * time.Hour
	}
	return d.EscalateAfter
}

// FlowName is the flow that asks where the resident lives when no earlier
// request says so.
const FlowName = "handoff"

// Session notes: the open handoff's code, and the resident's last texts.
const (
	noteCode   = "handoff"
	noteRecent = "recent"
)

// keepRecent is how many of the resident's last texts go with a request,
// each cut to recentChars.
const (
	keepRecent  = 4
	recentChars = 160
)

// Register adds the handoff flow, takes over the engine's handoff, holds
// the resident's messages while a handoff is open, and adds the answering
// commands, in private chats and in groups. Register it before the team
// flows, so that its group handler sees "xong CODE" first.
func Register(e *flows.Engine, deps Deps) error {
	if deps.Store == nil || deps.People == nil || deps.Texts == nil {
		return fmt.Errorf("handoff: Store, People and Texts are required")
	}
	h := &handoffs{deps: deps}
	e.Register(h.flow())
	e.OnHandoff(h.request)
	e.OnIncoming(h.remember)
	e.OnHold(h.hold)
	e.OnEvent(cnsbot.KindEcho, h.agentAnswered)
	e.Command(flows.Command{Name: "handoff-answer", Match: matchAnswer, Run: h.answerCommand})
	e.Command(flows.Command{Name: "handoff-close", Match: matchClose, Run: h.closeCommand})
	e.OnGroup(h.inGroup)
	return nil
}

type handoffs struct{ deps Deps }

var (
	matchAnswer = flows.Prefix("tra loi", "traloi", "reply", "answer")
	matchClose  = flows.Prefix("xong", "done", "dong")
)

func (h *handoffs) flow() *flows.Flow {
	return &flows.Flow{
		Name:  FlowName,
		Title: "handoff.name_flow",
		Steps: []*flows.Step{
			{Name: "commune", Ask: "handoff.resident.commune", Help: "handoff.resident.place_help", Input: flows.InputChoice,
				Options: func(c *flows.Ctx) ([]flows.Choice, error) { return flows.CommuneChoices(c.Context(), h.deps.People) },
				Save:    "commune", Then: h.afterCommune},
			{Name: "hamlet", Ask: "handoff.resident.hamlet", Help: "handoff.resident.place_help", Input: flows.InputChoice,
				Options: func(c *flows.Ctx) ([]flows.Choice, error) {
					return flows.HamletChoices(c.Context(), h.deps.People, c.Get("commune"))
				},
				Save: "hamlet", Then: func(c *flows.Ctx, _ flows.Input) error {
					commune, _ := flows.UnitID(c.Get("commune"))
					hamlet, _ := flows.UnitID(c.Get("hamlet"))
					return h.open(c, c.Get("reason"), c.Get("recent"), hamlet, commune)
				}},
		},
	}
}

// afterCommune asks for the hamlet, or opens the handoff for the commune
// when its hamlets are not on file.
func (h *handoffs) afterCommune(c *flows.Ctx, _ flows.Input) error {
	hamlets, err := flows.HamletChoices(c.Context(), h.deps.People, c.Get("commune"))
	if err != nil {
		return err
	}
	if len(hamlets) > 0 {
		c.Goto("hamlet")
		return nil
	}
	commune, _ := flows.UnitID(c.Get("commune"))
	return h.open(c, c.Get("reason"), c.Get("recent"), 0, commune)
}

// remember keeps the resident's last few texts in the session, so that a
// request for a person carries what they were trying to say. Button taps
// and the words that steer the bot (menu, English…) are left out: they
// are the bot's words, not the person's.
func (h *handoffs) remember(c *flows.Ctx) error {
	if c.Event.Kind != cnsbot.KindText || c.Event.IsGroup() {
		return nil
	}
	text := strings.TrimSpace(c.Event.Text)
	if text == "" || strings.HasPrefix(text, "#") || flows.IsGlobalWord(text) {
		return nil
	}
	lines := splitLines(c.Note(noteRecent))
	lines = append(lines, cut(oneLine(text), recentChars))
	if len(lines) > keepRecent {
		lines = lines[len(lines)-keepRecent:]
	}
	c.SetNote(noteRecent, strings.Join(lines, "\n"))
	return nil
}

// agentAnswered notes that a human agent answered the resident from the
// OA chat tool: the handoff is answered (it is not escalated) and closes
// when the pause after the agent's last message runs out.
func (h *handoffs) agentAnswered(c *flows.Ctx) (bool, error) {
	if c.Note(noteCode) == "" {
		return false, nil
	}
	ho, err := h.deps.Store.OpenHandoffOf(c.Context(), c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("open handoff: %w", err)
	}
	return true, h.deps.Store.HandoffAnsweredByAgent(c.Context(), ho.ID, c.Now())
}

// request is the engine's handoff: tell the people who can answer, or ask
// where the resident lives first when nothing says so.
func (h *handoffs) request(c *flows.Ctx, reason string) error {
	ctx := c.Context()
	if code := c.Note(noteCode); code != "" {
		ho, err := h.deps.Store.OpenHandoffOf(ctx, c.UserID())
		switch {
		case err == nil && ho.Code == code:
			c.Reply(c.T("handoff.resident.already", map[string]any{"code": code}), c.Button("common.menu", "menu"))
			c.Done()
			return nil
		case err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND:
			return fmt.Errorf("open handoff: %w", err)
		}
		c.SetNote(noteCode, "")
	}
	hamlet, commune, err := h.deps.Store.ResidentPlace(ctx, c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND || err == nil && commune == 0:
		// The place answers are not what the person wanted to say: what
		// they wrote before asking goes with the flow.
		c.Start(FlowName, "", map[string]string{"reason": reason, "recent": h.recent(c)})
		return nil
	case err != nil:
		return fmt.Errorf("resident place: %w", err)
	}
	return h.open(c, reason, h.recent(c), hamlet, commune)
}

// open stores the handoff, tells the team and the officers, and tells the
// resident what happens now.
func (h *handoffs) open(c *flows.Ctx, reason, recent string, hamlet, commune int64) error {
	ctx := c.Context()
	ho := cnsbot.Handoff{UserID: c.UserID(), Reason: cut(reason, 200), HamletID: hamlet, CommuneID: commune,
		Lang: c.Lang(), Recent: recent, SourceEvent: c.Event.Key, CreatedAt: c.Now()}
	if err := h.deps.Store.OpenHandoff(ctx, &ho); err != nil {
		return fmt.Errorf("open handoff: %w", err)
	}
	told, err := h.tell(c.Send, ctx, ho, "handoff.team.new", nil, false)
	if err != nil {
		return err
	}
	c.SetNote(noteCode, ho.Code)
	c.SetNote(noteRecent, "")
	data := map[string]any{"code": ho.Code, "place": h.place(ctx, ho)}
	id := "handoff.resident.asked"
	if told == 0 {
		h.deps.log().WarnContext(ctx, "nobody to tell about a handoff", "code", ho.Code, "commune", ho.CommuneID)
		id = "handoff.resident.nobody"
	}
	c.Reply(c.T(id, data), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}

// recent is what the resident wrote before asking, without the words that
// asked for a person.
func (h *handoffs) recent(c *flows.Ctx) string {
	lines := splitLines(c.Note(noteRecent))
	if n := len(lines); n > 0 && lines[n-1] == cut(oneLine(strings.TrimSpace(c.Event.Text)), recentChars) {
		lines = lines[:n-1]
	}
	return strings.Join(lines, "\n")
}

// tell sends message id about ho to the hamlet's team (its Zalo group,
// else each member privately) and to the commune's officers; leaders
// instead of the whole team when escalating. It returns how many were
// told.
func (h *handoffs) tell(send func(cnsbot.Outgoing), ctx context.Context, ho cnsbot.Handoff, id string,
	extra map[string]any, escalate bool) (int, error) {
	data := map[string]any{"code": ho.Code, "place": h.place(ctx, ho), "recent": quote(ho.Recent)}
	for k, v := range extra {
		data[k] = v
	}
	what := strings.TrimPrefix(id, "handoff.team.")
	var people []cnsbot.Person
	told, group := 0, ""
	if ho.TeamID != nil {
		team, err := h.deps.People.Team(ctx, *ho.TeamID)
		if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			return 0, fmt.Errorf("team: %w", err)
		}
		group = team.GroupID
		list := h.deps.People.TeamMembers
		if escalate {
			list = h.deps.People.TeamLeaders
		}
		switch {
		case group != "" && !escalate:
			gd := make(map[string]any, len(data))
			for k, v := range data {
				if s, ok := v.(string); ok {
					v = vn.NoMention(s)
				}
				gd[k] = v
			}
			send(cnsbot.Outgoing{ID: "handoff:" + ho.Code + ":" + what + ":group", To: cnsbot.Recipient{GroupID: group},
				Kind: cnsbot.MsgText, Text: h.deps.Texts.T("vi", id, gd), Purpose: "notify", Ref: "handoff:" + ho.Code, Lang: "vi"})
			told++
		default:
			members, err := list(ctx, *ho.TeamID)
			if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				return 0, fmt.Errorf("team members: %w", err)
			}
			people = append(people, members...)
		}
	}
	if ho.CommuneID != 0 {
		officers, err := h.deps.People.CommuneOfficers(ctx, ho.CommuneID)
		if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			return 0, fmt.Errorf("commune officers: %w", err)
		}
		people = append(people, officers...)
	}
	seen := map[int64]bool{}
	for _, p := range people {
		if seen[p.ID] || p.ZaloUserID == nil || *p.ZaloUserID == "" {
			continue
		}
		seen[p.ID] = true
		lang := langOr(p.Lang)
		fallback := ""
		if escalate {
			fallback = group
		}
		send(cnsbot.Outgoing{ID: fmt.Sprintf("handoff:%s:%s:%d", ho.Code, what, p.ID), To: cnsbot.Recipient{UserID: *p.ZaloUserID},
			Kind: cnsbot.MsgText, Text: h.deps.Texts.T(lang, id, data), Purpose: "notify", Ref: "handoff:" + ho.Code,
			Lang: lang, FallbackGroup: fallback})
		told++
	}
	return told, nil
}

// place names a handoff's hamlet and commune; names that cannot be looked
// up are left out.
func (h *handoffs) place(ctx context.Context, ho cnsbot.Handoff) string {
	var parts []string
	for _, id := range []int64{ho.HamletID, ho.CommuneID} {
		if id == 0 {
			continue
		}
		if u, err := h.deps.People.Unit(ctx, id); err == nil {
			parts = append(parts, u.Name)
		}
	}
	return strings.Join(parts, ", ")
}

func langOr(lang string) string {
	if lang == "" {
		return "vi"
	}
	return lang
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cut shortens s to n characters, ending with "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// quote writes messages one a line, each in quotes.
func quote(lines string) string {
	if lines == "" {
		return ""
	}
	parts := splitLines(lines)
	for i, l := range parts {
		parts[i] = "« " + l + " »"
	}
	return strings.Join(parts, "\n")
}
