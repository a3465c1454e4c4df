package team

import (
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

func TestTeamWeek(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	at := func(day, hour, minutes int) cnsbot.Visit {
		return cnsbot.Visit{VisitedAt: time.Date(2026, 3, day, hour, 0, 0, 0, loc).UTC(), Minutes: minutes}
	}
	for _, c := range []struct {
		name          string
		visits        []cnsbot.Visit
		days, minutes int
	}{
		{"none", nil, 0, 0},
		// Two members' 2 h on Monday make a team day; Tuesday's 3 h do not.
		{"members add up", []cnsbot.Visit{at(9, 8, 120), at(9, 14, 120), at(10, 9, 180)}, 1, 420},
		// 23:30 on Monday and 00:30 on Tuesday, local time, are two days.
		{"local days", []cnsbot.Visit{at(9, 23, 240), at(10, 0, 240)}, 2, 480},
	} {
		if d, m := teamWeek(c.visits, loc); d != c.days || m != c.minutes {
			t.Errorf("%s: got %d days, %d minutes; want %d, %d", c.name, d, m, c.days, c.minutes)
		}
	}
}
