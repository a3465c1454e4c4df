package team

import (
	"testing"
	"time"
)

// TestRoundFromExpires: "Thêm…" keeps page one's point only while a shared
// location would still count; an old note, or one from before notes had
// their time, leaves the round by house number.
func TestRoundFromExpires(t *testing.T) {
	now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	since := now.Add(-2 * time.Hour)
	for _, c := range []struct {
		note string
		ok   bool
	}{
		{"9.1769,105.1513," + itoa(now.Add(-time.Hour).Unix()), true},
		{"9.1769,105.1513," + itoa(now.Add(-3*time.Hour).Unix()), false},
		{"9.1769,105.1513", false},
		{"", false},
		{"x,105.1513," + itoa(now.Unix()), false},
	} {
		p, ok := parseRoundFrom(c.note, since)
		if ok != c.ok || (ok && (p.Lat != 9.1769 || p.Lng != 105.1513)) {
			t.Errorf("parseRoundFrom(%q) = %+v, %v; want ok %v", c.note, p, ok, c.ok)
		}
	}
}
