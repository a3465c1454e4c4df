package team

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
)

// Session Data keys of enrolment.
const (
	keyPhone       = "phone"
	keyPerson      = "person"
	keyName        = "name"
	keyFormName    = "form_name" // the name a shared Zalo form carried
	keyCommune     = "commune"
	keyHamletID    = "hamlet_id"
	keyHamletName  = "hamlet_name"
	keyCommuneName = "commune_name"
	// keyProof is the phone Zalo itself sent for this account (a
	// user_submit_info form); only that phone's roster entry is linked on
	// "đúng rồi".
	keyProof = "proof"
)

// enrolFlow declares enrolment. A roster entry is linked to a Zalo account
// only on proof (see store/enrol.go): the phone Zalo sends for the account
// through its share form, after which the member confirms who they are; a
// one-time code an officer handed over; or, for a plain member who typed
// their phone, their team leader's approval. A typed phone alone shows no
// name and no role, and is answered the same whether or not it is on a
// roster. Someone not on the roster says where they live, and that
// hamlet's team leader is asked to approve them.
func (t *teamFlows) enrolFlow() *flows.Flow {
	return &flows.Flow{
		Name:  FlowEnrol,
		Title: "team.enrol.name_flow",
		Begin: t.beginEnrol,
		Steps: []*flows.Step{
			{Name: "phone", Say: []string{"team.enrol.intro"}, Ask: "team.enrol.phone", Help: "team.enrol.phone_help",
				Input: flows.InputPhone, Save: keyPhone, Then: t.afterPhone},
			{Name: "code", Ask: "team.enrol.code", Help: "team.enrol.code_help", Input: flows.InputText, MaxLen: 40,
				Then: t.codeStep},
			{Name: "confirm", Ask: "team.enrol.confirm", Help: "team.enrol.confirm_help", Input: flows.InputChoice,
				Vars: t.confirmVars,
				Choices: []flows.Choice{
					{ID: "dungroi", Label: "team.btn.its_me", Words: []string{"dung", "dung roi", "dung vay", "phai", "co", "yes", "ok", "that s me"}, Run: t.link},
					{ID: "khongphai", Label: "team.btn.not_me", Words: []string{"khong", "khong phai", "sai", "no", "not me"}, Run: notMe},
				}},
			{Name: "commune", Ask: "team.enrol.commune", Help: "team.enrol.place_help", Input: flows.InputChoice,
				Options: t.communeChoices, Save: keyCommune, Then: t.chooseCommune},
			{Name: "hamlet", Ask: "team.enrol.hamlet", Help: "team.enrol.place_help", Input: flows.InputChoice,
				Options: t.hamletChoices, Save: keyHamletID, Then: chooseHamlet},
			{Name: "fullname", Ask: "team.enrol.fullname", Help: "team.enrol.fullname_help", Input: flows.InputChoice,
				Free: true, PersonName: true, MaxLen: 100, Options: formName, Save: keyName, Check: checkName, Then: t.addPending},
		},
	}
}

// beginEnrol answers someone whose Zalo is already on the roster.
func (t *teamFlows) beginEnrol(c *flows.Ctx) error {
	m, ok, err := whoami(c)
	if err != nil {
		return err
	}
	if ok {
		names, err := t.teamNames(c, m.teams)
		if err != nil {
			return err
		}
		c.Reply(c.T("team.enrol.already", map[string]any{"name": m.person.FullName, "teams": names}),
			c.Button("team.menu.report", cmdReport), c.Button("team.menu.team", cmdTeam), c.Button("common.menu", "menu"))
		c.Done()
		return nil
	}
	if p, roles, found, _ := c.Person(); found && len(roles) > 0 {
		if pendingOnly(roles) {
			c.Reply(c.T("team.member.pending", nil), c.Button("common.menu", "menu"))
			c.Done()
			return nil
		}
		// An officer: linked, in no team.
		c.Menu(c.T("team.enrol.linked_no_team", map[string]any{"name": p.FullName, "roles": t.describeRoles(c, roles)}))
	}
	return nil
}

func (t *teamFlows) teamNames(c *flows.Ctx, ids []int64) (string, error) {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		team, err := t.deps.Teams.Team(c.Context(), id)
		if err != nil {
			return "", fmt.Errorf("team: %w", err)
		}
		names = append(names, team.Name)
	}
	return strings.Join(names, ", "), nil
}

