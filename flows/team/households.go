package team

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
)

// Households is the hamlets' household lists (a *store.DB). Where a hamlet
// has one, a visit names a household of it: the member types a house
// number, a name or a phone and picks among the matches.
type Households interface {
	HasHouseholdList(ctx context.Context, hamletID int64) (bool, error)
	MatchHouseholds(ctx context.Context, hamletID int64, text string) ([]cnsbot.ListedHousehold, error)
	ListedHousehold(ctx context.Context, id int64) (cnsbot.ListedHousehold, error)
	AddHousehold(ctx context.Context, hamletID int64, text string, addedBy int64) (cnsbot.ListedHousehold, error)
	UnvisitedHouseholds(ctx context.Context, hamletID, assignedTo int64, offset, limit int) ([]cnsbot.ListedHousehold, int, error)
	AssignedHouseholds(ctx context.Context, hamletID, personID int64) (int, error)
	SplitHouseholds(ctx context.Context, hamletID int64, members []int64) ([]cnsbot.HouseholdShare, error)
	PendingHouseholds(ctx context.Context, hamletID int64) ([]cnsbot.ListedHousehold, error)
	ConfirmHousehold(ctx context.Context, hamletID, id int64) error
	UnmatchedVisits(ctx context.Context, hamletID int64, limit int) ([]cnsbot.UnmatchedVisit, error)
	LinkUnmatched(ctx context.Context, hamletID int64, householdKey string, listedID int64) (int, error)
}

// Session Data keys of a visit to a listed household.
const (
	// keyListed is the id of the listed household the visit went to.
	keyListed = "listed"
	// keyPick is set while the member must pick the household among the
	// matches of what they typed (or add it as new).
	keyPick = "pick"
	// keyNew marks a household the member adds to the list ("hộ mới").
	keyNew = "new_household"
	// keyOtherHamlet marks a household of another hamlet than the team's:
	// it is kept as typed.
	keyOtherHamlet = "other_hamlet"
)

// Buttons and typed commands of the household list.
const (
	cmdUnvisited = "chuaden"
	cmdSplit     = "chianha"
	cmdConfirm   = "xacnhanho"
	pickNew      = "homoi"
	pickAgain    = "golai"
	// pageSize is how many households "nhà chưa đến" shows at a time.
	pageSize = 10
	// pickMax is how many matches are offered as buttons, beside "hộ
	// mới" and "gõ lại" (Zalo shows five).
	pickMax = 3
)

var (
	unvisitedWords = []string{cmdUnvisited, "nha chua den", "ho chua den", "chua den", "houses not visited", "unvisited", "next houses"}
	splitWords     = []string{cmdSplit, "chia nha", "chia ho", "split houses"}
	confirmWords   = []string{cmdConfirm, "xac nhan ho", "ho moi", "new households"}
	unmatchedWords = []string{cmdUnmatched, "ho chua khop", "chua khop", "unmatched", "unmatched visits"}
)

// pickStep asks which listed household the member meant, when what they
// typed matches several, or none.
func (t *teamFlows) pickStep() *flows.Step {
	return &flows.Step{Name: "pick", Ask: "households.pick.ask", Help: "households.pick.help", Input: flows.InputChoice,
		Options: t.pickChoices, Vars: t.pickVars, Parse: t.readPick, Then: t.choosePick,
		Skip: func(c *flows.Ctx) bool { return c.Get(keyPick) == "" }}
}

// visitHamlet returns the hamlet of the report's team, 0 when not known yet.
func (t *teamFlows) visitHamlet(c *flows.Ctx) (int64, error) {
	id, ok := id64(c.Get(keyTeam))
	if !ok {
		return 0, nil
	}
	team, err := t.deps.Teams.Team(c.Context(), id)
	if err != nil {
		return 0, fmt.Errorf("team: %w", err)
	}
	return team.HamletID, nil
}

