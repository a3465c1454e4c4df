package calendar

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Deadline is one step of the chain in one quarter.
type Deadline struct {
	// Quarter is the reporting quarter, "2025Q3".
	Quarter string
	From    Level
	To      Level
	// Before is the local midnight that begins the day the step names: the
	// report must be in before this instant.
	Before time.Time
}

// Key identifies the deadline in stored rows and button payloads:
// "2025Q3:team:commune".
func (d Deadline) Key() string { return d.Quarter + ":" + string(d.From) + ":" + string(d.To) }

// LastDay is the last local day on which the report is on time (the 15th
// for "before the 16th").
func (d Deadline) LastDay() time.Time { return d.Before.AddDate(0, 0, -1) }

// DaysLeft counts the local days from now's day to the deadline, today
// included: 1 on the last day, 0 or less once it has passed. The chat's
// reminders and the dashboard both count with it, so that they never
// disagree about the same deadline at the same moment.
func (d Deadline) DaysLeft(now time.Time) int {
	loc := d.Before.Location()
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	// Whole days between two local midnights; rounding absorbs a DST
	// shift where the zone has one.
	return int(math.Round(d.Before.Sub(today).Hours() / 24))
}

// deadlineJSON is the published form: `cnsbot deadlines --json` prints it
// and scripts read it, so its shape is a contract.
type deadlineJSON struct {
	Quarter string `json:"quarter"`
	From    Level  `json:"from"`
	To      Level  `json:"to"`
	Before  string `json:"before"`
}

// MarshalJSON writes {"quarter":"2025Q3","from":"team","to":"commune","before":"2025-09-16"},
// the date being Before's local date.
func (d Deadline) MarshalJSON() ([]byte, error) {
	return json.Marshal(deadlineJSON{Quarter: d.Quarter, From: d.From, To: d.To, Before: d.Before.Format(time.DateOnly)})
}

// ParseKey splits a deadline key into its quarter and levels.
func ParseKey(key string) (quarter string, from, to Level, err error) {
	parts := strings.Split(key, ":")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("deadline key %q: want quarter:from:to", key)
	}
	if _, _, err := ParseQuarter(parts[0]); err != nil {
		return "", "", "", fmt.Errorf("deadline key %q: %w", key, err)
	}
	from, to = Level(parts[1]), Level(parts[2])
	if !from.Valid() || !to.Valid() {
		return "", "", "", fmt.Errorf("deadline key %q: unknown level", key)
	}
	return parts[0], from, to, nil
}

// Quarter names the quarter t falls in, in t's location: "2025Q3".
func Quarter(t time.Time) string {
	return fmt.Sprintf("%dQ%d", t.Year(), (int(t.Month())-1)/3+1)
}

// ParseQuarter splits "2025Q3" into 2025 and 3.
func ParseQuarter(q string) (year, n int, err error) {
	y, qn, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(q)), "Q")
	if !ok || len(y) != 4 || len(qn) != 1 || !digits(y) || qn < "1" || qn > "4" {
		return 0, 0, fmt.Errorf("quarter %q: want a year and a quarter number, like 2025Q3", q)
	}
	year, _ = strconv.Atoi(y)
	return year, int(qn[0] - '0'), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// QuarterBounds returns the local midnight that begins quarter q and the
// one that begins the next quarter: the quarter is [start, end).
func QuarterBounds(q string, loc *time.Location) (start, end time.Time, err error) {
	year, n, err := ParseQuarter(q)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	start = time.Date(year, time.Month(3*n-2), 1, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 3, 0), nil
}

// Deadlines returns every deadline of the year in loc, by quarter and then
// in the order of the chain.
func (s Schedule) Deadlines(year int, loc *time.Location) []Deadline {
	out := make([]Deadline, 0, 4*len(s.Steps))
	for n := 1; n <= 4; n++ {
		out = append(out, s.QuarterDeadlines(fmt.Sprintf("%dQ%d", year, n), loc)...)
	}
	return out
}

