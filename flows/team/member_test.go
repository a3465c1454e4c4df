package team_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// seedVisits records the progress dataset: Mai's week in Ấp 1 (two days,
// one household visited twice, one visit the week before) and Út's eight
// households of Ấp Bà Điều, which has ten.
func seedVisits(t *testing.T, f *fixture) {
	t.Helper()
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, vietnam) }
	mai, ut := f.person(t, "0987654321"), f.person(t, "0918222444")
	a1, bd := f.team(t, "An Xuyên", "Ấp 1"), f.team(t, "Tân Thành", "Ấp Bà Điều")
	visits := []cnsbot.Visit{
		{PersonID: mai.ID, TeamID: a1.ID, Household: "nhà ông Năm", Areas: "vneid", People: 2, Minutes: 30, VisitedAt: at(9, 8, 30)},
		{PersonID: mai.ID, TeamID: a1.ID, Household: "Ông Năm", Areas: "dvc", People: 1, Minutes: 20, VisitedAt: at(9, 15, 0)},
		{PersonID: mai.ID, TeamID: a1.ID, Household: "bà Tư", Areas: "vneid,ttkdtm", People: 3, Minutes: 240, VisitedAt: at(10, 8, 0)},
		// Sunday night: last week, but a household guided all the same.
		{PersonID: mai.ID, TeamID: a1.ID, Household: "nhà bà Hai", Areas: "yte", People: 1, Minutes: 60, VisitedAt: at(8, 23, 0)},
	}
	for i := range 8 {
		visits = append(visits, cnsbot.Visit{PersonID: ut.ID, TeamID: bd.ID, Household: fmt.Sprintf("hộ số %d", i+1),
			Areas: "vneid", People: 1, Minutes: 60, VisitedAt: at(9+i%2, 8+i, 0)})
	}
	for i := range visits {
		visits[i].SourceEvent = fmt.Sprintf("seed-%d", i)
		if _, err := f.db.RecordVisit(f.ctx, &visits[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProgressFigures checks the figures members see against the seeded
// dataset, through the real queries.
func TestProgressFigures(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { checkProgress(t, newFixture(t, options{})) })
	t.Run("postgres", func(t *testing.T) {
		checkProgress(t, newFixture(t, options{databaseURL: storetest.PostgresURL(t)}))
	})
}

func checkProgress(t *testing.T, f *fixture) {
	seedVisits(t, f)
	a1 := f.team(t, "An Xuyên", "Ấp 1")
	tests := []struct {
		user, say string
		want      []string
	}{
		{zMai, "tuần của tôi", []string{"Tuần này (từ thứ Hai 9/3) bạn đã đi 2/2 ngày, 4,8/8 giờ."}},
		{zMai, "#tuancuatoi", []string{"2 ngày"}},
		{zHung, "tuan cua toi", []string{"bạn chưa có báo cáo nào", "2 ngày, 8 giờ"}},
		{zUt, "tuần của tôi", []string{"đã đi 2 ngày, 8 giờ: đạt kế hoạch"}},
		{zMai, "tiến độ", []string{"Tổ CNSCĐ Ấp 1: đã hướng dẫn 3/612 hộ (0%). Mục tiêu 80%: còn 487 hộ nữa."}},
		{zUt, "tien do", []string{"Tổ CNSCĐ Ấp Bà Điều: đã hướng dẫn 8/10 hộ (80%), vượt mục tiêu 80%!"}},
		// A leader whose group is not linked is given the team's code.
		{zHung, "tiến độ", []string{"3/612 hộ", "#lienket " + a1.Code}},
		{zNgoc, "#tiendo", []string{"Tổ CNSCĐ Ấp 1: đã hướng dẫn 3/612", "Tổ CNSCĐ Ấp 2: đã hướng dẫn 0/548"}},
		{zMai, "#to", []string{"Bạn muốn xem gì?"}},
		{zMai, "2", []string{"4,8/8 giờ"}},
	}
	for _, tt := range tests {
		got := flowstest.Texts(f.chat(t, tt.user).Say(tt.say))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q: got %q, want %q in it", tt.user, tt.say, got, w)
			}
		}
	}
	if err := f.db.LinkGroup(f.ctx, a1.ID, "G1"); err != nil {
		t.Fatal(err)
	}
	if got := flowstest.Texts(f.chat(t, zHung).Say("tiến độ")); strings.Contains(got, "#lienket") {
		t.Errorf("linked team: the code hint is still shown: %q", got)
	}
}

