package reminder_test

import (
	"context"
	"testing"

	"github.com/camau-cns/cnsbot/calendar"
)

// A refused reminder is worth a private copy while it still tells the
// person something true.
func TestStillDue(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	ctx := context.Background()
	w := e.w
	team, up := "2025Q3:team:commune", "2025Q3:commune:district"
	tests := []struct {
		name string
		id   string
		at   string
		want bool
	}{
		{"before the deadline", id(team, w.a, "7"), "2025-09-10 09:00", true},
		{"on its last day", id(team, w.a, "1"), "2025-09-15 23:00", true},
		{"after the deadline", id(team, w.a, "1"), "2025-09-16 09:00", false},
		{"overdue notice in its window", id(team, w.a, calendar.OffsetOverdue), "2025-09-20 09:00", true},
		{"overdue notice after its window", id(team, w.a, calendar.OffsetOverdue), "2025-09-23 09:00", false},
		{"who is late, to the commune", id(team, w.o, calendar.OffsetEscalate), "2025-09-17 09:00", true},
		{"who is late, after the window", id(team, w.o, calendar.OffsetEscalate), "2025-09-24 09:00", false},
		{"someone who does not report there", id(team, w.o, "7"), "2025-09-10 09:00", false},
		{"the commune's own deadline", id(up, w.o, "3"), "2025-09-18 09:00", true},
		{"a step the schedule lacks", id("2025Q3:team:district", w.a, "7"), "2025-09-10 09:00", false},
		{"not a reminder", "help:HT7K3Q:1", "2025-09-10 09:00", false},
		{"a broken id", "reminder:2025Q3:team", "2025-09-10 09:00", false},
	}
	check := func(tests []struct {
		name string
		id   string
		at   string
		want bool
	}) {
		t.Helper()
		r := e.reminders()
		for _, tt := range tests {
			got, err := r.StillDue(ctx, tt.id, e.at(tt.at))
			if err != nil || got != tt.want {
				t.Errorf("%s: got %v (%v), want %v", tt.name, got, err, tt.want)
			}
		}
	}
	check(tests)

	// Once the team's report is in, its reminders are not; the other
	// team's still are.
	if err := e.db.MarkSubmitted(ctx, team, w.a.ID, &w.team1.ID, w.hamlet1.ID, e.at("2025-09-12 10:00")); err != nil {
		t.Fatal(err)
	}
	check([]struct {
		name string
		id   string
		at   string
		want bool
	}{
		{"submitted", id(team, w.a, "3"), "2025-09-13 09:00", false},
		{"submitted, overdue", id(team, w.a, calendar.OffsetOverdue), "2025-09-17 09:00", false},
		{"the other team", id(team, w.b, "3"), "2025-09-13 09:00", true},
	})
}
