// Package team holds the conversations of the community digital technology
// teams' members: enrolment against the roster, household visit reports
// (step by step, or in one line), their week and their team's progress,
// taking and closing residents' help requests, a weekly nudge for members
// who went quiet, and the team's Zalo group, where the bot answers only
// when addressed.
//
// Everything a person reads lives in locales/team.*.toml; the Go code
// names message ids only.
package team

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
)

// Roster finds people and changes their membership. Lookups that find
// nothing return an ENOTFOUND *cnsbot.Error.
type Roster interface {
	PersonByZalo(ctx context.Context, zaloUserID string) (cnsbot.Person, []cnsbot.Role, error)
	PersonByPhone(ctx context.Context, phone string) (cnsbot.Person, []cnsbot.Role, error)
	LinkZalo(ctx context.Context, personID int64, zaloUserID string) error
	TeamMembers(ctx context.Context, teamID int64) ([]cnsbot.Person, error)
	TeamLeaders(ctx context.Context, teamID int64) ([]cnsbot.Person, error)
	CommuneOfficers(ctx context.Context, communeID int64) ([]cnsbot.Person, error)
	AddPendingMember(ctx context.Context, p cnsbot.Person, teamID int64) error
	ApproveMember(ctx context.Context, personID, teamID int64) error
	// RedeemEnrolCode links the person of an officer's one-time code to
	// the Zalo user; previous is the Zalo id it moved them from.
	RedeemEnrolCode(ctx context.Context, code, zaloUserID string) (p cnsbot.Person, roles []cnsbot.Role, previous string, err error)
	// RequestLink and ApproveLink link a plain member who typed their
	// phone, on a team leader's word.
	RequestLink(ctx context.Context, personID int64, zaloUserID, name string) error
	ApproveLink(ctx context.Context, personID, teamID int64) (zaloUserID string, err error)
}

// Attempts limits tries per Zalo user (a *store.Attempts).
type Attempts interface {
	Allow(ctx context.Context, who string) (bool, error)
}

// Teams finds teams and links their Zalo groups.
type Teams interface {
	Team(ctx context.Context, id int64) (cnsbot.Team, error)
	TeamByCode(ctx context.Context, code string) (cnsbot.Team, error)
	TeamByGroup(ctx context.Context, groupID string) (cnsbot.Team, error)
	TeamsOfHamlet(ctx context.Context, hamletID int64) ([]cnsbot.Team, error)
	LinkGroup(ctx context.Context, teamID int64, groupID string) error
}

// Places lists communes and hamlets, for someone who is not on a roster
// yet and for the weekly walk over the teams.
type Places interface {
	Communes(ctx context.Context) ([]cnsbot.Unit, error)
	Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error)
	Unit(ctx context.Context, id int64) (cnsbot.Unit, error)
}

// Visits records household visits and sums them up. RecordVisit is
// idempotent on v.SourceEvent and counts a household once per team.
type Visits interface {
	RecordVisit(ctx context.Context, v *cnsbot.Visit) (created bool, err error)
	RecentHouseholds(ctx context.Context, personID int64, n int) ([]string, error)
	MemberWeek(ctx context.Context, personID int64, weekStart time.Time) (days int, minutes int, err error)
	TeamProgress(ctx context.Context, teamID int64) (guided int, households int, err error)
	LastActivity(ctx context.Context) (map[int64]time.Time, error)
}

// HelpDesk is the members' and officers' side of residents' help
// requests. It decides who may serve which request (the request's hamlet
// team, its commune's officers, the province's officers): a request the
// person may not serve is an ENOTFOUND *cnsbot.Error, as a code that does
// not exist, and is left out of lists.
type HelpDesk interface {
	HelpRequestFor(ctx context.Context, code string, personID int64) (cnsbot.HelpRequest, error)
	TakeHelpRequest(ctx context.Context, code string, personID int64) (cnsbot.HelpRequest, error)
	CloseHelpRequest(ctx context.Context, code string, personID int64, outcome string) (cnsbot.HelpRequest, error)
	OpenHelpRequests(ctx context.Context, hamletID, personID int64) ([]cnsbot.HelpRequest, error)
}

