package handoff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/handoff"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// The store is what handoffs need.
var (
	_ handoff.Store  = (*store.DB)(nil)
	_ handoff.People = (*store.DB)(nil)
)

var vietnam = func() *time.Location {
	l, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return l
}()

// t0 is a Tuesday, 9:00 in Cà Mau.
var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, vietnam)

// Zalo ids of testdata/roster.csv.
const (
	zHung = "1001" // leader, Ấp 1
	zMai  = "1002" // member, Ấp 1
	zTam  = "1005" // leader, Ấp 2
	zHa   = "1006" // commune officer, An Xuyên
	zTu   = "1007" // leader, Ấp Bà Điều (Tân Thành)
	zLan  = "r-lan"
	group = "g-ap1"
)

type fixture struct {
	ctx      context.Context
	db       *store.DB
	engine   *flows.Engine
	sessions *flowstest.Sessions
	clock    *flowstest.Clock
	deps     handoff.Deps
	chats    map[string]*flowstest.Chat
	grp      *flowstest.Group
	vars     map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, "", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"units.csv", "roster.csv"} {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "units.csv" {
			_, err = db.ImportUnits(ctx, f, name)
		} else {
			_, err = db.ImportRoster(ctx, f, name)
		}
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{ctx: ctx, db: db, sessions: flowstest.NewSessions(), clock: flowstest.NewClock(t0),
		chats: map[string]*flowstest.Chat{}, vars: map[string]string{}}
	fx.engine = flows.NewEngine(fx.sessions, texts, flows.Options{Now: fx.clock.Now, Log: log, Handoffs: db, Directory: db})
	fx.deps = handoff.Deps{Store: db, People: db, Texts: texts, Hours: handoff.WorkingHours{Location: vietnam}, Log: log}
	if err := handoff.Register(fx.engine, fx.deps); err != nil {
		t.Fatal(err)
	}
	if err := team.Register(fx.engine, team.Deps{Roster: db, Teams: db, Places: db, Visits: db, HelpDesk: db, Texts: texts, Week: db,
		Lookups: &flowstest.Lookups{}, Attempts: store.NewAttempts(storetest.MiniRedis(t), "t:", "enrol-code", 5, 10*time.Minute),
		Residents: resident.NewNotices(texts, fx.sessions, log), Location: vietnam, Log: log}); err != nil {
		t.Fatal(err)
	}
	if err := resident.Register(fx.engine, resident.Deps{Places: db, HelpDesk: db, Texts: texts, Sessions: fx.sessions, Log: log,
		Privacy: &flowstest.Privacy{}, Feedback: db, Lookups: &flowstest.Lookups{}}); err != nil {
		t.Fatal(err)
	}
	if err := fx.engine.Check(); err != nil {
		t.Fatal(err)
	}
	fx.grp = &flowstest.Group{TB: t, Handler: fx.engine, Sessions: fx.sessions, Clock: fx.clock, GroupID: group}
	return fx
}

// hamlet returns a hamlet's id and its first team.
func (f *fixture) hamlet(t *testing.T, commune, hamlet string) (cnsbot.Unit, cnsbot.Team) {
	t.Helper()
	c, err := f.db.FindUnit(f.ctx, cnsbot.UnitCommune, nil, commune)
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.db.FindUnit(f.ctx, cnsbot.UnitHamlet, &c.ID, hamlet)
	if err != nil {
		t.Fatal(err)
	}
	teams, err := f.db.TeamsOfHamlet(f.ctx, h.ID)
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of %s: %v", hamlet, err)
	}
	return h, teams[0]
}

// knownResident gives Lan an earlier help request in Ấp 1, which says
// where she lives, and links Ấp 1's team to its Zalo group.
func (f *fixture) knownResident(t *testing.T) {
	h, tm := f.hamlet(t, "An Xuyên", "Ấp 1")
	r := cnsbot.HelpRequest{ResidentUserID: zLan, Name: "Nguyễn Thị Lan", Phone: "+84912000111", HamletID: h.ID,
		Topic: cnsbot.AreaVNeIDInstall, Problem: "Cài VNeID", SourceEvent: "seed"}
	if err := f.db.CreateHelpRequest(f.ctx, &r); err != nil {
		t.Fatal(err)
	}
	if err := f.db.LinkGroup(f.ctx, tm.ID, group); err != nil {
		t.Fatal(err)
	}
}