// QuarterDeadlines returns the deadlines of quarter q ("2025Q3") in the
// order of the chain, or none when q is not a quarter.
func (s Schedule) QuarterDeadlines(q string, loc *time.Location) []Deadline {
	year, n, err := ParseQuarter(q)
	if err != nil {
		return nil
	}
	q = fmt.Sprintf("%dQ%d", year, n)
	out := make([]Deadline, 0, len(s.Steps))
	for _, st := range s.Steps {
		// time.Date carries day 31 of a 30-day month into the next month's
		// first day: "before the 31st" of June is the whole of June.
		before := time.Date(year, time.Month(3*n), st.Day, 0, 0, 0, 0, loc)
		out = append(out, Deadline{Quarter: q, From: st.From, To: st.To, Before: before})
	}
	return out
}

// Deadline returns the deadline a key names, if the schedule has that step.
func (s Schedule) Deadline(key string, loc *time.Location) (Deadline, bool) {
	q, from, to, err := ParseKey(key)
	if err != nil {
		return Deadline{}, false
	}
	for _, d := range s.QuarterDeadlines(q, loc) {
		if d.From == from && d.To == to {
			return d, true
		}
	}
	return Deadline{}, false
}

// OffsetOverdue labels the notice sent once a deadline has passed, in the
// place of a number of days.
const OffsetOverdue = "overdue"

// Reminder is one planned push for a deadline.
type Reminder struct {
	// Offset is the number of days before the deadline ("7"), or
	// OffsetOverdue.
	Offset string
	At     time.Time
}

// Reminders returns the reminders of a deadline, earliest first: one per
// offset, at Hour local time that many days before the deadline's day, moved
// out of the quiet hours (see ReminderTimes).
func (s Schedule) Reminders(d Deadline) []Reminder {
	offsets := slices.Clone(s.Offsets)
	slices.SortFunc(offsets, func(a, b int) int { return b - a })
	out := make([]Reminder, 0, len(offsets))
	for _, o := range offsets {
		day := d.Before.AddDate(0, 0, -o)
		at := time.Date(day.Year(), day.Month(), day.Day(), s.Hour, 0, 0, 0, d.Before.Location())
		out = append(out, Reminder{Offset: strconv.Itoa(o), At: s.outOfQuiet(at, d.Before)})
	}
	slices.SortStableFunc(out, func(a, b Reminder) int { return a.At.Compare(b.At) })
	return out
}

// ReminderTimes returns when the reminders of a deadline go out, earliest
// first. A time inside the quiet hours moves to the end of the quiet hours,
// unless that is not before the deadline; then it moves back to the last
// hour before the quiet hours began.
func (s Schedule) ReminderTimes(d Deadline) []time.Time {
	rs := s.Reminders(d)
	out := make([]time.Time, 0, len(rs))
	for _, r := range rs {
		if len(out) == 0 || !out[len(out)-1].Equal(r.At) {
			out = append(out, r.At)
		}
	}
	return out
}

// OverdueAt is when the overdue notices of a deadline go out: Hour on the
// deadline's day, moved forward out of the quiet hours.
func (s Schedule) OverdueAt(d Deadline) time.Time {
	b := d.Before
	return s.outOfQuiet(time.Date(b.Year(), b.Month(), b.Day(), s.Hour, 0, 0, 0, b.Location()), time.Time{})
}

// Quiet reports whether t's local hour (in t's location) is inside the
// quiet hours.
func (s Schedule) Quiet(t time.Time) bool {
	h := t.Hour()
	switch {
	case s.QuietStart == s.QuietEnd:
		return false
	case s.QuietStart < s.QuietEnd:
		return h >= s.QuietStart && h < s.QuietEnd
	default:
		return h >= s.QuietStart || h < s.QuietEnd
	}
}

// NextAllowed returns t when it is outside the quiet hours, or else the
// end of the quiet hours that contain it.
func (s Schedule) NextAllowed(t time.Time) time.Time {
	if !s.Quiet(t) {
		return t
	}
	end := time.Date(t.Year(), t.Month(), t.Day(), s.QuietEnd, 0, 0, 0, t.Location())
	if !end.After(t) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// outOfQuiet moves t out of the quiet hours: forward to their end, or,
// when that would not be before limit (a non-zero limit), back to the last
// full hour before they began.
func (s Schedule) outOfQuiet(t, limit time.Time) time.Time {
	next := s.NextAllowed(t)
	if next.Equal(t) || limit.IsZero() || next.Before(limit) {
		return next
	}
	start := time.Date(t.Year(), t.Month(), t.Day(), s.QuietStart, 0, 0, 0, t.Location())
	if start.After(t) {
		start = start.AddDate(0, 0, -1)
	}
	return start.Add(-time.Hour)
}