// LookupLimiter bounds how often one Zalo user may look a help request up
// by its code (a *store.LookupLimiter), so that codes cannot be tried by
// the thousand.
type LookupLimiter interface {
	AllowLookup(ctx context.Context, userID string) (bool, error)
}

// WeekVisits lists a team's visits in [from, to). It is optional: with it
// the group's "#tuan" shows the week's reports and households; without it,
// each member's days and hours.
type WeekVisits interface {
	TeamVisits(ctx context.Context, teamID int64, from, to time.Time) ([]cnsbot.Visit, error)
}

// Claimer takes a named claim for ttl unless someone holds it (a
// *store.Locks). Nudges uses it so that each nudge is handed out once.
type Claimer interface {
	TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// Deps is what the team flows need. *store.DB is the Roster, Teams,
// Places, Visits and HelpDesk.
type Deps struct {
	Roster   Roster
	Teams    Teams
	Places   Places
	Visits   Visits
	HelpDesk HelpDesk
	// Texts renders messages to people outside the conversation.
	Texts *locales.Bundle
	// Residents tells a resident that their request was taken or closed.
	Residents ResidentNotices
	// Location is where days and weeks begin, and where daytime is for the
	// nudges; default UTC+7 (Asia/Ho_Chi_Minh).
	Location *time.Location
	// Names are more names that address the bot in a group, besides
	// "cnsbot" and "bot" (the OA's name, say).
	Names []string
	// Week lists a team's visits for the group's "tuần này".
	Week WeekVisits
	// Once claims each nudge, so that replicas send it once (see Nudges).
	Once Claimer
	// Lookups limits one person's lookups of help requests by code.
	Lookups LookupLimiter
	// Attempts limits how often one Zalo user may try an enrol code.
	Attempts Attempts
	// Households are the hamlets' household lists. Optional: without
	// them visits name households as typed, and "nhà chưa đến" is not
	// offered.
	Households Households
	// Positions keep where members stand, for "nhà chưa đến" nearest
	// first (nearest.go). Optional: without them the round goes by house
	// number.
	Positions Positions
	// NearestFor is how long a location a member shared sorts their
	// round nearest first; default 2 hours.
	NearestFor time.Duration
	// DoubtSharedPhone treats the phone Zalo's share form sends like a
	// typed one: it then proves nothing, and leaders and officers enrol
	// by code only.
	DoubtSharedPhone bool
	Log              *slog.Logger
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

func (d Deps) loc() *time.Location {
	if d.Location == nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return d.Location
}

// ResidentNotices builds the messages that tell a resident what became of
// their request (resident.Notices), in the resident's language.
type ResidentNotices interface {
	Taken(ctx context.Context, r cnsbot.HelpRequest, memberName, memberPhone string) cnsbot.Outgoing
	Closed(ctx context.Context, r cnsbot.HelpRequest) cnsbot.Outgoing
}

// Names of the team flows, as stored in sessions.
const (
	FlowEnrol  = "enrol"
	FlowVisit  = "visit"
	FlowClose  = "close"
	FlowMember = "member"
)

// Register adds the team flows, their menu items, the members' commands,
// the group handler and the handlers of group events and photos. The
// engine must have a Directory (Options.Directory) for roles to be seen.
func Register(e *flows.Engine, deps Deps) error {
	if deps.Roster == nil || deps.Teams == nil || deps.Places == nil || deps.Visits == nil ||
		deps.HelpDesk == nil || deps.Texts == nil || deps.Residents == nil || deps.Week == nil ||
		deps.Lookups == nil || deps.Attempts == nil {
		return fmt.Errorf("team: Roster, Teams, Places, Visits, HelpDesk, Texts, Residents, Week, Lookups and Attempts are required")
	}
	t := &teamFlows{deps: deps, names: botNames(deps.Names)}
	for _, f := range []*flows.Flow{t.enrolFlow(), t.visitFlow(), t.closeFlow(), t.memberFlow(), t.linkFlow()} {
		e.Register(f)
	}
	e.MenuItem(flows.MenuItem{ID: cmdReport, Label: "team.menu.report", Order: 1, Flow: FlowVisit,
		Words: []string{"bao cao tham ho", "report a visit", "visit report"}, Show: t.isMember})
	e.MenuItem(flows.MenuItem{ID: cmdTeam, Label: "team.menu.team", Order: 2, Flow: FlowMember,
		Words: []string{"viec cua to", "to cua toi", "my team"}, Show: t.isMember})
	// Not "đăng ký" alone: at the menu, "đăng ký vneid" is a resident's.
	e.MenuItem(flows.MenuItem{ID: cmdEnrol, Label: "team.menu.enrol", Order: 1100, Flow: FlowEnrol,
		Words: []string{"dang ky thanh vien", "thanh vien to", "join the team"}, Show: t.notEnrolled})

	e.Command(flows.Command{Name: "team-share", Match: whole, Run: t.shareForm})
	e.Command(flows.Command{Name: "team-bare-code", Match: whole, Run: t.bareCode})
	e.Command(flows.Command{Name: "team-code", Match: flows.Prefix(codeWords...), Run: t.codeCommand})
	e.Command(flows.Command{Name: "team-enrol-code", Match: enrolCodeLine, Run: t.enrolCodeCommand})
	e.Command(flows.Command{Name: "team-enrol", Match: matchEnrol, Run: t.enrolCommand, Yield: true})
	e.Command(flows.Command{Name: "team-approve", Match: flows.Prefix(approveWords...), Run: t.approveCommand})
	e.Command(flows.Command{Name: "team-report-line", Match: reportLine, Run: t.reportCommand})
	e.Command(flows.Command{Name: "team-report", Match: matchReport, Run: t.reportCommand, Yield: true})
	e.Command(flows.Command{Name: "team-week", Match: flows.Prefix(weekWords...), Run: t.weekCommand, Yield: true})
	e.Command(flows.Command{Name: "team-progress", Match: flows.Prefix(progressWords...), Run: t.progressCommand, Yield: true})
	e.Command(flows.Command{Name: "team-requests", Match: flows.Prefix(requestsWords...), Run: t.requestsCommand, Yield: true})
	e.Command(flows.Command{Name: "team-take", Match: flows.Prefix(takeWords...), Run: t.takeCommand})
	e.Command(flows.Command{Name: "team-close", Match: flows.Prefix(closeWords...), Run: t.closeCommand})
	e.Command(flows.Command{Name: "team-unvisited", Match: flows.Prefix(unvisitedWords...), Run: t.unvisitedCommand, Yield: true})
	e.Command(flows.Command{Name: "team-split", Match: flows.Prefix(splitWords...), Run: t.splitCommand, Yield: true})
	e.Command(flows.Command{Name: "team-confirm-household", Match: flows.Prefix(confirmWords...), Run: t.confirmCommand, Yield: true})
	e.Command(flows.Command{Name: "team-unmatched", Match: flows.Prefix(unmatchedWords...), Run: t.unmatchedCommand, Yield: true})
	e.Command(flows.Command{Name: "team-link-household", Match: flows.Prefix(linkWords...), Run: t.linkCommand, Yield: true})
	e.OnGroup(t.inGroup)
	e.OnEvent(cnsbot.KindMedia, t.onMedia)
	return nil
}

// teamFlows carries the dependencies into the flows' callbacks.
type teamFlows struct {
	deps  Deps
	names [][]string
}

// Payload ids of the team's commands and menu items; each is also typed.
const (
	cmdReport   = "bc"
	cmdTeam     = "to"
	cmdEnrol    = "dangky"
	cmdWeek     = "tuancuatoi"
	cmdProgress = "tiendo"
	cmdRequests = "yeucau"
	cmdTake     = "nhan"
	cmdClose    = "xong"
	cmdApprove  = "duyet"
)

// Typed forms of the commands, matched folded as whole words at the start
// of a message. Longer phrases come first.
var (
	enrolWords    = []string{cmdEnrol, "dang ky thanh vien", "dang ky", "ghi danh", "enrol", "enroll", "register", "sign up"}
	approveWords  = []string{cmdApprove, "approve"}
	reportWords   = []string{"bao cao tham ho", "bao cao", cmdReport, "report"}
	weekWords     = []string{cmdWeek, "tuan cua toi", "tuan nay", "my week"}
	progressWords = []string{cmdProgress, "tien do", "progress"}
	requestsWords = []string{cmdRequests, "yeu cau", "requests", "help requests"}
	takeWords     = []string{cmdTake, "take"}
	closeWords    = []string{cmdClose, "done"}
)

func whole(t *flows.Text) (string, bool) { return t.Raw, true }

// member is the person who acted, with the teams they belong to.
type member struct {
	person cnsbot.Person
	roles  []cnsbot.Role
	// teams are the ids of the teams they are an approved member or
	// leader of, in the roster's order.
	teams []int64
	// leads are the teams they lead.
	leads []int64
}

func (m member) inTeam(id int64) bool { return slices.Contains(m.teams, id) }

// whoami returns the person who acted and their teams; ok is false for
// someone who is not an approved member or leader of any team.
func whoami(c *flows.Ctx) (member, bool, error) {
	p, roles, found, err := c.Person()
	if err != nil {
		return member{}, false, err
	}
	if !found {
		return member{}, false, nil
	}
	m := member{person: p, roles: roles}
	for _, r := range roles {
		if !r.Approved || r.TeamID == nil {
			continue
		}
		switch r.Role {
		case cnsbot.RoleLeader:
			m.leads = appendOnce(m.leads, *r.TeamID)
			m.teams = appendOnce(m.teams, *r.TeamID)
		case cnsbot.RoleMember:
			m.teams = appendOnce(m.teams, *r.TeamID)
		}
	}
	return m, len(m.teams) > 0, nil
}

func appendOnce(list []int64, id int64) []int64 {
	if slices.Contains(list, id) {
		return list
	}
	return append(list, id)
}

// isMember shows the members' menu items. A failed lookup hides them.
func (t *teamFlows) isMember(c *flows.Ctx) bool {
	_, ok, err := whoami(c)
	if err != nil {
		t.deps.log().WarnContext(c.Context(), "member lookup for menu", "err", err)
	}
	return ok
}

// notEnrolled shows "enrol" to people whose Zalo is on no roster.
func (t *teamFlows) notEnrolled(c *flows.Ctx) bool {
	_, _, found, err := c.Person()
	if err != nil {
		t.deps.log().WarnContext(c.Context(), "person lookup for menu", "err", err)
		return false
	}
	return !found
}

// notMember answers someone who is not (yet) a member and typed a
// member's command.
func (t *teamFlows) notMember(c *flows.Ctx) {
	_, roles, found, _ := c.Person()
	if found && len(roles) > 0 && pendingOnly(roles) {
		c.Reply(c.T("team.member.pending", nil), c.Button("common.menu", "menu"))
		return
	}
	c.Reply(c.T("team.member.only", nil), c.Button("team.menu.enrol", cmdEnrol), c.Button("common.menu", "menu"))
}

func pendingOnly(roles []cnsbot.Role) bool {
	for _, r := range roles {
		if r.Approved {
			return false
		}
	}
	return true
}

func langOr(lang string) string {
	if lang == "" {
		return "vi"
	}
	return lang
}

func id64(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