// play runs inputs and returns the transcript. "@1002 text" speaks as
// 1002 in private, "@g:1002 text" in the team's group; "!wait 2h" moves
// the clock; "!escalate" runs the escalation as the scheduler does.
func (f *fixture) play(t *testing.T, user string, inputs []string) string {
	t.Helper()
	var b strings.Builder
	for _, in := range inputs {
		who := user
		inGroup := false
		if rest, ok := strings.CutPrefix(in, "@"); ok {
			who, in, _ = strings.Cut(rest, " ")
			if g, ok := strings.CutPrefix(who, "g:"); ok {
				who, inGroup = g, true
			}
		}
		for k, v := range f.vars {
			in = strings.ReplaceAll(in, "{"+k+"}", v)
		}
		line := in
		if who != user {
			line = "[" + who + "] " + in
			if inGroup {
				line = "[group " + who + "] " + in
			}
		}
		fmt.Fprintf(&b, "> %s\n", f.unvar(line))
		var out []cnsbot.Outgoing
		cmd, arg, _ := strings.Cut(in, " ")
		switch {
		case cmd == "!wait":
			d, err := time.ParseDuration(arg)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(d)
		case cmd == "!escalate":
			var err error
			out, err = handoff.Escalate(f.ctx, f.deps, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
		case cmd == "!photo":
			out = f.chat(t, who).Photo(arg)
		case inGroup:
			out = f.grp.Say(who, in)
		default:
			out = f.chat(t, who).Say(in)
		}
		if ho, err := f.db.OpenHandoffOf(f.ctx, zLan); err == nil && f.vars["code"] == "" {
			f.vars["code"] = ho.Code
		}
		self := who
		if inGroup || strings.HasPrefix(cmd, "!") {
			self = "-"
		}
		b.WriteString(f.unvar(flowstest.Transcript(out, self, f.engine)))
	}
	return b.String()
}

func (f *fixture) chat(t *testing.T, user string) *flowstest.Chat {
	c, ok := f.chats[user]
	if !ok {
		c = &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: user}
		f.chats[user] = c
	}
	return c
}

func (f *fixture) unvar(s string) string {
	for k, v := range f.vars {
		if v != "" {
			s = strings.ReplaceAll(s, v, "{"+k+"}")
		}
	}
	return s
}

