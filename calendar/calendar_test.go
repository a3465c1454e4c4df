package calendar_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/camau-cns/cnsbot/calendar"
)

func vietnam(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatalf("load location: %v", err)
	}
	return loc
}

// edited is an administrator's own schedule: other days, other offsets,
// another hour, and its own quiet hours.
func edited() calendar.Schedule {
	return calendar.Schedule{
		Name: "edited",
		Steps: []calendar.Step{
			{From: calendar.LevelTeam, To: calendar.LevelCommune, Day: 10},
			{From: calendar.LevelCommune, To: calendar.LevelDepartment, Day: 31},
		},
		Offsets:    []int{1, 5},
		Hour:       9,
		QuietStart: 21,
		QuietEnd:   7,
	}
}

// brief renders deadlines as "2025Q3 team>commune 2025-09-16" lines.
func brief(ds []calendar.Deadline) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Quarter+" "+string(d.From)+">"+string(d.To)+" "+d.Before.Format(time.DateOnly))
	}
	return out
}

func TestDeadlines(t *testing.T) {
	loc := vietnam(t)
	tests := []struct {
		name  string
		sched calendar.Schedule
		year  int
		want  []string
	}{
		{"plan220 2025", calendar.Plan220(), 2025, []string{
			"2025Q1 team>commune 2025-03-16", "2025Q1 commune>district 2025-03-21", "2025Q1 district>department 2025-03-26",
			"2025Q2 team>commune 2025-06-16", "2025Q2 commune>district 2025-06-21", "2025Q2 district>department 2025-06-26",
			"2025Q3 team>commune 2025-09-16", "2025Q3 commune>district 2025-09-21", "2025Q3 district>department 2025-09-26",
			"2025Q4 team>commune 2025-12-16", "2025Q4 commune>district 2025-12-21", "2025Q4 district>department 2025-12-26",
		}},
		{"plan220 2024 (leap year)", calendar.Plan220(), 2024, []string{
			"2024Q1 team>commune 2024-03-16", "2024Q1 commune>district 2024-03-21", "2024Q1 district>department 2024-03-26",
			"2024Q2 team>commune 2024-06-16", "2024Q2 commune>district 2024-06-21", "2024Q2 district>department 2024-06-26",
			"2024Q3 team>commune 2024-09-16", "2024Q3 commune>district 2024-09-21", "2024Q3 district>department 2024-09-26",
			"2024Q4 team>commune 2024-12-16", "2024Q4 commune>district 2024-12-21", "2024Q4 district>department 2024-12-26",
		}},
		{"two-level 2026", calendar.TwoLevel(), 2026, []string{
			"2026Q1 team>commune 2026-03-16", "2026Q1 commune>department 2026-03-26",
			"2026Q2 team>commune 2026-06-16", "2026Q2 commune>department 2026-06-26",
			"2026Q3 team>commune 2026-09-16", "2026Q3 commune>department 2026-09-26",
			"2026Q4 team>commune 2026-12-16", "2026Q4 commune>department 2026-12-26",
		}},
		{"two-level 2030", calendar.TwoLevel(), 2030, []string{
			"2030Q1 team>commune 2030-03-16", "2030Q1 commune>department 2030-03-26",
			"2030Q2 team>commune 2030-06-16", "2030Q2 commune>department 2030-06-26",
			"2030Q3 team>commune 2030-09-16", "2030Q3 commune>department 2030-09-26",
			"2030Q4 team>commune 2030-12-16", "2030Q4 commune>department 2030-12-26",
		}},
		// Day 31 of a 30-day month is the first of the next: the whole month.
		{"edited 2027", edited(), 2027, []string{
			"2027Q1 team>commune 2027-03-10", "2027Q1 commune>department 2027-03-31",
			"2027Q2 team>commune 2027-06-10", "2027Q2 commune>department 2027-07-01",
			"2027Q3 team>commune 2027-09-10", "2027Q3 commune>department 2027-10-01",
			"2027Q4 team>commune 2027-12-10", "2027Q4 commune>department 2027-12-31",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := tt.sched.Deadlines(tt.year, loc)
			if got := brief(ds); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, d := range ds {
				if d.Before.Location() != loc || d.Before.Hour() != 0 || d.Before.Minute() != 0 {
					t.Errorf("%s: before %v, want local midnight", d.Key(), d.Before)
				}
				// Asia/Ho_Chi_Minh is UTC+7 all year: local midnight is 17:00 UTC the day before.
				if got := d.Before.UTC(); got.Hour() != 17 {
					t.Errorf("%s: before in UTC %v, want 17:00", d.Key(), got)
				}
				if got := d.LastDay(); got.AddDate(0, 0, 1) != d.Before {
					t.Errorf("%s: last day %v, want the day before %v", d.Key(), got, d.Before)
				}
			}
		})
	}
}