// resolveHousehold looks what the member typed up in the team hamlet's
// list, once the team and the household are known: one match is the
// household; several, or none, are asked about (the "pick" step). A hamlet
// without a list, or a household of another hamlet, stays as typed.
func (t *teamFlows) resolveHousehold(c *flows.Ctx) error {
	c.Set(keyPick, "")
	text := c.Get(keyHousehold)
	if t.deps.Households == nil || text == "" || c.Get(keyListed) != "" || c.Get(keyNew) != "" ||
		c.Get(keyHamletAsk) != "" || c.Get(keyOtherHamlet) != "" {
		return nil
	}
	hamlet, err := t.visitHamlet(c)
	if err != nil || hamlet == 0 {
		return err
	}
	has, err := t.deps.Households.HasHouseholdList(c.Context(), hamlet)
	if err != nil || !has {
		return err
	}
	matches, err := t.deps.Households.MatchHouseholds(c.Context(), hamlet, text)
	if err != nil {
		return fmt.Errorf("match households: %w", err)
	}
	if len(matches) == 1 {
		setListed(c, matches[0])
		return nil
	}
	c.Set(keyPick, "1")
	return nil
}

func setListed(c *flows.Ctx, h cnsbot.ListedHousehold) {
	c.Set(keyListed, itoa(h.ID))
	c.Set(keyHousehold, h.Label())
	c.Set(keyPick, "")
}

// forgetListed drops the household picked before, when the member types
// another.
func forgetListed(c *flows.Ctx) {
	c.Set(keyListed, "")
	c.Set(keyNew, "")
	c.Set(keyPick, "")
}

func (t *teamFlows) pickMatches(c *flows.Ctx) ([]cnsbot.ListedHousehold, error) {
	hamlet, err := t.visitHamlet(c)
	if err != nil || hamlet == 0 || t.deps.Households == nil {
		return nil, err
	}
	matches, err := t.deps.Households.MatchHouseholds(c.Context(), hamlet, c.Get(keyHousehold))
	if err != nil {
		return nil, fmt.Errorf("match households: %w", err)
	}
	return matches, nil
}

// matchChoices are the first pickMax matches as buttons, each titled
// with its address; the pick and the link flows add their own last ones.
func matchChoices(matches []cnsbot.ListedHousehold) []flows.Choice {
	var out []flows.Choice
	for _, h := range matches[:min(len(matches), pickMax)] {
		out = append(out, flows.Choice{ID: "d" + itoa(h.ID), Title: h.Label()})
	}
	return out
}

// pickChoices offers the first matches, with their addresses to tell the
// "ông Năm"s apart, then "new household" and "type again".
func (t *teamFlows) pickChoices(c *flows.Ctx) ([]flows.Choice, error) {
	matches, err := t.pickMatches(c)
	if err != nil {
		return nil, err
	}
	return append(matchChoices(matches),
		flows.Choice{ID: pickNew, Label: "households.btn.new", Words: []string{"ho moi", "nha moi", "them ho", "new", "new household"}},
		flows.Choice{ID: pickAgain, Label: "households.btn.again", Words: []string{"go lai", "nhap lai", "lai", "again", "type again"}},
	), nil
}

func (t *teamFlows) pickVars(c *flows.Ctx) map[string]any {
	matches, err := t.pickMatches(c)
	if err != nil {
		t.deps.log().WarnContext(c.Context(), "match households", "err", err)
	}
	return map[string]any{"count": len(matches), "many": len(matches) > pickMax, "typed": c.Get(keyHousehold)}
}

// readPick reads a house number (or a name) typed at the question: with
// what was typed before, or alone, it must name one household.
func (t *teamFlows) readPick(c *flows.Ctx, text string) (string, bool) {
	hamlet, err := t.visitHamlet(c)
	if err != nil || hamlet == 0 || t.deps.Households == nil {
		return "", false
	}
	for _, q := range []string{c.Get(keyHousehold) + " " + text, text} {
		matches, err := t.deps.Households.MatchHouseholds(c.Context(), hamlet, q)
		if err != nil {
			t.deps.log().WarnContext(c.Context(), "match households", "err", err)
			return "", false
		}
		if len(matches) == 1 {
			setListed(c, matches[0])
			return "", true
		}
	}
	return "", false
}

