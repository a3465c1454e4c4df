package resident

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/vn"
)

// StaleAfter is how long a request may wait for a team member to take it
// before team leaders and commune officers are told.
const StaleAfter = 48 * time.Hour

// notifyTeam tells the hamlet's team about a new request: in its Zalo group
// when one is linked (without the resident's name and phone, since a group
// is not private), else each member privately. Without a team, or with no
// member reachable on Zalo, the commune's officers are told instead; it
// reports whether a team was told.
func (r *residents) notifyTeam(c *flows.Ctx, req cnsbot.HelpRequest, where string) (bool, error) {
	ctx := c.Context()
	data := map[string]any{
		"code": req.Code, "place": where, "name": req.Name, "phone": flows.DisplayPhone(req.Phone),
	}
	teams, err := r.deps.HelpDesk.TeamsOfHamlet(ctx, req.HamletID)
	if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		return false, fmt.Errorf("teams of hamlet: %w", err)
	}
	var team *cnsbot.Team
	for i := range teams {
		if req.TeamID == nil || teams[i].ID == *req.TeamID {
			team = &teams[i]
			break
		}
	}
	if team != nil && team.GroupID != "" {
		c.Send(cnsbot.Outgoing{
			ID:   "help:" + req.Code + ":group",
			To:   cnsbot.Recipient{GroupID: team.GroupID},
			Kind: cnsbot.MsgText, Text: c.TIn("vi", "resident.notify.group", forGroup(requestWords(c.TIn, "vi", req, data))),
			Purpose: "notify", Ref: req.Code, Lang: "vi",
		})
		return true, nil
	}
	if team != nil {
		members, err := r.deps.HelpDesk.TeamMembers(ctx, team.ID)
		if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			return false, fmt.Errorf("team members: %w", err)
		}
		if sendPeople(c, members, req, "resident.notify.member", data, true) > 0 {
			return true, nil
		}
	}
	officers, err := r.deps.HelpDesk.CommuneOfficers(ctx, req.CommuneID)
	if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		return false, fmt.Errorf("commune officers: %w", err)
	}
	if sendPeople(c, officers, req, "resident.notify.no_team", data, false) == 0 {
		r.deps.log().WarnContext(ctx, "nobody to tell about a help request", "code", req.Code, "hamlet", req.HamletID)
	}
	return false, nil
}

// notifyCancelled tells whoever was going to come that the resident
// cancelled the request, once: the member or officer who took it, else
// where the new request was posted (the team's Zalo group, else its
// members, else the commune's officers). Nobody is given the resident's
// name or phone again.
func (r *residents) notifyCancelled(c *flows.Ctx, req cnsbot.HelpRequest) error {
	ctx := c.Context()
	data := map[string]any{"code": req.Code, "place": placeOf(ctx, r.deps, req)}
	var group string
	if req.TeamID != nil {
		team, err := r.deps.HelpDesk.Team(ctx, *req.TeamID)
		if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			return fmt.Errorf("team: %w", err)
		}
		group = team.GroupID
	}
	tell := func(people []cnsbot.Person) int {
		n := 0
		for _, p := range people {
			if p.ZaloUserID == nil || *p.ZaloUserID == "" {
				continue
			}
			lang := langOr(p.Lang)
			c.Send(cnsbot.Outgoing{
				ID:   "help:" + req.Code + ":cancelled:" + strconv.FormatInt(p.ID, 10),
				To:   cnsbot.Recipient{UserID: *p.ZaloUserID},
				Kind: cnsbot.MsgText, Text: c.TIn(lang, "resident.notify.cancelled", requestWords(c.TIn, lang, req, data)),
				Purpose: "notify", Ref: req.Code, Lang: lang, FallbackGroup: group,
			})
			n++
		}
		return n
	}
	if req.TakenBy != nil {
		p, err := r.deps.HelpDesk.HelpTaker(ctx, req)
		switch {
		case err == nil:
			if tell([]cnsbot.Person{p}) > 0 {
				return nil
			}
		case cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND:
			return fmt.Errorf("help taker: %w", err)
		}
	}
	if group != "" {
		c.Send(cnsbot.Outgoing{
			ID:   "help:" + req.Code + ":cancelled:group",
			To:   cnsbot.Recipient{GroupID: group},
			Kind: cnsbot.MsgText, Text: c.TIn("vi", "resident.notify.cancelled", forGroup(requestWords(c.TIn, "vi", req, data))),
			Purpose: "notify", Ref: req.Code, Lang: "vi",
		})
		return nil
	}
	if req.TeamID != nil {
		members, err := r.deps.HelpDesk.TeamMembers(ctx, *req.TeamID)
		if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			return fmt.Errorf("team members: %w", err)
		}
		if tell(members) > 0 {
			return nil
		}
	}
	officers, err := r.deps.HelpDesk.CommuneOfficers(ctx, req.CommuneID)
	if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		return fmt.Errorf("commune officers: %w", err)
	}
	tell(officers)
	return nil
}

