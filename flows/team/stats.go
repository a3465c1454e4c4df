package team

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
)

// The plan's rhythm for a member (plan 220, III): at least two days a week,
// four hours each; and the team's target: 80% of the hamlet's households.
const (
	planDays       = cnsbot.PlanDays
	planDayMinutes = cnsbot.PlanDayMinutes
	planMinutes    = planDays * planDayMinutes
	targetPercent  = 80
)

// weekStart returns Monday 00:00 of now's week in loc.
func weekStart(now time.Time, loc *time.Location) time.Time {
	local := now.In(loc)
	offset := (int(local.Weekday()) + 6) % 7
	y, m, d := local.Date()
	return time.Date(y, m, d-offset, 0, 0, 0, 0, loc)
}

// hoursText writes minutes as hours the way each language writes decimals:
// "3,5" in Vietnamese, "3.5" in English, "4" for whole hours.
func hoursText(lang string, minutes int) string {
	tenths := (minutes*10 + 30) / 60
	s := strconv.Itoa(tenths / 10)
	if tenths%10 != 0 {
		sep := "."
		if lang == "vi" {
			sep = ","
		}
		s += sep + strconv.Itoa(tenths%10)
	}
	return s
}

// dateText writes a day as each language writes it: "9/3" in Vietnamese,
// "9 Mar" in English (where 9/3 reads as September).
func dateText(lang string, t time.Time) string {
	if lang == "en" {
		return t.Format("2 Jan")
	}
	return fmt.Sprintf("%d/%d", t.Day(), int(t.Month()))
}

// weekText says how a member's week is going against the plan.
func (t *teamFlows) weekText(ctx context.Context, lang string, personID int64, now time.Time) (string, error) {
	start := weekStart(now, t.deps.loc())
	days, minutes, err := t.deps.Visits.MemberWeek(ctx, personID, start)
	if err != nil {
		return "", fmt.Errorf("member week: %w", err)
	}
	data := map[string]any{
		"from": dateText(lang, start), "days": days, "plan_days": planDays,
		"hours": hoursText(lang, minutes), "plan_hours": planMinutes / 60,
	}
	id := "team.week.todo"
	switch {
	case days >= planDays && minutes >= planMinutes:
		id = "team.week.met"
	case days == 0:
		id = "team.week.none"
	}
	return t.deps.Texts.T(lang, id, data), nil
}

// progressText says how far a team is toward 80% of its hamlet's
// households.
func (t *teamFlows) progressText(ctx context.Context, lang string, team cnsbot.Team) (string, error) {
	guided, households, err := t.deps.Visits.TeamProgress(ctx, team.ID)
	if err != nil {
		return "", fmt.Errorf("team progress: %w", err)
	}
	data := map[string]any{"team": team.Name, "guided": guided, "households": households, "target": targetPercent}
	tr := func(id string) string { return t.deps.Texts.T(lang, id, data) }
	if households <= 0 {
		return tr("team.progress.no_count"), nil
	}
	pct := guided * 100 / households
	goal := (households*targetPercent + 99) / 100
	data["pct"] = pct
	data["left"] = max(0, goal-guided)
	if guided >= goal {
		return tr("team.progress.reached"), nil
	}
	return tr("team.progress.text"), nil
}

// afterReport is the message after a visit is recorded: thanks, the
// member's week and the team's progress.
func (t *teamFlows) afterReport(ctx context.Context, lang, lead string, personID int64, team cnsbot.Team, now time.Time) (string, error) {
	week, err := t.weekText(ctx, lang, personID, now)
	if err != nil {
		return "", err
	}
	progress, err := t.progressText(ctx, lang, team)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{lead, week, progress}, "\n"), nil
}
