package reports

import (
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/flows"
)

func TestMatchAndResolveQuarter(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	now := time.Date(2025, 8, 20, 9, 0, 0, 0, loc) // in 2025Q3
	tests := []struct {
		text    string
		match   bool
		quarter string // "" when the command answers that it cannot tell
	}{
		{"#baocao 2025Q3", true, "2025Q3"},
		{"#baocao 2024q4", true, "2024Q4"},
		{"#baocao", true, "2025Q3"},
		{"báo cáo quý", true, "2025Q3"},
		{"Bao cao quy", true, "2025Q3"},
		{"báo cáo quý này", true, "2025Q3"},
		{"báo cáo quý trước", true, "2025Q2"},
		{"báo cáo quý vừa rồi", true, "2025Q2"},
		{"báo cáo quý 3", true, "2025Q3"},
		{"báo cáo quý 2", true, "2025Q2"},
		{"báo cáo quý 4", true, "2024Q4"}, // the latest fourth quarter that has begun
		{"báo cáo quý III/2025", true, "2025Q3"},
		{"báo cáo quý IV năm 2024", true, "2024Q4"},
		{"bc quy 3/2025", true, "2025Q3"},
		{"bc quý 1-25", true, "2025Q1"},
		{"bc q3", true, "2025Q3"},
		{"bcq 2", true, "2025Q2"},
		{"báo cáo 2025Q1", true, "2025Q1"},
		{"bao cao q2 2024", true, "2024Q2"},
		{"quarter report", true, "2025Q3"},
		{"quarterly report Q1 2025", true, "2025Q1"},
		{"report quarter 2", true, "2025Q2"},
		{"report q4", true, "2024Q4"},
		{"báo cáo quý 5", true, ""},
		{"báo cáo quý 2025", true, ""},
		{"báo cáo quý đã nộp rồi", true, ""},
		// A member's visit report, not this command.
		{"báo cáo", false, ""},
		{"bc", false, ""},
		{"bc ấp 3, nhà ông Năm, vneid, 2 người", false, ""},
		{"báo cáo thăm hộ", false, ""},
		{"report a visit", false, ""},
		{"#danop 2025Q3:team:commune", false, ""},
		{"menu", false, ""},
	}
	for _, tt := range tests {
		args, ok := matchQuarter(flows.NewText(tt.text))
		if ok != tt.match {
			t.Errorf("matchQuarter(%q): got %v, want %v", tt.text, ok, tt.match)
			continue
		}
		if !ok {
			continue
		}
		q, ok := resolveQuarter(args, now)
		if !ok {
			q = ""
		}
		if q != tt.quarter {
			t.Errorf("%q: got quarter %q (args %q), want %q", tt.text, q, args, tt.quarter)
		}
	}
	// The quarter before the first is the year before's last.
	if q, _ := resolveQuarter("truoc", time.Date(2026, 2, 1, 0, 0, 0, 0, loc)); q != "2025Q4" {
		t.Errorf("previous quarter in 2026Q1: got %s, want 2025Q4", q)
	}
}

func TestMatchSubmitted(t *testing.T) {
	tests := []struct {
		text, key string
		ok        bool
	}{
		{"#danop 2025Q3:team:commune", "2025Q3:team:commune", true},
		{"#DANOP 2025Q3:commune:department", "2025Q3:commune:department", true},
		{"#danop", "", false},
		{"#danop 2025Q3", "", false},
		{"#baocao 2025Q3", "", false},
		{"đã nộp", "", false},
	}
	for _, tt := range tests {
		key, ok := matchSubmitted(flows.NewText(tt.text))
		if ok != tt.ok || key != tt.key {
			t.Errorf("matchSubmitted(%q): got %q %v, want %q %v", tt.text, key, ok, tt.key, tt.ok)
		}
	}
}
