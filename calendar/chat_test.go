package calendar_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
)

const teamKey = "2025Q3:team:commune"

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in       string
		cmd, arg string
		ok       bool
	}{
		{calendar.SubmitPayload(teamKey), "#danop", teamKey, true},
		{"#DANOP 2025Q3:team:commune", "#danop", teamKey, true},
		{calendar.ReportPayload("2025Q3"), "#baocao", "2025Q3", true},
		{"  #baocao   2025q3 ", "#baocao", "2025Q3", true},
		{"#danop", "", "", false},
		{"#danop 2025Q3", "", "", false},
		{"#baocao 2025Q9", "", "", false},
		{"đã nộp", "", "", false},
	}
	for _, tt := range tests {
		cmd, arg, ok := calendar.ParseCommand(tt.in)
		if cmd != tt.cmd || arg != tt.arg || ok != tt.ok {
			t.Errorf("ParseCommand(%q) = %q %q %v, want %q %q %v", tt.in, cmd, arg, ok, tt.cmd, tt.arg, tt.ok)
		}
	}
}

// plural is a catalogue of the two messages DaysLeftText reads.
type plural struct{}

func (plural) T(lang, id string, _ map[string]any) string { return id }
func (plural) TN(lang, id string, n int, _ map[string]any) string {
	return fmt.Sprintf("%s(%d)", id, n)
}

// TestDaysLeft: the chat and the dashboard count the days the same way,
// today included, and the last day has its own words rather than "1 day".
func TestDaysLeft(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := calendar.Plan220().Deadline(teamKey, loc) // before 16/9/2025
	if !ok {
		t.Fatal("no deadline")
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		now  string
		days int
		text string
	}{
		{"2025-09-09 08:00", 7, "calendar.days_left(7)"},
		{"2025-09-09 23:59", 7, "calendar.days_left(7)"},
		{"2025-09-14 00:00", 2, "calendar.days_left(2)"},
		{"2025-09-15 08:00", 1, "calendar.last_day"},
		{"2025-09-15 23:59", 1, "calendar.last_day"},
	}
	for _, tt := range tests {
		n := d.DaysLeft(at(tt.now))
		if n != tt.days {
			t.Errorf("DaysLeft at %s = %d, want %d", tt.now, n, tt.days)
		}
		if got := calendar.DaysLeftText(plural{}, "vi", n); got != tt.text {
			t.Errorf("DaysLeftText at %s = %q, want %q", tt.now, got, tt.text)
		}
	}
	// The same instant seen from another zone counts Cà Mau's days.
	if n := d.DaysLeft(at("2025-09-15 08:00").UTC()); n != 1 {
		t.Errorf("DaysLeft from UTC = %d, want 1", n)
	}
}
