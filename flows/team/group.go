package team

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
	"golang.org/x/text/unicode/norm"
)

// Group commands. In a group the bot answers only these, typed with "#"
// ("#tiendo") or after its name ("bot ơi tiến độ"), and "nhận CODE",
// which the bot itself asks for when it posts a new help request. Taking,
// closing and listing requests follow the HelpDesk's rule of who serves
// which hamlet, whichever group they are typed in.
const (
	gLink     = "link"
	gProgress = "progress"
	gWeek     = "week"
	gRequests = "requests"
	gReport   = "report"
	gOK       = "ok"
	gCancel   = "cancel"
	gHelp     = "help"
	gTake     = "take"
	gClose    = "close"
	// gUnvisited is "#chuaden": the houses not visited yet (households.go).
	gUnvisited = "unvisited"
)

type groupCommand struct {
	id    string
	match func(text string) (string, bool)
	// words are the folded one-word forms, for typo tolerance after "#".
	words []string
}

// matchTake reads "nhận HT7K3QM2" typed without "#".
var matchTake = flows.Prefix(takeWords...)

var groupCommands = []groupCommand{
	{gLink, flows.Prefix("lienket", "lien ket", "link"), []string{"lienket"}},
	{gProgress, flows.Prefix("tiendo", "tien do", "progress"), []string{"tiendo", "progress"}},
	{gWeek, flows.Prefix("tuan nay", "tuan", "week"), []string{"tuan", "week"}},
	{gRequests, flows.Prefix("yeucau", "yeu cau", "requests"), []string{"yeucau", "requests"}},
	{gReport, flows.Prefix("baocao", "bao cao", "bc", "report"), []string{"baocao", "report"}},
	{gOK, flows.Prefix("ok", "dongy", "dong y", "luu", "xacnhan", "xac nhan"), []string{"dongy", "xacnhan"}},
	{gCancel, flows.Prefix("huy", "huy bo", "cancel"), []string{"cancel"}},
	{gHelp, flows.Prefix("giup", "help", "lenh", "huongdan", "huong dan"), []string{"huongdan"}},
	{gTake, matchTake, nil},
	{gClose, flows.Prefix(closeWords...), nil},
	{gUnvisited, flows.Prefix(unvisitedWords...), []string{cmdUnvisited}},
}

// botNames returns the folded names that address the bot, as word lists.
func botNames(extra []string) [][]string {
	names := [][]string{{"cnsbot"}}
	for _, n := range extra {
		if w := vn.Words(n); len(w) > 0 {
			names = append(names, w)
		}
	}
	return names
}

// vocatives are the words around a name that only call someone ("bot ơi").
var vocatives = wordSet("oi", "a", "nhe", "nha", "may", "em", "anh", "chi", "ban")

// addressed reads a group message. It returns the command the message
// gives the bot and the command's argument as typed, or ok false when the
// bot is not being addressed, which must then stay silent.
func (t *teamFlows) addressed(text string) (cmd, args string, ok bool) {
	text = strings.TrimSpace(norm.NFC.String(text))
	if text == "" {
		return "", "", false
	}
	if strings.HasPrefix(text, "#") {
		if cmd, args, ok := matchGroupCommand(text); ok {
			return cmd, args, true
		}
		// A typo in the command word ("#tiendoo"), or a name ("#cnsbot");
		// any other hashtag is chatter.
		word := firstWord(vn.Fold(text[1:]))
		for _, gc := range groupCommands {
			for _, w := range gc.words {
				if len(word) >= 4 && vn.Distance(word, w) <= 1 {
					_, rest, _ := strings.Cut(strings.TrimSpace(text[1:]), " ")
					return gc.id, rest, true
				}
			}
		}
		if t.isName(vn.Words(text[1:])) {
			return gHelp, "", true
		}
		return "", "", false
	}
	// "nhận HT7K3QM2", as the bot's own notice of a new request says.
	if rest, ok := matchTake(text); ok {
		if _, ok := codeArg(rest); ok {
			return gTake, rest, true
		}
	}
	rest, start, ok := t.stripName(text)
	if !ok {
		return "", "", false
	}
	if cmd, args, ok := matchGroupCommand(rest); ok {
		return cmd, args, true
	}
	if cmd, ok := keywordCommand(vn.Words(rest)); ok {
		return cmd, "", true
	}
	if start {
		return gHelp, "", true
	}
	return "", "", false
}