// shareWords are what the engine's "send my Zalo number" button and its
// typed forms look like.
var shareWords = wordSet("chiase", "chia se", "chia se so zalo", "gui so", "gui so zalo", "chia se so", "share",
	"share phone", "share my number", "share my zalo number", "dung so zalo")

// Words of the buttons that follow a typed phone: enter a code, or ask the
// team leader.
var (
	codeStepWords  = wordSet("ma", "nhap ma", "nhap ma dang ky", "co ma", "enter a code", "i have a code")
	askLeaderWords = wordSet("nhoduyet", "nho to truong", "nho to truong duyet", "ask my team leader", "ask my leader")
)

// shareForm sends the request_user_info form with enrolment's own words
// when a person at enrolment's phone question asks to share their number;
// the engine's form speaks to residents. The same question also takes the
// buttons offered after a typed phone.
func (t *teamFlows) shareForm(c *flows.Ctx, text string) (bool, error) {
	if c.FlowName() != FlowEnrol || c.StepName() != "phone" {
		return false, nil
	}
	f := vn.Fold(text)
	switch {
	case shareWords[f]:
		t.sendShareForm(c)
		return true, nil
	case codeStepWords[f]:
		c.Goto("code")
		return true, nil
	case askLeaderWords[f] && c.Get(keyPhone) != "":
		c.Goto("commune")
		return true, nil
	}
	return false, nil
}

func (t *teamFlows) sendShareForm(c *flows.Ctx) {
	c.RequestInfo("team.enrol.share_title", "team.enrol.share_subtitle")
	c.Reply(c.T("team.enrol.share_sent", nil))
}

// afterPhone goes on from the phone. Only the phone Zalo sent through its
// share form is looked up: Zalo documents it as the number of the account
// that sent the form. (Whether the form lets the user edit that number
// before sending is not proven; Deps.DoubtSharedPhone treats a shared
// phone as typed, should it turn out so.)
func (t *teamFlows) afterPhone(c *flows.Ctx, in flows.Input) error {
	c.Set(keyPerson, "")
	c.Set(keyName, "")
	c.Set(keyProof, "")
	if in.Info == nil || t.deps.DoubtSharedPhone {
		return t.typedPhone(c)
	}
	if in.Info.Name != "" {
		c.Set(keyFormName, vn.Clip(strings.TrimSpace(in.Info.Name), 100))
	}
	c.Set(keyProof, in.Phone)
	p, _, err := t.deps.Roster.PersonByPhone(c.Context(), in.Phone)
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		c.Reply(c.T("team.enrol.unknown", map[string]any{"phone": flows.DisplayPhone(in.Phone)}))
		c.Goto("commune")
		return nil
	case err != nil:
		return fmt.Errorf("person by phone: %w", err)
	}
	if p.ZaloUserID != nil && *p.ZaloUserID != "" && *p.ZaloUserID != c.UserID() {
		c.Menu(c.T("team.enrol.other_zalo", nil))
		return nil
	}
	c.Set(keyPerson, itoa(p.ID))
	c.Set(keyName, p.FullName)
	c.Goto("confirm")
	return nil
}

// typedPhone answers a typed phone without looking it up: anyone can type
// anyone's number, so the answer is the same for every number. It offers
// the share form, a code, and the team leader's approval.
func (t *teamFlows) typedPhone(c *flows.Ctx) error {
	c.Reply(c.T("team.enrol.typed", nil),
		c.Button("team.btn.share", "chiase"), c.Button("team.btn.code", "ma"), c.Button("team.btn.ask_leader", "nhoduyet"))
	c.Stay()
	return nil
}

// confirmVars describes the roster entry being confirmed: its name and
// every role.
func (t *teamFlows) confirmVars(c *flows.Ctx) map[string]any {
	_, roles, err := t.proven(c)
	if err != nil {
		return map[string]any{"roles": ""}
	}
	return map[string]any{"roles": t.describeRoles(c, roles)}
}

// proven returns the roster entry of the phone Zalo sent, once the share
// form proved it; ENOTFOUND otherwise.
func (t *teamFlows) proven(c *flows.Ctx) (cnsbot.Person, []cnsbot.Role, error) {
	phone := c.Get(keyPhone)
	if phone == "" || c.Get(keyProof) != phone {
		return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.ENOTFOUND, "no proven phone")
	}
	p, roles, err := t.deps.Roster.PersonByPhone(c.Context(), phone)
	if err != nil {
		return cnsbot.Person{}, nil, err
	}
	if itoa(p.ID) != c.Get(keyPerson) {
		return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.ENOTFOUND, "roster entry changed")
	}
	return p, roles, nil
}