// sendPeople queues a private notice to each person who has linked Zalo,
// with a "take it" button for team members, and returns how many.
func sendPeople(c *flows.Ctx, people []cnsbot.Person, req cnsbot.HelpRequest, id string, data map[string]any, takeButton bool) int {
	n := 0
	for _, p := range people {
		if p.ZaloUserID == nil || *p.ZaloUserID == "" {
			continue
		}
		lang := langOr(p.Lang)
		m := cnsbot.Outgoing{
			ID:   "help:" + req.Code + ":" + strconv.FormatInt(p.ID, 10),
			To:   cnsbot.Recipient{UserID: *p.ZaloUserID},
			Kind: cnsbot.MsgText, Text: c.TIn(lang, id, requestWords(c.TIn, lang, req, data)),
			Purpose: "notify", Ref: req.Code, Lang: lang,
		}
		if takeButton {
			m.Kind = cnsbot.MsgList
			m.Buttons = []cnsbot.Button{{Title: c.TIn(lang, "resident.btn.take", nil), Payload: "#nhan " + req.Code}}
		}
		c.Send(m)
		n++
	}
	return n
}

// forGroup returns a copy of data fit for a team's Zalo group: in every
// text (a resident's problem, preferred time, name), what Zalo would read as
// a mention of a member or of the whole group is made inert.
func forGroup(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if s, ok := v.(string); ok {
			v = vn.NoMention(s)
		}
		out[k] = v
	}
	return out
}

func langOr(lang string) string {
	if lang == "" {
		return "vi"
	}
	return lang
}

// residentLang returns the language the resident chose in their chat.
func residentLang(ctx context.Context, deps Deps, userID string) string {
	if deps.Sessions == nil {
		return "vi"
	}
	s, err := deps.Sessions.Load(ctx, "u:"+userID)
	if err != nil {
		deps.log().WarnContext(ctx, "resident language unknown", "err", err)
		return "vi"
	}
	return langOr(s.Lang)
}

// Notices builds the messages that tell a resident what became of their
// request, in the resident's language, for a team member's command to
// commit with its own session. It needs only the texts and the sessions
// (for the language), not the resident flows' other dependencies.
type Notices struct {
	deps Deps
}

// NewNotices returns Notices that render with texts and read a resident's
// language from sessions (Vietnamese when it cannot be read).
func NewNotices(texts *locales.Bundle, sessions flows.Sessions, log *slog.Logger) *Notices {
	return &Notices{deps: Deps{Texts: texts, Sessions: sessions, Log: log}}
}

// Taken tells the resident who is coming, with the member's phone so that
// the person at the door can be checked (domain.md: "the team never asks
// for money or OTPs"). memberPhone is E.164.
func (n *Notices) Taken(ctx context.Context, r cnsbot.HelpRequest, memberName, memberPhone string) cnsbot.Outgoing {
	lang := residentLang(ctx, n.deps, r.ResidentUserID)
	return cnsbot.Outgoing{
		ID:   "help:" + r.Code + ":taken",
		To:   cnsbot.Recipient{UserID: r.ResidentUserID},
		Kind: cnsbot.MsgText,
		Text: n.deps.Texts.T(lang, "resident.notify.taken", map[string]any{
			"code": r.Code, "member": memberName, "member_phone": flows.DisplayPhone(memberPhone),
			"time": TimeText(n.deps.Texts.T, lang, r.PreferredTime),
		}),
		Purpose: "notify", Ref: r.Code, Lang: lang,
	}
}

