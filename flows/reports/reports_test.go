package reports_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/reports"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// world is a commune with one hamlet team, on a real store (SQLite in a
// temporary directory): leader A, member M, commune officer O, province
// officer P (in English), an admin X who reports for nothing, and a
// resident R on no roster.
type world struct {
	db                        *store.DB
	loc                       *time.Location
	province, commune, hamlet cnsbot.Unit
	team                      cnsbot.Team
	a, m, o, p, x             cnsbot.Person
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// These tests walk plan 220's three levels (the 2025 quarters it
	// governed); the default is the two-level chain.
	if err := db.SaveSchedule(ctx, calendar.Plan220(), "test"); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, loc: loc}
	w.province = cnsbot.Unit{Kind: cnsbot.UnitProvince, Name: "Cà Mau", Folded: "ca mau"}
	create(t, db, &w.province)
	w.commune = cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc", ParentID: &w.province.ID}
	create(t, db, &w.commune)
	w.hamlet = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &w.commune.ID, Households: 200}
	create(t, db, &w.hamlet)
	w.team = cnsbot.Team{HamletID: w.hamlet.ID, Name: "Tổ Ấp 1", Code: "TL1", GroupID: "g1"}
	create(t, db, &w.team)
	zalo := func(id string) *string { return &id }
	people := []struct {
		p    *cnsbot.Person
		role string
		unit int64
		team *int64
	}{
		{&w.a, cnsbot.RoleLeader, w.hamlet.ID, &w.team.ID},
		{&w.m, cnsbot.RoleMember, w.hamlet.ID, &w.team.ID},
		{&w.o, cnsbot.RoleCommuneOfficer, w.commune.ID, nil},
		{&w.p, cnsbot.RoleProvinceOfficer, w.province.ID, nil},
		{&w.x, cnsbot.RoleAdmin, w.province.ID, nil},
	}
	for i, e := range people {
		*e.p = cnsbot.Person{FullName: fmt.Sprintf("Người %c", "AMOPX"[i]), Phone: fmt.Sprintf("+8491234567%d", i),
			ZaloUserID: zalo("z" + strings.ToLower(string("amopx"[i])))}
		if e.role == cnsbot.RoleProvinceOfficer {
			e.p.Lang = "en"
		}
		create(t, db, e.p)
		create(t, db, &cnsbot.Role{PersonID: e.p.ID, Role: e.role, UnitID: e.unit, TeamID: e.team, Approved: true})
	}
	v := cnsbot.Visit{PersonID: w.m.ID, TeamID: w.team.ID, Household: "nhà ông Năm", Areas: "vneid,dvc", People: 2,
		Minutes: 45, VisitedAt: time.Date(2025, 8, 5, 9, 0, 0, 0, loc), SourceEvent: "seed-1"}
	if _, err := db.RecordVisit(ctx, &v); err != nil {
		t.Fatal(err)
	}
	return w
}

// fixture is the engine with the reports registered on the world's store.
type fixture struct {
	w        *world
	engine   *flows.Engine
	sessions *flowstest.Sessions
	clock    *flowstest.Clock
	texts    *locales.Bundle
}

func newFixture(t *testing.T, w *world, publicURL string) *fixture {
	t.Helper()
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{w: w, sessions: flowstest.NewSessions(), texts: texts,
		clock: flowstest.NewClock(time.Date(2025, 9, 9, 10, 0, 0, 0, w.loc))}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.engine = flows.NewEngine(f.sessions, texts, flows.Options{Now: f.clock.Now, Directory: w.db, Log: log})
	deps := reports.Deps{
		Reminders: reminder.New(w.db, nil, texts, reminder.Options{Location: w.loc, Log: log}),
		Copies:    w.db, Texts: texts, Location: w.loc, PublicURL: publicURL, Log: log,
	}
	if err := reports.Register(f.engine, deps); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.Check(); err != nil {
		t.Fatal(err)
	}
	return f
}

// chat starts a person's conversation at the main menu.
func (f *fixture) chat(t *testing.T, user string) *flowstest.Chat {
	c := &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: user}
	c.Say("menu")
	return c
}

func TestSubmitted(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t, w, "")
	ctx := context.Background()
	key := "2025Q3:team:commune"
	a := f.chat(t, "za")
	for range 2 {
		// Tapping twice says the same and keeps the first submission.
		out := a.Say("#danop " + key)
		if got := flowstest.Texts(out); got != "Đã ghi nhận: Tổ Ấp 1 đã nộp báo cáo quý 3/2025. Cảm ơn bạn!" {
			t.Errorf("leader: got %q", got)
		}
		f.clock.Advance(time.Hour)
	}
	subs, err := w.db.Submissions(ctx, key)
	if err != nil || len(subs) != 1 || subs[0].PersonID != w.a.ID || !subs[0].SubmittedAt.Equal(time.Date(2025, 9, 9, 10, 0, 0, 0, w.loc)) {
		t.Errorf("submissions %+v (%v), want the leader's first tap", subs, err)
	}
	tests := []struct{ user, say, want string }{
		{"zm", "#danop " + key, "Bạn không phụ trách nộp báo cáo này"},
		{"zr", "#danop " + key, "Bạn không phụ trách nộp báo cáo này"},
		{"za", "#danop 2025Q3:team:district", "Hạn nộp này không còn trong lịch báo cáo"},
		{"zp", "#danop 2025Q3:commune:district", "You are not the one who submits this report"},
	}
	for _, tt := range tests {
		c := f.chat(t, tt.user)
		if tt.user == "zp" {
			c.Say("English")
		}
		if got := flowstest.Texts(c.Say(tt.say)); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s %q: got %q, want %q…", tt.user, tt.say, got, tt.want)
		}
	}
	if subs, _ := w.db.Submissions(ctx, key); len(subs) != 1 {
		t.Errorf("submissions %+v, want only the leader's", subs)
	}
}

