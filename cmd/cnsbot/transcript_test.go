package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

// transcriptClock is the server's time when a journey begins: a Tuesday
// morning in Cà Mau. Daytime, because pushes (a team's notice, the
// resident's "someone is coming") are held at night; away from the
// reporting calendar's deadlines, whose reminders to leaders and officers
// would otherwise join the transcript; and one date, so that "this week"
// is the same week on every run.
var transcriptClock = time.Date(2026, 5, 12, 9, 30, 0, 0, vietnam)

// The cast of the journeys. Hùng's Zalo id comes with examples/roster.csv;
// Mai's and Hà's are linked when seeding; Phúc is on the roster without
// one, and enrols in a journey. The resident is on no roster.
const (
	zResident = "8421000000000000001"
	zHung     = "5630211893524187712"
	zMai      = "5630211893524180002"
	zPhuc     = "5630211893524180003"
	zHa       = "5630211893524180013"
	gAp1      = "8423195712086419251"
)

// persona is someone who acts in a journey, as transcripts name them.
type persona struct{ id, label string }

var personas = map[string]persona{
	"resident": {zResident, "resident"},
	"hung":     {zHung, "leader Hùng (Ấp 1)"},
	"mai":      {zMai, "member Mai (Ấp 1)"},
	"phuc":     {zPhuc, "Phúc (Ấp 1's roster)"},
	"ha":       {zHa, "commune officer Hà (An Xuyên)"},
}

const groupLabel = "group of Ấp 1's team"

// recipientLabel names a recipient (a Zalo user or group id) by role.
func recipientLabel(s zalotest.Sent) string {
	if s.GroupID != "" {
		if s.GroupID == gAp1 {
			return groupLabel
		}
		return "group " + s.GroupID
	}
	for _, p := range personas {
		if p.id == s.UserID {
			return p.label
		}
	}
	return "user " + s.UserID
}

// A step is one thing a person does in Zalo.
type step struct {
	who  string // a key of personas
	kind string // one of the step kinds below
	// text is what is typed; a button's title for a tap; "name|phone" for
	// a share.
	text string
}

const (
	stepSay    = "say"    // types text in the private chat
	stepTap    = "tap"    // taps a button the bot sent them last with that title
	stepFollow = "follow" // follows the OA
	stepShare  = "share"  // answers a request_user_info form
	stepGroup  = "group"  // writes in the team's group
	stepJoin   = "join"   // joins the team's group
)

func say(who, text string) step     { return step{who, stepSay, text} }
func tap(who, title string) step    { return step{who, stepTap, title} }
func follow(who string) step        { return step{who, stepFollow, ""} }
func share(who, info string) step   { return step{who, stepShare, info} }
func inGroup(who, text string) step { return step{who, stepGroup, text} }
func joins(who string) step         { return step{who, stepJoin, ""} }

// A transcriptJourney is a story told in both languages; its transcripts
// are testdata/transcripts/<name>.<lang>.golden. In texts, "{code}" is the
// newest help request's code and "{team}" the code of Ấp 1's team.
type transcriptJourney struct {
	name   string
	vi, en []step
}

