package team

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// FlowLink is a leader's "ghép hộ": which listed household a household
// typed in old visits ("hộ chưa khớp") is, so that its visits count.
const FlowLink = "link_household"

// Session Data keys of FlowLink.
const (
	// keyLinkKey is the visits' household_key; keyLinkTyped how it was
	// typed, to name it.
	keyLinkKey   = "link_key"
	keyLinkTyped = "link_typed"
	// keyLinkQuery is what the leader typed to find the listed household.
	keyLinkQuery = "link_query"
	// keyLinkTo is the listed household chosen, waiting for "Đúng, ghép".
	keyLinkTo = "link_to"
)

const (
	cmdLink      = "ghepho"
	cmdUnmatched = "hochuakhop"
	linkYes      = "dungghep"
	linkNo       = "khongphai"
	// linkButtons is how many unmatched households "hộ chưa khớp" offers
	// as buttons, beside "Nhà chưa đến" and "Menu" (Zalo shows five);
	// the others are picked by number ("ghép hộ 5").
	linkButtons = 3
)

var linkWords = []string{cmdLink, "ghep ho", "link household"}

// linkCommand is a leader's "ghép hộ N": the N-th household of "hộ chưa
// khớp" (as the list shows now), to link to a listed household. Without a
// good number it shows the list again.
func (t *teamFlows) linkCommand(c *flows.Ctx, args string) (bool, error) {
	if t.deps.Households == nil {
		return false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(args))
	if err != nil || n < 1 || n > pageSize {
		return t.unmatchedCommand(c, "")
	}
	team, list, ok, err := t.leaderUnmatched(c)
	if err != nil || !ok {
		return err == nil, err // !ok: answered
	}
	if n > len(list) {
		return t.unmatchedCommand(c, "")
	}
	u := list[n-1]
	c.Start(FlowLink, "", map[string]string{keyTeam: itoa(team.ID), keyLinkKey: u.Key, keyLinkTyped: u.Household})
	return true, nil
}

// linkFlow asks which listed household an unmatched one is: the leader
// types a house number, a name or a phone, picks among several matches,
// and confirms.
func (t *teamFlows) linkFlow() *flows.Flow {
	return &flows.Flow{
		Name:  FlowLink,
		Title: "households.link.name",
		Steps: []*flows.Step{
			{Name: "which", Ask: "households.link.ask", Help: "households.link.help", Input: flows.InputText, MaxLen: 200,
				Vars: func(c *flows.Ctx) map[string]any { return map[string]any{"typed": c.Get(keyLinkTyped)} },
				Save: keyLinkQuery, Then: t.linkFind},
			{Name: "choose", Ask: "households.link.choose", Help: "households.link.help", Input: flows.InputChoice, Free: true,
				MaxLen: 200, Options: t.linkChoices, Vars: t.linkVars, Then: t.linkChoose},
			{Name: "confirm", Ask: "households.link.confirm", Help: "households.link.help", Input: flows.InputChoice,
				Vars: t.linkConfirmVars, Then: t.linkConfirm,
				Choices: []flows.Choice{
					{ID: linkYes, Label: "households.link.yes_btn", Words: []string{"dung", "dung roi", "ghep", "dung ghep", "yes", "link"}},
					{ID: linkNo, Label: "households.link.no_btn", Words: []string{"khong phai", "khong", "sai", "no", "not this one"}},
				}},
		},
	}
}

// linkMatches returns the confirmed households of the team's hamlet that
// fit what the leader typed: a pending "hộ mới" waits for its own
// confirmation (store.LinkUnmatched refuses it).
func (t *teamFlows) linkMatches(c *flows.Ctx, text string) ([]cnsbot.ListedHousehold, error) {
	hamlet, err := t.visitHamlet(c)
	if err != nil || hamlet == 0 {
		return nil, err
	}
	all, err := t.deps.Households.MatchHouseholds(c.Context(), hamlet, text)
	if err != nil {
		return nil, fmt.Errorf("match households: %w", err)
	}
	out := all[:0]
	for _, h := range all {
		if !h.Pending {
			out = append(out, h)
		}
	}
	return out, nil
}

// linkFind looks what the leader typed up: one household is asked to be
// confirmed, several are offered with their addresses, none is said and
// the question stays.
func (t *teamFlows) linkFind(c *flows.Ctx, _ flows.Input) error {
	text := c.Get(keyLinkQuery)
	matches, err := t.linkMatches(c, text)
	if err != nil {
		return err
	}
	switch len(matches) {
	case 0:
		c.Reply(c.T("households.link.none", map[string]any{"typed": text}))
		c.Stay()
	case 1:
		c.Set(keyLinkTo, itoa(matches[0].ID))
		c.Goto("confirm")
	default:
		c.Goto("choose")
	}
	return nil
}

