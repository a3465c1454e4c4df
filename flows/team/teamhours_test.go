package team_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestTeamHoursNudges: the plan's hours are the team's. By Friday a team
// with fewer than two days of four hours is told once, in its group if
// linked, else through its leader; a team that met the plan, and the
// members one by one, are not.
func TestTeamHoursNudges(t *testing.T) {
	f := newFixture(t, options{})
	d := time.Now().In(vietnam).AddDate(0, 0, 7)
	for d.Weekday() != time.Friday {
		d = d.AddDate(0, 0, 1)
	}
	friday := time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, vietnam)
	monday := time.Date(d.Year(), d.Month(), d.Day()-4, 0, 0, 0, 0, vietnam)
	tuesday := monday.AddDate(0, 0, 1)
	mai, ngoc, hung := f.person(t, "0987654321"), f.person(t, "0388112344"), f.person(t, "0912345678")
	n := 0
	record := func(p cnsbot.Person, hamlet string, at time.Time, minutes int) {
		t.Helper()
		n++
		v := cnsbot.Visit{PersonID: p.ID, TeamID: f.team(t, "An Xuyên", hamlet).ID, Household: "nhà ông Năm", Areas: "vneid",
			People: 1, Minutes: minutes, VisitedAt: at, SourceEvent: "th-" + strconv.Itoa(n)}
		if _, err := f.db.RecordVisit(f.ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	// Ấp 1 met the plan: two members' hours add up to four on Monday,
	// one member did four on Tuesday.
	record(mai, "Ấp 1", monday.Add(8*time.Hour), 120)
	record(hung, "Ấp 1", monday.Add(14*time.Hour), 120)
	record(mai, "Ấp 1", tuesday.Add(8*time.Hour), 240)
	// Ấp 2 has one day of four hours and three of one hour: short.
	record(ngoc, "Ấp 2", monday.Add(8*time.Hour), 240)
	for i := 1; i <= 3; i++ {
		record(ngoc, "Ấp 2", monday.AddDate(0, 0, i).Add(8*time.Hour), 60)
	}
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 2").ID, "G-AP2"); err != nil {
		t.Fatal(err)
	}

	deps := f.deps
	deps.Once = store.NewLocks(storetest.MiniRedis(t), "t:")
	// Thursday is too early, and so is Friday at night.
	for _, at := range []time.Time{friday.AddDate(0, 0, -1), friday.Add(12 * time.Hour)} {
		if out, err := team.TeamHoursNudges(f.ctx, deps, at); err != nil || len(out) != 0 {
			t.Errorf("%s: %d messages (%v), want none", at, len(out), err)
		}
	}
	out, err := team.TeamHoursNudges(f.ctx, deps, friday)
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range out {
		to = append(to, m.To.String())
		if m.Purpose != "reminder" || !strings.HasPrefix(m.ID, "teamhours:") {
			t.Errorf("message %+v", m)
		}
		switch m.To.String() {
		case "g:G-AP2":
			if !strings.Contains(m.Text, "tuần này tổ mới có 1/2 ngày đủ 4 giờ (tổng 7 giờ)") {
				t.Errorf("Ấp 2's group got %q", m.Text)
			}
		case "u:" + zTu:
			if !strings.Contains(m.Text, "0/2 ngày đủ 4 giờ") {
				t.Errorf("Tư got %q", m.Text)
			}
		}
	}
	slices.Sort(to)
	// Not Ấp 1 (met), not Tâm (Ấp 2's group is told instead), no member.
	if want := []string{"g:G-AP2", "u:" + zTu}; !slices.Equal(to, want) {
		t.Errorf("told %v, want %v", to, want)
	}
	// Once a week: Saturday's pass finds them claimed.
	if again, err := team.TeamHoursNudges(f.ctx, deps, friday.AddDate(0, 0, 1)); err != nil || len(again) != 0 {
		t.Errorf("Saturday: %d messages (%v), want none", len(again), err)
	}
}