var transcriptJourneys = []transcriptJourney{
	{
		name: "resident_vneid_forgot_password",
		vi: []step{follow("resident"), tap("resident", "VNeID"), say("resident", "quen mat khau"), say("resident", "xong"),
			tap("resident", "Xong, tiếp"), say("resident", "rồi"), tap("resident", "Xong, tiếp"), say("resident", "Đã làm được"),
			tap("resident", "5 ⭐⭐⭐⭐⭐")},
		en: []step{follow("resident"), say("resident", "English"), tap("resident", "VNeID"), say("resident", "forgot password"),
			say("resident", "done"), tap("resident", "Done, next"), say("resident", "next"), tap("resident", "Done, next"),
			say("resident", "it worked"), tap("resident", "5 ⭐⭐⭐⭐⭐")},
	},
	{
		name: "resident_camaug_field_report",
		vi: []step{say("resident", "menu"), tap("resident", "CaMau-G"), say("resident", "phản ánh hiện trường"),
			tap("resident", "Xong, tiếp"), tap("resident", "Xong, tiếp"), tap("resident", "Xong, tiếp"), tap("resident", "Xong, tiếp"),
			tap("resident", "Đã làm được"), say("resident", "4"), tap("resident", "Thêm…")},
		en: []step{say("resident", "English"), tap("resident", "CaMau-G"), say("resident", "field report"),
			tap("resident", "Done, next"), tap("resident", "Done, next"), tap("resident", "Done, next"), tap("resident", "Done, next"),
			tap("resident", "It worked"), say("resident", "4"), tap("resident", "More…")},
	},
	{
		name: "resident_come_home",
		vi: []step{say("resident", "nhờ tổ đến nhà"), tap("resident", "Đồng ý"), tap("resident", "Cô"), say("resident", "Nguyễn Thị Lan"), say("resident", "0290 3831 234"),
			say("resident", "0939 123 456"), tap("resident", "An Xuyên"), tap("resident", "Ấp 1"),
			say("resident", "quên mật khẩu VNeID, máy báo sai hoài"), tap("resident", "Buổi sáng"), tap("resident", "Gửi yêu cầu"),
			say("resident", "tình trạng"), say("resident", "{code}")},
		en: []step{say("resident", "English"), say("resident", "ask the team to come"), tap("resident", "I agree"), say("resident", "Nguyen Thi Lan"),
			say("resident", "0290 3831 234"), say("resident", "0939 123 456"), tap("resident", "An Xuyên"), tap("resident", "Ấp 1"),
			say("resident", "forgot my VNeID password, it keeps saying wrong"), tap("resident", "Morning"),
			tap("resident", "Send request"), say("resident", "status"), say("resident", "{code}")},
	},
	{
		// A resident told "the police will lock your VNeID unless you
		// update it" finds the scam guide, then is about to read out a code.
		name: "resident_scam_and_otp",
		vi: []step{follow("resident"), say("resident", "gọi tôi là chú Tư"), say("resident", "công an gọi bắt cập nhật VNeID"),
			tap("resident", "Xong, tiếp"), tap("resident", "Xong, tiếp"), tap("resident", "Xong, tiếp"), tap("resident", "Xong, tiếp"),
			tap("resident", "Đã làm được"), tap("resident", "5 ⭐⭐⭐⭐⭐"), say("resident", "483 912"),
			say("resident", "tài khoản an sinh xã hội"), say("resident", "menu")},
		en: []step{follow("resident"), say("resident", "English"), say("resident", "call me ông Tư"),
			say("resident", "the police called me to update vneid"),
			tap("resident", "Done, next"), tap("resident", "Done, next"), tap("resident", "Done, next"), tap("resident", "Done, next"),
			tap("resident", "It worked"), tap("resident", "5 ⭐⭐⭐⭐⭐"), say("resident", "483 912"),
			say("resident", "social welfare account"), say("resident", "menu")},
	},
	{
		// "Phường 5" is An Xuyên since the 2025 merger (examples/units.csv's
		// "Tên cũ"): the bot says so and asks.
		name: "resident_former_place",
		vi: []step{say("resident", "nhờ tổ đến nhà"), tap("resident", "Đồng ý"), tap("resident", "Cô"), say("resident", "Nguyễn Thị Lan"),
			say("resident", "0939 123 456"), say("resident", "phuong 5"), tap("resident", "Đúng rồi"), tap("resident", "Ấp 1"),
			say("resident", "cài VNeID cho mẹ"), tap("resident", "Buổi sáng"), tap("resident", "Gửi yêu cầu")},
		en: []step{say("resident", "English"), say("resident", "ask the team to come"), tap("resident", "I agree"),
			say("resident", "Nguyen Thi Lan"), say("resident", "0939 123 456"), say("resident", "phuong 5"),
			tap("resident", "Yes, that's it"), tap("resident", "Ấp 1"), say("resident", "install VNeID for my mother"),
			tap("resident", "Morning"), tap("resident", "Send request")},
	},
	{
		name: "resident_typo",
		vi: []step{say("resident", "cai vneid ko dc"), say("resident", "xog"), say("resident", "xong"), say("resident", "ko dc"),
			say("resident", "huy")},
		en: []step{say("resident", "English"), say("resident", "instal vneid"), say("resident", "instal"), say("resident", "doen"),
			say("resident", "not working"), say("resident", "cancel")},
	},
	{
		name: "member_enrol_shared_phone",
		vi: []step{say("phuc", "đăng ký"), tap("phuc", "Gửi số Zalo của tôi"), share("phuc", "Lê Hoàng Phúc|84903112233"),
			tap("phuc", "Đúng, là tôi"), say("phuc", "menu")},
		en: []step{say("phuc", "English"), say("phuc", "register"), tap("phuc", "Send my Zalo number"),
			share("phuc", "Lê Hoàng Phúc|84903112233"), say("phuc", "yes"), say("phuc", "menu")},
	},
	{
		name: "member_visit_one_line",
		vi:   []step{say("mai", "bc ấp 1, nhà ông Năm, vneid+dvc, 2 người, 30p"), tap("mai", "Lưu báo cáo"), say("mai", "tuần của tôi")},
		en: []step{say("mai", "English"), say("mai", "bc ấp 1, nhà ông Năm, vneid+dvc, 2 người, 30p"), tap("mai", "Save report"),
			say("mai", "my week")},
	},
	{
		name: "member_take_close",
		vi: []step{say("resident", "nhờ tổ đến nhà"), say("resident", "đồng ý"), say("resident", "cô Lan"), say("resident", "Nguyễn Thị Lan"), say("resident", "0939 123 456"),
			tap("resident", "An Xuyên"), tap("resident", "Ấp 1"), say("resident", "cài VNeID cho mẹ"), tap("resident", "Buổi chiều"),
			tap("resident", "Gửi yêu cầu"),
			say("mai", "yêu cầu"), say("mai", "nhận {code}"), say("hung", "nhận {code}"), say("resident", "tình trạng"),
			say("mai", "xong {code}"), tap("mai", "Đã làm được"), say("mai", "45p"), tap("resident", "5 ⭐⭐⭐⭐⭐")},
		en: []step{say("resident", "English"), say("resident", "ask the team to come"), say("resident", "yes"), say("resident", "Nguyen Thi Lan"),
			say("resident", "0939 123 456"), tap("resident", "An Xuyên"), tap("resident", "Ấp 1"),
			say("resident", "install VNeID for my mother"), tap("resident", "Afternoon"), tap("resident", "Send request"),
			say("mai", "English"), say("hung", "English"),
			say("mai", "requests"), say("mai", "take {code}"), say("hung", "take {code}"), say("resident", "status"),
			say("mai", "done {code}"), tap("mai", "It worked"), say("mai", "45 min"), tap("resident", "5 ⭐⭐⭐⭐⭐")},
	},
	{
		name: "group_chatter_and_progress",
		vi: []step{inGroup("hung", "#lienket {team}"), inGroup("mai", "Chào cả nhà, sáng nay mình đi ấp 1 nha"),
			inGroup("hung", "ok"), inGroup("mai", "Tiến độ làm đường sao rồi mọi người?"), inGroup("mai", "mua bot giat o dau re vay"),
			inGroup("mai", "#tiendo"), inGroup("mai", "#bc nhà bà Tư, vneid, 1 người, 20p"), inGroup("mai", "#ok"),
			inGroup("hung", "bot ơi tuần này sao rồi"), joins("phuc"), inGroup("hung", "cảm ơn bot nha")},
		en: []step{say("hung", "English"), say("mai", "English"),
			inGroup("hung", "#link {team}"), inGroup("mai", "Chào cả nhà, sáng nay mình đi ấp 1 nha"),
			inGroup("hung", "ok"), inGroup("mai", "Tiến độ làm đường sao rồi mọi người?"), inGroup("mai", "mua bot giat o dau re vay"),
			inGroup("mai", "#progress"), inGroup("mai", "#report nhà bà Tư, vneid, 1 người, 20p"), inGroup("mai", "#ok"),
			inGroup("hung", "bot, week"), joins("phuc"), inGroup("hung", "thanks bot")},
	},
}