func (t *teamFlows) choosePick(c *flows.Ctx, in flows.Input) error {
	if in.Choice == nil {
		return nil // readPick kept the household
	}
	switch id := in.Choice.ID; {
	case id == pickNew:
		c.Set(keyPick, "")
		c.Set(keyNew, "1")
	case id == pickAgain:
		forgetListed(c)
		c.Set(keyHousehold, "")
		c.Goto("household")
	case strings.HasPrefix(id, "d"):
		hid, ok := id64(id[1:])
		if !ok {
			return nil
		}
		h, err := t.deps.Households.ListedHousehold(c.Context(), hid)
		if err != nil {
			return fmt.Errorf("listed household: %w", err)
		}
		setListed(c, h)
	}
	return nil
}

// visitHousehold fills in the household of a visit about to be saved: the
// listed one picked, or a new one added to the list for the leader to
// confirm.
func (t *teamFlows) visitHousehold(c *flows.Ctx, v *cnsbot.Visit, personID int64) error {
	if id, ok := id64(c.Get(keyListed)); ok {
		v.ListedHouseholdID = &id
		return nil
	}
	if c.Get(keyNew) == "" || t.deps.Households == nil {
		return nil
	}
	hamlet, err := t.visitHamlet(c)
	if err != nil || hamlet == 0 {
		return err
	}
	h, err := t.deps.Households.AddHousehold(c.Context(), hamlet, c.Get(keyHousehold), personID)
	if err != nil {
		return fmt.Errorf("add household: %w", err)
	}
	v.ListedHouseholdID = &h.ID
	return nil
}

// householdNote says, in the summary, that a household is new to the list.
func householdNote(c *flows.Ctx) string {
	if c.Get(keyNew) != "" {
		return c.T("households.new_note", nil)
	}
	return ""
}

// roundTeam returns the team whose hamlet's round a member asks about:
// the one they lead, for leaders, else their first.
func roundTeam(m member) int64 {
	if len(m.leads) > 0 {
		return m.leads[0]
	}
	return m.teams[0]
}

// unvisitedCommand answers "nhà chưa đến": the team hamlet's listed
// households no visit has named yet, ten at a time, by house number, or
// nearest first after the member shared their location (nearest.go); a
// member who was given a share sees theirs. "chuaden 10" is the next page.
func (t *teamFlows) unvisitedCommand(c *flows.Ctx, args string) (bool, error) {
	if t.deps.Households == nil {
		return false, nil
	}
	m, ok, err := whoami(c)
	if err != nil {
		return false, err
	}
	if !ok {
		t.notMember(c)
		return true, nil
	}
	team, err := t.deps.Teams.Team(c.Context(), roundTeam(m))
	if err != nil {
		return false, fmt.Errorf("team: %w", err)
	}
	offset, _ := strconv.Atoi(strings.TrimSpace(args))
	text, more, err := t.unvisitedText(c, team, m.person.ID, offset, false)
	if err != nil {
		return false, err
	}
	buttons := []cnsbot.Button{}
	if more {
		buttons = append(buttons, cnsbot.Button{Title: c.T("households.btn.more", nil),
			Payload: "#" + cmdUnvisited + " " + strconv.Itoa(offset+pageSize)})
	}
	if len(m.leads) > 0 && offset == 0 {
		buttons = append(buttons, c.Button("households.btn.split", cmdSplit))
	}
	buttons = append(buttons, c.Button("common.menu", "menu"))
	c.Reply(text, buttons...)
	return true, nil
}

