package team

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/resident"
)

// Session Data keys of closing a help request.
const (
	keyCode    = "code"
	keyOutcome = "outcome"
)

// memberFlow is the members' menu: their week, the team's progress, the
// open requests, and a visit report. Each choice is also a typed command.
func (t *teamFlows) memberFlow() *flows.Flow {
	return &flows.Flow{
		Name:  FlowMember,
		Title: "team.menu.team",
		Steps: []*flows.Step{{
			Name: "hub", Ask: "team.hub.ask", Help: "team.hub.help", Input: flows.InputChoice,
			Choices: []flows.Choice{
				{ID: cmdReport, Label: "team.menu.report", Start: FlowVisit},
				{ID: cmdWeek, Label: "team.btn.week", Words: weekWords, Run: t.inHub(t.showWeek)},
				{ID: cmdProgress, Label: "team.btn.progress", Words: progressWords, Run: t.inHub(t.showProgress)},
				{ID: cmdRequests, Label: "team.btn.requests", Words: requestsWords, Run: t.inHub(t.showRequests)},
			},
		}},
	}
}

// inHub runs a member's command from the members' menu and leaves it.
func (t *teamFlows) inHub(show func(c *flows.Ctx, m member) error) func(c *flows.Ctx) error {
	return func(c *flows.Ctx) error {
		m, ok, err := whoami(c)
		if err != nil {
			return err
		}
		c.Done()
		if !ok {
			t.notMember(c)
			return nil
		}
		return show(c, m)
	}
}

// memberCommand wraps a command without arguments that only members use.
// Typed while answering a question, or with more words after it, the
// text is not the command.
func (t *teamFlows) memberCommand(c *flows.Ctx, args string, show func(c *flows.Ctx, m member) error) (bool, error) {
	if strings.TrimSpace(args) != "" {
		return false, nil
	}
	m, ok, err := whoami(c)
	if err != nil {
		return false, err
	}
	if c.FlowName() == FlowMember {
		c.Done()
	}
	if !ok {
		t.notMember(c)
		return true, nil
	}
	return true, show(c, m)
}

func (t *teamFlows) weekCommand(c *flows.Ctx, args string) (bool, error) {
	return t.memberCommand(c, args, t.showWeek)
}

func (t *teamFlows) progressCommand(c *flows.Ctx, args string) (bool, error) {
	return t.memberCommand(c, args, t.showProgress)
}

func (t *teamFlows) requestsCommand(c *flows.Ctx, args string) (bool, error) {
	return t.memberCommand(c, args, t.showRequests)
}

func (t *teamFlows) showWeek(c *flows.Ctx, m member) error {
	text, err := t.weekText(c.Context(), c.Lang(), m.person.ID, c.Now())
	if err != nil {
		return err
	}
	for _, id := range m.teams {
		line, err := t.teamWeekText(c, id)
		if err != nil {
			return err
		}
		text += "\n" + line
	}
	c.Reply(text, c.Button("team.menu.report", cmdReport), c.Button("team.btn.progress", cmdProgress), c.Button("common.menu", "menu"))
	return nil
}

func (t *teamFlows) showProgress(c *flows.Ctx, m member) error {
	var parts []string
	for _, id := range m.teams {
		team, err := t.deps.Teams.Team(c.Context(), id)
		if err != nil {
			return fmt.Errorf("team: %w", err)
		}
		text, err := t.progressText(c.Context(), c.Lang(), team)
		if err != nil {
			return err
		}
		areas, err := t.areaProgressText(c.Context(), c.Lang(), team)
		if err != nil {
			return err
		}
		if areas != "" {
			text += "\n" + areas
		}
		parts = append(parts, text)
		if slices.Contains(m.leads, id) && team.GroupID == "" {
			// Leaders link their team's Zalo group with the team's code.
			parts = append(parts, c.T("team.progress.link_hint", map[string]any{"code": team.Code}))
		}
	}
	c.Reply(strings.Join(parts, "\n\n"), c.Button("team.menu.report", cmdReport), c.Button("team.btn.week", cmdWeek), c.Button("common.menu", "menu"))
	return nil
}

// maxListed bounds the requests listed in one message.
const maxListed = 5