func TestQuarterReport(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t, w, "https://cns.example.vn/")
	link := "https://cns.example.vn/admin/report?quarter=2025Q3&format=xlsx"
	tests := []struct {
		user, say string
		english   bool
		want      []string
		not       []string
	}{
		{user: "za", say: "báo cáo quý", want: []string{"Tổ Ấp 1 — quý 3/2025", "1/200 hộ đến nay (0,5%, mục tiêu 80%)",
			"Cài VNeID 2, Dịch vụ công 2"}, not: []string{link}},
		{user: "za", say: "#baocao 2025Q3", want: []string{"Tổ Ấp 1 — quý 3/2025"}},
		{user: "za", say: "báo cáo quý trước", want: []string{"Tổ Ấp 1 — quý 2/2025", "Chưa có báo cáo đi hộ nào trong quý."}},
		{user: "zo", say: "bc quý 3/2025", want: []string{"Xã Tân Lộc — quý 3/2025", "1 tổ CNSCĐ.", "Tải báo cáo quý 3/2025 (Excel): " + link}},
		{user: "zp", say: "#baocao 2025Q3", english: true, want: []string{"Cà Mau — Q3 2025", "Download the Q3 2025 report (Excel): " + link}},
		{user: "zx", say: "báo cáo quý", want: []string{"Bạn không phụ trách báo cáo của tổ hay đơn vị nào", link}},
		{user: "zm", say: "báo cáo quý", want: []string{"Xin lỗi, báo cáo quý dành cho tổ trưởng"}, not: []string{"Tổ Ấp 1 —"}},
		{user: "zr", say: "bao cao quy", want: []string{"Xin lỗi, báo cáo quý dành cho tổ trưởng"}},
		{user: "za", say: "báo cáo quý 7", want: []string{"Mình chưa hiểu quý nào."}},
	}
	for _, tt := range tests {
		c := f.chat(t, tt.user)
		if tt.english {
			c.Say("English")
		}
		out := c.Say(tt.say)
		got := flowstest.Texts(out)
		if len(out) != 1 {
			t.Errorf("%s %q: %d messages, want one: %q", tt.user, tt.say, len(out), got)
		}
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s %q: got %q, want it to contain %q", tt.user, tt.say, got, want)
			}
		}
		for _, not := range tt.not {
			if strings.Contains(got, not) {
				t.Errorf("%s %q: got %q, want no %q", tt.user, tt.say, got, not)
			}
		}
	}

	// Without a public address there is no link to give.
	f = newFixture(t, w, "")
	if got := flowstest.Texts(f.chat(t, "zo").Say("báo cáo quý")); strings.Contains(got, "http") {
		t.Errorf("without PublicURL: got %q", got)
	}
}

// The menu offers the report to leaders and officers only; its button is
// the current quarter's report.
func TestMenuItem(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t, w, "")
	a := &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: "za"}
	if p := flowstest.Payloads(a.Say("menu")); !slices.Contains(p, "#baocao") {
		t.Errorf("leader's menu %v lacks #baocao", p)
	}
	m := &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: "zm"}
	if p := flowstest.Payloads(m.Say("menu")); slices.Contains(p, "#baocao") {
		t.Errorf("member's menu %v offers #baocao", p)
	}
	c := a
	if got := flowstest.Texts(c.Say("#baocao")); !strings.HasPrefix(got, "Tổ Ấp 1 — quý 3/2025") {
		t.Errorf("#baocao: got %q", got)
	}
}

// refused records a message Zalo refused, as the sender does, at a given
// age.
func refused(t *testing.T, db *store.DB, m cnsbot.Outgoing, code int, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	var err error
	if m.FallbackGroup != "" {
		err = db.Fallback(ctx, m, code, "outside_window")
	} else {
		err = db.Undeliverable(ctx, m, code, "outside_window")
	}
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-age)
	storetest.Exec(t, db, "UPDATE deliveries SET created_at = $1, updated_at = $1 WHERE message_id = $2", at, m.ID)
}