// TestMemberCommands checks who may use the members' commands, and that a
// command's words typed as the answer to a question stay the answer.
func TestMemberCommands(t *testing.T) {
	f := newFixture(t, options{})
	tests := []struct {
		user, say string
		want      string
	}{
		{"r-1", "tiến độ", "dành cho thành viên Tổ công nghệ số"},
		{"r-1", "bc", "dành cho thành viên Tổ công nghệ số"},
		{"r-1", "báo cáo thăm hộ", "dành cho thành viên Tổ công nghệ số"},
		{"r-1", "nhận HTAAAA", "dành cho thành viên Tổ công nghệ số"},
		// A resident who wants to register for VNeID is not enrolled.
		{"r-2", "đăng ký vneid", "VNeID"},
		{zMai, "nhận HTZZZZ", "không thấy yêu cầu HTZZZZ"},
		{zMai, "xong HTZZZZ", "không thấy yêu cầu HTZZZZ"},
		{zMai, "duyệt 3", "Chỉ tổ trưởng"},
		{zMai, "yêu cầu", "không có yêu cầu nào"},
		{zHung, "đăng ký", "Bạn đã là thành viên rồi, Nguyễn Văn Hùng: Tổ CNSCĐ Ấp 1"},
		{zHung, "báo cáo quý 1", ""}, // the quarter's report is not a visit
	}
	for _, tt := range tests {
		c := f.chat(t, tt.user)
		got := flowstest.Texts(c.Say(tt.say))
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s %q: got %q, want %q in it", tt.user, tt.say, got, tt.want)
		}
		if fl := c.Session().Flow; fl == team.FlowVisit || fl == team.FlowEnrol && tt.user == "r-2" {
			t.Errorf("%s %q started %s", tt.user, tt.say, fl)
		}
	}

	// At the note, "tiến độ" and "báo cáo sau" are notes.
	c := f.chat(t, zMai)
	for _, in := range []string{"bc nhà ông Năm, vneid, 2 người, 30p", "#sua", "#ghichu", "tiến độ"} {
		c.Say(in)
	}
	if s := c.Session(); s.Step != "summary" || s.Data["note"] != "tiến độ" {
		t.Errorf("after a note “tiến độ”: at %s with note %q", s.Step, s.Data["note"])
	}
	c.Say("#sua")
	c.Say("#ghichu")
	c.Say("báo cáo sau")
	if s := c.Session(); s.Step != "summary" || s.Data["note"] != "báo cáo sau" {
		t.Errorf("after a note “báo cáo sau”: at %s with note %q", s.Step, s.Data["note"])
	}
	// Typed lists and durations in their steps are read as such, not as
	// the numbered buttons.
	c.Say("#sua")
	c.Say("#noidung")
	c.Say("3 7")
	if s := c.Session(); s.Step != "summary" || s.Data["areas"] != "vneid,camaug,yte" {
		t.Errorf("areas after “3 7”: %q at %s", s.Data["areas"], s.Step)
	}
	c.Say("#sua")
	c.Say("#thoigian")
	c.Say("1")
	if s := c.Session(); s.Step != "summary" || s.Data["minutes"] != "60" {
		t.Errorf("minutes after “1”: %q at %s", s.Data["minutes"], s.Step)
	}
}

// TestSaveIsIdempotentAcrossRedelivery replays the confirming event after
// its commit failed: the visit is stored once.
func TestSaveIsIdempotentAcrossRedelivery(t *testing.T) {
	f := newFixture(t, options{})
	c := f.chat(t, zMai)
	c.Say("bc nhà ông Năm, vneid, 2 người, 30p")
	failing := &failingSessions{Sessions: f.sessions, fail: true}
	e2 := flows.NewEngine(failing, f.texts, flows.Options{Now: f.clock.Now, Directory: f.db,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := team.Register(e2, f.deps); err != nil {
		t.Fatal(err)
	}
	ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "luu-1", Route: "u:" + zMai, UserID: zMai, Text: "#luu", Time: f.clock.Now()}
	if err := e2.Handle(context.Background(), ev); err == nil {
		t.Fatal("want the failed commit's error")
	}
	if err := e2.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if vs := f.visits(t, f.person(t, "0987654321").ID); len(vs) != 1 || vs[0].SourceEvent != "luu-1" {
		t.Errorf("visits %+v, want one from luu-1", vs)
	}
}

// failingSessions fails the first commit.
type failingSessions struct {
	*flowstest.Sessions
	fail bool
}

func (s *failingSessions) Commit(ctx context.Context, sess cnsbot.Session, out []cnsbot.Outgoing) error {
	if s.fail {
		s.fail = false
		return cnsbot.Errorf(cnsbot.EUNAVAILABLE, "redis went away")
	}
	return s.Sessions.Commit(ctx, sess, out)
}

// TestGroupToldWhenTakenOrClosedInPrivate: a request posted in the team's
// group and then taken or closed in a private chat is reported to the
// group, once each, so that nobody else sets out for it.
func TestGroupToldWhenTakenOrClosedInPrivate(t *testing.T) {
	f := newFixture(t, options{})
	tm := f.team(t, "An Xuyên", "Ấp 1")
	if err := f.db.LinkGroup(f.ctx, tm.ID, "G-AP1"); err != nil {
		t.Fatal(err)
	}
	r := f.helpRequest(t, "r-1", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
	c := f.chat(t, zMai)
	for _, say := range []string{"nhận " + r.Code, "nhận " + r.Code, "xong " + r.Code, "#lamduoc", "45p", "xong " + r.Code} {
		c.Say(say)
	}
	var told []string
	for _, m := range f.sessions.Outbox() {
		if m.To.GroupID == "G-AP1" {
			told = append(told, m.ID+" "+m.Text)
		}
	}
	if len(told) != 2 || !strings.Contains(told[0], "đã nhận yêu cầu "+r.Code) || !strings.Contains(told[1], "Yêu cầu "+r.Code+" đã xong") {
		t.Errorf("group told %q, want one take and one close", told)
	}
}