func matchGroupCommand(text string) (string, string, bool) {
	for _, gc := range groupCommands {
		if args, ok := gc.match(text); ok {
			return gc.id, args, true
		}
	}
	return "", "", false
}

// keywordCommand finds a command named anywhere in a message that
// addressed the bot by name ("bot xem tiến độ tổ mình với").
func keywordCommand(words []string) (string, bool) {
	joined := " " + strings.Join(words, " ") + " "
	for _, k := range []struct{ phrase, cmd string }{
		{"tien do", gProgress}, {"progress", gProgress}, {"yeu cau", gRequests}, {"requests", gRequests},
		{"tuan", gWeek}, {"week", gWeek}, {"giup", gHelp}, {"help", gHelp}, {"lenh", gHelp}, {"huong dan", gHelp},
	} {
		if strings.Contains(joined, " "+k.phrase+" ") {
			return k.cmd, true
		}
	}
	return "", false
}

// isName reports whether words are one of the bot's names.
func (t *teamFlows) isName(words []string) bool {
	for _, n := range t.names {
		if slices.Equal(words, n) {
			return true
		}
	}
	return false
}

// stripName finds the bot's name in a message and returns the message
// without it (and without the words that call it), and whether the name
// came first. "bot" counts only as typed, without marks, since "bột" and
// "bọt" fold to it, and only first or with "@" unless the message then
// names a command.
func (t *teamFlows) stripName(text string) (rest string, start, ok bool) {
	raw := strings.Fields(text)
	clean := func(w string) string {
		return strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '@' }))
	}
	for i, w := range raw {
		c := clean(w)
		if c == "bot" || c == "@bot" || c == "@cnsbot" || c == "cnsbot" {
			strong := c != "bot" || i == 0
			rest := strings.Join(append(slices.Clone(raw[:i]), raw[i+1:]...), " ")
			if !strong {
				// "mua bot giat": a bare "bot" inside a sentence addresses
				// the bot only when a command follows.
				if _, _, ok := matchGroupCommand(dropVocatives(rest)); ok {
					return dropVocatives(rest), false, true
				}
				if _, ok := keywordCommand(vn.Words(rest)); ok {
					return rest, false, true
				}
				continue
			}
			return dropVocatives(rest), true, true
		}
	}
	folded := vn.Words(text)
	for _, n := range t.names[1:] {
		for i := 0; i+len(n) <= len(folded); i++ {
			if slices.Equal(folded[i:i+len(n)], n) {
				// A configured name is distinctive: anywhere counts. What
				// follows it is read from the folded words.
				rest := strings.Join(append(slices.Clone(folded[:i]), folded[i+len(n):]...), " ")
				return dropVocatives(rest), true, true
			}
		}
	}
	return "", false, false
}

// dropVocatives removes the calling words at the start of what follows a
// name ("ơi, tiến độ" → "tiến độ").
func dropVocatives(s string) string {
	words := strings.Fields(s)
	for len(words) > 0 && vocatives[vn.Fold(words[0])] {
		words = words[1:]
	}
	return strings.Join(words, " ")
}

// onGroup answers group messages that address the bot, and nothing else.
// inGroup handles every event in a team's Zalo group: members joining and
// leaving, and messages that address the bot.
func (t *teamFlows) inGroup(c *flows.Ctx) error {
	if c.Event.Kind == cnsbot.KindGroup {
		_, err := t.onGroupEvent(c)
		return err
	}
	return t.onGroup(c)
}

