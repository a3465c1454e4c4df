package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// TestCalendarPageWords: the calendar page counts days as the chat does
// (today included, "Hôm nay là hạn chót" on the last day), does not list a
// superseded reminder as a failure, never says every message arrived
// below a reminder that did not, and shows no English sentence, preset
// slug or raw Zalo id in Vietnamese.
func TestCalendarPageWords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	get := func(path string) string {
		t.Helper()
		resp, b := f.do(t, "GET", path, admin, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		return string(b)
	}
	check := func(what, body string, want, not []string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: want %q on the page", what, w)
			}
		}
		for _, w := range not {
			if strings.Contains(body, w) {
				t.Errorf("%s: %q must not be on the page", what, w)
			}
		}
	}

	// 27/11 10:30, the team's deadline is before 16/12: 19 days, today
	// included, as the chat's reminder would count them.
	body := get("/admin/calendar")
	check("27/11", body, []string{"Còn 19 ngày", "Mọi tin nhắn đều đã đến nơi", "Hai cấp (tổ → xã → sở)"},
		[]string{"còn 18 ngày", "Tin nhắn chưa đến được", "plan220", "two-level"})

	// A superseded reminder is no failure; one that could not be sent is.
	loi, _, err := f.db.PersonByPhone(ctx, "+84900003001")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ offset, state, reason string }{
		{"7", calendar.StateDroppedLate, calendar.ReasonSuperseded},
		{"3", calendar.StateUndeliverable, "no Zalo account linked and no team group"},
		{"1", calendar.StateDroppedLate, "some future sentence in English"},
	} {
		if _, err := f.db.ClaimReminder(ctx, "2026Q4:team:commune", loi.ID, r.offset); err != nil {
			t.Fatal(err)
		}
		if err := f.db.SetReminderState(ctx, "2026Q4:team:commune", loi.ID, r.offset, r.state, r.reason); err != nil {
			t.Fatal(err)
		}
	}
	body = get("/admin/calendar")
	check("problems", body, []string{"nhắc trước 3 ngày", "chưa liên kết Zalo", "lý do khác",
		"Ngoài các nhắc hạn ghi ở trên, mọi tin nhắn khác đều đã đến nơi"},
		[]string{"nhắc trước 7 ngày", "superseded", "some future sentence", "Mọi tin nhắn đều đã đến nơi"})

	// A message to someone the roster does not know names no raw id.
	if err := f.db.Undeliverable(ctx, cnsbot.Outgoing{ID: "m9", To: cnsbot.Recipient{UserID: "8100000000000009999"}, Purpose: "notify"}, -230, "outside_window"); err != nil {
		t.Fatal(err)
	}
	body = get("/admin/calendar")
	check("unknown recipient", body, []string{"Tin nhắn chưa đến được người nhận", "Người chưa có trong danh sách"},
		[]string{"8100000000000009999", "Ngoài các nhắc hạn"})

	// On the last day both the chat and the page say so.
	f.now = time.Date(2026, 12, 15, 9, 0, 0, 0, f.now.Location())
	check("15/12", get("/admin/calendar"), []string{"Hôm nay là hạn chót"}, []string{"Còn 1 ngày", "Còn 0 ngày"})
	check("15/12 en", get("/admin/calendar?lang=en"), []string{"Today is the last day"}, []string{"plan220"})
}
