// Package calendar is the reporting calendar of the teams as data: who
// reports to whom, by which day of a quarter's last month, and when the
// people responsible are reminded. It is pure domain logic: no database, no
// clock of its own, no time zone of its own (callers pass a *time.Location,
// Asia/Ho_Chi_Minh in production).
//
// The calendar is data because the chain changed after plan 220 was written
// (no districts since 1 July 2025, departments merged): an administrator
// edits the stored Schedule instead of waiting for a release.
package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Level is one rung of the reporting chain.
type Level string

// The levels a schedule may use, from the bottom of the chain up.
const (
	LevelTeam       Level = "team"       // Tổ công nghệ số cộng đồng
	LevelCommune    Level = "commune"    // UBND xã, phường (and thị trấn before July 2025)
	LevelDistrict   Level = "district"   // UBND huyện (abolished on 1 July 2025)
	LevelDepartment Level = "department" // Sở (Thông tin và Truyền thông, now Khoa học và Công nghệ)
)

// Levels lists every level from the bottom of the chain up.
var Levels = []Level{LevelTeam, LevelCommune, LevelDistrict, LevelDepartment}

// Valid reports whether l is one of Levels.
func (l Level) Valid() bool { return slices.Contains(Levels, l) }

// rank orders levels: a report always goes up the chain.
func (l Level) rank() int { return slices.Index(Levels, l) }

// Step is one link of the chain: From reports to To before Day of the
// quarter's last month. "Before the 16th" means the report must be in
// before the 16th begins, so the 15th is the last day; a Day past the end
// of a 30-day month (31 in June) means the whole month.
type Step struct {
	From Level `json:"from"`
	To   Level `json:"to"`
	Day  int   `json:"day"`
}

// Schedule is the whole reporting calendar an administrator edits.
type Schedule struct {
	// Name labels the schedule for people ("plan220", "two-level", or an
	// administrator's own).
	Name string `json:"name"`
	// Steps is the chain from the team up, each step's From being the
	// previous step's To.
	Steps []Step `json:"steps"`
	// Offsets are the days before a deadline on which the people
	// responsible are reminded.
	Offsets []int `json:"offsets"`
	// Hour is the local hour at which reminders go out.
	Hour int `json:"hour"`
	// QuietStart and QuietEnd bound the local hours in which nothing is
	// sent, [QuietStart:00, QuietEnd:00), wrapping midnight when QuietStart
	// is the larger: Zalo refuses pushes from 22:00 to 06:00 (-234). Equal
	// values mean no quiet hours.
	QuietStart int `json:"quiet_start"`
	QuietEnd   int `json:"quiet_end"`
}

// Defaults of the fields a schedule file may leave out; the offsets'
// default is DefaultOffsets.
const (
	DefaultHour       = 8
	DefaultQuietStart = 22
	DefaultQuietEnd   = 6
)

// DefaultOffsets returns the default reminder offsets: 7, 3 and 1 days
// before the deadline.
func DefaultOffsets() []int { return []int{7, 3, 1} }

// Preset names accepted by Preset.
const (
	PresetPlan220  = "plan220"
	PresetTwoLevel = "two-level"
)

// Plan220 is the calendar of Cà Mau's plan 220/KH-UBND (2023), section
// III.3.c: in the last month of each quarter the team reports to the commune
// before the 16th, the commune to the district before the 21st and the
// district to the Department of Information and Communications before the
// 26th. The plan ran to 2025 and districts are gone since 1 July 2025: it
// stays a preset for the quarters it governed, not the default.
func Plan220() Schedule {
	return Schedule{
		Name: PresetPlan220,
		Steps: []Step{
			{From: LevelTeam, To: LevelCommune, Day: 16},
			{From: LevelCommune, To: LevelDistrict, Day: 21},
			{From: LevelDistrict, To: LevelDepartment, Day: 26},
		},
		Offsets:    DefaultOffsets(),
		Hour:       DefaultHour,
		QuietStart: DefaultQuietStart,
		QuietEnd:   DefaultQuietEnd,
	}
}

// TwoLevel is the chain without districts (abolished on 1 July 2025):
// the team reports to the commune before the 16th and the commune to the
// department before the 26th.
//
// The days are plan 220's own for the two ends of the chain, so that
// nobody's date moves: teams keep the 16th their members know, and the
// department keeps the 26th its own reporting upward is planned around.
// The commune takes over the district's compiling work and gets its
// 10 days; the merged communes are about twice the size they were.
// The 2026 plan (20/KH-UBND) may set other days: it is one edit away.
func TwoLevel() Schedule {
	return Schedule{
		Name: PresetTwoLevel,
		Steps: []Step{
			{From: LevelTeam, To: LevelCommune, Day: 16},
			{From: LevelCommune, To: LevelDepartment, Day: 26},
		},
		Offsets:    DefaultOffsets(),
		Hour:       DefaultHour,
		QuietStart: DefaultQuietStart,
		QuietEnd:   DefaultQuietEnd,
	}
}