// When a leader who was out of Zalo's window writes again, the newest
// refused reminders and notices that still matter come first, once.
func TestPrivateCopies(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t, w, "")
	ctx := context.Background()
	reminderMsg := func(key, offset, text string) cnsbot.Outgoing {
		return cnsbot.Outgoing{ID: calendar.ReminderID(key, w.a.ID, offset), To: cnsbot.Recipient{UserID: "za"},
			Kind: cnsbot.MsgList, Text: text, Subtitle: "…", Purpose: "reminder", Ref: key, FallbackGroup: "g1", Lang: "vi",
			Buttons: []cnsbot.Button{{Title: "Đã nộp", Payload: calendar.SubmitPayload(key)}}}
	}
	notice := func(id string) cnsbot.Outgoing {
		return cnsbot.Outgoing{ID: id, To: cnsbot.Recipient{UserID: "za"}, Kind: cnsbot.MsgText, Text: "notice " + id, Purpose: "notify"}
	}
	q2, q3 := "2025Q2:team:commune", "2025Q3:team:commune"
	refused(t, w.db, reminderMsg(q2, "1", "Q2, 1 ngày"), -230, 80*24*time.Hour) // too old to keep
	refused(t, w.db, reminderMsg(q2, calendar.OffsetOverdue, "Q2 quá hạn"), -230, 25*24*time.Hour)
	refused(t, w.db, notice("help:HTAAAA:1"), -232, 6*24*time.Hour)
	refused(t, w.db, reminderMsg(q3, "7", "Q3, còn 7 ngày"), -230, 5*time.Hour)
	refused(t, w.db, reminderMsg(q3, "3", "Q3, còn 3 ngày"), -230, 4*time.Hour)
	refused(t, w.db, notice("help:HTBBBB:1"), -213, 3*time.Hour) // not a follower: writing does not help
	refused(t, w.db, notice("help:HTCCCC:1"), -227, 2*time.Hour)

	c := &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: "za"}
	out := c.Say("menu")
	got := flowstest.Render(out, "za")
	want := "< Trong lúc bạn vắng, có 3 tin nhắn chưa đến được bạn. Mình gửi lại đây:\n" +
		"< Q3, còn 7 ngày\n    [Đã nộp] #danop 2025Q3:team:commune\n" +
		"< Q3, còn 3 ngày\n    [Đã nộp] #danop 2025Q3:team:commune\n" +
		"< notice help:HTCCCC:1\n"
	if !strings.HasPrefix(got, want) {
		t.Fatalf("got\n%s\nwant it to start with\n%s", got, want)
	}
	for _, m := range out[1:4] {
		if !strings.HasPrefix(m.ID, "copy:") || m.Purpose != "reply" || m.FallbackGroup != "" || m.To.UserID != "za" {
			t.Errorf("copy %+v: want a reply to the person alone, id copy:…", m)
		}
	}
	if len(out) < 5 || len(out[len(out)-1].Buttons) == 0 {
		t.Errorf("the menu, the reply to the person's own message, is missing:\n%s", got)
	}

	states := map[string]string{
		calendar.ReminderID(q3, w.a.ID, "7"):                    store.StateCopyQueued,
		calendar.ReminderID(q3, w.a.ID, "3"):                    store.StateCopyQueued,
		"help:HTCCCC:1":                                         store.StateCopyQueued,
		"help:HTAAAA:1":                                         store.StateCopySkipped, // a fourth: superseded
		calendar.ReminderID(q2, w.a.ID, calendar.OffsetOverdue): store.StateCopySkipped, // Q2's deadline is long past
	}
	for id, want := range states {
		d, err := w.db.FindDelivery(ctx, "copy:"+id)
		if err != nil || d.State != want {
			t.Errorf("copy of %s: %q (%v), want %s", id, d.State, err, want)
		}
	}
	for _, id := range []string{"help:HTBBBB:1", calendar.ReminderID(q2, w.a.ID, "1")} {
		if _, err := w.db.FindDelivery(ctx, "copy:"+id); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("copy of %s: %v, want none", id, err)
		}
	}

	// The next message brings nothing more.
	if got := flowstest.Render(c.Say("menu"), "za"); strings.Contains(got, "vắng") {
		t.Errorf("second message:\n%s", got)
	}

	// A leader who has submitted gets no copy of the reminders to submit.
	if _, err := reminder.New(w.db, nil, f.texts, reminder.Options{Location: w.loc}).Submit(ctx, q3, w.a.ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	refused(t, w.db, reminderMsg(q3, "1", "Q3, còn 1 ngày"), -230, time.Hour)
	if got := flowstest.Render(c.Say("menu"), "za"); strings.Contains(got, "vắng") {
		t.Errorf("after submitting:\n%s", got)
	}
}

// Copies are a convenience: when the store fails, the person's message is
// still answered.
func TestPrivateCopiesStoreDown(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t, w, "")
	c := &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: "za"}
	c.Say("menu")
	if err := w.db.Close(); err != nil {
		t.Fatal(err)
	}
	// The Directory fails too, so a command that needs the roster fails
	// the event; plain menu navigation does not.
	if out := c.Say("menu"); len(out) == 0 {
		t.Error("no reply while the store is down")
	}
}

// create inserts one seeded row, failing the test if it cannot.
func create[T store.Row](t testing.TB, db *store.DB, row *T) {
	t.Helper()
	if err := store.Insert(context.Background(), db, row); err != nil {
		t.Fatalf("seed %T: %v", row, err)
	}
}
