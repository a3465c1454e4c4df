package calendar_test

import (
	"testing"

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