// showRequests lists the open help requests in the member's hamlets, with
// a button to take each.
func (t *teamFlows) showRequests(c *flows.Ctx, m member) error {
	reqs, err := t.openRequests(c.Context(), m.teams, m.person.ID)
	if err != nil {
		return err
	}
	if len(reqs) == 0 {
		c.Reply(c.T("team.requests.none", nil), c.Button("team.menu.report", cmdReport), c.Button("common.menu", "menu"))
		return nil
	}
	c.Reply(t.requestList(c.Context(), c.Lang(), reqs), takeButtons(c.T, reqs)...)
	return nil
}

// openRequests returns the open requests of the teams' hamlets that the
// person may serve, oldest first within each hamlet.
func (t *teamFlows) openRequests(ctx context.Context, teams []int64, personID int64) ([]cnsbot.HelpRequest, error) {
	var out []cnsbot.HelpRequest
	seen := map[int64]bool{}
	for _, id := range teams {
		team, err := t.deps.Teams.Team(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("team: %w", err)
		}
		if seen[team.HamletID] {
			continue
		}
		seen[team.HamletID] = true
		reqs, err := t.deps.HelpDesk.OpenHelpRequests(ctx, team.HamletID, personID)
		if err != nil {
			return nil, fmt.Errorf("open help requests: %w", err)
		}
		out = append(out, reqs...)
	}
	return out, nil
}

// requestList writes open requests without the resident's name and phone,
// which a member sees once they take one.
func (t *teamFlows) requestList(ctx context.Context, lang string, reqs []cnsbot.HelpRequest) string {
	lines := []string{t.deps.Texts.T(lang, "team.requests.title", map[string]any{"count": len(reqs)})}
	for i, r := range reqs {
		if i == maxListed {
			lines = append(lines, t.deps.Texts.T(lang, "team.requests.more", map[string]any{"count": len(reqs) - maxListed}))
			break
		}
		lines = append(lines, t.deps.Texts.T(lang, "team.requests.item", map[string]any{
			"code": r.Code, "problem": resident.ProblemText(t.deps.Texts.T, lang, r),
			"time": resident.TimeText(t.deps.Texts.T, lang, r.PreferredTime), "place": t.placeOf(ctx, r),
		}))
	}
	return strings.Join(lines, "\n")
}

func takeButtons(tr func(string, map[string]any) string, reqs []cnsbot.HelpRequest) []cnsbot.Button {
	var out []cnsbot.Button
	for i, r := range reqs {
		if i == maxListed {
			break
		}
		out = append(out, cnsbot.Button{Title: tr("team.btn.take", map[string]any{"code": r.Code}), Payload: "#" + cmdTake + " " + r.Code})
	}
	return out
}