// describeRoles writes a person's roles, one a line: "Tổ trưởng, Tổ CNSCĐ
// Ấp 1".
func (t *teamFlows) describeRoles(c *flows.Ctx, roles []cnsbot.Role) string {
	var lines []string
	for _, r := range roles {
		place := ""
		if r.TeamID != nil {
			if team, err := t.deps.Teams.Team(c.Context(), *r.TeamID); err == nil {
				place = team.Name
			}
		} else if u, err := t.deps.Places.Unit(c.Context(), r.UnitID); err == nil {
			place = u.Name
		}
		id := "team.enrol.role_line"
		if !r.Approved {
			id = "team.enrol.role_pending"
		}
		lines = append(lines, c.T(id, map[string]any{"role": c.T("team.role."+r.Role, nil), "place": place}))
	}
	return strings.Join(lines, "\n")
}

// link links the person's Zalo to the roster entry of the phone Zalo sent.
func (t *teamFlows) link(c *flows.Ctx) error {
	p, _, err := t.proven(c)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ENOTFOUND, cnsbot.EINVALID:
		c.Goto("phone")
		return nil
	default:
		return fmt.Errorf("person by phone: %w", err)
	}
	err = t.deps.Roster.LinkZalo(c.Context(), p.ID, c.UserID())
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ECONFLICT:
		c.Menu(c.T("team.enrol.zalo_taken", nil))
		return nil
	case cnsbot.ENOTFOUND:
		c.Menu(c.T("team.enrol.gone", nil))
		return nil
	default:
		return fmt.Errorf("link zalo: %w", err)
	}
	c.ForgetPerson()
	_, roles, err := t.deps.Roster.PersonByPhone(c.Context(), p.Phone)
	if err != nil {
		return fmt.Errorf("person by phone: %w", err)
	}
	return t.welcome(c, p.FullName, roles)
}

