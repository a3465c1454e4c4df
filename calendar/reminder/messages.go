package reminder

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// common fills the template data every calendar message shares.
func (p *pass) common(lang string, d calendar.Deadline) map[string]any {
	return map[string]any{
		"Quarter": p.quarterLabel(lang, d.Quarter),
		"To":      p.r.texts.T(lang, "calendar.level."+string(d.To), nil),
		"From":    p.r.texts.T(lang, "calendar.level."+string(d.From), nil),
		"Before":  d.Before.Format(dateLayout),
		"LastDay": d.LastDay().Format(dateLayout),
	}
}

// address returns where a person's message goes: privately when their
// Zalo id is known, with their team's group as the fallback; to the group
// when only the group is known; nowhere otherwise.
func address(who calendar.Responsible) (to cnsbot.Recipient, fallback string) {
	if who.ZaloUserID != "" {
		return cnsbot.Recipient{UserID: who.ZaloUserID}, who.GroupID
	}
	if who.GroupID != "" {
		return cnsbot.Recipient{GroupID: who.GroupID}, ""
	}
	return cnsbot.Recipient{}, ""
}

func (p *pass) buttons(lang string, d calendar.Deadline) []cnsbot.Button {
	return []cnsbot.Button{
		{Title: p.r.texts.T(lang, "calendar.button.submitted", nil), Payload: calendar.SubmitPayload(d.Key())},
		{Title: p.r.texts.T(lang, "calendar.button.report", nil), Payload: calendar.ReportPayload(d.Quarter)},
	}
}

// reminderMessage is the list message before a deadline: what is due and
// when, each report's figures, and the two buttons.
func (p *pass) reminderMessage(d calendar.Deadline, du *duty, offset string) (cnsbot.Outgoing, error) {
	who := du.person
	lang := who.Lang
	data := p.common(lang, d)
	data["Reporter"] = reporterNames(du.reporters)
	data["Left"] = calendar.DaysLeftText(p.r.texts, lang, d.DaysLeft(p.now))
	title := p.r.texts.T(lang, "calendar.reminder.title", data)
	body := []string{p.r.texts.T(lang, "calendar.reminder.due", data)}
	figs, err := p.figures(lang, d, du.reporters)
	if err != nil {
		return cnsbot.Outgoing{}, err
	}
	body = append(body, figs...)
	body = append(body, p.r.texts.T(lang, "calendar.reminder.tap", data))
	return p.message(d, who, offset, title, strings.Join(body, "\n"), true), nil
}

// overdueMessage is the list message once the deadline has passed.
func (p *pass) overdueMessage(d calendar.Deadline, du *duty) (cnsbot.Outgoing, error) {
	who := du.person
	lang := who.Lang
	data := p.common(lang, d)
	data["Reporter"] = reporterNames(du.reporters)
	title := p.r.texts.T(lang, "calendar.overdue.title", data)
	body := []string{p.r.texts.T(lang, "calendar.overdue.body", data)}
	figs, err := p.figures(lang, d, du.reporters)
	if err != nil {
		return cnsbot.Outgoing{}, err
	}
	body = append(body, figs...)
	body = append(body, p.r.texts.T(lang, "calendar.reminder.tap", data))
	return p.message(d, who, calendar.OffsetOverdue, title, strings.Join(body, "\n"), true), nil
}

// escalationMessage lists the reporters that are late, for the next level up.
func (p *pass) escalationMessage(d calendar.Deadline, up calendar.Responsible, late []calendar.Responsible) cnsbot.Outgoing {
	lang := up.Lang
	data := p.common(lang, d)
	lines := []string{p.r.texts.TN(lang, "calendar.escalate.title", len(late), data)}
	for _, l := range late {
		lines = append(lines, p.r.texts.T(lang, "calendar.escalate.line", map[string]any{"Reporter": l.ReporterName, "Name": l.Name}))
	}
	m := p.message(d, up, calendar.OffsetEscalate, strings.Join(lines, "\n"), "", false)
	// The list names people: it goes to the officer alone, never to a group.
	m.FallbackGroup = ""
	if m.To.GroupID != "" {
		m.To = cnsbot.Recipient{}
	}
	return m
}

func (p *pass) message(d calendar.Deadline, who calendar.Responsible, offset, title, body string, list bool) cnsbot.Outgoing {
	to, fallback := address(who)
	m := cnsbot.Outgoing{
		ID:            calendar.ReminderID(d.Key(), who.PersonID, offset),
		To:            to,
		Kind:          cnsbot.MsgText,
		Text:          title,
		Purpose:       "reminder",
		Ref:           d.Key(),
		FallbackGroup: fallback,
		Lang:          who.Lang,
	}
	if list {
		m.Kind, m.Subtitle, m.Buttons = cnsbot.MsgList, body, p.buttons(who.Lang, d)
	}
	return m
}