// placeOf names a request's hamlet and commune; names that cannot be
// looked up are left out.
func (t *teamFlows) placeOf(ctx context.Context, r cnsbot.HelpRequest) string {
	var parts []string
	for _, id := range []int64{r.HamletID, r.CommuneID} {
		if id == 0 {
			continue
		}
		if u, err := t.deps.Places.Unit(ctx, id); err == nil {
			parts = append(parts, u.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// codeArg reads a help request code ("HT7K3QM2", "ht7k3qm2", "#HT 7K3Q M2",
// and the six-character codes issued before) from a command's argument.
func codeArg(args string) (string, bool) {
	return resident.ParseCode(args)
}

// helper returns the person who acted when they may serve help requests
// somewhere: an approved member or leader of a team, or an approved
// officer or administrator. Which requests is the HelpDesk's rule.
func helper(c *flows.Ctx) (member, bool, error) {
	m, ok, err := whoami(c)
	if err != nil || ok {
		return m, ok, err
	}
	for _, r := range m.roles {
		switch r.Role {
		case cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin:
			if r.Approved {
				return m, true, nil
			}
		}
	}
	return m, false, nil
}

// lookupAllowed spends one of the person's lookups by code, and says so
// kindly when they have none left. A limiter that fails lets the lookup
// through: it guards against guessing, and a Redis outage stops the chat
// anyway.
func (t *teamFlows) lookupAllowed(c *flows.Ctx) bool {
	ok, err := t.deps.Lookups.AllowLookup(c.Context(), c.UserID())
	if err != nil {
		t.deps.log().WarnContext(c.Context(), "lookup limit", "err", err)
		return true
	}
	if !ok {
		c.Reply(c.T("team.help.too_many", nil))
	}
	return ok
}

// findRequest looks a request up for the person who acted, within their
// lookups. A request they may not serve is answered as a code that does
// not exist. found is false when the answer was given.
func (t *teamFlows) findRequest(c *flows.Ctx, m member, code string) (req cnsbot.HelpRequest, found bool, err error) {
	if !t.lookupAllowed(c) {
		return req, false, nil
	}
	req, err = t.deps.HelpDesk.HelpRequestFor(c.Context(), code, m.person.ID)
	switch cnsbot.ErrorCode(err) {
	case "":
		return req, true, nil
	case cnsbot.ENOTFOUND, cnsbot.EINVALID:
		c.Reply(c.T("team.help.not_found", map[string]any{"code": code}))
		return req, false, nil
	}
	return req, false, fmt.Errorf("help request for: %w", err)
}

// takeCommand is "nhận HT7K3QM2": the member (or officer) takes the
// request, sees how to reach the resident, and the resident hears who is
// coming. In the team's group the contact details go to them privately.
// Only those who serve the request's hamlet may take it; for anyone else
// the code does not exist.
func (t *teamFlows) takeCommand(c *flows.Ctx, args string) (bool, error) {
	code, ok := codeArg(args)
	if !ok {
		return false, nil
	}
	ctx := c.Context()
	m, ok, err := helper(c)
	if err != nil {
		return false, err
	}
	if !ok {
		if c.Event.IsGroup() {
			c.Reply(c.T("team.group.not_member", nil))
			return true, nil
		}
		t.notMember(c)
		return true, nil
	}
	req, found, err := t.findRequest(c, m, code)
	if err != nil {
		return false, err
	}
	if !found {
		return true, nil
	}
	already := req.Status == cnsbot.HelpTaken && heldBy(req, m.person.ID)
	if !already {
		req, err = t.deps.HelpDesk.TakeHelpRequest(ctx, code, m.person.ID)
		switch cnsbot.ErrorCode(err) {
		case "":
		case cnsbot.ECONFLICT:
			c.Reply(t.unavailable(ctx, c.Lang(), req, m.person.ID))
			return true, nil
		case cnsbot.ENOTFOUND:
			c.Reply(c.T("team.help.not_found", map[string]any{"code": code}))
			return true, nil
		default:
			return false, fmt.Errorf("take help request: %w", err)
		}
		// Only the first take tells the resident; taking again just
		// shows the details.
		c.Send(t.deps.Residents.Taken(ctx, req, m.person.FullName, m.person.Phone))
	}
	lang := langOr(m.person.Lang)
	if !c.Event.IsGroup() {
		lang = c.Lang()
	}
	text := t.deps.Texts.T(lang, "team.help.taken", map[string]any{
		"code": req.Code, "name": req.Name, "phone": flows.DisplayPhone(req.Phone), "place": t.placeOf(ctx, req),
		"problem": resident.ProblemText(t.deps.Texts.T, lang, req), "time": resident.TimeText(t.deps.Texts.T, lang, req.PreferredTime),
	})
	buttons := []cnsbot.Button{
		{Title: t.deps.Texts.T(lang, "team.btn.close", map[string]any{"code": req.Code}), Payload: "#" + cmdClose + " " + req.Code},
	}
	if req.Phone != "" {
		buttons = append(buttons, cnsbot.Button{Title: t.deps.Texts.T(lang, "team.btn.call", nil), Phone: req.Phone})
	}
	if !c.Event.IsGroup() {
		c.Reply(text, buttons...)
		if !already {
			if err := t.tellGroup(c, req, "team.group.taken_private", m.person.FullName); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	// The resident's name and phone are not for the whole group.
	c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: c.UserID()}, Kind: cnsbot.MsgList, Text: text,
		Buttons: buttons, Ref: req.Code, Lang: lang})
	c.Reply(c.T("team.group.taken", map[string]any{"member": m.person.FullName, "code": req.Code}))
	return true, nil
}

// tellGroup tells the group of the request's team, where the request was
// posted, that it was taken or closed (in private), so that nobody else
// sets out for it. The message's id makes it go once.
func (t *teamFlows) tellGroup(c *flows.Ctx, req cnsbot.HelpRequest, id, member string) error {
	if req.TeamID == nil {
		return nil
	}
	team, err := t.deps.Teams.Team(c.Context(), *req.TeamID)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		return nil
	}
	if err != nil {
		return fmt.Errorf("team of request: %w", err)
	}
	if team.GroupID == "" || team.GroupID == c.Event.GroupID {
		return nil
	}
	_, what, _ := strings.Cut(id, "team.group.")
	c.Send(cnsbot.Outgoing{ID: "help:" + req.Code + ":group-" + what, To: cnsbot.Recipient{GroupID: team.GroupID},
		Kind: cnsbot.MsgText, Purpose: "notify", Ref: req.Code, Lang: "vi",
		Text: t.deps.Texts.T("vi", id, map[string]any{"member": member, "code": req.Code})})
	return nil
}

func heldBy(r cnsbot.HelpRequest, personID int64) bool {
	return r.TakenBy != nil && *r.TakenBy == personID
}

// unavailable says why a request cannot be taken or closed: someone else
// has it, it is done, or it was cancelled.
func (t *teamFlows) unavailable(ctx context.Context, lang string, req cnsbot.HelpRequest, me int64) string {
	data := map[string]any{"code": req.Code}
	switch req.Status {
	case cnsbot.HelpClosed:
		if heldBy(req, me) {
			return t.deps.Texts.T(lang, "team.help.closed_by_you", data)
		}
		return t.deps.Texts.T(lang, "team.help.closed", data)
	case cnsbot.HelpCancelled:
		return t.deps.Texts.T(lang, "team.help.cancelled", data)
	}
	data["name"] = t.nameOf(ctx, lang, req)
	return t.deps.Texts.T(lang, "team.help.taken_by", data)
}

// nameOf finds who holds a request among its team's members; an officer
// who took it is "someone".
func (t *teamFlows) nameOf(ctx context.Context, lang string, req cnsbot.HelpRequest) string {
	if req.TakenBy != nil && req.TeamID != nil {
		people, err := t.deps.Roster.TeamMembers(ctx, *req.TeamID)
		if err == nil {
			for _, p := range people {
				if p.ID == *req.TakenBy {
					return p.FullName
				}
			}
		}
	}
	return t.deps.Texts.T(lang, "team.help.someone", nil)
}

// closeCommand is "xong HT7K3QM2": the member (or officer) says what was
// done and how long it took; the request is closed and counted as a visit.
// As with taking, only those who serve the request's hamlet may close it.
func (t *teamFlows) closeCommand(c *flows.Ctx, args string) (bool, error) {
	code, ok := codeArg(args)
	if !ok {
		return false, nil
	}
	m, ok, err := helper(c)
	if err != nil {
		return false, err
	}
	if c.Event.IsGroup() {
		if !ok {
			c.Reply(c.T("team.group.not_member", nil))
			return true, nil
		}
		// The conversation about what was done belongs in private chat.
		c.Send(cnsbot.Outgoing{
			To: cnsbot.Recipient{UserID: c.UserID()}, Kind: cnsbot.MsgList, Lang: langOr(m.person.Lang),
			Text: t.deps.Texts.T(langOr(m.person.Lang), "team.group.close_private", map[string]any{"code": code}),
			Buttons: []cnsbot.Button{{Title: t.deps.Texts.T(langOr(m.person.Lang), "team.btn.close", map[string]any{"code": code}),
				Payload: "#" + cmdClose + " " + code}},
		})
		c.Reply(c.T("team.group.close_sent", map[string]any{"code": code}))
		return true, nil
	}
	if !ok {
		t.notMember(c)
		return true, nil
	}
	req, found, err := t.findRequest(c, m, code)
	if err != nil {
		return false, err
	}
	if !found {
		return true, nil
	}
	switch {
	case req.Status == cnsbot.HelpClosed, req.Status == cnsbot.HelpCancelled,
		req.Status == cnsbot.HelpTaken && !heldBy(req, m.person.ID):
		c.Reply(t.unavailable(c.Context(), c.Lang(), req, m.person.ID))
		return true, nil
	}
	c.Start(FlowClose, "", map[string]string{keyCode: req.Code})
	return true, nil
}

// closeFlow asks what was done for a help request and how long it took.
func (t *teamFlows) closeFlow() *flows.Flow {
	return &flows.Flow{
		Name:  FlowClose,
		Title: "team.close.name",
		Steps: []*flows.Step{
			{Name: "outcome", Ask: "team.close.outcome", Help: "team.close.outcome_help", Input: flows.InputChoice,
				Free: true, MaxLen: maxNoteLen, Save: keyOutcome, Then: chooseOutcome,
				Choices: []flows.Choice{
					{ID: "lamduoc", Label: "team.close.done_btn", Words: []string{"da lam duoc", "lam duoc", "duoc roi", "xong roi", "it worked", "solved"}},
				}},
			minutesStep(func(c *flows.Ctx, _ flows.Input) error { return t.finishClose(c) }),
		},
	}
}

// outcomeCodes maps the outcome step's choices to the codes stored
// (cnsbot.Outcomes). The choice keeps its id "lamduoc": it is the payload
// of buttons already sent, and a command members type.
var outcomeCodes = map[string]string{"lamduoc": cnsbot.OutcomeDone}

// chooseOutcome stores a tapped outcome (or typed words that match its
// button) as its code, which every page shows in its reader's language;
// other typed words are kept as written.
func chooseOutcome(c *flows.Ctx, in flows.Input) error {
	if in.Choice != nil {
		c.Set(keyOutcome, outcomeCodes[in.Choice.ID])
	}
	return nil
}

// outcomeText shows a stored outcome in a language: a code by its words,
// typed text as it was typed.
func outcomeText(tr func(lang, id string, data map[string]any) string, lang, outcome string) string {
	if slices.Contains(cnsbot.Outcomes, outcome) {
		return tr(lang, "team.outcome."+outcome, nil)
	}
	return outcome
}

// finishClose closes the request, counts it as a visit to the resident's
// household, asks the resident to rate it, and shows the member's week.
func (t *teamFlows) finishClose(c *flows.Ctx) error {
	ctx := c.Context()
	m, ok, err := helper(c)
	if err != nil {
		return err
	}
	if !ok {
		t.notMember(c)
		c.Done()
		return nil
	}
	code := c.Get(keyCode)
	req, err := t.deps.HelpDesk.CloseHelpRequest(ctx, code, m.person.ID, c.Get(keyOutcome))
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ECONFLICT:
		c.Reply(t.unavailable(ctx, c.Lang(), req, m.person.ID))
		c.Done()
		return nil
	case cnsbot.ENOTFOUND:
		c.Reply(c.T("team.help.not_found", map[string]any{"code": code}))
		c.Done()
		return nil
	default:
		return fmt.Errorf("close help request: %w", err)
	}
	c.Send(t.deps.Residents.Closed(ctx, req))
	if err := t.tellGroup(c, req, "team.group.closed", m.person.FullName); err != nil {
		return err
	}
	if len(m.teams) == 0 {
		// An officer: the request is done, and no member's week or
		// team's visits change.
		c.Reply(c.T("team.close.saved", map[string]any{"code": req.Code,
			"outcome": outcomeText(t.deps.Texts.T, c.Lang(), c.Get(keyOutcome))}), c.Button("common.menu", "menu"))
		c.Done()
		return nil
	}
	teamID := m.teams[0]
	if req.TeamID != nil && m.inTeam(*req.TeamID) {
		teamID = *req.TeamID
	}
	household := req.Name
	if strings.TrimSpace(household) == "" {
		household = req.Code
	}
	area := cnsbot.AreaOther
	if a := sortAreas([]string{req.Topic}); len(a) == 1 {
		area = a[0]
	}
	minutes, _ := strconv.Atoi(c.Get(keyMinutes))
	// The visit's note is what the member typed; a tapped outcome is the
	// request's, which the visit names.
	note := c.Get(keyOutcome)
	if slices.Contains(cnsbot.Outcomes, note) {
		note = ""
	}
	v := cnsbot.Visit{PersonID: m.person.ID, TeamID: teamID, Household: household, Areas: area, People: 1,
		Minutes: minutes, Note: note, HelpCode: req.Code, VisitedAt: c.Now(), SourceEvent: c.Event.Key}
	if _, err := t.deps.Visits.RecordVisit(ctx, &v); err != nil {
		return fmt.Errorf("record visit for help request: %w", err)
	}
	team, err := t.deps.Teams.Team(ctx, teamID)
	if err != nil {
		return fmt.Errorf("team: %w", err)
	}
	text, err := t.afterReport(ctx, c.Lang(), c.T("team.close.saved", map[string]any{"code": req.Code,
		"outcome": outcomeText(t.deps.Texts.T, c.Lang(), c.Get(keyOutcome))}), m.person.ID, team, c.Now())
	if err != nil {
		return err
	}
	c.Reply(text, c.Button("team.menu.report", cmdReport), c.Button("team.btn.requests", cmdRequests), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}