// Closed tells the resident the request is done and asks for a rating
// from 1 to 5 (buttons whose payloads are the typed command
// "#danhgia CODE N").
func (n *Notices) Closed(ctx context.Context, r cnsbot.HelpRequest) cnsbot.Outgoing {
	lang := residentLang(ctx, n.deps, r.ResidentUserID)
	t := func(id string, data map[string]any) string { return n.deps.Texts.T(lang, id, data) }
	return cnsbot.Outgoing{
		ID:      "help:" + r.Code + ":closed",
		To:      cnsbot.Recipient{UserID: r.ResidentUserID},
		Kind:    cnsbot.MsgList,
		Text:    t("resident.notify.closed", map[string]any{"code": r.Code}),
		Buttons: rateButtons(t, r.Code),
		Purpose: "notify", Ref: r.Code, Lang: lang,
	}
}

// EscalateStale finds requests that nobody took within StaleAfter and
// returns notices to their team's leaders and the commune's officers (with
// the team's group as the fallback when Zalo refuses a private message).
// Each request is marked escalated once its notices are built, so the
// scheduler must push the result in the same run; the notices' IDs are
// stable ("esc:<code>:<person>"), so pushing them twice sends them once.
func EscalateStale(ctx context.Context, deps Deps, now time.Time) ([]cnsbot.Outgoing, error) {
	stale, err := deps.HelpDesk.UnclaimedBefore(ctx, now.Add(-StaleAfter))
	if err != nil {
		return nil, fmt.Errorf("unclaimed help requests: %w", err)
	}
	var out []cnsbot.Outgoing
	for _, r := range stale {
		var people []cnsbot.Person
		fallback := ""
		if r.TeamID != nil {
			leaders, err := deps.HelpDesk.TeamLeaders(ctx, *r.TeamID)
			if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				return out, fmt.Errorf("team leaders: %w", err)
			}
			people = append(people, leaders...)
			team, err := deps.HelpDesk.Team(ctx, *r.TeamID)
			if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				return out, fmt.Errorf("team: %w", err)
			}
			fallback = team.GroupID
		}
		officers, err := deps.HelpDesk.CommuneOfficers(ctx, r.CommuneID)
		if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			return out, fmt.Errorf("commune officers: %w", err)
		}
		people = append(people, officers...)
		data := map[string]any{"code": r.Code, "place": placeOf(ctx, deps, r), "hours": int(StaleAfter / time.Hour)}
		seen := make(map[int64]bool)
		sent := 0
		for _, p := range people {
			if seen[p.ID] || p.ZaloUserID == nil || *p.ZaloUserID == "" {
				continue
			}
			seen[p.ID] = true
			lang := langOr(p.Lang)
			out = append(out, cnsbot.Outgoing{
				ID:   "esc:" + r.Code + ":" + strconv.FormatInt(p.ID, 10),
				To:   cnsbot.Recipient{UserID: *p.ZaloUserID},
				Kind: cnsbot.MsgText, Text: deps.Texts.T(lang, "resident.notify.stale", requestWords(deps.Texts.T, lang, r, data)),
				Purpose: "notify", Ref: r.Code, Lang: lang, FallbackGroup: fallback,
			})
			sent++
		}
		if sent == 0 {
			deps.log().WarnContext(ctx, "stale help request has nobody to escalate to", "code", r.Code)
		}
		if err := deps.HelpDesk.MarkEscalated(ctx, r.ID, now); err != nil {
			return out, fmt.Errorf("mark escalated: %w", err)
		}
	}
	return out, nil
}

// placeOf names a request's hamlet and commune for people outside the
// conversation; names that cannot be looked up are left out.
func placeOf(ctx context.Context, deps Deps, r cnsbot.HelpRequest) string {
	var parts []string
	for _, id := range []int64{r.HamletID, r.CommuneID} {
		if id == 0 {
			continue
		}
		if u, err := deps.Places.Unit(ctx, id); err == nil {
			parts = append(parts, u.Name)
		}
	}
	return strings.Join(parts, ", ")
}