func (t *teamFlows) onGroup(c *flows.Ctx) error {
	if _, ok := sharedLocation(c.Event); ok && c.Event.GroupID != "" {
		return t.groupLocation(c)
	}
	if c.Event.GroupID == "" || c.Event.Text == "" {
		return nil
	}
	cmd, args, ok := t.addressed(c.Event.Text)
	if !ok {
		return nil
	}
	ctx := c.Context()
	switch cmd {
	case gLink:
		return t.groupLink(c, args)
	case gHelp:
		c.Reply(c.T("team.group.help", nil))
		return nil
	case gTake:
		handled, err := t.takeCommand(c, args)
		if !handled && err == nil {
			c.Reply(c.T("team.group.help", nil))
		}
		return err
	case gClose:
		if _, ok := codeArg(args); !ok {
			c.Reply(c.T("team.group.help", nil))
			return nil
		}
		_, err := t.closeCommand(c, args)
		return err
	}
	team, err := t.deps.Teams.TeamByGroup(ctx, c.Event.GroupID)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		c.Reply(c.T("team.group.unlinked", nil))
		return nil
	}
	if err != nil {
		return fmt.Errorf("team by group: %w", err)
	}
	t.dropStale(c)
	switch cmd {
	case gProgress:
		text, err := t.progressText(ctx, c.Lang(), team)
		if err != nil {
			return err
		}
		areas, err := t.areaProgressText(ctx, c.Lang(), team)
		if err != nil {
			return err
		}
		if areas != "" {
			text += "\n" + areas
		}
		c.Reply(text)
	case gWeek:
		return t.groupWeek(c, team)
	case gRequests:
		// The list is for those who serve the hamlet: anyone else in the
		// group (a relative, a stranger let in) sees no requests.
		p, _, found, err := c.Person()
		if err != nil {
			return err
		}
		if !found {
			c.Reply(c.T("team.group.not_member", nil))
			return nil
		}
		reqs, err := t.deps.HelpDesk.OpenHelpRequests(ctx, team.HamletID, p.ID)
		if err != nil {
			return fmt.Errorf("open help requests: %w", err)
		}
		if len(reqs) == 0 {
			c.Reply(c.T("team.requests.none_group", nil))
			return nil
		}
		c.Reply(t.requestList(ctx, c.Lang(), reqs) + "\n" + c.T("team.group.take_hint", nil))
	case gReport:
		return t.groupReport(c, team, args)
	case gUnvisited:
		return t.groupUnvisited(c, team, args)
	case gOK:
		return t.groupConfirm(c, team)
	case gCancel:
		if c.Get(pendingKey(c)) == "" {
			c.Reply(c.T("team.group.nothing_pending", nil))
			return nil
		}
		c.Set(pendingKey(c), "")
		c.Reply(c.T("team.group.report_dropped", nil))
	}
	return nil
}

// groupLink links the group to a team: "#lienket CODE" by a leader of that
// team (or an admin).
func (t *teamFlows) groupLink(c *flows.Ctx, args string) error {
	ctx := c.Context()
	code := strings.TrimSpace(args)
	if code == "" {
		c.Reply(c.T("team.group.link_how", nil))
		return nil
	}
	team, err := t.deps.Teams.TeamByCode(ctx, code)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ENOTFOUND, cnsbot.EINVALID:
		c.Reply(c.T("team.group.link_bad_code", map[string]any{"code": strings.ToUpper(code)}))
		return nil
	default:
		return fmt.Errorf("team by code: %w", err)
	}
	_, roles, found, err := c.Person()
	if err != nil {
		return err
	}
	allowed := false
	for _, r := range roles {
		if r.Approved && (r.Role == cnsbot.RoleAdmin || r.Role == cnsbot.RoleLeader && r.TeamID != nil && *r.TeamID == team.ID) {
			allowed = true
		}
	}
	if !found || !allowed {
		c.Reply(c.T("team.group.link_leaders_only", map[string]any{"team": team.Name}))
		return nil
	}
	if team.GroupID == c.Event.GroupID {
		c.Reply(c.T("team.group.link_already", map[string]any{"team": team.Name}))
		return nil
	}
	if err := t.deps.Teams.LinkGroup(ctx, team.ID, c.Event.GroupID); err != nil {
		return fmt.Errorf("link group: %w", err)
	}
	c.Reply(c.T("team.group.linked", map[string]any{"team": team.Name}))
	return nil
}

// pending is a one-line report waiting in the group for its "#ok".
type pending struct {
	Household string    `json:"h"`
	Areas     []string  `json:"a"`
	People    int       `json:"p"`
	Minutes   int       `json:"m"`
	Note      string    `json:"n,omitempty"`
	At        time.Time `json:"at"`
}

// pendingTTL is how long a report waits for its "#ok".
const pendingTTL = 24 * time.Hour

func pendingKey(c *flows.Ctx) string { return "bc:" + c.UserID() }

// dropStale forgets reports that nobody confirmed in time, so the group's
// session stays small.
func (t *teamFlows) dropStale(c *flows.Ctx) {
	for k, v := range c.Session().Data {
		if !strings.HasPrefix(k, "bc:") {
			continue
		}
		var p pending
		if json.Unmarshal([]byte(v), &p) != nil || c.Now().Sub(p.At) > pendingTTL {
			c.Set(k, "")
		}
	}
}