// welcome greets someone just linked to their roster entry, with their
// teams, or their roles when they are in no team.
func (t *teamFlows) welcome(c *flows.Ctx, name string, roles []cnsbot.Role) error {
	var teams, leads []int64
	for _, r := range roles {
		if r.Approved && r.TeamID != nil && (r.Role == cnsbot.RoleMember || r.Role == cnsbot.RoleLeader) {
			teams = appendOnce(teams, *r.TeamID)
			if r.Role == cnsbot.RoleLeader {
				leads = appendOnce(leads, *r.TeamID)
			}
		}
	}
	if len(teams) == 0 {
		c.Menu(c.T("team.enrol.linked_no_team", map[string]any{"name": name, "roles": t.describeRoles(c, roles)}))
		return nil
	}
	names, err := t.teamNames(c, teams)
	if err != nil {
		return err
	}
	text := c.T("team.enrol.welcome", map[string]any{"name": name, "teams": names})
	for _, id := range leads {
		team, err := t.deps.Teams.Team(c.Context(), id)
		if err != nil {
			return fmt.Errorf("team: %w", err)
		}
		if team.GroupID == "" {
			text += "\n\n" + c.T("team.progress.link_hint", map[string]any{"code": team.Code})
		}
	}
	c.Reply(text, c.Button("team.menu.report", cmdReport), c.Button("team.menu.team", cmdTeam), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}

// codeWords start a typed enrol code: "mã ABCD2345".
var codeWords = []string{"ma dang ky", "ma", "enrol code", "enrolment code", "code"}

// codeCommand is "mã ABCD2345" anywhere in a private chat, and a bare
// code at enrolment's phone question.
func (t *teamFlows) codeCommand(c *flows.Ctx, args string) (bool, error) {
	code, ok := cnsbot.ParseEnrolCode(args)
	if !ok || c.Event.IsGroup() {
		return false, nil
	}
	return true, t.redeem(c, code)
}

// bareCode is a code typed alone while enrolment asks for the phone.
func (t *teamFlows) bareCode(c *flows.Ctx, text string) (bool, error) {
	if c.FlowName() != FlowEnrol || c.StepName() != "phone" {
		return false, nil
	}
	code, ok := cnsbot.ParseEnrolCode(text)
	if !ok {
		return false, nil
	}
	return true, t.redeem(c, code)
}

// codeStep reads the code asked for.
func (t *teamFlows) codeStep(c *flows.Ctx, in flows.Input) error {
	code, ok := cnsbot.ParseEnrolCode(in.Text)
	if !ok {
		c.Reply(c.T("team.enrol.code_shape", nil))
		c.Stay()
		return nil
	}
	return t.redeem(c, code)
}

// redeem links the person to the roster entry an officer's code names.
// Attempts are limited per Zalo user, so that codes cannot be guessed
// through the chat. A code may move someone linked to another Zalo
// account: that account is told, once.
func (t *teamFlows) redeem(c *flows.Ctx, code string) error {
	ctx := c.Context()
	ok, err := t.deps.Attempts.Allow(ctx, c.UserID())
	if err != nil {
		return fmt.Errorf("enrol code attempts: %w", err)
	}
	if !ok {
		t.deps.log().WarnContext(ctx, "enrol code attempts exceeded")
		c.Reply(c.T("team.enrol.code_slow", nil), c.Button("common.menu", "menu"))
		c.Stay()
		return nil
	}
	p, roles, previous, err := t.deps.Roster.RedeemEnrolCode(ctx, code, c.UserID())
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ENOTFOUND:
		t.deps.log().InfoContext(ctx, "enrol code refused")
		c.Reply(c.T("team.enrol.code_wrong", nil), c.Button("common.menu", "menu"))
		c.Stay()
		return nil
	case cnsbot.ECONFLICT:
		c.Menu(c.T("team.enrol.zalo_taken", nil))
		return nil
	default:
		return fmt.Errorf("redeem enrol code: %w", err)
	}
	t.deps.log().InfoContext(ctx, "enrol code redeemed", "moved", previous != "")
	if previous != "" {
		lang := langOr(p.Lang)
		c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: previous}, Kind: cnsbot.MsgText, Purpose: "notify", Lang: lang,
			Text: t.deps.Texts.T(lang, "team.enrol.moved_away", nil)})
	}
	c.ForgetPerson()
	return t.welcome(c, p.FullName, roles)
}

func notMe(c *flows.Ctx) error {
	c.Menu(c.T("team.enrol.not_me", nil))
	return nil
}

func (t *teamFlows) communeChoices(c *flows.Ctx) ([]flows.Choice, error) {
	return flows.CommuneChoices(c.Context(), t.deps.Places)
}

func (t *teamFlows) hamletChoices(c *flows.Ctx) ([]flows.Choice, error) {
	return flows.HamletChoices(c.Context(), t.deps.Places, c.Get(keyCommune))
}

func (t *teamFlows) chooseCommune(c *flows.Ctx, in flows.Input) error {
	c.Set(keyCommuneName, in.Choice.Title)
	c.Set(keyHamletID, "")
	hamlets, err := t.hamletChoices(c)
	if err != nil {
		return err
	}
	if len(hamlets) == 0 {
		// No hamlet on file means no team to join there: the commune is
		// told instead.
		return t.noTeam(c)
	}
	c.Goto("hamlet")
	return nil
}

func chooseHamlet(c *flows.Ctx, in flows.Input) error {
	c.Set(keyHamletName, in.Choice.Title)
	return nil
}

// formName offers the name from a shared Zalo form as a button.
func formName(c *flows.Ctx) ([]flows.Choice, error) {
	if n := c.Get(keyFormName); n != "" {
		return []flows.Choice{{ID: "tenzalo", Title: n}}, nil
	}
	return nil, nil
}