// TestTranscripts plays every journey in both languages, against a Zalo
// that takes list templates and (".nolist") against one that refuses them,
// where every menu comes as numbered text and the person types the number
// (or, for a notice, the command) instead of tapping.
func TestTranscripts(t *testing.T) {
	for _, j := range transcriptJourneys {
		for _, lang := range []string{"vi", "en"} {
			for _, noList := range []bool{false, true} {
				name := j.name + "." + lang
				if noList {
					name += ".nolist"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					steps := j.vi
					if lang == "en" {
						steps = j.en
					}
					got := playTranscript(t, steps, noList)
					flowstest.Golden(t, filepath.Join("testdata", "transcripts", name+".golden"), got)
				})
			}
		}
	}
}

// transcriptServer is a server, on its own Postgres schema and Redis
// prefix, whose Zalo is a fake, with the places and the roster imported.
type transcriptServer struct {
	s   *server
	z   *zalotest.Server
	url string
	// team is the code of Ấp 1's team.
	team string
	// ts is the last webhook timestamp used: events without a msg_id are
	// told apart by it.
	ts int64
	n  int
}

// startTranscriptServer wires a server the way start does, sets its clock
// to transcriptClock and seeds it before the workers run, so that nothing
// scheduled sees an empty roster first and the seeded one later.
func startTranscriptServer(t *testing.T) *transcriptServer {
	t.Helper()
	ctx := context.Background()
	z := zalotest.Start(t)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	s, err := newServer(ctx, testConfig(t, z), log)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	s.web.clock.SetOffset(time.Until(transcriptClock))
	ts := &transcriptServer{s: s, z: z}
	ts.seed(t)

	hs := httptest.NewServer(s.handler)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.runWorkers(wctx); close(done) }()
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		s.close()
	})
	ts.url = hs.URL
	return ts
}