func TestQuarter(t *testing.T) {
	loc := vietnam(t)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 1, 1, 0, 0, 0, 0, loc), "2025Q1"},
		{time.Date(2025, 3, 31, 23, 59, 59, 0, loc), "2025Q1"},
		{time.Date(2025, 4, 1, 0, 0, 0, 0, loc), "2025Q2"},
		{time.Date(2025, 6, 30, 23, 59, 59, 0, loc), "2025Q2"},
		{time.Date(2025, 7, 1, 0, 0, 0, 0, loc), "2025Q3"},
		{time.Date(2025, 9, 30, 12, 0, 0, 0, loc), "2025Q3"},
		{time.Date(2025, 10, 1, 0, 0, 0, 0, loc), "2025Q4"},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, loc), "2025Q4"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, loc), "2026Q1"},
		// The same instant is still 31 December in UTC: the caller's location decides.
		{time.Date(2026, 1, 1, 3, 0, 0, 0, loc).UTC(), "2025Q4"},
	}
	for _, tt := range tests {
		if got := calendar.Quarter(tt.t); got != tt.want {
			t.Errorf("Quarter(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestQuarterBounds(t *testing.T) {
	loc := vietnam(t)
	tests := []struct {
		q          string
		start, end string
	}{
		{"2025Q1", "2025-01-01", "2025-04-01"},
		{"2025Q2", "2025-04-01", "2025-07-01"},
		{"2025Q3", "2025-07-01", "2025-10-01"},
		{"2025Q4", "2025-10-01", "2026-01-01"},
		{"2024q1", "2024-01-01", "2024-04-01"},
	}
	for _, tt := range tests {
		start, end, err := calendar.QuarterBounds(tt.q, loc)
		if err != nil {
			t.Fatalf("QuarterBounds(%s): %v", tt.q, err)
		}
		if got := start.Format(time.DateOnly); got != tt.start || start.Hour() != 0 || start.Location() != loc {
			t.Errorf("QuarterBounds(%s) start = %v, want %s 00:00 local", tt.q, start, tt.start)
		}
		if got := end.Format(time.DateOnly); got != tt.end || end.Hour() != 0 {
			t.Errorf("QuarterBounds(%s) end = %v, want %s 00:00 local", tt.q, end, tt.end)
		}
		// Every instant of the quarter maps back to it.
		if got := calendar.Quarter(start); !strings.EqualFold(got, tt.q) {
			t.Errorf("Quarter(start of %s) = %s", tt.q, got)
		}
		if got := calendar.Quarter(end.Add(-time.Nanosecond)); !strings.EqualFold(got, tt.q) {
			t.Errorf("Quarter(end of %s) = %s", tt.q, got)
		}
	}
	for _, bad := range []string{"", "2025", "2025Q0", "2025Q5", "25Q1", "2025Q12", "+202Q1", "2025-Q1", "Q3"} {
		if _, _, err := calendar.QuarterBounds(bad, loc); err == nil {
			t.Errorf("QuarterBounds(%q): got no error, want one", bad)
		}
	}
}

func TestReminderTimes(t *testing.T) {
	loc := vietnam(t)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	withHour := func(s calendar.Schedule, h int) calendar.Schedule { s.Hour = h; return s }
	tests := []struct {
		name    string
		sched   calendar.Schedule
		key     string
		want    []string
		overdue string
	}{
		{"plan220 team", calendar.Plan220(), "2025Q3:team:commune",
			[]string{"2025-09-09 08:00", "2025-09-13 08:00", "2025-09-15 08:00"}, "2025-09-16 08:00"},
		{"plan220 across the year", calendar.Plan220(), "2025Q4:district:department",
			[]string{"2025-12-19 08:00", "2025-12-23 08:00", "2025-12-25 08:00"}, "2025-12-26 08:00"},
		{"plan220 across a month", calendar.Plan220(), "2026Q1:team:commune",
			[]string{"2026-03-09 08:00", "2026-03-13 08:00", "2026-03-15 08:00"}, "2026-03-16 08:00"},
		{"two-level commune", calendar.TwoLevel(), "2026Q2:commune:department",
			[]string{"2026-06-19 08:00", "2026-06-23 08:00", "2026-06-25 08:00"}, "2026-06-26 08:00"},
		{"edited", edited(), "2027Q2:commune:department",
			[]string{"2027-06-26 09:00", "2027-06-30 09:00"}, "2027-07-01 09:00"},
		// 05:00 is quiet: moved to 06:00 the same day.
		{"early hour", withHour(calendar.Plan220(), 5), "2025Q3:team:commune",
			[]string{"2025-09-09 06:00", "2025-09-13 06:00", "2025-09-15 06:00"}, "2025-09-16 06:00"},
		// 23:00 is quiet: moved to 06:00 the next day, except the day
		// before the deadline, where that would be too late: back to 21:00.
		{"late hour", withHour(calendar.Plan220(), 23), "2025Q3:team:commune",
			[]string{"2025-09-10 06:00", "2025-09-14 06:00", "2025-09-15 21:00"}, "2025-09-17 06:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := tt.sched.Deadline(tt.key, loc)
			if !ok {
				t.Fatalf("no deadline %s", tt.key)
			}
			var got []string
			for _, r := range tt.sched.ReminderTimes(d) {
				if r.Location() != loc {
					t.Errorf("reminder %v is not in the caller's location", r)
				}
				if !r.Before(d.Before) {
					t.Errorf("reminder %v is not before the deadline %v", r, d.Before)
				}
				if tt.sched.Quiet(r) {
					t.Errorf("reminder %v is inside the quiet hours", r)
				}
				got = append(got, r.Format("2006-01-02 15:04"))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if got := tt.sched.OverdueAt(d); !got.Equal(at(tt.overdue)) {
				t.Errorf("overdue at %v, want %s", got, tt.overdue)
			}
			rs := tt.sched.Reminders(d)
			for i := 1; i < len(rs); i++ {
				if !rs[i-1].At.Before(rs[i].At) {
					t.Errorf("reminders not in order: %v", rs)
				}
			}
		})
	}
}

func TestQuiet(t *testing.T) {
	loc := vietnam(t)
	tests := []struct {
		start, end int
		quiet      []int
	}{
		{22, 6, []int{22, 23, 0, 1, 2, 3, 4, 5}},
		{0, 6, []int{0, 1, 2, 3, 4, 5}},
		{6, 6, nil},
	}
	for _, tt := range tests {
		s := calendar.Plan220()
		s.QuietStart, s.QuietEnd = tt.start, tt.end
		var got []int
		for h := range 24 {
			hh := (h + tt.start) % 24 // start at the window so the wrap is in order
			if s.Quiet(time.Date(2025, 9, 9, hh, 30, 0, 0, loc)) {
				got = append(got, hh)
			}
		}
		if !reflect.DeepEqual(got, tt.quiet) {
			t.Errorf("quiet %d–%d: got %v, want %v", tt.start, tt.end, got, tt.quiet)
		}
	}
	s := calendar.Plan220()
	if got, want := s.NextAllowed(time.Date(2025, 9, 9, 23, 10, 0, 0, loc)), time.Date(2025, 9, 10, 6, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("NextAllowed(23:10) = %v, want %v", got, want)
	}
	if got, want := s.NextAllowed(time.Date(2025, 9, 9, 2, 0, 0, 0, loc)), time.Date(2025, 9, 9, 6, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("NextAllowed(02:00) = %v, want %v", got, want)
	}
	noon := time.Date(2025, 9, 9, 12, 0, 0, 0, loc)
	if got := s.NextAllowed(noon); !got.Equal(noon) {
		t.Errorf("NextAllowed(noon) = %v, want %v", got, noon)
	}
}

func TestKey(t *testing.T) {
	loc := vietnam(t)
	for _, s := range []calendar.Schedule{calendar.Plan220(), calendar.TwoLevel(), edited()} {
		for _, d := range s.Deadlines(2025, loc) {
			q, from, to, err := calendar.ParseKey(d.Key())
			if err != nil || q != d.Quarter || from != d.From || to != d.To {
				t.Errorf("ParseKey(%s) = %s %s %s %v", d.Key(), q, from, to, err)
			}
			back, ok := s.Deadline(d.Key(), loc)
			if !ok || !back.Before.Equal(d.Before) {
				t.Errorf("Deadline(%s) = %v %v, want %v", d.Key(), back, ok, d)
			}
		}
	}
	if got := (calendar.Deadline{Quarter: "2025Q3", From: "team", To: "commune"}).Key(); got != "2025Q3:team:commune" {
		t.Errorf("key %q, want 2025Q3:team:commune", got)
	}
	for _, bad := range []string{"", "2025Q3", "2025Q3:team", "2025Q9:team:commune", "2025Q3:team:province", "2025Q3:team:commune:x"} {
		if _, _, _, err := calendar.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q): got no error, want one", bad)
		}
	}
	// A step the schedule does not have.
	if _, ok := calendar.TwoLevel().Deadline("2025Q3:commune:district", loc); ok {
		t.Error("two-level schedule has a commune→district deadline")
	}
}