// checkName accepts a name with letters in it and no digits.
func checkName(c *flows.Ctx, in *flows.Input) string {
	if in.Choice != nil {
		in.Text = in.Choice.Title
		return ""
	}
	in.Text = strings.Join(strings.Fields(in.Text), " ")
	letters, digits := 0, 0
	for _, r := range in.Text {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	if letters < 2 || digits > 0 {
		return "team.enrol.fullname_invalid"
	}
	return ""
}

// addPending records someone not on the roster as a pending member of
// their hamlet's team and asks its leaders to approve them.
func (t *teamFlows) addPending(c *flows.Ctx, in flows.Input) error {
	ctx := c.Context()
	name := c.Get(keyName)
	if in.Choice != nil {
		name = in.Choice.Title
		c.Set(keyName, name)
	}
	hamletID, _ := flows.UnitID(c.Get(keyHamletID))
	teams, err := t.deps.Teams.TeamsOfHamlet(ctx, hamletID)
	if err != nil {
		return fmt.Errorf("teams of hamlet: %w", err)
	}
	if len(teams) == 0 {
		return t.noTeam(c)
	}
	team := teams[0]
	if c.Get(keyProof) != c.Get(keyPhone) {
		// A typed phone: what happens depends on the roster, what is said
		// does not.
		p, roles, err := t.deps.Roster.PersonByPhone(ctx, c.Get(keyPhone))
		switch cnsbot.ErrorCode(err) {
		case cnsbot.ENOTFOUND:
		case "":
			if err := t.requestLink(c, p, roles, name); err != nil {
				return err
			}
			t.pendingSent(c, team)
			return nil
		default:
			return fmt.Errorf("person by phone: %w", err)
		}
	}
	me := c.UserID()
	err = t.deps.Roster.AddPendingMember(ctx, cnsbot.Person{FullName: name, Phone: c.Get(keyPhone), ZaloUserID: &me, Lang: c.Session().Lang}, team.ID)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ECONFLICT:
		c.Menu(c.T("team.enrol.zalo_taken", nil))
		return nil
	case cnsbot.EINVALID:
		t.deps.log().WarnContext(ctx, "pending member refused", "err", err)
		c.Menu(c.T("team.enrol.refused", nil))
		return nil
	default:
		return fmt.Errorf("add pending member: %w", err)
	}
	c.ForgetPerson()
	p, _, err := t.deps.Roster.PersonByPhone(ctx, c.Get(keyPhone))
	if err != nil {
		return fmt.Errorf("person by phone: %w", err)
	}
	leaders, err := t.deps.Roster.TeamLeaders(ctx, team.ID)
	if err != nil {
		return fmt.Errorf("team leaders: %w", err)
	}
	data := map[string]any{"name": p.FullName, "phone": flows.DisplayPhone(p.Phone), "team": team.Name,
		"place": c.Get(keyHamletName) + ", " + c.Get(keyCommuneName), "id": p.ID}
	told := 0
	for _, l := range leaders {
		if l.ZaloUserID == nil || *l.ZaloUserID == "" {
			continue
		}
		lang := langOr(l.Lang)
		c.Send(cnsbot.Outgoing{
			ID: "enrol:" + itoa(p.ID) + ":" + itoa(l.ID), To: cnsbot.Recipient{UserID: *l.ZaloUserID},
			Kind: cnsbot.MsgList, Text: t.deps.Texts.T(lang, "team.enrol.leader_notice", data),
			Buttons: []cnsbot.Button{{Title: t.deps.Texts.T(lang, "team.btn.approve", nil), Payload: "#" + cmdApprove + " " + itoa(p.ID)}},
			// No fallback to the team's group: the notice carries a phone.
			Purpose: "notify", Lang: lang,
		})
		told++
	}
	if told == 0 {
		t.deps.log().WarnContext(ctx, "no team leader reachable for a pending member", "team", team.ID)
	}
	t.pendingSent(c, team)
	return nil
}

// pendingSent tells someone their team leader was asked. It shows the
// menu's button, not the menu, whose items would tell a pending person
// from someone whose typed phone was somebody else's.
func (t *teamFlows) pendingSent(c *flows.Ctx, team cnsbot.Team) {
	c.Reply(c.T("team.enrol.pending_sent", map[string]any{"team": team.Name}), c.Button("common.menu", "menu"))
	c.Done()
}