// seed imports the sample places and roster of examples/ and links the
// Zalo ids of the cast who are not enrolling in a journey.
func (ts *transcriptServer) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	db := ts.s.db
	for _, kind := range []string{"units", "roster"} {
		name := filepath.Join("..", "..", "examples", kind+".csv")
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if kind == "units" {
			_, err = db.ImportUnits(ctx, f, name)
		} else {
			_, err = db.ImportRoster(ctx, f, name)
		}
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
	}
	for phone, zalo := range map[string]string{"0987654321": zMai, "0868224466": zHa} {
		p, _, err := db.PersonByPhone(ctx, phone)
		if err != nil {
			t.Fatalf("person %s: %v", phone, err)
		}
		if err := db.LinkZalo(ctx, p.ID, zalo); err != nil {
			t.Fatalf("link %s: %v", phone, err)
		}
	}
	commune, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
	if err != nil {
		t.Fatal(err)
	}
	hamlet, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &commune.ID, "Ấp 1")
	if err != nil {
		t.Fatal(err)
	}
	teams, err := db.TeamsOfHamlet(ctx, hamlet.ID)
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of Ấp 1: %v, %v", teams, err)
	}
	ts.team = teams[0].Code
}

// helpCodes returns the codes of all help requests, newest last.
func (ts *transcriptServer) helpCodes(t *testing.T) []string {
	t.Helper()
	sqlDB, err := ts.s.db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sqlDB.Query("SELECT code FROM help_requests ORDER BY id")
	if err != nil {
		t.Fatalf("help request codes: %v", err)
	}
	defer rows.Close()
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatalf("help request codes: %v", err)
		}
		codes = append(codes, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("help request codes: %v", err)
	}
	return codes
}

// at is the time to stamp the next event with: now, but always at least a
// millisecond after the last, so that events without a msg_id (keyed on
// their timestamp) are never taken for re-sends of each other.
func (ts *transcriptServer) at() time.Time {
	ts.ts = max(time.Now().UnixMilli(), ts.ts+1)
	return time.UnixMilli(ts.ts)
}

