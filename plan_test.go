package cnsbot_test

import (
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// TestWeekTallyCountsLocalDays: a day counts when its visits add up to the
// plan's four hours, and days are Vietnam's, not UTC's.
func TestWeekTallyCountsLocalDays(t *testing.T) {
	vn := time.FixedZone("ICT", 7*3600)
	w := cnsbot.WeekTally{Loc: vn}
	// Monday in Vietnam: 08:00 and 16:30 local; the second is still Monday
	// there though it is 09:30 UTC.
	w.Add(time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC), 120)
	w.Add(time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC), 120)
	// 23:30 UTC Monday is 06:30 Tuesday in Vietnam: Tuesday gets 3 hours only.
	w.Add(time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC), 180)
	if got := w.Days(); got != 1 {
		t.Errorf("days of four hours: got %d, want 1 (Monday)", got)
	}
	if w.Minutes != 420 {
		t.Errorf("minutes: got %d, want 420", w.Minutes)
	}
	w.Add(time.Date(2026, 12, 8, 5, 0, 0, 0, time.UTC), 60)
	if got := w.Days(); got != cnsbot.PlanDays {
		t.Errorf("after an hour more on Tuesday: got %d days, want %d", got, cnsbot.PlanDays)
	}
}
