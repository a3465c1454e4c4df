package team_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

func TestNudges(t *testing.T) {
	f := newFixture(t, options{})
	// LastActivity counts from enrolment (the import, just now) for those
	// who never reported: a week and a day later, they are due.
	d := time.Now().In(vietnam).AddDate(0, 0, 8)
	now := time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, vietnam)
	mai, ut := f.person(t, "0987654321"), f.person(t, "0918222444")
	record := func(p cnsbot.Person, commune, hamlet string, at time.Time, key string) {
		t.Helper()
		v := cnsbot.Visit{PersonID: p.ID, TeamID: f.team(t, commune, hamlet).ID, Household: "nhà ông Năm", Areas: "vneid",
			People: 1, Minutes: 30, VisitedAt: at, SourceEvent: key}
		if _, err := f.db.RecordVisit(f.ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	record(mai, "An Xuyên", "Ấp 1", now.Add(-48*time.Hour), "v-mai")
	utLast := now.Add(-10 * 24 * time.Hour)
	record(ut, "Tân Thành", "Ấp Bà Điều", utLast, "v-ut")

	deps := f.deps
	deps.Once = store.NewLocks(storetest.MiniRedis(t), "t:")
	out, err := team.Nudges(f.ctx, deps, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out {
		got = append(got, m.To.UserID)
		if m.Purpose != "reminder" || m.Kind != cnsbot.MsgList || !strings.HasPrefix(m.ID, "nudge:") {
			t.Errorf("nudge %+v", m)
		}
		if p := payloads(m); !slices.Equal(p, []string{"#bc", "#tiendo"}) {
			t.Errorf("nudge buttons %v", p)
		}
	}
	// Everyone who reports but Mai, who did two days ago; not Phúc (no
	// Zalo yet) nor the commune officer.
	if want := []string{zHung, zNgoc, zTam, zTu, zUt}; !slices.Equal(got, want) {
		t.Errorf("nudged %v, want %v", got, want)
	}
	for _, m := range out {
		switch m.To.UserID {
		case zHung:
			if !strings.HasPrefix(m.Text, "Chào Hùng!") || !strings.Contains(m.Text, "Tổ CNSCĐ Ấp 1: đã hướng dẫn 1/612 hộ") {
				t.Errorf("Hùng's nudge %q", m.Text)
			}
		case zUt:
			y, w := utLast.In(vietnam).ISOWeek()
			if m.ID != fmt.Sprintf("nudge:%d:%d-W%02d", ut.ID, y, w) {
				t.Errorf("Út's nudge id %s: want the week her stretch began", m.ID)
			}
		}
	}

	// Claimed once: an hour later (on any replica) there is nothing new.
	again, err := team.Nudges(f.ctx, deps, now.Add(time.Hour))
	if err != nil || len(again) != 0 {
		t.Errorf("second run: %d nudges (%v), want none", len(again), err)
	}
	// With claims forgotten (a new Redis), runs give the same ids: a
	// nudge's id names the stretch of silence, not the run.
	noClaims := func() team.Deps {
		d := f.deps
		d.Once = store.NewLocks(storetest.MiniRedis(t), "t:")
		return d
	}
	first, err := team.Nudges(f.ctx, noClaims(), now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := team.Nudges(f.ctx, noClaims(), now.Add(3*time.Hour))
	if err != nil || !slices.Equal(ids(first), ids(second)) || !slices.Equal(ids(first), ids(out)) {
		t.Errorf("ids %v then %v (%v), want %v twice", ids(first), ids(second), err, ids(out))
	}
	// Only in daytime.
	for _, h := range []int{5, 7, 20, 23} {
		at := time.Date(now.Year(), now.Month(), now.Day(), h, 59, 0, 0, vietnam)
		if got, err := team.Nudges(f.ctx, noClaims(), at); err != nil || len(got) != 0 {
			t.Errorf("at %s: %d nudges (%v), want none at night", at.Format("15:04"), len(got), err)
		}
	}
	// A new stretch of silence after a report gets a new nudge.
	record(ut, "Tân Thành", "Ấp Bà Điều", now, "v-ut-2")
	later := now.AddDate(0, 0, 8)
	fresh, err := team.Nudges(f.ctx, deps, later)
	if err != nil {
		t.Fatal(err)
	}
	var utNudges []string
	for _, m := range fresh {
		if m.To.UserID == zUt {
			utNudges = append(utNudges, m.ID)
		}
	}
	if len(utNudges) != 1 || slices.Contains(ids(out), utNudges[0]) {
		t.Errorf("Út's new stretch: nudges %v (first %v)", utNudges, ids(out))
	}
}

func ids(out []cnsbot.Outgoing) []string {
	var s []string
	for _, m := range out {
		s = append(s, m.ID)
	}
	return s
}

func payloads(m cnsbot.Outgoing) []string {
	var p []string
	for _, b := range m.Buttons {
		p = append(p, b.Payload)
	}
	return p
}
