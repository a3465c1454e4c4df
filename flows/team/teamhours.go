package team

import (
	"context"
	"fmt"
	"time"

	"github.com/camau-cns/cnsbot"
)

// hoursNudgeFrom is the first day of the week on which a team whose week
// falls short of the plan's hours is told: by Friday a team with fewer
// than planDays days of four hours can still make them up at the weekend.
const hoursNudgeFrom = time.Friday

// TeamHoursNudges returns one message for each team whose week, by
// Friday, falls short of the plan's hours (at least four hours on
// planDays days; see teamWeek). The plan sets the hours for the team,
// not for each member, so the message goes to the team's Zalo group if
// one is linked, else to each of its leaders.
//
// It runs in daytime on Friday and Saturday only (Saturday retries a
// Friday pass that failed). Each team is claimed in deps.Once once a
// week ("teamhours:<team>:<week>") before its message is returned, as
// Nudges does, so replicas and later runs leave it out.
func TeamHoursNudges(ctx context.Context, deps Deps, now time.Time) ([]cnsbot.Outgoing, error) {
	if deps.Once == nil || deps.Week == nil {
		return nil, fmt.Errorf("team hours nudges: Once and Week are required")
	}
	local := now.In(deps.loc())
	if h := local.Hour(); h < nudgeFromHour || h >= nudgeToHour {
		return nil, nil
	}
	if wd := local.Weekday(); wd != hoursNudgeFrom && wd != time.Saturday {
		return nil, nil
	}
	start := weekStart(now, deps.loc())
	week := isoWeek(start)
	// One walk of the teams a day: the hourly caller would otherwise
	// read every team's week each hour.
	_, ok, err := deps.Once.TryLock(ctx, "teamhours:pass:"+local.Format(time.DateOnly), 26*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("claim team hours pass: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var out []cnsbot.Outgoing
	err = eachTeam(ctx, deps, func(tm cnsbot.Team) (bool, error) {
		if tm.Demo {
			return true, nil
		}
		msgs, err := teamHoursNudge(ctx, deps, tm, start, week)
		out = append(out, msgs...)
		return true, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// teamHoursNudge is the message for one team if its week falls short.
func teamHoursNudge(ctx context.Context, deps Deps, tm cnsbot.Team, start time.Time, week string) ([]cnsbot.Outgoing, error) {
	visits, err := deps.Week.TeamVisits(ctx, tm.ID, start, start.AddDate(0, 0, 7))
	if err != nil {
		return nil, fmt.Errorf("team visits: %w", err)
	}
	days, minutes := teamWeek(visits, deps.loc())
	if days >= planDays {
		return nil, nil
	}
	id := "teamhours:" + itoa(tm.ID) + ":" + week
	_, ok, err := deps.Once.TryLock(ctx, id, nudgeClaimTTL)
	if err != nil {
		return nil, fmt.Errorf("claim team hours nudge: %w", err)
	}
	if !ok {
		return nil, nil
	}
	msg := func(lang string, to cnsbot.Recipient, suffix string) cnsbot.Outgoing {
		return cnsbot.Outgoing{
			ID: id + suffix, To: to, Kind: cnsbot.MsgText,
			Text: deps.Texts.T(lang, "households.hours_nudge.text", map[string]any{"team": tm.Name, "days": days,
				"plan_days": planDays, "day_hours": planDayMinutes / 60, "hours": hoursText(lang, minutes)}),
			Purpose: "reminder", Ref: "teamhours", Lang: lang,
		}
	}
	if tm.GroupID != "" {
		return []cnsbot.Outgoing{msg("vi", cnsbot.Recipient{GroupID: tm.GroupID}, "")}, nil
	}
	leaders, err := deps.Roster.TeamLeaders(ctx, tm.ID)
	if err != nil {
		return nil, fmt.Errorf("team leaders: %w", err)
	}
	var out []cnsbot.Outgoing
	for _, l := range leaders {
		if l.ZaloUserID == nil || *l.ZaloUserID == "" {
			continue
		}
		out = append(out, msg(langOr(l.Lang), cnsbot.Recipient{UserID: *l.ZaloUserID}, ":"+itoa(l.ID)))
	}
	if len(out) == 0 {
		deps.log().WarnContext(ctx, "team short of the plan's hours has no linked group nor leader on Zalo", "team", tm.ID)
	}
	return out, nil
}