// Default is the schedule in force when none was saved: TwoLevel, the
// chain as it is since 1 July 2025 (Resolution 202/2025/QH15 abolished the
// districts; the Department of Information and Communications merged into
// the Department of Science and Technology on 1 March 2025).
func Default() Schedule { return TwoLevel() }

// HasLevel reports whether a step of s starts or ends at l: whether texts
// may speak of that level ("UBND huyện" only while a district is in the
// chain).
func (s Schedule) HasLevel(l Level) bool {
	for _, st := range s.Steps {
		if st.From == l || st.To == l {
			return true
		}
	}
	return false
}

// Preset returns the preset schedule with the given name.
func Preset(name string) (Schedule, bool) {
	switch name {
	case PresetPlan220:
		return Plan220(), true
	case PresetTwoLevel:
		return TwoLevel(), true
	}
	return Schedule{}, false
}

// Limits checked by Validate.
const (
	maxSteps   = 8
	maxOffset  = 90 // days: a quarter
	maxOffsets = 10
	maxNameLen = 100
)

// Validate reports the first problem of the schedule, in a sentence an
// administrator can act on.
func (s Schedule) Validate() error {
	if s.Name == "" || len(s.Name) > maxNameLen {
		return fmt.Errorf("schedule name must have 1 to %d characters", maxNameLen)
	}
	if len(s.Steps) == 0 || len(s.Steps) > maxSteps {
		return fmt.Errorf("schedule must have 1 to %d steps, has %d", maxSteps, len(s.Steps))
	}
	if s.Steps[0].From != LevelTeam {
		return fmt.Errorf("the first step must start at %q, starts at %q", LevelTeam, s.Steps[0].From)
	}
	for i, st := range s.Steps {
		if !st.From.Valid() || !st.To.Valid() {
			return fmt.Errorf("step %d: levels must be one of %v, got %q → %q", i+1, Levels, st.From, st.To)
		}
		if st.To.rank() <= st.From.rank() {
			return fmt.Errorf("step %d: a report goes up the chain, %q → %q does not", i+1, st.From, st.To)
		}
		if st.Day < 1 || st.Day > 31 {
			return fmt.Errorf("step %d: day must be between 1 and 31, got %d", i+1, st.Day)
		}
		if i == 0 {
			continue
		}
		prev := s.Steps[i-1]
		if st.From != prev.To {
			return fmt.Errorf("step %d starts at %q but step %d ends at %q", i+1, st.From, i, prev.To)
		}
		if st.Day <= prev.Day {
			return fmt.Errorf("step %d: day %d must come after step %d's day %d", i+1, st.Day, i, prev.Day)
		}
	}
	if len(s.Offsets) > maxOffsets {
		return fmt.Errorf("at most %d reminder offsets, got %d", maxOffsets, len(s.Offsets))
	}
	seen := map[int]bool{}
	for _, o := range s.Offsets {
		if o < 1 || o > maxOffset {
			return fmt.Errorf("reminder offsets must be 1 to %d days before the deadline, got %d", maxOffset, o)
		}
		if seen[o] {
			return fmt.Errorf("reminder offset %d appears twice", o)
		}
		seen[o] = true
	}
	for _, h := range []struct {
		name string
		v    int
	}{{"hour", s.Hour}, {"quiet_start", s.QuietStart}, {"quiet_end", s.QuietEnd}} {
		if h.v < 0 || h.v > 23 {
			return fmt.Errorf("%s must be an hour from 0 to 23, got %d", h.name, h.v)
		}
	}
	return nil
}

// Step returns the step that starts at from.
func (s Schedule) Step(from Level) (Step, bool) {
	for _, st := range s.Steps {
		if st.From == from {
			return st, true
		}
	}
	return Step{}, false
}

// UnmarshalJSON decodes a schedule, taking the defaults (offsets 7, 3, 1;
// 08:00; quiet 22:00–06:00) for the fields the document leaves out. An
// explicit empty offsets list is kept: it means no reminders before the
// deadline, only the overdue notice. Unknown fields are ignored here, so
// that a stored schedule written by a newer version still loads; Parse is
// the strict reader for documents people write.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	return decode(b, s, false)
}

// scheduleDoc is Schedule without its methods, so that decoding does not
// recurse into UnmarshalJSON.
type scheduleDoc Schedule

func decode(b []byte, s *Schedule, strict bool) error {
	p := scheduleDoc{
		Offsets:    DefaultOffsets(),
		Hour:       DefaultHour,
		QuietStart: DefaultQuietStart,
		QuietEnd:   DefaultQuietEnd,
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&p); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the schedule")
	}
	*s = Schedule(p)
	return nil
}

// Parse decodes a schedule document, refusing unknown fields (a misspelt
// "offset" must not silently become the default), and validates it.
func Parse(b []byte) (Schedule, error) {
	var s Schedule
	if err := decode(b, &s, true); err != nil {
		return Schedule{}, fmt.Errorf("parse schedule: %w", err)
	}
	if err := s.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("invalid schedule: %w", err)
	}
	return s, nil
}