// send signs ev and posts it to the webhook.
func (ts *transcriptServer) send(t *testing.T, ev zaloevent.Event) {
	t.Helper()
	body, sig := e2eZalo.Sign(ev)
	if got := post(t, ts.url, body, sig); got != http.StatusOK {
		t.Fatalf("webhook answered %d to %s, want 200", got, body)
	}
}

func (ts *transcriptServer) msgID() string {
	ts.n++
	return fmt.Sprintf("tr%016d", ts.n)
}

// settle waits until the queue has nothing left to process or deliver and
// the fake Zalo has received nothing new for a while: the bot has said all
// it will say about the last event.
func (ts *transcriptServer) settle(t *testing.T) {
	t.Helper()
	const quiet = 150 * time.Millisecond
	deadline := time.Now().Add(20 * time.Second)
	last, since := ts.z.Count(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if n := ts.z.Count(); n != last {
			last, since = n, time.Now()
			continue
		}
		in, out, err := ts.s.queue.Backlog(context.Background())
		if err != nil {
			t.Fatalf("backlog: %v", err)
		}
		if in+out > 0 {
			since = time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return
		}
	}
	t.Fatalf("the bot was still busy after 20 s (%d messages sent)", ts.z.Count())
}

// playTranscript runs the steps on a fresh server and returns the transcript.
func playTranscript(t *testing.T, steps []step, noList bool) string {
	ts := startTranscriptServer(t)
	if noList {
		ts.z.SetMode(zalotest.ModeListsRefused)
	}
	var b strings.Builder
	for _, st := range steps {
		p, ok := personas[st.who]
		if !ok {
			t.Fatalf("no persona %q", st.who)
		}
		text := strings.ReplaceAll(st.text, "{team}", ts.team)
		if strings.Contains(text, "{code}") {
			codes := ts.helpCodes(t)
			if len(codes) == 0 {
				t.Fatalf("%q: no help request yet", st.text)
			}
			text = strings.ReplaceAll(text, "{code}", codes[len(codes)-1])
		}
		before := ts.z.Count()
		chat := p.id
		switch st.kind {
		case stepSay:
			fmt.Fprintf(&b, "> %s: %s\n", p.label, text)
			ts.send(t, e2eZalo.Text(p.id, ts.msgID(), text, ts.at()))
		case stepTap:
			if noList {
				typed := typedChoice(t, ts.z.MessagesTo(p.id), text)
				if _, ok := ts.s.engine.MenuPayload(text); ok {
					// The main menu shows as [menu]: its number would mean
					// nothing to a reader, and would change with every
					// new item. Its words work as well.
					typed = text
				}
				fmt.Fprintf(&b, "> %s types %s (for %s)\n", p.label, typed, text)
				ts.send(t, e2eZalo.Text(p.id, ts.msgID(), typed, ts.at()))
				break
			}
			btn := lastButton(t, ts.z.MessagesTo(p.id), text)
			fmt.Fprintf(&b, "> %s taps %s\n", p.label, renderButton(btn))
			ts.send(t, e2eZalo.Text(p.id, ts.msgID(), btn.Payload, ts.at()))
		case stepFollow:
			fmt.Fprintf(&b, "> %s follows the OA\n", p.label)
			ts.send(t, e2eZalo.Follow(p.id, ts.at()))
		case stepShare:
			name, phone, _ := strings.Cut(text, "|")
			fmt.Fprintf(&b, "> %s shares name and phone: %s, %s\n", p.label, name, phone)
			ts.send(t, e2eZalo.SubmitInfo(p.id, zaloevent.Info{Name: name, Phone: phone}, ts.at()))
		case stepGroup:
			chat = gAp1
			fmt.Fprintf(&b, "> %s in the %s: %s\n", p.label, groupLabel, text)
			ts.send(t, e2eZalo.GroupText(p.id, gAp1, ts.msgID(), text, ts.at()))
		case stepJoin:
			chat = gAp1
			fmt.Fprintf(&b, "> %s joins the %s\n", p.label, groupLabel)
			ts.send(t, e2eZalo.JoinGroup(p.id, gAp1, ts.at()))
		default:
			t.Fatalf("unknown step kind %q", st.kind)
		}
		ts.settle(t)
		b.WriteString(renderReplies(ts.z.Messages()[before:], chat, ts.s.engine))
	}
	return placeholders(b.String(), ts.helpCodes(t))
}

