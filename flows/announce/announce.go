// Package announce is the chat side of officers' announcements: "dừng
// nhận tin" and "nhận tin" in a private chat, and the hamlet's Zalo group
// of household representatives, where the bot answers only the guides'
// commands and posts the hamlet's announcements.
package announce

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
	"golang.org/x/text/unicode/norm"
)

// OptOuts remembers who said "dừng nhận tin"; *store.DB has it.
type OptOuts interface {
	SetOptOut(ctx context.Context, userID string, out bool) error
	IsOptedOut(ctx context.Context, userID string) (bool, error)
}

// Hamlets links and finds household groups; *store.DB has it.
type Hamlets interface {
	Unit(ctx context.Context, id int64) (cnsbot.Unit, error)
	HamletOfGroup(ctx context.Context, groupID string) (cnsbot.Unit, error)
	LinkHamletGroup(ctx context.Context, hamletID int64, groupID string, by int64) error
	TeamsOfHamlet(ctx context.Context, hamletID int64) ([]cnsbot.Team, error)
}

// Deps are what the package needs.
type Deps struct {
	OptOuts OptOuts
	Hamlets Hamlets
	Log     *slog.Logger
}

// Register adds the opt-out commands and the household groups' handler.
// It must be registered before the team's group handler, which would
// otherwise answer team commands ("#tiendo") in a household group.
func Register(e *flows.Engine, deps Deps) error {
	if deps.OptOuts == nil || deps.Hamlets == nil {
		return fmt.Errorf("announce: OptOuts and Hamlets are required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	a := &announcements{deps: deps}
	e.Command(flows.Command{Name: "announce.stop", Match: whole(stopWords...), Run: a.stop})
	e.Command(flows.Command{Name: "announce.resume", Match: whole(resumeWords...), Run: a.resume})
	e.OnGroup(a.inGroup)
	return nil
}

type announcements struct{ deps Deps }

// What people type to stop and resume announcements; the buttons send
// "#dungnhantin". "nhận tin" without marks folds like "nhắn tin" (to
// text): it resumes only someone who had stopped.
var (
	stopWords = []string{"dungnhantin", "dung nhan tin", "dung nhan thong bao", "ngung nhan tin",
		"huy nhan tin", "khong nhan tin nua", "stop announcements", "unsubscribe"}
	resumeWords = []string{"nhantin", "nhan tin", "nhan tin lai", "nhan thong bao", "nhan lai thong bao",
		"resume announcements", "subscribe"}
)

// whole matches text that is one of phrases and nothing more.
func whole(phrases ...string) func(*flows.Text) (string, bool) {
	m := flows.Prefix(phrases...)
	return func(t *flows.Text) (string, bool) {
		rest, ok := m(t)
		if !ok || strings.Trim(rest, " .!…") != "" {
			return "", false
		}
		return "", true
	}
}

func (a *announcements) stop(c *flows.Ctx, _ string) (bool, error) {
	if c.Event.IsGroup() || c.UserID() == "" {
		return false, nil
	}
	if err := a.deps.OptOuts.SetOptOut(c.Context(), c.UserID(), true); err != nil {
		return false, fmt.Errorf("stop announcements: %w", err)
	}
	c.Menu(c.T("announce.stopped", nil))
	return true, nil
}

func (a *announcements) resume(c *flows.Ctx, _ string) (bool, error) {
	if c.Event.IsGroup() || c.UserID() == "" {
		return false, nil
	}
	out, err := a.deps.OptOuts.IsOptedOut(c.Context(), c.UserID())
	if err != nil {
		return false, fmt.Errorf("resume announcements: %w", err)
	}
	if !out {
		// "nhan tin" from someone who never stopped: their words mean
		// something else, for the flows to read.
		return false, nil
	}
	if err := a.deps.OptOuts.SetOptOut(c.Context(), c.UserID(), false); err != nil {
		return false, fmt.Errorf("resume announcements: %w", err)
	}
	c.Menu(c.T("announce.resumed", nil))
	return true, nil
}

// Hamlet codes: "AP" and the hamlet's id ("AP12"), shown to officers on
// the announcements page and typed as "#lienket AP12" in the group.
var hamletCode = regexp.MustCompile(`^(?i)ap[\s\-_]*([0-9]{1,9})$`)

// HamletCode is the code that links a hamlet's household group.
func HamletCode(hamletID int64) string { return "AP" + strconv.FormatInt(hamletID, 10) }

// Commands of a household group.
const (
	gLink   = "link"
	gVNeID  = "vneid"
	gCaMauG = "camaug"
	gHelp   = "help"
)

var groupCommands = []struct {
	id    string
	match func(*flows.Text) (string, bool)
}{
	{gLink, flows.Prefix("lienket", "lien ket", "link")},
	{gVNeID, flows.Prefix("vneid", "vn eid")},
	{gCaMauG, flows.Prefix("camaug", "camau g", "ca mau g")},
	{gHelp, flows.Prefix("giup", "help", "huongdan", "huong dan", "lenh")},
}

// teamWords are the first words of the team's group commands ("#tiendo",
// "#bc"): asked in a household group, they get the group's help, never a
// team's answer.
var teamWords = map[string]bool{"tiendo": true, "tien": true, "progress": true, "tuan": true, "week": true,
	"yeucau": true, "yeu": true, "requests": true, "baocao": true, "bao": true, "bc": true, "report": true,
	"ok": true, "dongy": true, "dong": true, "xacnhan": true, "xac": true, "luu": true, "huy": true, "cancel": true,
	"lenh": true, "nhan": true, "xong": true, "lienket": true, "lien": true, "link": true, "cnsbot": true}

// addressed reads a group message: the command it gives the bot, and
// whether it addresses the bot at all ("#" and a command, or the bot's
// name first: "bot ơi, vneid"). Other hashtags ("#camau") are chatter.
func addressed(text string) (cmd, args string, ok bool) {
	text = strings.TrimSpace(norm.NFC.String(text))
	if strings.HasPrefix(text, "#") {
		t := flows.NewText(text)
		for _, gc := range groupCommands {
			if args, ok := gc.match(t); ok {
				return gc.id, args, true
			}
		}
		if w := vn.Words(text); len(w) > 0 && teamWords[w[0]] {
			return gHelp, "", true
		}
		return "", "", false
	}
	words := strings.Fields(text)
	if len(words) == 0 {
		return "", "", false
	}
	first := strings.ToLower(strings.Trim(words[0], ",.:!?"))
	if first != "bot" && first != "@bot" && first != "cnsbot" && first != "@cnsbot" {
		return "", "", false
	}
	rest := words[1:]
	if len(rest) > 0 && vn.Fold(strings.Trim(rest[0], ",.:!?")) == "oi" {
		rest = rest[1:]
	}
	t := flows.NewText(strings.Join(rest, " "))
	for _, gc := range groupCommands {
		if args, ok := gc.match(t); ok {
			return gc.id, args, true
		}
	}
	return gHelp, "", true
}

// noteHamlet is the group session's note of the hamlet whose household
// group it is, so that telling a household group from a team's costs no
// query on every message; a session that expired (a week of silence) is
// told again from the database at the next message that addresses the bot.
const noteHamlet = "announce.hamlet"

// inGroup links household groups and answers in them. In another group it
// does nothing unless a hamlet code is being linked, leaving the rest to
// the team's handler; in a household group it stops every message there,
// so the team's handler never answers among residents.
func (a *announcements) inGroup(c *flows.Ctx) error {
	if c.Event.GroupID == "" {
		return nil
	}
	cmd, args, ok := addressed(c.Event.Text)
	if c.Event.Kind == cnsbot.KindGroup || c.Event.Text == "" {
		ok = false
	}
	ctx := c.Context()
	if ok && cmd == gLink {
		if m := hamletCode.FindStringSubmatch(strings.TrimSpace(args)); m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			return a.link(c, id)
		}
	}
	name := c.Note(noteHamlet)
	if name == "" && ok {
		hamlet, err := a.deps.Hamlets.HamletOfGroup(ctx, c.Event.GroupID)
		switch {
		case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		case err != nil:
			return fmt.Errorf("household group: %w", err)
		default:
			name = hamlet.Name
			c.SetNote(noteHamlet, name)
		}
	}
	if name == "" {
		return nil
	}
	// A household group: the bot speaks only when addressed, and only of
	// the guides. Whatever else it is asked (a team's figures, its
	// requests) it does not say among residents.
	c.Stay()
	if !ok {
		return nil
	}
	data := map[string]any{"hamlet": name}
	switch cmd {
	case gVNeID:
		c.Reply(c.T("announce.group.vneid", data))
	case gCaMauG:
		c.Reply(c.T("announce.group.camaug", data))
	case gLink:
		c.Reply(c.T("announce.group.linked_already", data))
	default:
		c.Reply(c.T("announce.group.help", data))
	}
	return nil
}

// link makes the group the household group of hamlet id, for an approved
// member or leader of one of its teams, an officer of its commune, or an
// administrator.
func (a *announcements) link(c *flows.Ctx, id int64) error {
	ctx := c.Context()
	hamlet, err := a.deps.Hamlets.Unit(ctx, id)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND || (err == nil && hamlet.Kind != cnsbot.UnitHamlet) {
		c.Reply(c.T("announce.group.bad_code", map[string]any{"code": HamletCode(id)}))
		return nil
	}
	if err != nil {
		return fmt.Errorf("hamlet %d: %w", id, err)
	}
	p, roles, found, err := c.Person()
	if err != nil {
		return err
	}
	teams, err := a.deps.Hamlets.TeamsOfHamlet(ctx, id)
	if err != nil {
		return fmt.Errorf("teams of hamlet: %w", err)
	}
	allowed := false
	for _, r := range roles {
		if !r.Approved {
			continue
		}
		switch r.Role {
		case cnsbot.RoleAdmin, cnsbot.RoleProvinceOfficer:
			allowed = true
		case cnsbot.RoleCommuneOfficer:
			allowed = allowed || (hamlet.ParentID != nil && r.UnitID == *hamlet.ParentID)
		case cnsbot.RoleMember, cnsbot.RoleLeader:
			for _, t := range teams {
				allowed = allowed || (r.TeamID != nil && *r.TeamID == t.ID)
			}
		}
	}
	data := map[string]any{"hamlet": hamlet.Name}
	if !found || !allowed {
		c.Reply(c.T("announce.group.link_team_only", data))
		return nil
	}
	if err := a.deps.Hamlets.LinkHamletGroup(ctx, id, c.Event.GroupID, p.ID); err != nil {
		return fmt.Errorf("link household group: %w", err)
	}
	a.deps.Log.InfoContext(ctx, "household group linked", "hamlet", id, "person", p.ID)
	c.SetNote(noteHamlet, hamlet.Name)
	c.Reply(c.T("announce.group.linked", data))
	return nil
}