// unvisitedText is one page of the round for a person of the team: their
// share when a leader split the list, else the whole hamlet's.
func (t *teamFlows) unvisitedText(c *flows.Ctx, team cnsbot.Team, personID int64, offset int, group bool) (string, bool, error) {
	ctx := c.Context()
	has, err := t.deps.Households.HasHouseholdList(ctx, team.HamletID)
	if err != nil {
		return "", false, fmt.Errorf("household list: %w", err)
	}
	if !has {
		return c.T("households.unvisited.no_list", map[string]any{"team": team.Name}), false, nil
	}
	var assigned int
	if personID != 0 {
		if assigned, err = t.deps.Households.AssignedHouseholds(ctx, team.HamletID, personID); err != nil {
			return "", false, fmt.Errorf("assigned households: %w", err)
		}
	}
	who := int64(0)
	if assigned > 0 {
		who = personID
	}
	offset = max(offset, 0)
	from, near, err := t.roundFrom(c, personID, offset, group)
	if err != nil {
		return "", false, err
	}
	var list []cnsbot.ListedHousehold
	var total int
	if near {
		list, total, err = t.deps.Positions.NearestUnvisited(ctx, team.HamletID, who, from, offset, pageSize)
	} else {
		list, total, err = t.deps.Households.UnvisitedHouseholds(ctx, team.HamletID, who, offset, pageSize)
	}
	if err != nil {
		return "", false, fmt.Errorf("unvisited households: %w", err)
	}
	if total == 0 {
		return c.T("households.unvisited.none", map[string]any{"team": team.Name, "mine": who != 0}), false, nil
	}
	if len(list) == 0 && offset > 0 {
		return c.TN("households.unvisited.end", total, nil), false, nil
	}
	var b strings.Builder
	head := "households.unvisited.head"
	if near {
		head = "households.nearest.head"
	}
	b.WriteString(c.T(head, map[string]any{"team": team.Name, "total": total, "mine": who != 0,
		"from": offset + 1, "to": offset + len(list)}))
	unplaced := false
	for i, h := range list {
		fmt.Fprintf(&b, "\n%d. %s", offset+i+1, h.Label())
		if !near {
			continue
		}
		if p, ok := h.Place(); ok {
			b.WriteString(" (" + distanceText(c, cnsbot.Distance(from, p)) + ")")
		} else {
			unplaced = true
		}
	}
	switch {
	case unplaced:
		b.WriteString("\n" + c.T("households.nearest.unplaced", nil))
	case !near && !group && offset == 0 && t.deps.Positions != nil:
		b.WriteString("\n" + c.T("households.nearest.hint", nil))
	}
	more := offset+len(list) < total
	switch {
	case more && group:
		b.WriteString("\n" + c.T("households.unvisited.more_group", map[string]any{"next": offset + pageSize}))
	case more:
		b.WriteString("\n" + c.T("households.unvisited.more_hint", nil))
	}
	return b.String(), more, nil
}

// householdLeader is the gate of the leaders' household commands: it
// returns the caller when they lead a team; otherwise it has answered them
// (not a member; leaders only, with buttons) and ok is false.
func (t *teamFlows) householdLeader(c *flows.Ctx, buttons ...cnsbot.Button) (member, bool, error) {
	m, ok, err := whoami(c)
	if err != nil {
		return member{}, false, err
	}
	if !ok {
		t.notMember(c)
		return member{}, false, nil
	}
	if len(m.leads) == 0 {
		c.Reply(c.T("households.split.leaders_only", nil), buttons...)
		return member{}, false, nil
	}
	return m, true, nil
}

// splitCommand is a leader's "chia nhà": the hamlet's unvisited households
// shared among the team's members in runs of neighbouring houses.
func (t *teamFlows) splitCommand(c *flows.Ctx, _ string) (bool, error) {
	if t.deps.Households == nil {
		return false, nil
	}
	m, ok, err := t.householdLeader(c, c.Button("households.btn.unvisited", cmdUnvisited))
	if err != nil || !ok {
		return err == nil, err // !ok: answered
	}
	ctx := c.Context()
	team, err := t.deps.Teams.Team(ctx, m.leads[0])
	if err != nil {
		return false, fmt.Errorf("team: %w", err)
	}
	if has, err := t.deps.Households.HasHouseholdList(ctx, team.HamletID); err != nil || !has {
		if err == nil {
			c.Reply(c.T("households.unvisited.no_list", map[string]any{"team": team.Name}))
		}
		return err == nil, err
	}
	people, err := t.deps.Roster.TeamMembers(ctx, team.ID)
	if err != nil {
		return false, fmt.Errorf("team members: %w", err)
	}
	ids := make([]int64, 0, len(people))
	names := map[int64]string{}
	for _, p := range people {
		ids = append(ids, p.ID)
		names[p.ID] = p.FullName
	}
	shares, err := t.deps.Households.SplitHouseholds(ctx, team.HamletID, ids)
	if err != nil {
		return false, fmt.Errorf("split households: %w", err)
	}
	total := 0
	var b strings.Builder
	for _, s := range shares {
		total += s.Count
		if s.Count == 0 {
			fmt.Fprintf(&b, "\n• %s: %s", names[s.PersonID], c.T("households.split.nothing", nil))
			continue
		}
		fmt.Fprintf(&b, "\n• %s", c.TN("households.split.share", s.Count, map[string]any{"name": names[s.PersonID],
			"from": s.From.Label(), "to": s.To.Label()}))
	}
	c.Reply(c.T("households.split.done", map[string]any{"team": team.Name, "total": total, "members": len(shares)})+b.String(),
		c.Button("households.btn.unvisited", cmdUnvisited), c.Button("common.menu", "menu"))
	return true, nil
}

