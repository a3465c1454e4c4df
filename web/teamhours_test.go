package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// TestTeamsBelowPlanHours: a commune's page lists its teams whose week
// falls short of the plan's hours (4 hours on 2 days); a team leaves the
// table once its members' visits make up two such days, two members'
// hours on one day adding up.
func TestTeamsBelowPlanHours(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	officer := auth0{cookie: f.login(t, f.officer, nil)}
	path := "/admin/communes/" + strconv.FormatInt(f.tanThanh.ID, 10)
	table := func() string {
		t.Helper()
		resp, b := f.do(t, "GET", path, officer, "")
		body := string(b)
		i := strings.Index(body, `id="team-hours"`)
		if resp.StatusCode != 200 || i < 0 {
			t.Fatalf("commune page: status %d, no team hours table: %.300s", resp.StatusCode, body)
		}
		return body[i : i+strings.Index(body[i:], "</section>")]
	}
	team := teamOf(t, f.db, f.tanThanh.ID)
	row := "<td>" + team.Name + "</td>"
	before := table()
	if !strings.Contains(before, row) || !strings.Contains(before, "Tổ chưa đủ giờ tuần này") {
		t.Fatalf("before: want %s below the plan: %s", team.Name, before)
	}
	person, _, err := f.db.PersonByPhone(ctx, "+84900009001")
	if err != nil {
		t.Fatal(err)
	}
	// f.now is a Friday: Monday and Tuesday of its week, and last
	// Sunday (another week) which does not count.
	monday := time.Date(2026, 11, 23, 8, 0, 0, 0, f.now.Location())
	for i, v := range []struct {
		at      time.Time
		minutes int
	}{{monday, 120}, {monday.Add(5 * time.Hour), 120}, {monday.AddDate(0, 0, -1), 240}} {
		visit := cnsbot.Visit{PersonID: person.ID, TeamID: team.ID, Household: "nhà ông Năm", Areas: "vneid", People: 1,
			Minutes: v.minutes, VisitedAt: v.at, SourceEvent: "hours-" + strconv.Itoa(i)}
		if _, err := f.db.RecordVisit(ctx, &visit); err != nil {
			t.Fatal(err)
		}
	}
	if mid := table(); !strings.Contains(mid, row) {
		t.Errorf("one day of 4 hours: want %s still below the plan: %s", team.Name, mid)
	}
	visit := cnsbot.Visit{PersonID: person.ID, TeamID: team.ID, Household: "nhà bà Tư", Areas: "vneid", People: 1,
		Minutes: 240, VisitedAt: monday.AddDate(0, 0, 1), SourceEvent: "hours-tuesday"}
	if _, err := f.db.RecordVisit(ctx, &visit); err != nil {
		t.Fatal(err)
	}
	if after := table(); strings.Contains(after, row) {
		t.Errorf("two days of 4 hours: want %s off the table: %s", team.Name, after)
	}
}
