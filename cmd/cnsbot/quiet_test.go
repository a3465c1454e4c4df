package main

import "testing"

func TestPushQuietHours(t *testing.T) {
	tests := []struct {
		in         string
		start, end int
		off, bad   bool
	}{
		{in: "22-6", start: 22, end: 6},
		{in: " 21 - 7 ", start: 21, end: 7},
		{in: "OFF", off: true},
		{in: "", bad: true},
		{in: "22", bad: true},
		{in: "6-6", bad: true},
		{in: "24-6", bad: true},
		{in: "night", bad: true},
	}
	for _, tt := range tests {
		start, end, off, err := Config{PushQuietHours: tt.in}.quietHours()
		if (err != nil) != tt.bad || start != tt.start || end != tt.end || off != tt.off {
			t.Errorf("%q: got %d-%d off=%v err=%v, want %d-%d off=%v bad=%v", tt.in, start, end, off, err, tt.start, tt.end, tt.off, tt.bad)
		}
	}
	if sc := senderConfig(Config{PushQuietHours: "off"}, nil); !sc.NoQuiet {
		t.Errorf("PUSH_QUIET_HOURS=off: got %+v, want NoQuiet", sc)
	}
	if sc := senderConfig(Config{PushQuietHours: "21-5"}, nil); sc.NoQuiet || sc.QuietStart != 21 || sc.QuietEnd != 5 {
		t.Errorf("PUSH_QUIET_HOURS=21-5: got %+v", sc)
	}
}
