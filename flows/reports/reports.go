// Package reports holds the chat side of the reporting calendar: the
// "Đã nộp" (submitted) button of a deadline reminder, "báo cáo quý" (the
// quarter's figures, with the link to the XLSX file for officers), and the
// delivery of the private copies of reminders and notices that Zalo
// refused while a person had not written for a while.
//
// Everything the person reads lives in locales/reports.*.toml and
// locales/calendar.*.toml; the Go code names message ids only.
package reports

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
)

// Reminders records submissions and renders the quarter's figures;
// *reminder.Reminders has it. Submit returns an EUNAUTHORIZED error for
// someone who does not report at the deadline's level and EINVALID for a
// deadline the schedule does not have; QuarterReport EUNAUTHORIZED for
// someone who reports for nothing.
type Reminders interface {
	Submit(ctx context.Context, deadlineKey string, personID int64, at time.Time) ([]string, error)
	QuarterReport(ctx context.Context, personID int64, q, lang string) (string, error)
	StillDue(ctx context.Context, messageID string, now time.Time) (bool, error)
}

// Copies keeps the messages Zalo refused to deliver to a person who had
// not written for a while; *store.DB has it. PendingCopies returns the
// original messages, newest first; the marks take the original's ID.
type Copies interface {
	PendingCopies(ctx context.Context, userID string, limit int) ([]cnsbot.Outgoing, error)
	MarkCopyQueued(ctx context.Context, id string) error
	SkipCopy(ctx context.Context, id, reason string) error
}

// Deps is what the reports' commands need. Reminders, Texts and Location
// are required.
type Deps struct {
	Reminders Reminders
	// Copies delivers the private copies when a person writes again.
	Copies Copies
	Texts  *locales.Bundle
	// Location is where quarters begin and end: Asia/Ho_Chi_Minh.
	Location *time.Location
	// PublicURL is where the service's dashboard is reached
	// ("https://cns.example.vn"); without it officers get no file link.
	PublicURL string
	Log       *slog.Logger
}

// Register adds the "#danop KEY" and "báo cáo quý" commands, the menu item
// of the quarter's report for leaders and officers, and the handler that
// delivers private copies when a person writes.
//
// Register it before flows whose commands start with "báo cáo", "bc" or
// "baocao" (a team member's visit report): commands match in the order
// added, and "báo cáo quý 3" is this package's.
func Register(e *flows.Engine, deps Deps) error {
	if deps.Reminders == nil || deps.Copies == nil || deps.Texts == nil || deps.Location == nil {
		return fmt.Errorf("reports: Reminders, Copies, Texts and Location are required")
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	r := &reports{deps: deps}
	e.Command(flows.Command{Name: "reports-submitted", Match: matchSubmitted, Run: r.submitted})
	e.Command(flows.Command{Name: "reports-quarter", Match: matchQuarter, Run: r.quarterCommand})
	e.MenuItem(flows.MenuItem{ID: menuReport, Label: "reports.menu.report", Order: 60, Show: r.showReport,
		Run: func(c *flows.Ctx) error { return r.quarterReport(c, calendar.Quarter(c.Now().In(deps.Location))) }})
	e.OnIncoming(r.deliverCopies)
	return nil
}

// menuReport is the menu item's payload id, "#baocao": the same command
// as the reminder's "Xem báo cáo" button, without a quarter.
const menuReport = "baocao"

// reports carries the dependencies into the commands.
type reports struct {
	deps Deps
}

// Roles that see the quarter's figures, and those that also have the
// dashboard, where the XLSX file is.
var (
	reportRoles    = []string{cnsbot.RoleLeader, cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin}
	dashboardRoles = []string{cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin}
)

func hasAny(c *flows.Ctx, roles []string) (bool, error) {
	for _, role := range roles {
		if ok, err := c.HasRole(role); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// showReport decides whether the menu offers the report. While the roster
// cannot be read the menu leaves the item out rather than fail: the person
// still gets a menu, and the report command itself fails the event.
func (r *reports) showReport(c *flows.Ctx) bool {
	ok, _ := hasAny(c, reportRoles)
	return ok
}

// matchSubmitted matches the "Đã nộp" button's payload, "#danop KEY".
func matchSubmitted(t *flows.Text) (string, bool) {
	cmd, arg, ok := calendar.ParseCommand(t.Raw)
	if !ok || cmd != calendar.CommandSubmitted {
		return "", false
	}
	return arg, true
}

// submitted records that the person's report for the deadline is in.
// Tapping again says the same: the first submission is kept.
func (r *reports) submitted(c *flows.Ctx, key string) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	p, _, found, err := c.Person()
	if err != nil {
		return false, err
	}
	if !found {
		c.Reply(c.T("reports.submit.not_yours", nil))
		return true, nil
	}
	names, err := r.deps.Reminders.Submit(c.Context(), key, p.ID, c.Now())
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.EUNAUTHORIZED:
		c.Reply(c.T("reports.submit.not_yours", nil))
		return true, nil
	case cnsbot.EINVALID:
		c.Reply(c.T("reports.submit.unknown", nil))
		return true, nil
	default:
		return false, fmt.Errorf("submit %s: %w", key, err)
	}
	q, _, _, _ := calendar.ParseKey(key)
	c.Reply(c.T("calendar.submit.done", map[string]any{
		"Reporter": strings.Join(names, ", "),
		"Quarter":  calendar.QuarterLabel(r.deps.Texts, c.Lang(), q),
	}))
	return true, nil
}

// quarterCommand answers "#baocao 2025Q3", "báo cáo quý", "báo cáo quý 3",
// "bc quý 3/2025" and the like.
func (r *reports) quarterCommand(c *flows.Ctx, args string) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	q, ok := resolveQuarter(args, c.Now().In(r.deps.Location))
	if !ok {
		c.Reply(c.T("reports.chat.bad_quarter", nil))
		return true, nil
	}
	return true, r.quarterReport(c, q)
}

// quarterReport replies with the figures of quarter q for what the person
// reports for, and the file's link for officers. Members and people on no
// roster are told kindly that the report is not theirs.
func (r *reports) quarterReport(c *flows.Ctx, q string) error {
	p, _, found, err := c.Person()
	if err != nil {
		return err
	}
	canReport, err := hasAny(c, reportRoles)
	if err != nil {
		return err
	}
	if !found || !canReport {
		c.Reply(c.T("reports.chat.refused", nil))
		return nil
	}
	officer, err := hasAny(c, dashboardRoles)
	if err != nil {
		return err
	}
	text, err := r.deps.Reminders.QuarterReport(c.Context(), p.ID, q, c.Lang())
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.EUNAUTHORIZED:
		if !officer {
			c.Reply(c.T("reports.chat.refused", nil))
			return nil
		}
		text = c.T("reports.chat.none_own", nil)
	default:
		return fmt.Errorf("quarter report: %w", err)
	}
	if link := r.fileLink(q); officer && link != "" {
		text += "\n\n" + c.T("reports.chat.link", map[string]any{
			"Quarter": calendar.QuarterLabel(r.deps.Texts, c.Lang(), q), "URL": link})
	}
	c.Reply(text)
	return nil
}

// fileLink is the dashboard's download of quarter q's XLSX report, or ""
// without a PublicURL.
func (r *reports) fileLink(q string) string {
	base := strings.TrimRight(strings.TrimSpace(r.deps.PublicURL), "/")
	if base == "" {
		return ""
	}
	return base + "/admin/report?quarter=" + q + "&format=xlsx"
}