// lastButton finds the button titled title in the latest message that
// has one.
func lastButton(t *testing.T, msgs []zalotest.Sent, title string) zalotest.Button {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Buttons {
			if b.Title == title {
				return b
			}
		}
	}
	t.Fatalf("no button %q in the chat", title)
	return zalotest.Button{}
}

// typedChoice finds the option titled title in the latest text that lists
// it and returns what the text says to type: its number ("2. Ấp 1"), or
// the command of a notice's option ("• Duyệt: gõ “#duyet 7”").
func typedChoice(t *testing.T, msgs []zalotest.Sent, title string) string {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].Buttons) > 0 {
			t.Fatalf("a list went through while lists are refused: %+v", msgs[i])
		}
		for _, line := range strings.Split(msgs[i].Text, "\n") {
			if n, rest, ok := strings.Cut(line, ". "); ok && rest == title && n != "" && strings.Trim(n, "0123456789") == "" {
				return n
			}
			if rest, ok := strings.CutPrefix(line, "• "+title+": "); ok {
				if _, cmd, ok := strings.Cut(rest, "“"); ok {
					return strings.TrimSuffix(cmd, "”")
				}
			}
		}
	}
	t.Fatalf("no option %q in the chat", title)
	return ""
}

// renderReplies writes what the bot sent after one step: first to the
// chat where the step happened, then to everyone else, by recipient name.
// Messages to one recipient keep the order Zalo received them in; between
// recipients there is no order to keep.
func renderReplies(msgs []zalotest.Sent, chat string, menu menuReader) string {
	if len(msgs) == 0 {
		return "  (no reply)\n"
	}
	type section struct {
		label string
		own   bool
		msgs  []zalotest.Sent
	}
	var sections []*section
	by := map[string]*section{}
	for _, m := range msgs {
		label := recipientLabel(m)
		sec := by[label]
		if sec == nil {
			sec = &section{label: label, own: m.UserID == chat || m.GroupID == chat}
			by[label] = sec
			sections = append(sections, sec)
		}
		sec.msgs = append(sec.msgs, m)
	}
	slices.SortStableFunc(sections, func(a, b *section) int {
		switch {
		case a.own != b.own:
			if a.own {
				return -1
			}
			return 1
		default:
			return strings.Compare(a.label, b.label)
		}
	})
	var b strings.Builder
	for _, sec := range sections {
		who := "< bot"
		if !sec.own {
			who = "< bot → " + sec.label
		}
		for _, m := range sec.msgs {
			b.WriteString(renderSent(who, m, menu))
		}
	}
	return b.String()
}