// groupMember returns the sender when they are a member of the group's
// team, and says so in the group when they are not.
func (t *teamFlows) groupMember(c *flows.Ctx, team cnsbot.Team) (member, bool, error) {
	m, ok, err := whoami(c)
	if err != nil {
		return member{}, false, err
	}
	if !ok {
		c.Reply(c.T("team.group.not_member", nil))
		return member{}, false, nil
	}
	if !m.inTeam(team.ID) {
		c.Reply(c.T("team.group.other_team", map[string]any{"team": team.Name}))
		return member{}, false, nil
	}
	return m, true, nil
}

// groupReport reads "#bc …" and echoes it back; "#ok" saves it.
func (t *teamFlows) groupReport(c *flows.Ctx, team cnsbot.Team, args string) error {
	m, ok, err := t.groupMember(c, team)
	if err != nil || !ok {
		return err
	}
	hamlets, err := t.communeHamlets(c, team.ID)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(hamlets))
	for _, u := range hamlets {
		names = append(names, u.Name)
	}
	r, complete := ParseReport(args, names...)
	if r.Hamlet != "" && r.Household != "" {
		same, err := t.teamInHamlet(c, team.ID, r.Hamlet)
		if err != nil {
			return err
		}
		if !same {
			r.Household = vn.Clip(r.Household+" ("+r.Hamlet+")", maxHouseholdLen)
		}
	}
	if !complete {
		var missing []string
		for _, f := range r.Missing() {
			missing = append(missing, c.T("team.field."+f, nil))
		}
		c.Reply(c.T("team.group.report_missing", map[string]any{
			"name": m.person.FullName, "understood": t.reportText(c, r), "missing": strings.Join(missing, ", "),
		}))
		return nil
	}
	b, err := json.Marshal(pending{Household: r.Household, Areas: r.Areas, People: r.People, Minutes: r.Minutes,
		Note: r.Note, At: c.Now()})
	if err != nil {
		return fmt.Errorf("encode pending report: %w", err)
	}
	c.Set(pendingKey(c), string(b))
	c.Reply(c.T("team.group.report_echo", map[string]any{"name": m.person.FullName, "report": t.reportText(c, r)}))
	return nil
}

// reportText writes what a report says, one field a line, leaving out
// what it does not say.
func (t *teamFlows) reportText(c *flows.Ctx, r Report) string {
	var lines []string
	add := func(field, value string) {
		if value != "" {
			lines = append(lines, c.T("team.report.line", map[string]any{"field": c.T("team.field."+field, nil), "value": value}))
		}
	}
	add(FieldHousehold, r.Household)
	add(FieldAreas, areaNames(c.T, r.Areas))
	if r.People > 0 {
		add(FieldPeople, strconv.Itoa(r.People))
	}
	if r.Minutes > 0 {
		add(FieldMinutes, durationText(c.T, r.Minutes))
	}
	add("note", r.Note)
	if len(lines) == 0 {
		return c.T("team.report.nothing", nil)
	}
	return strings.Join(lines, "\n")
}

// groupConfirm saves the sender's pending report.
func (t *teamFlows) groupConfirm(c *flows.Ctx, team cnsbot.Team) error {
	raw := c.Get(pendingKey(c))
	if raw == "" {
		c.Reply(c.T("team.group.nothing_pending", nil))
		return nil
	}
	m, ok, err := t.groupMember(c, team)
	if err != nil || !ok {
		return err
	}
	var p pending
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		c.Set(pendingKey(c), "")
		c.Reply(c.T("team.group.nothing_pending", nil))
		return nil
	}
	v := cnsbot.Visit{PersonID: m.person.ID, TeamID: team.ID, Household: p.Household, Areas: strings.Join(p.Areas, ","),
		People: p.People, Minutes: p.Minutes, Note: p.Note, VisitedAt: c.Now(), SourceEvent: c.Event.Key}
	if err := t.groupHousehold(c, team, &v); err != nil {
		return err
	}
	if _, err := t.deps.Visits.RecordVisit(c.Context(), &v); err != nil {
		return fmt.Errorf("record visit: %w", err)
	}
	c.Set(pendingKey(c), "")
	text, err := t.afterReport(c.Context(), c.Lang(),
		c.T("team.group.report_saved", map[string]any{"name": m.person.FullName, "household": v.Household}),
		m.person.ID, team, c.Now())
	if err != nil {
		return err
	}
	c.Reply(text)
	return nil
}