// confirmCommand is a leader's "hộ mới": the households members added to
// the hamlet, to confirm one by one ("xacnhanho 12").
func (t *teamFlows) confirmCommand(c *flows.Ctx, args string) (bool, error) {
	if t.deps.Households == nil {
		return false, nil
	}
	m, ok, err := t.householdLeader(c)
	if err != nil || !ok {
		return err == nil, err // !ok: answered
	}
	ctx := c.Context()
	team, err := t.deps.Teams.Team(ctx, m.leads[0])
	if err != nil {
		return false, fmt.Errorf("team: %w", err)
	}
	lead := ""
	if id, ok := id64(strings.TrimSpace(args)); ok {
		switch err := t.deps.Households.ConfirmHousehold(ctx, team.HamletID, id); cnsbot.ErrorCode(err) {
		case "":
			lead = c.T("households.confirm.done", nil) + "\n"
		case cnsbot.ENOTFOUND:
		default:
			return false, fmt.Errorf("confirm household: %w", err)
		}
	}
	pending, err := t.deps.Households.PendingHouseholds(ctx, team.HamletID)
	if err != nil {
		return false, fmt.Errorf("pending households: %w", err)
	}
	if len(pending) == 0 {
		c.Reply(lead+c.T("households.confirm.none", nil), c.Button("common.menu", "menu"))
		return true, nil
	}
	var b strings.Builder
	b.WriteString(lead + c.TN("households.confirm.head", len(pending), nil))
	var buttons []cnsbot.Button
	for i, h := range pending {
		fmt.Fprintf(&b, "\n%d. %s", i+1, h.Label())
		if len(buttons) < 4 {
			buttons = append(buttons, cnsbot.Button{Title: "✓ " + h.Label(), Payload: "#" + cmdConfirm + " " + itoa(h.ID)})
		}
	}
	c.Reply(b.String(), append(buttons, c.Button("common.menu", "menu"))...)
	return true, nil
}

// groupUnvisited answers "#chuaden" in the team's group: the round's next
// houses, or the share of the member who asks when the leader split it.
// Typed "#chuaden 10" is the next page.
func (t *teamFlows) groupUnvisited(c *flows.Ctx, team cnsbot.Team, args string) error {
	if t.deps.Households == nil {
		c.Reply(c.T("team.group.help", nil))
		return nil
	}
	p, _, found, err := c.Person()
	if err != nil {
		return err
	}
	if !found {
		c.Reply(c.T("team.group.not_member", nil))
		return nil
	}
	offset, _ := strconv.Atoi(strings.TrimSpace(args))
	text, _, err := t.unvisitedText(c, team, p.ID, offset, true)
	if err != nil {
		return err
	}
	c.Reply(text)
	return nil
}