// requestLink asks the team leaders of a plain member, whose phone was
// typed, whether this Zalo account is theirs. Leaders and officers, and
// anyone linked already, need stronger proof: nothing is asked, and the
// person on the roster, when reachable, hears that someone typed their
// number.
func (t *teamFlows) requestLink(c *flows.Ctx, p cnsbot.Person, roles []cnsbot.Role, said string) error {
	ctx := c.Context()
	err := t.deps.Roster.RequestLink(ctx, p.ID, c.UserID(), said)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.EINVALID, cnsbot.ECONFLICT:
		t.deps.log().InfoContext(ctx, "typed phone needs a stronger proof", "reason", cnsbot.ErrorCode(err))
		if p.ZaloUserID != nil && *p.ZaloUserID != "" && *p.ZaloUserID != c.UserID() {
			lang := langOr(p.Lang)
			c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: *p.ZaloUserID}, Kind: cnsbot.MsgText, Purpose: "notify",
				Lang: lang, Text: t.deps.Texts.T(lang, "team.enrol.tried_notice", nil)})
		}
		return nil
	case cnsbot.ENOTFOUND:
		return nil
	default:
		return fmt.Errorf("request link: %w", err)
	}
	told := 0
	for _, r := range roles {
		if !r.Approved || r.TeamID == nil || r.Role != cnsbot.RoleMember {
			continue
		}
		team, err := t.deps.Teams.Team(ctx, *r.TeamID)
		if err != nil {
			return fmt.Errorf("team: %w", err)
		}
		leaders, err := t.deps.Roster.TeamLeaders(ctx, team.ID)
		if err != nil {
			return fmt.Errorf("team leaders: %w", err)
		}
		data := map[string]any{"name": p.FullName, "phone": flows.DisplayPhone(p.Phone), "team": team.Name, "said": said, "id": p.ID}
		for _, l := range leaders {
			if l.ZaloUserID == nil || *l.ZaloUserID == "" {
				continue
			}
			lang := langOr(l.Lang)
			c.Send(cnsbot.Outgoing{
				To: cnsbot.Recipient{UserID: *l.ZaloUserID}, Kind: cnsbot.MsgList,
				Text:    t.deps.Texts.T(lang, "team.enrol.link_notice", data),
				Buttons: []cnsbot.Button{{Title: t.deps.Texts.T(lang, "team.btn.approve", nil), Payload: "#" + cmdApprove + " " + itoa(p.ID)}},
				// No fallback to the team's group: the notice carries a phone.
				Purpose: "notify", Lang: lang,
			})
			told++
		}
	}
	if told == 0 {
		t.deps.log().WarnContext(ctx, "no team leader reachable for a link request")
	}
	return nil
}

// noTeam tells the commune's officers that someone from a hamlet without
// a team wants to help, and tells the person.
func (t *teamFlows) noTeam(c *flows.Ctx) error {
	ctx := c.Context()
	communeID, _ := flows.UnitID(c.Get(keyCommune))
	officers, err := t.deps.Roster.CommuneOfficers(ctx, communeID)
	if err != nil {
		return fmt.Errorf("commune officers: %w", err)
	}
	place := strings.Trim(c.Get(keyHamletName)+", "+c.Get(keyCommuneName), ", ")
	for _, o := range officers {
		if o.ZaloUserID == nil || *o.ZaloUserID == "" {
			continue
		}
		lang := langOr(o.Lang)
		c.Send(cnsbot.Outgoing{
			To: cnsbot.Recipient{UserID: *o.ZaloUserID}, Kind: cnsbot.MsgText, Purpose: "notify", Lang: lang,
			Text: t.deps.Texts.T(lang, "team.enrol.officer_notice", map[string]any{
				"name": c.Get(keyName), "phone": flows.DisplayPhone(c.Get(keyPhone)), "place": place}),
		})
	}
	c.Menu(c.T("team.enrol.no_team", map[string]any{"place": place}))
	return nil
}

// enrolCodeCommand is "đăng ký ABCD2345": an officer's code, redeemed in
// the person's own chat.
func (t *teamFlows) enrolCodeCommand(c *flows.Ctx, args string) (bool, error) {
	code, _ := cnsbot.ParseEnrolCode(args)
	if c.Event.IsGroup() {
		return false, nil
	}
	return true, t.redeem(c, code)
}

// enrolCodeLine matches "đăng ký" followed by an enrol code.
func enrolCodeLine(t *flows.Text) (string, bool) {
	args, ok := matchEnrol(t)
	if !ok {
		return "", false
	}
	_, ok = cnsbot.ParseEnrolCode(args)
	return args, ok
}

var matchEnrol = flows.Prefix(enrolWords...)

// enrolCommand starts enrolment on "đăng ký" typed alone, or its button.
func (t *teamFlows) enrolCommand(c *flows.Ctx, args string) (bool, error) {
	if strings.TrimSpace(args) != "" {
		return false, nil
	}
	c.Start(FlowEnrol, "", nil)
	return true, nil
}