// groupWeek shows the week's reports of the team.
func (t *teamFlows) groupWeek(c *flows.Ctx, team cnsbot.Team) error {
	ctx := c.Context()
	start := weekStart(c.Now(), t.deps.loc())
	members, err := t.deps.Roster.TeamMembers(ctx, team.ID)
	if err != nil {
		return fmt.Errorf("team members: %w", err)
	}
	names := make(map[int64]string, len(members))
	for _, p := range members {
		names[p.ID] = p.FullName
	}
	type tally struct {
		id              int64
		reports, minute int
	}
	var rows []tally
	totalReports, totalMinutes := 0, 0
	households := map[string]bool{}
	visits, err := t.deps.Week.TeamVisits(ctx, team.ID, start, start.AddDate(0, 0, 7))
	if err != nil {
		return fmt.Errorf("team visits: %w", err)
	}
	by := map[int64]*tally{}
	for _, v := range visits {
		if by[v.PersonID] == nil {
			by[v.PersonID] = &tally{id: v.PersonID}
		}
		by[v.PersonID].reports++
		by[v.PersonID].minute += v.Minutes
		households[v.HouseholdKey] = true
		totalReports++
		totalMinutes += v.Minutes
	}
	for _, tl := range by {
		rows = append(rows, *tl)
	}
	if len(rows) == 0 {
		c.Reply(c.T("team.group.week_none", map[string]any{"from": dateText(c.Lang(), start)}))
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].minute != rows[j].minute {
			return rows[i].minute > rows[j].minute
		}
		return rows[i].id < rows[j].id
	})
	lang := c.Lang()
	var lines []string
	lines = append(lines, c.T("team.group.week_head", map[string]any{"from": dateText(c.Lang(), start), "reports": totalReports,
		"households": len(households), "hours": hoursText(lang, totalMinutes)}))
	for _, r := range rows {
		name := names[r.id]
		if name == "" {
			name = c.T("team.help.someone", nil)
		}
		lines = append(lines, c.T("team.group.week_member", map[string]any{"name": name, "reports": r.reports, "hours": hoursText(lang, r.minute)}))
	}
	c.Reply(strings.Join(lines, "\n"))
	return nil
}

// onGroupEvent tells a team's leaders privately who joined or left its
// Zalo group, and whether they are on the team's roster.
func (t *teamFlows) onGroupEvent(c *flows.Ctx) (bool, error) {
	joined := c.Event.Name == "user_join_group"
	if !joined && c.Event.Name != "user_out_group" {
		return false, nil
	}
	if c.Event.GroupID == "" || c.Event.UserID == "" {
		return false, nil
	}
	ctx := c.Context()
	team, err := t.deps.Teams.TeamByGroup(ctx, c.Event.GroupID)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("team by group: %w", err)
	}
	p, roles, found, err := c.Person()
	if err != nil {
		return false, err
	}
	inTeam := false
	for _, r := range roles {
		if r.TeamID != nil && *r.TeamID == team.ID && (r.Role == cnsbot.RoleMember || r.Role == cnsbot.RoleLeader) {
			inTeam = true
		}
	}
	id := "team.group.joined_unknown"
	switch {
	case joined && inTeam:
		id = "team.group.joined_member"
	case joined && found:
		id = "team.group.joined_other"
	case !joined && found:
		id = "team.group.left_member"
	case !joined:
		id = "team.group.left_unknown"
	}
	leaders, err := t.deps.Roster.TeamLeaders(ctx, team.ID)
	if err != nil {
		return false, fmt.Errorf("team leaders: %w", err)
	}
	for _, l := range leaders {
		if l.ZaloUserID == nil || *l.ZaloUserID == "" || (found && l.ID == p.ID) {
			continue
		}
		lang := langOr(l.Lang)
		m := cnsbot.Outgoing{To: cnsbot.Recipient{UserID: *l.ZaloUserID}, Kind: cnsbot.MsgText, Purpose: "notify", Lang: lang,
			Text: t.deps.Texts.T(lang, id, map[string]any{"name": p.FullName, "team": team.Name})}
		if joined && !found {
			m.Text += "\n" + t.deps.Texts.T(lang, "team.group.joined_hint", nil)
		}
		c.Send(m)
	}
	return true, nil
}
