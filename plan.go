package cnsbot

import "time"

// The plan's hours of a team's activity: at least four hours a day, on at
// least two days a week. The chat ("tuần của tôi", the team's nudge) and the
// dashboard count them the same way, through WeekTally.
const (
	PlanDayMinutes = 240
	PlanDays       = 2
)

// WeekTally adds up a week's visits by the day they fell on in Loc, against
// the plan's hours. The zero value needs Loc set before Add.
type WeekTally struct {
	Loc *time.Location
	// Minutes are the week's minutes in all.
	Minutes int
	perDay  map[string]int
}

// Add counts a visit of minutes at the instant at.
func (w *WeekTally) Add(at time.Time, minutes int) {
	if w.perDay == nil {
		w.perDay = map[string]int{}
	}
	w.perDay[at.In(w.Loc).Format(time.DateOnly)] += minutes
	w.Minutes += minutes
}

// Days are the days whose visits added up to PlanDayMinutes.
func (w *WeekTally) Days() int {
	n := 0
	for _, m := range w.perDay {
		if m >= PlanDayMinutes {
			n++
		}
	}
	return n
}