// renderSent writes one message: its kind when not plain text, its text
// with continuation lines indented, and its buttons one a line, or the
// main menu's as the one line "[menu]" (see flowstest.Transcript).
func renderSent(who string, m zalotest.Sent, menu menuReader) string {
	var b strings.Builder
	kind := ""
	switch m.Kind {
	case zalotest.KindText:
	case zalotest.KindRequestInfo:
		kind = " [form]"
	default:
		kind = " [" + m.Kind + "]"
	}
	text := m.Text
	if m.Kind == zalotest.KindText {
		text = collapseTextMenu(text, menu)
	}
	if m.Subtitle != "" {
		text += " / " + m.Subtitle
	}
	if m.ImageURL != "" && m.Kind == zalotest.KindImage {
		text += " " + m.ImageURL
	}
	fmt.Fprintf(&b, "%s%s: %s\n", who, kind, strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n  "))
	payloads := make([]string, 0, len(m.Buttons))
	for _, btn := range m.Buttons {
		payloads = append(payloads, btn.Payload)
	}
	if len(payloads) > 0 && menu.IsMenu(payloads) {
		b.WriteString("    [menu]\n")
		return b.String()
	}
	for _, btn := range m.Buttons {
		fmt.Fprintf(&b, "    %s\n", renderButton(btn))
	}
	return b.String()
}

// menuReader tells the main menu's buttons, and its entries by title when
// the menu went as numbered text (a Zalo that refuses lists).
type menuReader interface {
	flowstest.Menu
	MenuPayload(title string) (string, bool)
}

// numberedLine and commandLine are the lines of a list sent as text: "2.
// CaMau-G", and "• Thêm…: gõ “#them”".
var (
	numberedLine = regexp.MustCompile(`^\d+\. (.+)$`)
	commandLine  = regexp.MustCompile(`^• .+: (?:gõ|type) “(#[^”]+)”$`)
	numbersHint  = regexp.MustCompile(`^(Gõ|Type) [0-9, ]+`)
)

// collapseTextMenu writes the main menu sent as numbered text as the token
// "[menu]", as renderSent does the menu's buttons: a new menu item then
// changes the menu's own transcripts only, in both modes.
func collapseTextMenu(text string, menu menuReader) string {
	paras := strings.Split(text, "\n\n")
	for i, p := range paras {
		var payloads []string
		for _, line := range strings.Split(p, "\n") {
			if m := numberedLine.FindStringSubmatch(line); m != nil {
				id, ok := menu.MenuPayload(m[1])
				if !ok {
					payloads = nil
					break
				}
				payloads = append(payloads, id)
			} else if m := commandLine.FindStringSubmatch(line); m != nil {
				payloads = append(payloads, m[1])
			} else {
				payloads = nil
				break
			}
		}
		if len(payloads) == 0 || !menu.IsMenu(payloads) {
			continue
		}
		// The menu, and the hint after it that numbers its items.
		end := i + 1
		if end < len(paras) && numbersHint.MatchString(paras[end]) {
			end++
		}
		return strings.Join(append(paras[:i:i], "[menu]"), "\n\n") + strings.Join(append([]string{""}, paras[end:]...), "\n\n")
	}
	return text
}

func renderButton(btn zalotest.Button) string {
	switch {
	case btn.Payload != "":
		return "[" + btn.Title + " → " + btn.Payload + "]"
	case btn.URL != "":
		return "[" + btn.Title + " → " + btn.URL + "]"
	case btn.Phone != "":
		return "[" + btn.Title + " → phone " + btn.Phone + "]"
	}
	return "[" + btn.Title + "]"
}

// weekDates are the ways the flows write a day of transcriptClock's week,
// replaced in transcripts by a placeholder: the dates are right for the
// clock, but a reader should not take them for part of the wording.
var weekDates = func() *regexp.Regexp {
	var forms []string
	monday := transcriptClock.AddDate(0, 0, -int((transcriptClock.Weekday()+6)%7))
	for d := range 7 {
		day := monday.AddDate(0, 0, d)
		forms = append(forms, fmt.Sprintf("%d/%d", day.Day(), int(day.Month())), regexp.QuoteMeta(day.Format("2 Jan")))
	}
	return regexp.MustCompile(`(^|[^\d/])(` + strings.Join(forms, "|") + `)([^\d/]|$)`)
}()

// clockTimes are times of day ("9:30", "09:30").
var clockTimes = regexp.MustCompile(`\b([01]?\d|2[0-3]):[0-5]\d\b`)

// placeholders replaces what changes from run to run, or with the clock:
// help request codes become HT????, dates D/M (or D Mon), times HH:MM.
func placeholders(s string, codes []string) string {
	for _, c := range codes {
		s = strings.ReplaceAll(s, c, "HT????")
	}
	s = weekDates.ReplaceAllStringFunc(s, func(m string) string {
		sub := weekDates.FindStringSubmatch(m)
		ph := "D/M"
		if strings.Contains(sub[2], " ") {
			ph = "D Mon"
		}
		return sub[1] + ph + sub[3]
	})
	return clockTimes.ReplaceAllString(s, "HH:MM")
}
