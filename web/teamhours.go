package web

import (
	"context"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TeamHours counts each team's week against the plan's hours; *store.DB
// has it. Without it the commune page leaves the table out.
type TeamHours interface {
	TeamWeeks(ctx context.Context, communeID int64, from, to time.Time, loc *time.Location) ([]store.TeamWeek, error)
}

// teamHoursView is the commune page's table of the teams below the plan's
// hours this week.
type teamHoursView struct {
	From     time.Time
	Short    []teamHoursRow
	Teams    int
	Days     int
	DayHours int
}

type teamHoursRow struct {
	HamletID int64
	Hamlet   string
	Team     string
	Days     int
	Hours    float64
}

// teamHours lists the commune's teams whose week so far falls short of
// the plan's hours (4 hours a day on 2 days), the week from Monday in the
// dashboard's location. The caller has checked the commune is in scope.
func (d *Dashboard) teamHours(ctx context.Context, communeID int64) (*teamHoursView, error) {
	th, ok := d.cfg.Store.(TeamHours)
	if !ok {
		return nil, nil
	}
	local := d.cfg.Now().In(d.cfg.Location)
	from := time.Date(local.Year(), local.Month(), local.Day()-(int(local.Weekday())+6)%7, 0, 0, 0, 0, d.cfg.Location)
	weeks, err := th.TeamWeeks(ctx, communeID, from, from.AddDate(0, 0, 7), d.cfg.Location)
	if err != nil {
		return nil, err
	}
	v := &teamHoursView{From: from, Teams: len(weeks), Days: cnsbot.PlanDays, DayHours: cnsbot.PlanDayMinutes / 60}
	for _, w := range weeks {
		if w.Short() {
			v.Short = append(v.Short, teamHoursRow{HamletID: w.HamletID, Hamlet: w.Hamlet, Team: w.Team, Days: w.Days,
				Hours: float64(w.Minutes*10/60) / 10})
		}
	}
	return v, nil
}