// linkChoices offers the first matches with their addresses, then "type
// again".
func (t *teamFlows) linkChoices(c *flows.Ctx) ([]flows.Choice, error) {
	matches, err := t.linkMatches(c, c.Get(keyLinkQuery))
	if err != nil {
		return nil, err
	}
	return append(matchChoices(matches), flows.Choice{ID: pickAgain, Label: "households.btn.again",
		Words: []string{"go lai", "nhap lai", "again", "type again"}}), nil
}

func (t *teamFlows) linkVars(c *flows.Ctx) map[string]any {
	matches, err := t.linkMatches(c, c.Get(keyLinkQuery))
	if err != nil {
		t.deps.log().WarnContext(c.Context(), "match households", "err", err)
	}
	return map[string]any{"count": len(matches), "many": len(matches) > pickMax, "typed": c.Get(keyLinkQuery)}
}

// linkChoose takes a tapped household, "type again", or typed text: with
// what was typed before (a house number among the "ông Năm"s), or alone.
func (t *teamFlows) linkChoose(c *flows.Ctx, in flows.Input) error {
	if in.Choice == nil {
		text := strings.TrimSpace(in.Text)
		for _, q := range []string{c.Get(keyLinkQuery) + " " + text, text} {
			matches, err := t.linkMatches(c, q)
			if err != nil {
				return err
			}
			if len(matches) == 1 {
				c.Set(keyLinkTo, itoa(matches[0].ID))
				c.Goto("confirm")
				return nil
			}
		}
		matches, err := t.linkMatches(c, text)
		if err != nil {
			return err
		}
		if len(matches) > 1 {
			c.Set(keyLinkQuery, text)
			c.Goto("choose")
			return nil
		}
		// None: the matches offered before stay on offer.
		c.Reply(c.T("households.link.none", map[string]any{"typed": text}))
		c.Stay()
		return nil
	}
	switch id := in.Choice.ID; {
	case id == pickAgain:
		c.Goto("which")
	case strings.HasPrefix(id, "d"):
		if _, ok := id64(id[1:]); !ok {
			c.Goto("which")
			return nil
		}
		c.Set(keyLinkTo, id[1:])
		c.Goto("confirm")
	}
	return nil
}

func (t *teamFlows) linkConfirmVars(c *flows.Ctx) map[string]any {
	vars := map[string]any{"typed": c.Get(keyLinkTyped)}
	if id, ok := id64(c.Get(keyLinkTo)); ok {
		h, err := t.deps.Households.ListedHousehold(c.Context(), id)
		if err != nil {
			t.deps.log().WarnContext(c.Context(), "listed household", "err", err)
		}
		vars["household"] = h.Label()
	}
	return vars
}

// linkConfirm links the visits on "Đúng, ghép", after checking again that
// the person still leads the team, and says how many visits now count.
// "Không phải" asks again.
func (t *teamFlows) linkConfirm(c *flows.Ctx, in flows.Input) error {
	if in.Choice == nil || in.Choice.ID != linkYes {
		c.Set(keyLinkTo, "")
		c.Goto("which")
		return nil
	}
	m, ok, err := t.householdLeader(c)
	if err != nil || !ok {
		if err == nil {
			c.Done() // answered
		}
		return err
	}
	teamID, _ := id64(c.Get(keyTeam))
	listed, ok := id64(c.Get(keyLinkTo))
	hamlet, err := t.visitHamlet(c)
	if err != nil {
		return err
	}
	if !ok || hamlet == 0 || !slices.Contains(m.leads, teamID) {
		c.Reply(c.T("households.split.leaders_only", nil))
		c.Done()
		return nil
	}
	h, err := t.deps.Households.ListedHousehold(c.Context(), listed)
	if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		return fmt.Errorf("listed household: %w", err)
	}
	n, err := t.deps.Households.LinkUnmatched(c.Context(), hamlet, c.Get(keyLinkKey), listed)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ENOTFOUND, cnsbot.EINVALID:
		// Gone from the list, or back to pending, since it was offered.
		c.Reply(c.T("households.link.gone", nil))
		c.Goto("which")
		return nil
	default:
		return fmt.Errorf("link unmatched visits: %w", err)
	}
	msg := "households.link.done"
	if n == 0 {
		msg = "households.link.already"
	}
	c.Reply(c.T(msg, map[string]any{"typed": c.Get(keyLinkTyped), "household": h.Label(), "visits": n}),
		c.Button("households.link.list_btn", cmdUnmatched), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}