// unmatchedCommand is a leader's "hộ chưa khớp": the households typed in
// visits before the hamlet had its list that the import could not match to
// one listed household. They do not count as guided until they match
// (store/listedcounts.go): the first are buttons, and "ghép hộ N" links
// the N-th (unmatched.go).
func (t *teamFlows) unmatchedCommand(c *flows.Ctx, _ string) (bool, error) {
	if t.deps.Households == nil {
		return false, nil
	}
	_, list, ok, err := t.leaderUnmatched(c)
	if err != nil || !ok {
		return err == nil, err // !ok: answered
	}
	if len(list) == 0 {
		c.Reply(c.T("households.unmatched.none", nil), c.Button("common.menu", "menu"))
		return true, nil
	}
	var b strings.Builder
	b.WriteString(c.T("households.unmatched.head", nil))
	var buttons []cnsbot.Button
	for i, u := range list {
		fmt.Fprintf(&b, "\n%d. %s", i+1, c.TN("households.unmatched.line", u.Visits, map[string]any{"household": u.Household,
			"matches": u.Matches}))
		if i < linkButtons {
			buttons = append(buttons, cnsbot.Button{Title: fmt.Sprintf("%d. %s", i+1, vn.Clip(u.Household, 40)),
				Payload: "#" + cmdLink + " " + strconv.Itoa(i+1)})
		}
	}
	b.WriteString("\n" + c.T("households.unmatched.hint", nil))
	c.Reply(b.String(), append(buttons, c.Button("households.btn.unvisited", cmdUnvisited), c.Button("common.menu", "menu"))...)
	return true, nil
}

// leaderUnmatched is the first page of "hộ chưa khớp" of the team the
// person leads, for the commands that show or pick from it; ok false when
// the person leads no team with a list (already answered).
func (t *teamFlows) leaderUnmatched(c *flows.Ctx) (cnsbot.Team, []cnsbot.UnmatchedVisit, bool, error) {
	m, ok, err := t.householdLeader(c)
	if err != nil || !ok {
		return cnsbot.Team{}, nil, false, err
	}
	team, err := t.deps.Teams.Team(c.Context(), m.leads[0])
	if err != nil {
		return cnsbot.Team{}, nil, false, fmt.Errorf("team: %w", err)
	}
	list, err := t.deps.Households.UnmatchedVisits(c.Context(), team.HamletID, pageSize)
	if err != nil {
		return cnsbot.Team{}, nil, false, fmt.Errorf("unmatched visits: %w", err)
	}
	return team, list, true, nil
}

// groupHousehold names the listed household of a report confirmed in the
// team's group when what was typed matches exactly one; a group is no
// place to ask which "ông Năm", so anything else stays as typed, for the
// leader to see with "hộ chưa khớp".
func (t *teamFlows) groupHousehold(c *flows.Ctx, team cnsbot.Team, v *cnsbot.Visit) error {
	if t.deps.Households == nil {
		return nil
	}
	matches, err := t.deps.Households.MatchHouseholds(c.Context(), team.HamletID, v.Household)
	if err != nil {
		return fmt.Errorf("match households: %w", err)
	}
	if len(matches) == 1 {
		v.ListedHouseholdID, v.Household = &matches[0].ID, matches[0].Label()
	}
	return nil
}

// teamWeek counts, in a team's visits of a week, the days on which the
// team's activity reached the plan's four hours (its members' minutes
// added up) and the week's minutes: the plan asks each team for at least
// four hours a day on two days a week.
func teamWeek(visits []cnsbot.Visit, loc *time.Location) (days, minutes int) {
	w := cnsbot.WeekTally{Loc: loc}
	for _, v := range visits {
		w.Add(v.VisitedAt, v.Minutes)
	}
	return w.Days(), w.Minutes
}

// teamWeekText says how a team's week is going against the plan's hours,
// for "tuần của tôi" beside the member's own week.
func (t *teamFlows) teamWeekText(c *flows.Ctx, teamID int64) (string, error) {
	team, err := t.deps.Teams.Team(c.Context(), teamID)
	if err != nil {
		return "", fmt.Errorf("team: %w", err)
	}
	start := weekStart(c.Now(), t.deps.loc())
	visits, err := t.deps.Week.TeamVisits(c.Context(), teamID, start, start.AddDate(0, 0, 7))
	if err != nil {
		return "", fmt.Errorf("team visits: %w", err)
	}
	days, minutes := teamWeek(visits, t.deps.loc())
	return c.T("households.week.team", map[string]any{"team": team.Name, "days": days, "plan_days": planDays,
		"day_hours": planDayMinutes / 60, "hours": hoursText(c.Lang(), minutes), "met": days >= planDays}), nil
}