// A resident asks for a person: the team's group and the commune's officer
// hear it with what she wrote; a member answers from the group without
// diacritics and the resident gets it signed; what she writes meanwhile is
// kept and passed on, never answered by the bot; someone from another
// commune and someone on no roster cannot answer; "xong CODE" gives the
// bot back.
func TestAnswerFromTheChat(t *testing.T) {
	f := newFixture(t)
	f.knownResident(t)
	got := f.play(t, zLan, []string{
		"cai vneid toi buoc quet mat thi bao loi",
		"gap nguoi ho tro",
		"@g:" + zMai + " tra loi {code} Dạ cô Lan, con là Mai ở tổ. Cô chụp màn hình lỗi gửi con xem nha",
		"!photo https://img.example/loi.jpg",
		"nó ghi là không khớp khuôn mặt",
		"@" + zTu + " tra loi {code} chao co",
		"@2001 trả lời {code} chào cô",
		"@" + zMai + " tra loi {code}",
		"@" + zMai + " trả lời {code} Cô ra chỗ sáng, bỏ kiếng rồi quét lại nha",
		"được rồi cảm ơn con",
		"@" + zMai + " xong {code}",
		"@" + zMai + " tra loi {code} con chao co",
		"asdf qwer",
	})
	flowstest.Golden(t, filepath.Join("testdata", "answer_from_chat.vi.golden"), got)

	ho, err := f.db.HandoffFor(f.ctx, f.vars["code"], f.person(t, "0987654321").ID)
	if err != nil {
		t.Fatal(err)
	}
	if ho.Status != cnsbot.HandoffClosed || ho.CloseReason != cnsbot.HandoffDone || ho.AnsweredAt == nil {
		t.Errorf("handoff %+v, want closed as done and answered", ho)
	}
	ms, err := f.db.HandoffMessages(f.ctx, ho.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, m := range ms {
		if m.PersonID == nil {
			kept = append(kept, m.Text)
		}
	}
	if want := 3; len(kept) != want {
		t.Errorf("kept %q, want the photo and two texts", kept)
	}
	if !strings.Contains(ho.Recent, "quet mat") || strings.Contains(ho.Recent, "gap nguoi") {
		t.Errorf("recent %q: want what she wrote before asking, without the asking", ho.Recent)
	}
}

func (f *fixture) person(t *testing.T, phone string) cnsbot.Person {
	t.Helper()
	p, _, err := f.db.PersonByPhone(f.ctx, phone)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Nobody answers: after four working hours (9:00 Tuesday → 15:00, with the
// lunch break), the team's leader and the commune's officer are told,
// once. A resident nobody knows is asked where she lives first, and "hủy"
// withdraws the request.
func TestEscalateAfterWorkingHours(t *testing.T) {
	f := newFixture(t)
	f.knownResident(t)
	got := f.play(t, zLan, []string{
		"gặp người hỗ trợ",
		"!wait 2h",
		"!escalate",
		"!wait 3h30m",
		"!escalate",
		"!wait 30m",
		"!escalate",
		"!escalate",
		"menu",
		"hủy",
		"asdf",
	})
	flowstest.Golden(t, filepath.Join("testdata", "escalate.vi.golden"), got)
}

func TestUnknownPlaceAsks(t *testing.T) {
	f := newFixture(t)
	got := f.play(t, zLan, []string{
		"nguoi that",
		"an xuyen",
		"ap 2",
		"alo co ai khong",
		"huy",
	})
	flowstest.Golden(t, filepath.Join("testdata", "unknown_place.vi.golden"), got)
}

func TestWorkingHoursBetween(t *testing.T) {
	w := handoff.WorkingHours{Location: vietnam}
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, vietnam) }
	for _, c := range []struct {
		from, to time.Time
		want     time.Duration
	}{
		{at(10, 9, 0), at(10, 15, 0), 4 * time.Hour}, // Tuesday, over lunch
		{at(10, 18, 0), at(11, 8, 0), time.Hour},     // evening to next morning
		{at(13, 16, 0), at(16, 8, 0), 2 * time.Hour}, // Friday 16:00 to Monday 8:00
		{at(14, 9, 0), at(15, 17, 0), 0},             // a weekend
		{at(10, 12, 0), at(10, 13, 0), 0},            // lunch
		{at(10, 7, 0), at(11, 7, 0), 8 * time.Hour},  // a whole day
		{at(10, 9, 0), at(10, 8, 0), 0},              // backwards
	} {
		if got := w.Between(c.from, c.to); got != c.want {
			t.Errorf("Between(%s, %s) = %s, want %s", c.from.Format("Mon 15:04"), c.to.Format("Mon 15:04"), got, c.want)
		}
	}
	spans, err := handoff.ParseSpans("07:30-11:00, 13:00-16:30")
	if err != nil || len(spans) != 2 || spans[0] != [2]int{450, 660} {
		t.Errorf("ParseSpans = %v, %v", spans, err)
	}
	if _, err := handoff.ParseSpans("11:00-07:00"); err == nil {
		t.Error("ParseSpans of a backwards span: want an error")
	}
}

// A relayed answer Zalo refuses comes back to whoever wrote it.
func TestUndelivered(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.knownResident(t)
	f.play(t, zLan, []string{"gap nguoi ho tro"})
	out := f.chat(t, zMai).Say("tra loi " + f.vars["code"] + " chào cô")
	var relay *cnsbot.Outgoing
	for i := range out {
		if out[i].Purpose == handoff.PurposeRelay {
			relay = &out[i]
		}
	}
	if relay == nil {
		t.Fatalf("no relayed message in %+v", out)
	}
	n, ok := handoff.Undelivered(texts, *relay)
	if !ok || n.To.UserID != zMai || !strings.Contains(n.Text, f.vars["code"]) {
		t.Errorf("Undelivered = %+v, %v; want a notice to the member with the code", n, ok)
	}
	if _, ok := handoff.Undelivered(texts, cnsbot.Outgoing{Purpose: "reply"}); ok {
		t.Error("Undelivered of a plain reply: want nothing")
	}
}

// An agent answers from the OA chat tool (the existing pause): the
// handoff counts as answered and is not escalated; once the pause after
// the agent's last message has run out, the bot answers again and the
// handoff is closed.
func TestAnsweredFromTheOAChatTool(t *testing.T) {
	f := newFixture(t)
	f.knownResident(t)
	f.play(t, zLan, []string{"gap nguoi ho tro"})
	c := f.chat(t, zLan)
	if out := c.Do(cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, Text: "Chào chị, em ở xã đây", AdminID: "a1",
		Key: "oa_send_text:a1:1"}); len(out) != 0 {
		t.Fatalf("echo replied: %v", out)
	}
	f.clock.Advance(5 * time.Hour)
	if out, err := handoff.Escalate(f.ctx, f.deps, f.clock.Now()); err != nil || len(out) != 0 {
		t.Errorf("escalated a handoff answered from the OA chat tool: %v, %v", out, err)
	}
	if out := c.Say("asdf qwer"); !strings.Contains(flowstest.Texts(out), "Mình chưa hiểu") {
		t.Errorf("after the pause: got %q, want the bot's answer", flowstest.Texts(out))
	}
	if _, err := f.db.OpenHandoffOf(f.ctx, zLan); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Errorf("open handoff after the pause ran out: %v, want none", err)
	}
}