func reporterNames(rs []calendar.Responsible) string {
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.ReporterName)
	}
	return strings.Join(names, ", ")
}

// figures renders the quarter's figures of each reporter, with its name
// when there are several.
func (p *pass) figures(lang string, d calendar.Deadline, reporters []calendar.Responsible) ([]string, error) {
	var out []string
	for _, rs := range reporters {
		f, err := p.figuresOf(rs, d.Quarter)
		if err != nil {
			return nil, err
		}
		if len(reporters) > 1 {
			out = append(out, rs.ReporterName+":")
		}
		out = append(out, FiguresText(p.r.texts, lang, f, rs.TeamID == nil)...)
	}
	return out, nil
}

func figuresOf(ctx context.Context, st Store, rs calendar.Responsible, q string, loc *time.Location) (calendar.Figures, error) {
	if rs.TeamID != nil {
		return st.QuarterFigures(ctx, *rs.TeamID, q, loc)
	}
	return st.UnitFigures(ctx, rs.UnitID, q, loc)
}

// FiguresText renders a quarter's figures as short lines: households
// guided against the 80% target, people guided per area, members and
// hours. withTeams adds the number of teams (for a commune or province).
func FiguresText(texts Texts, lang string, f calendar.Figures, withTeams bool) []string {
	var out []string
	if withTeams {
		out = append(out, texts.TN(lang, "calendar.figures.teams", f.Teams, nil))
	}
	data := map[string]any{
		"InQuarter":  f.GuidedInQuarter,
		"ToDate":     f.GuidedToDate,
		"Households": f.Households,
		"Percent":    number(lang, f.Percent()),
	}
	if f.Households > 0 {
		out = append(out, texts.T(lang, "calendar.figures.households", data))
		if f.ListedHamlets > 0 {
			out = append(out, texts.TN(lang, "households.figures.listed", f.ListedHamlets, nil))
			if f.Unmatched > 0 {
				out = append(out, texts.TN(lang, "households.counted.figures_unmatched", f.Unmatched, nil))
			}
		}
	} else {
		out = append(out, texts.T(lang, "calendar.figures.households_unknown", data))
	}
	if f.Visits == 0 {
		out = append(out, texts.T(lang, "calendar.figures.no_visits", nil))
	} else {
		var parts []string
		for _, a := range f.Areas() {
			parts = append(parts, texts.T(lang, "calendar.area."+a, nil)+" "+fmt.Sprint(f.People[a]))
		}
		if len(parts) > 0 {
			out = append(out, texts.T(lang, "calendar.figures.people", map[string]any{"List": strings.Join(parts, ", ")}))
		}
	}
	out = append(out, texts.T(lang, "calendar.figures.members", map[string]any{
		"Active":  f.ActiveMembers,
		"Members": f.Members,
		"Visits":  f.Visits,
		"Hours":   number(lang, f.Hours()),
	}))
	return out
}

// QuarterReport renders the figures of quarter q for everything personID
// reports for at any level of the schedule: what a leader gets when they
// tap "Xem báo cáo" or ask for "báo cáo quý". It is an EUNAUTHORIZED error
// for someone who reports for nothing.
func (r *Reminders) QuarterReport(ctx context.Context, personID int64, q, lang string) (string, error) {
	year, n, err := calendar.ParseQuarter(q)
	if err != nil {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	q = fmt.Sprintf("%dQ%d", year, n)
	sched, err := r.st.Schedule(ctx)
	if err != nil {
		return "", fmt.Errorf("quarter report: %w", err)
	}
	var blocks []string
	seen := map[string]bool{}
	for _, st := range sched.Steps {
		resp, err := r.st.ResponsibleFor(ctx, st.From)
		if err != nil {
			return "", fmt.Errorf("quarter report: %w", err)
		}
		for _, rs := range resp {
			if rs.PersonID != personID || seen[rs.ReporterKey()] {
				continue
			}
			seen[rs.ReporterKey()] = true
			f, err := figuresOf(ctx, r.st, rs, q, r.loc)
			if err != nil {
				return "", fmt.Errorf("quarter report: %w", err)
			}
			head := r.texts.T(lang, "calendar.report.title", map[string]any{
				"Reporter": rs.ReporterName, "Quarter": calendar.QuarterLabel(r.texts, lang, q)})
			blocks = append(blocks, strings.Join(append([]string{head}, FiguresText(r.texts, lang, f, rs.TeamID == nil)...), "\n"))
		}
	}
	if len(blocks) == 0 {
		return "", cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "person %d reports for nothing", personID)
	}
	return strings.Join(blocks, "\n\n"), nil
}