func TestDeadlineJSON(t *testing.T) {
	loc := vietnam(t)
	d, _ := calendar.Plan220().Deadline("2025Q3:team:commune", loc)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"quarter":"2025Q3","from":"team","to":"commune","before":"2025-09-16"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestScheduleJSONRoundTrip(t *testing.T) {
	for _, s := range []calendar.Schedule{calendar.Plan220(), calendar.TwoLevel(), edited(), {Name: "no reminders",
		Steps: []calendar.Step{{From: "team", To: "commune", Day: 16}}, Offsets: []int{}, Hour: 0, QuietStart: 0, QuietEnd: 0}} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back calendar.Schedule
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("round trip of %s: got %+v, want %+v", s.Name, back, s)
		}
		parsed, err := calendar.Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s): %v", b, err)
		}
		if !reflect.DeepEqual(parsed, s) {
			t.Errorf("Parse of %s: got %+v, want %+v", s.Name, parsed, s)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := calendar.Parse([]byte(`{"name":"short","steps":[{"from":"team","to":"commune","day":16},{"from":"commune","to":"department","day":26}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := calendar.TwoLevel()
	want.Name = "short"
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown field", `{"name":"x","steps":[{"from":"team","to":"commune","day":16}],"offset":[2]}`, "unknown field"},
		{"not json", `steps: []`, "parse schedule"},
		{"trailing data", `{"name":"x","steps":[{"from":"team","to":"commune","day":16}]} {}`, "unexpected data"},
		{"invalid", `{"name":"x","steps":[]}`, "1 to 8 steps"},
	}
	for _, tt := range tests {
		_, err := calendar.Parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	mod := func(f func(*calendar.Schedule)) calendar.Schedule {
		s := calendar.Plan220()
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		sched calendar.Schedule
		want  string // "" for valid
	}{
		{"plan220", calendar.Plan220(), ""},
		{"two-level", calendar.TwoLevel(), ""},
		{"edited", edited(), ""},
		{"no offsets", mod(func(s *calendar.Schedule) { s.Offsets = nil }), ""},
		{"no quiet hours", mod(func(s *calendar.Schedule) { s.QuietStart, s.QuietEnd = 0, 0 }), ""},
		{"no name", mod(func(s *calendar.Schedule) { s.Name = "" }), "name"},
		{"no steps", mod(func(s *calendar.Schedule) { s.Steps = nil }), "steps"},
		{"starts above team", mod(func(s *calendar.Schedule) { s.Steps = s.Steps[1:] }), "first step"},
		{"unknown level", mod(func(s *calendar.Schedule) { s.Steps[1].To = "province" }), "levels must be"},
		{"goes down", mod(func(s *calendar.Schedule) {
			s.Steps = []calendar.Step{{From: "team", To: "district", Day: 16}, {From: "district", To: "commune", Day: 21}}
		}), "up the chain"},
		{"same level", mod(func(s *calendar.Schedule) { s.Steps[0].To = "team" }), "up the chain"},
		{"gap in chain", mod(func(s *calendar.Schedule) { s.Steps[2].From = "commune" }), "starts at"},
		{"day 0", mod(func(s *calendar.Schedule) { s.Steps[0].Day = 0 }), "day must be"},
		{"day 32", mod(func(s *calendar.Schedule) { s.Steps[2].Day = 32 }), "day must be"},
		{"days not increasing", mod(func(s *calendar.Schedule) { s.Steps[1].Day = 16 }), "must come after"},
		{"offset 0", mod(func(s *calendar.Schedule) { s.Offsets = []int{7, 0} }), "offsets must be"},
		{"offset too far", mod(func(s *calendar.Schedule) { s.Offsets = []int{91} }), "offsets must be"},
		{"offset twice", mod(func(s *calendar.Schedule) { s.Offsets = []int{3, 3} }), "twice"},
		{"hour 24", mod(func(s *calendar.Schedule) { s.Hour = 24 }), "hour must be"},
		{"quiet -1", mod(func(s *calendar.Schedule) { s.QuietEnd = -1 }), "quiet_end"},
	}
	for _, tt := range tests {
		err := tt.sched.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v, want valid", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestPreset(t *testing.T) {
	for _, name := range []string{calendar.PresetPlan220, calendar.PresetTwoLevel} {
		s, ok := calendar.Preset(name)
		if !ok || s.Name != name {
			t.Errorf("Preset(%s) = %v, %v", name, s.Name, ok)
		}
	}
	if _, ok := calendar.Preset("three-level"); ok {
		t.Error("Preset(three-level) exists")
	}
	// Presets are fresh values: editing one does not change the next.
	a := calendar.Plan220()
	a.Offsets[0] = 30
	if b := calendar.Plan220(); b.Offsets[0] != 7 {
		t.Errorf("editing a preset changed the next one: offsets %v", b.Offsets)
	}
}

// The example files shipped for administrators are valid and equal the presets.
func TestExampleFiles(t *testing.T) {
	for file, want := range map[string]calendar.Schedule{
		"schedule-plan220.json":   calendar.Plan220(),
		"schedule-two-level.json": calendar.TwoLevel(),
	} {
		b, err := os.ReadFile(filepath.Join("..", "examples", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := calendar.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", file, got, want)
		}
	}
}

// The default is the chain in force since 1 July 2025: no district, so no
// text speaks of one (locales.TestNoDistrictOutsideTheDistrictLevel keeps
// the district's labels the only texts that do).
func TestDefaultHasNoDistrict(t *testing.T) {
	d := calendar.Default()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.HasLevel(calendar.LevelDistrict) {
		t.Errorf("default schedule %q has a district step: %+v", d.Name, d.Steps)
	}
	if !d.HasLevel(calendar.LevelCommune) || !d.HasLevel(calendar.LevelDepartment) {
		t.Errorf("default schedule %q: want team → commune → department, got %+v", d.Name, d.Steps)
	}
	if !calendar.Plan220().HasLevel(calendar.LevelDistrict) {
		t.Error("plan 220 has a district step, HasLevel says no")
	}
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	dls := d.QuarterDeadlines("2026Q2", loc)
	if len(dls) != 2 {
		t.Fatalf("2026Q2: %d deadlines, want 2", len(dls))
	}
	for _, dl := range dls {
		if dl.From == calendar.LevelDistrict || dl.To == calendar.LevelDistrict {
			t.Errorf("deadline %s involves a district", dl.Key())
		}
	}
	if got := dls[0].LastDay().Format(time.DateOnly); got != "2026-06-15" {
		t.Errorf("team → commune: last day %s, want 2026-06-15", got)
	}
	if got := dls[1].LastDay().Format(time.DateOnly); got != "2026-06-25" {
		t.Errorf("commune → department: last day %s, want 2026-06-25", got)
	}
}