// The same in English: the resident's texts and the signature are in her
// language; the team's notices in each member's.
func TestAnswerFromTheChatEnglish(t *testing.T) {
	f := newFixture(t)
	f.knownResident(t)
	got := f.play(t, zLan, []string{
		"English",
		"vneid face scan keeps failing",
		"talk to a person",
		"@g:" + zMai + " reply {code} Hello, I am Mai from the team. Which step are you at?",
		"the last one, face scan",
		"@" + zHa + " done {code}",
		"cancel",
	})
	flowstest.Golden(t, filepath.Join("testdata", "answer_from_chat.en.golden"), got)
}

// "xong CODE" handled twice (its commit lost, the event redelivered) gives
// the same messages, so the resident still hears the assistant is back.
func TestCloseTwiceSameEvent(t *testing.T) {
	f := newFixture(t)
	f.knownResident(t)
	f.play(t, zLan, []string{"gap nguoi ho tro", "@" + zMai + " tra loi {code} chào cô"})
	mai := f.chat(t, zMai)
	before := f.sessions.Get("u:" + zMai)
	ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Text: "xong " + f.vars["code"], Key: "close-1"}
	first := mai.Do(ev)
	f.sessions.Put(before)
	again := mai.Do(ev)
	if got, want := flowstest.Render(again, zMai), flowstest.Render(first, zMai); got != want || !strings.Contains(got, "u:"+zLan) {
		t.Errorf("handled again:\n%s\nwant as the first time, with the resident's notice:\n%s", got, want)
	}
}

// The resident's "hủy" handled again (its commit lost) gives the same
// messages, so the team still hears it.
func TestCancelTwiceSameEvent(t *testing.T) {
	f := newFixture(t)
	f.knownResident(t)
	f.play(t, zLan, []string{"gap nguoi ho tro"})
	lan := f.chat(t, zLan)
	// A stored session is bytes: a copy that the first handling cannot
	// change in place.
	var before cnsbot.Session
	if b, err := json.Marshal(f.sessions.Get("u:" + zLan)); err != nil || json.Unmarshal(b, &before) != nil {
		t.Fatal(err)
	}
	ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Text: "huy", Key: "cancel-1"}
	first := lan.Do(ev)
	f.sessions.Put(before)
	again := lan.Do(ev)
	if got, want := flowstest.Render(again, zLan), flowstest.Render(first, zLan); got != want || !strings.Contains(got, "g:"+group) {
		t.Errorf("handled again:\n%s\nwant as the first time, with the group's notice:\n%s", got, want)
	}
}