// approveCommand is a leader's "duyệt 123": the pending member 123 of one
// of their teams is approved and told.
func (t *teamFlows) approveCommand(c *flows.Ctx, args string) (bool, error) {
	id, ok := id64(strings.TrimSpace(args))
	if !ok {
		return false, nil
	}
	ctx := c.Context()
	m, _, err := whoami(c)
	if err != nil {
		return false, err
	}
	if len(m.leads) == 0 {
		c.Reply(c.T("team.approve.leaders_only", nil))
		return true, nil
	}
	for _, teamID := range m.leads {
		team, err := t.deps.Teams.Team(ctx, teamID)
		if err != nil {
			return false, fmt.Errorf("team: %w", err)
		}
		members, err := t.deps.Roster.TeamMembers(ctx, teamID)
		if err != nil {
			return false, fmt.Errorf("team members: %w", err)
		}
		if i := slices.IndexFunc(members, func(p cnsbot.Person) bool { return p.ID == id }); i >= 0 {
			if done, err := t.approveLink(c, m, members[i], team); done || err != nil {
				return true, err
			}
			// Approved already (a second tap): nobody is told twice.
			c.Reply(c.T("team.approve.already", map[string]any{"name": members[i].FullName, "team": team.Name}))
			return true, nil
		}
		err = t.deps.Roster.ApproveMember(ctx, id, teamID)
		if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("approve member: %w", err)
		}
		members, err = t.deps.Roster.TeamMembers(ctx, teamID)
		if err != nil {
			return false, fmt.Errorf("team members: %w", err)
		}
		name := ""
		for _, p := range members {
			if p.ID != id {
				continue
			}
			name = p.FullName
			if p.ZaloUserID != nil && *p.ZaloUserID != "" {
				lang := langOr(p.Lang)
				c.Send(cnsbot.Outgoing{
					ID: "approved:" + itoa(id) + ":" + itoa(teamID), To: cnsbot.Recipient{UserID: *p.ZaloUserID},
					Kind: cnsbot.MsgList, Purpose: "notify", Lang: lang,
					Text: t.deps.Texts.T(lang, "team.approve.welcome", map[string]any{"team": team.Name, "leader": m.person.FullName}),
					Buttons: []cnsbot.Button{
						{Title: t.deps.Texts.T(lang, "team.menu.report", nil), Payload: "#" + cmdReport},
						{Title: t.deps.Texts.T(lang, "team.menu.team", nil), Payload: "#" + cmdTeam},
					},
				})
			}
		}
		c.Reply(c.T("team.approve.done", map[string]any{"name": name, "team": team.Name}))
		return true, nil
	}
	c.Reply(c.T("team.approve.not_found", map[string]any{"id": id}))
	return true, nil
}

// approveLink is a leader's "duyệt" of a member of their team who asked,
// by a typed phone, to be linked to a Zalo account. It reports false when
// nobody asked.
func (t *teamFlows) approveLink(c *flows.Ctx, leader member, p cnsbot.Person, team cnsbot.Team) (bool, error) {
	zalo, err := t.deps.Roster.ApproveLink(c.Context(), p.ID, team.ID)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ENOTFOUND:
		return false, nil
	case cnsbot.EINVALID, cnsbot.ECONFLICT:
		c.Reply(c.T("team.approve.link_refused", map[string]any{"name": p.FullName}))
		return true, nil
	default:
		return false, fmt.Errorf("approve link: %w", err)
	}
	lang := langOr(p.Lang)
	c.Send(cnsbot.Outgoing{
		ID: "linked:" + itoa(p.ID) + ":" + itoa(team.ID), To: cnsbot.Recipient{UserID: zalo},
		Kind: cnsbot.MsgList, Purpose: "notify", Lang: lang,
		Text: t.deps.Texts.T(lang, "team.approve.welcome", map[string]any{"team": team.Name, "leader": leader.person.FullName}),
		Buttons: []cnsbot.Button{
			{Title: t.deps.Texts.T(lang, "team.menu.report", nil), Payload: "#" + cmdReport},
			{Title: t.deps.Texts.T(lang, "team.menu.team", nil), Payload: "#" + cmdTeam},
		},
	})
	c.Reply(c.T("team.approve.linked", map[string]any{"name": p.FullName, "team": team.Name}))
	return true, nil
}
