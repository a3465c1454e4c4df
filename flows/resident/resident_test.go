package resident_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/locales"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// Places of the fixture: Tân Thành (hamlets with teams), Phường 5 (seven
// hamlets, so its list pages), Cái Nước (known by its former names, no
// hamlets on file), and enough communes for the list to page.
func places() *flowstest.Places {
	units := []cnsbot.Unit{
		{ID: 1, Kind: cnsbot.UnitCommune, Name: "Xã Tân Thành"},
		{ID: 2, Kind: cnsbot.UnitCommune, Name: "Phường 5"},
		{ID: 3, Kind: cnsbot.UnitCommune, Name: "Xã Tân Hưng"},
		{ID: 4, Kind: cnsbot.UnitCommune, Name: "Xã Tân Hưng Đông"},
		{ID: 5, Kind: cnsbot.UnitCommune, Name: "Xã Lý Văn Lâm"},
		{ID: 6, Kind: cnsbot.UnitCommune, Name: "Xã Cái Nước", FormerNames: "Thị trấn Cái Nước; Xã Tân Hưng Tây"},
		{ID: 11, Kind: cnsbot.UnitHamlet, Name: "Ấp Tân Hòa", ParentID: ptr[int64](1), Households: 320},
		{ID: 12, Kind: cnsbot.UnitHamlet, Name: "Ấp Cây Trâm", ParentID: ptr[int64](1), Households: 280},
		{ID: 13, Kind: cnsbot.UnitHamlet, Name: "Ấp Bà Điều", ParentID: ptr[int64](1), Households: 150},
	}
	for i := 1; i <= 7; i++ {
		units = append(units, cnsbot.Unit{ID: int64(20 + i), Kind: cnsbot.UnitHamlet, Name: fmt.Sprintf("Khóm %d", i), ParentID: ptr[int64](2)})
	}
	return flowstest.NewPlaces(units...)
}

type fixture struct {
	engine   *flows.Engine
	sessions *flowstest.Sessions
	desk     *flowstest.HelpDesk
	handoffs *flowstest.Handoffs
	feedback *flowstest.Feedback
	privacy  *flowstest.Privacy
	clock    *flowstest.Clock
	texts    *locales.Bundle
	guides   *content.Memory
	deps     resident.Deps
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	pl := places()
	desk := &flowstest.HelpDesk{
		Places: pl,
		// Tân Hòa's team has a Zalo group; Cây Trâm's does not; Bà Điều has no team.
		Teams: []cnsbot.Team{
			{ID: 1, HamletID: 11, Name: "Tổ CNSCĐ ấp Tân Hòa", Code: "TH01", GroupID: "G-TANHOA"},
			{ID: 2, HamletID: 12, Name: "Tổ CNSCĐ ấp Cây Trâm", Code: "CT01"},
		},
		People: []cnsbot.Person{
			{ID: 100, FullName: "Trần Văn Bảy", Phone: "+84911000100", ZaloUserID: ptr("z-bay")},
			{ID: 101, FullName: "Lê Thị Mai", Phone: "+84911000101", ZaloUserID: ptr("z-mai"), Lang: "vi"},
			{ID: 102, FullName: "Phạm Văn Tư", Phone: "+84911000102"},
			{ID: 103, FullName: "Võ Minh Khoa", Phone: "+84911000103", ZaloUserID: ptr("z-khoa"), Lang: "en"},
			{ID: 104, FullName: "Đỗ Thị Hạnh", Phone: "+84911000104", ZaloUserID: ptr("z-hanh")},
		},
		Roles: []cnsbot.Role{
			{PersonID: 100, Role: cnsbot.RoleLeader, UnitID: 12, TeamID: ptr[int64](2), Approved: true},
			{PersonID: 101, Role: cnsbot.RoleMember, UnitID: 12, TeamID: ptr[int64](2), Approved: true},
			{PersonID: 102, Role: cnsbot.RoleMember, UnitID: 12, TeamID: ptr[int64](2), Approved: true},
			{PersonID: 103, Role: cnsbot.RoleLeader, UnitID: 11, TeamID: ptr[int64](1), Approved: true},
			{PersonID: 104, Role: cnsbot.RoleCommuneOfficer, UnitID: 1, Approved: true},
		},
	}
	f := &fixture{sessions: flowstest.NewSessions(), desk: desk, handoffs: &flowstest.Handoffs{},
		feedback: &flowstest.Feedback{}, privacy: &flowstest.Privacy{Desk: desk}, clock: flowstest.NewClock(t0), texts: texts}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.engine = flows.NewEngine(f.sessions, texts, flows.Options{Now: f.clock.Now, Handoffs: f.handoffs, Log: log,
		InfoImageURL: "https://example.invalid/form.png"})
	seed, err := content.Seed()
	if err != nil {
		t.Fatal(err)
	}
	if f.guides, err = content.NewMemory(seed); err != nil {
		t.Fatal(err)
	}
	f.deps = resident.Deps{Places: pl, HelpDesk: desk, Texts: texts, Sessions: f.sessions, Feedback: f.feedback,
		Lookups: &flowstest.Lookups{}, Privacy: f.privacy, Log: log, Guides: f.guides}
	if err := resident.Register(f.engine, f.deps); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) chat(t *testing.T, user string) *flowstest.Chat {
	return &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: user}
}

func TestDeclarations(t *testing.T) {
	f := newFixture(t)
	if err := f.engine.Check(); err != nil {
		t.Fatal(err)
	}
	if err := resident.Register(flows.NewEngine(f.sessions, f.texts, flows.Options{}), resident.Deps{}); err == nil {
		t.Error("Register without deps: want an error")
	}
	// A guide has one step per numbered text, and no guide step is longer
	// than one short message. (Check above found every text in both
	// languages.)
	numbered := regexp.MustCompile(`^resident\.[a-z]+\.[a-z0-9]+\.[0-9]+$`)
	texts := 0
	for _, id := range f.texts.IDs("vi") {
		if numbered.MatchString(id) {
			texts++
		}
	}
	steps := 0
	for _, fl := range f.engine.Flows() {
		for _, st := range fl.Steps {
			if st.Ask != "resident.guide.step" {
				continue
			}
			steps++
			id := st.Texts["text"]
			if want := fmt.Sprintf("resident.%s.%s", fl.Name, st.Name); id != want {
				t.Errorf("step %s/%s shows %s, want %s", fl.Name, st.Name, id, want)
			}
			for _, lang := range []string{"vi", "en"} {
				if !f.texts.Has(lang, id) {
					t.Errorf("%s: %s missing in %s", st.Name, id, lang)
					continue
				}
				if text := f.texts.T(lang, id, nil); len([]rune(text)) > 320 {
					t.Errorf("%s %s is %d characters; one step per message, keep it short", lang, id, len([]rune(text)))
				}
			}
		}
	}
	if steps != texts {
		t.Errorf("%d guide steps for %d numbered guide texts", steps, texts)
	}
}

// everyStepData is a conversation's answers at the summary, so that any
// step can be entered and asked.
var everyStepData = map[string]string{
	"name": "Nguyễn Thị Lan", "phone": "+84912345678", "commune": "u1", "commune_name": "Xã Tân Thành", "former_name": "Thị trấn Cái Nước",
	"hamlet": "u11", "hamlet_name": "Ấp Tân Hòa", "problem": "Quên mật khẩu", "problem_hint": "Quên mật khẩu",
	"topic": "vneid", "time": "Buổi sáng", "open_code": "HTBAAA", "stuck_at": "password.2",
}

func TestCancelBackMenuAtEveryStep(t *testing.T) {
	f := newFixture(t)
	flowstest.EveryStep(t, f.engine, f.sessions, everyStepData, t0)
}

// A journey is one person's conversation. Inputs starting with "!" are
// events other than text: "!submit Name|84…", "!photo URL", "!voice URL", "!follow",
// "!wait 31m".
type journey struct {
	name   string
	vi, en []string
	check  func(t *testing.T, f *fixture, lang string)
}

var journeys = []journey{
	{
		name: "vneid_install",
		vi:   []string{"cai vneid ko dc", "xong", "#tiep", "roi", "#tiep", "#lamduoc", "5"},
		en:   []string{"English", "install vneid", "done", "#tiep", "next", "#tiep", "it worked", "5"},
		check: func(t *testing.T, f *fixture, lang string) {
			if !slices.Equal(f.feedback.Ratings, []string{"vneid/install=5"}) {
				t.Errorf("ratings %v, want [vneid/install=5]", f.feedback.Ratings)
			}
		},
	},
	{
		name: "vneid_menu_paging",
		vi:   []string{"menu", "#vneid", "#them", "quen passcode", "quay lại", "#them", "#them", "#otp", "giúp", "menu"},
		en:   []string{"English", "#vneid", "more", "#passcode", "back", "#them", "#them", "#otp", "help", "menu"},
	},
	{
		name: "vneid_stuck_come",
		vi: []string{
			"quên mật khẩu", "#tiep", "#chuaduoc", "#thulai", "vẫn chưa được", "#dennha", "đồng ý", "#co",
			"Nguyễn Thị Lan", "0290 3831 234", "0912 345 678", "tan", "tan thanh", "tan hoa",
			"#giu", "sáng thứ Bảy", "#sua", "#gio", "#chieu", "#gui", "tình trạng", "!photo https://img.example/loi.jpg",
		},
		en: []string{
			"English", "forgot password", "#tiep", "still stuck", "#thulai", "#chuaduoc", "#dennha", "I agree",
			"Nguyen Thi Lan", "0290 3831 234", "0912 345 678", "tan", "tan thanh", "tan hoa",
			"#giu", "Saturday morning", "#sua", "#gio", "#chieu", "#gui", "status", "!photo https://img.example/loi.jpg",
		},
		check: func(t *testing.T, f *fixture, lang string) {
			if len(f.desk.Requests) != 1 {
				t.Fatalf("requests %v, want one", f.desk.Requests)
			}
			r := f.desk.Requests[0]
			// The guide the resident came from is kept by its Vietnamese
			// title, for the team; a time picked from buttons by its code.
			wantProblem, wantTime := "Quên mật khẩu", "afternoon"
			if r.HamletID != 11 || r.CommuneID != 1 || r.Phone != "+84912345678" || r.Topic != cnsbot.AreaVNeIDInstall ||
				r.Problem != wantProblem || r.PreferredTime != wantTime || r.TeamID == nil || *r.TeamID != 1 {
				t.Errorf("request %+v", r)
			}
			if len(f.desk.Attachments) != 1 || f.desk.Attachments[0].RequestID != r.ID {
				t.Errorf("attachments %+v, want the photo on request %d", f.desk.Attachments, r.ID)
			}
		},
	},
	{
		// Details typed after "gõ thêm cho rõ" add to the guide's name.
		name: "stuck_come_details",
		vi: []string{
			"#vneid", "#install", "#tiep", "#chuaduoc", "#dennha", "#dongy", "#co", "Nguyễn Thị Lan", "0912 345 678",
			"tan thanh", "tan hoa", "đến bước nhập số căn cước thì báo lỗi", "#sang", "#gui",
		},
		en: []string{
			"English", "#vneid", "#install", "#tiep", "#chuaduoc", "#dennha", "#dongy", "Nguyen Thi Lan", "0912 345 678",
			"tan thanh", "tan hoa", "it fails when I enter my ID number", "#sang", "#gui",
		},
		check: func(t *testing.T, f *fixture, lang string) {
			if len(f.desk.Requests) != 1 {
				t.Fatalf("requests %v, want one", f.desk.Requests)
			}
			title := map[string]string{"vi": "Cài và đăng ký mức 1", "en": "Install and register (level 1)"}[lang]
			detail := map[string]string{"vi": "đến bước nhập số căn cước thì báo lỗi", "en": "it fails when I enter my ID number"}[lang]
			if got, want := f.desk.Requests[0].Problem, title+" — "+detail; got != want {
				t.Errorf("problem %q, want %q: the guide and the details", got, want)
			}
		},
	},
	{
		name: "come_shared_phone",
		vi: []string{
			"!follow", "#dennha", "#dongy", "chú Hai", "Trần Văn Hai", "#chiase", "!submit Trần Văn Hai|84987654321",
			"#them", "#them", "Xã Tân Thành", "Cây Trâm", "#vneid", "#batky", "#gui",
		},
		en: []string{
			"!follow", "English", "#dennha", "#dongy", "Tran Van Hai", "#chiase", "!submit Trần Văn Hai|84987654321",
			"#them", "#them", "Xã Tân Thành", "Cây Trâm", "#vneid", "any time", "#gui",
		},
		check: func(t *testing.T, f *fixture, lang string) {
			out := f.sessions.Outbox()
			var to []string
			for _, m := range out {
				if m.Purpose == "notify" {
					to = append(to, m.To.String())
				}
			}
			// Cây Trâm's team has no group: its members with Zalo, privately.
			if !slices.Equal(to, []string{"u:z-bay", "u:z-mai"}) {
				t.Errorf("notified %v, want the two members with Zalo", to)
			}
			// The topic and the time were tapped: codes, whatever the
			// resident's language (the members read them as words above).
			if r := f.desk.Requests[0]; r.Topic != cnsbot.AreaVNeIDInstall || r.Problem != "" || r.PreferredTime != "any" {
				t.Errorf("request's topic, problem, time: %q %q %q, want vneid, empty, any", r.Topic, r.Problem, r.PreferredTime)
			}
		},
	},
	{
		name: "come_no_team_and_existing",
		vi: []string{
			"nhờ tổ đến nhà giúp", "dong y", "#chu", "Lê Văn Ba", "0977 111 222", "tan thanh", "ba dieu", "máy không lên VNeID",
			"#toi", "#gui", "menu", "#dennha", "#tinhtrang", "hủy",
		},
		en: []string{
			"English", "home visit", "yes", "Le Van Ba", "0977 111 222", "tan thanh", "ba dieu", "VNeID won't open",
			"#toi", "#gui", "menu", "#dennha", "#tinhtrang", "cancel",
		},
		check: func(t *testing.T, f *fixture, lang string) {
			out := f.sessions.Outbox()
			var officer bool
			for _, m := range out {
				if m.Purpose == "notify" && m.To.UserID == "z-hanh" {
					officer = true
				}
			}
			if !officer {
				t.Error("no team in the hamlet: the commune officer was not told")
			}
			// The transcript shows menus as [menu]: that the menu offers
			// the open request is checked here.
			var menus [][]string
			for _, m := range out {
				if p := flowstest.Payloads([]cnsbot.Outgoing{m}); f.engine.IsMenu(p) {
					menus = append(menus, p)
				}
			}
			if len(menus) == 0 || !slices.Contains(menus[len(menus)-1], "#tinhtrang") {
				t.Errorf("menus %v: the last one, after the request, does not offer it (#tinhtrang)", menus)
			}
		},
	},
	{
		name: "camaug_report_and_services",
		vi:   []string{"menu", "#camaug", "#report", "#tiep", "#tiep", "#tiep", "#tiep", "#lamduoc", "4", "camau g", "#khac", "#ttkdtm", "#tiep", "hủy"},
		en:   []string{"English", "#camaug", "#report", "#tiep", "#tiep", "#tiep", "#tiep", "#lamduoc", "4", "camau g", "#khac", "#ttkdtm", "next", "cancel"},
	},
	{
		name: "not_understood_then_person",
		vi:   []string{"menu", "#dichvu", "asdf qwer", "zzz", "#nguoi"},
		en:   []string{"English", "#dichvu", "asdf qwer", "zzz", "#nguoi"},
		check: func(t *testing.T, f *fixture, lang string) {
			if len(f.handoffs.Records) != 1 || !strings.Contains(f.handoffs.Records[0].Reason, "services/pick") {
				t.Errorf("handoffs %+v", f.handoffs.Records)
			}
		},
	},
	{
		// What people really write: greetings and thanks get a warm
		// answer, at the menu and in the middle of a guide, and never
		// count as not understood; a place name is not "ừ".
		name: "small_talk",
		vi:   []string{"!follow", "chào em", "alo", "#vneid", "#install", "cảm ơn nha", "#tiep", "xin chao", "menu", "ok cam on", "ok", "u minh"},
		en:   []string{"!follow", "English", "hello", "#vneid", "#install", "thanks", "#tiep", "hi", "menu", "ok thanks", "ok", "u minh"},
		check: func(t *testing.T, f *fixture, lang string) {
			misses := 0
			for _, m := range f.sessions.Outbox() {
				if strings.Contains(m.Text, f.texts.T(lang, "flows.miss.first", nil)) {
					misses++
				}
			}
			if misses != 1 {
				t.Errorf("%d answers said not understood, want 1 (only for “u minh”)", misses)
			}
			if len(f.handoffs.Records) != 0 {
				t.Errorf("small talk led to handoffs %+v", f.handoffs.Records)
			}
		},
	},
	{
		// The guides residents ask for most in 2025–26, each reached by
		// what they type; the first is walked to the end.
		name: "new_guides",
		vi: []string{"tài khoản an sinh xã hội", "#tiep", "#tiep", "#tiep", "#lamduoc", "5",
			"doi so dien thoai vneid", "menu", "them bao hiem y te cho con", "menu", "đổi thẻ căn cước sau sáp nhập", "menu",
			"ngân hàng bắt xác thực sinh trắc học", "menu", "may khong co nfc", "#tiep", "#tiep", "menu"},
		en: []string{"English", "social welfare account", "#tiep", "#tiep", "#tiep", "#lamduoc", "5",
			"change phone number", "menu", "add health insurance", "menu", "swap id card", "menu",
			"bank face check", "menu", "no nfc", "#tiep", "#tiep", "menu"},
	},
	{
		// "The police called me to update VNeID" lands on scam safety; an
		// OTP typed at the menu or into a form is warned about and kept
		// nowhere.
		name: "scam_call_and_otp",
		vi: []string{"công an gọi bắt cập nhật VNeID", "#tiep", "#tiep", "#tiep", "#tiep", "#lamduoc", "5",
			"483 912", "#dennha", "#dongy", "#co", "Lan", "4839", "0912345678", "menu"},
		en: []string{"English", "the police called me to update vneid", "#tiep", "#tiep", "#tiep", "#tiep", "#lamduoc", "5",
			"483 912", "#dennha", "#dongy", "Lan", "4839", "0912345678", "menu"},
		check: func(t *testing.T, f *fixture, lang string) {
			if !slices.Equal(f.feedback.Ratings, []string{"services/luadao=5"}) {
				t.Errorf("ratings %v, want [services/luadao=5]", f.feedback.Ratings)
			}
			s := f.sessions.Get("u:resident-1")
			for k, v := range s.Data {
				if strings.Contains(strings.ReplaceAll(v, " ", ""), "4839") {
					t.Errorf("session data %s = %q keeps the OTP-like number", k, v)
				}
			}
			for _, m := range f.sessions.Outbox() {
				if m.To.UserID != "resident-1" && strings.Contains(m.Text, "4839") {
					t.Errorf("the OTP-like number was forwarded to %v: %q", m.To, m.Text)
				}
			}
			if len(f.desk.Requests) != 0 {
				t.Errorf("requests %+v, want none (the form was left at the menu)", f.desk.Requests)
			}
		},
	},
	{
		// A resident names the town as it was before the 2025 merger: the
		// bot says its name now and asks; "no" picks again.
		name: "come_former_name",
		vi: []string{"#dennha", "#dongy", "#chu", "Trần Văn Hai", "0912345678", "thị trấn cái nuoc", "#khac", "tt cai nuoc", "#dung",
			"máy không lên VNeID", "#sang", "#gui"},
		en: []string{"English", "#dennha", "#dongy", "Tran Van Hai", "0912345678", "thi tran cai nuoc", "no", "tt cai nuoc", "yes",
			"VNeID won't open", "#sang", "#gui"},
		check: func(t *testing.T, f *fixture, lang string) {
			if len(f.desk.Requests) != 1 || f.desk.Requests[0].CommuneID != 6 {
				t.Fatalf("requests %+v, want one for Cái Nước (6)", f.desk.Requests)
			}
		},
	},
	{
		// Asked once, first in a request for a visit, how to be addressed:
		// every text then says "chú"; "gọi tôi là bà Năm" changes it. A
		// voice message gets a kind answer.
		name: "address_form",
		vi: []string{"!follow", "quen mat khau", "!voice https://voice.example/v.aac", "#tiep", "#chuaduoc", "#dennha", "#dongy", "#chu",
			"menu", "gọi tôi là bà Năm", "xưng hô", "#xungho ban", "menu"},
		en: []string{"!follow", "English", "call me ông Tư", "forgot password", "!voice https://voice.example/v.aac", "#tiep", "#chuaduoc", "menu"},
		check: func(t *testing.T, f *fixture, lang string) {
			want := map[string]string{"vi": "bạn", "en": "ông Tư"}[lang]
			if got := f.sessions.Get("u:resident-1").Notes[flows.NoteAddress]; got != want {
				t.Errorf("address note %q, want %q", got, want)
			}
		},
	},
	{
		name: "resume_unfinished_request",
		vi:   []string{"#dennha", "#dongy", "#co", "Lan", "!wait 2h", "0912345678", "#tieptuc", "0912345678", "!wait 3h", "menu"},
		en:   []string{"English", "#dennha", "#dongy", "Lan", "!wait 2h", "0912345678", "#lamlai", "Lan", "!wait 3h", "menu"},
	},
}

func TestJourneys(t *testing.T) {
	for _, j := range journeys {
		for _, lang := range []string{"vi", "en"} {
			t.Run(j.name+"."+lang, func(t *testing.T) {
				f := newFixture(t)
				const user = "resident-1"
				c := f.chat(t, user)
				inputs := j.vi
				if lang == "en" {
					inputs = j.en
				}
				var b strings.Builder
				for _, in := range inputs {
					fmt.Fprintf(&b, "> %s\n", in)
					b.WriteString(flowstest.Transcript(play(t, f, c, in), user, f.engine))
				}
				if c.Session().Lang != map[string]string{"vi": "", "en": "en"}[lang] {
					t.Errorf("session language %q, want %s", c.Session().Lang, lang)
				}
				flowstest.Golden(t, filepath.Join("testdata", j.name+"."+lang+".golden"), b.String())
				if j.check != nil {
					j.check(t, f, lang)
				}
			})
		}
	}
}

func play(t *testing.T, f *fixture, c *flowstest.Chat, in string) []cnsbot.Outgoing {
	t.Helper()
	cmd, arg, _ := strings.Cut(in, " ")
	switch cmd {
	case "!follow":
		return c.Follow()
	case "!photo":
		return c.Photo(arg)
	case "!voice":
		return c.Do(cnsbot.Event{Name: "user_send_audio", Kind: cnsbot.KindMedia, Attachments: []cnsbot.Attachment{{Type: "audio", URL: arg}}})
	case "!submit":
		name, phone, _ := strings.Cut(arg, "|")
		return c.Submit(cnsbot.UserInfo{Name: name, Phone: phone})
	case "!wait":
		d, err := time.ParseDuration(arg)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(d)
		return nil
	}
	return c.Say(in)
}

func TestStatusAndRating(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mine := cnsbot.HelpRequest{ResidentUserID: "r1", HamletID: 12, Problem: "Cài VNeID", SourceEvent: "e1"}
	theirs := cnsbot.HelpRequest{ResidentUserID: "r2", HamletID: 12, Problem: "x", SourceEvent: "e2"}
	if err := f.desk.CreateHelpRequest(ctx, &mine); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.CreateHelpRequest(ctx, &theirs); err != nil {
		t.Fatal(err)
	}
	c := f.chat(t, "r1")
	c.Say("menu")
	tests := []struct {
		setup func()
		say   string
		want  string
	}{
		{say: "tinh trang", want: "đang chờ thành viên tổ nhận"},
		{say: mine.Code, want: mine.Code + " (Cài VNeID) đang chờ"},
		{say: strings.ToLower(mine.Code), want: "đang chờ"},
		{say: "tình trạng " + mine.Code, want: "đang chờ"},
		{say: theirs.Code, want: "chưa hiểu"}, // someone else's code is not shown
		{setup: func() { f.desk.SetStatus(mine.Code, cnsbot.HelpTaken) }, say: "#tinhtrang", want: "đã có thành viên tổ nhận"},
		{say: "#danhgia " + mine.Code + " 5", want: "đã có thành viên tổ nhận"}, // not closed yet: status instead
		{setup: func() { f.desk.SetStatus(mine.Code, cnsbot.HelpClosed) }, say: mine.Code, want: "chấm giúp tổ"},
		{say: "#danhgia " + mine.Code + " 5", want: "Cảm ơn anh chị đã chấm điểm"},
		{say: "tình trạng", want: "chưa có yêu cầu nào"},
	}
	for i, tt := range tests {
		if tt.setup != nil {
			tt.setup()
		}
		if got := flowstest.Texts(c.Say(tt.say)); !strings.Contains(got, tt.want) {
			t.Errorf("%d %q: got %q, want %q in it", i, tt.say, got, tt.want)
		}
	}
	if r, _ := f.desk.HelpRequestByCode(ctx, mine.Code); r.Rating != 5 {
		t.Errorf("rating %d, want 5", r.Rating)
	}
}

func TestNotices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := cnsbot.HelpRequest{ResidentUserID: "r-en", HamletID: 12, Problem: "x", SourceEvent: "e1"}
	if err := f.desk.CreateHelpRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	f.sessions.Put(cnsbot.Session{Key: "u:r-en", Lang: "en"})
	notices := resident.NewNotices(f.texts, f.sessions, nil)
	taken := notices.Taken(ctx, r, "Lê Thị Mai", "+84912000111")
	if taken.To.UserID != "r-en" || taken.Lang != "en" || !strings.Contains(taken.Text, "Lê Thị Mai") || taken.ID != "help:"+r.Code+":taken" {
		t.Errorf("Taken = %+v", taken)
	}
	// The resident can check who comes: the member's phone, and that the
	// team never asks for money or codes.
	if want := flows.DisplayPhone("+84912000111"); !strings.Contains(taken.Text, want) || !strings.Contains(taken.Text, "never asks for money or OTP") {
		t.Errorf("Taken text %q: want the member's phone %s and the money/OTP line", taken.Text, want)
	}
	closed := notices.Closed(ctx, cnsbot.HelpRequest{Code: r.Code, ResidentUserID: "r-vi"})
	if closed.Lang != "vi" || len(closed.Buttons) != 5 || closed.Buttons[4].Payload != "#danhgia "+r.Code+" 5" {
		t.Errorf("Closed = %+v", closed)
	}
	// The rating buttons work as typed commands in the resident's chat.
	f.desk.SetStatus(r.Code, cnsbot.HelpClosed)
	c := f.chat(t, "r-en")
	if got := flowstest.Texts(c.Say(closed.Buttons[3].Payload)); !strings.Contains(got, "Thank you for rating") {
		t.Errorf("rating reply %q", got)
	}
}

func TestEscalateStale(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := t0.Add(-49 * time.Hour)
	for _, r := range []cnsbot.HelpRequest{
		{ResidentUserID: "a", HamletID: 12, Problem: "cũ", SourceEvent: "s1", CreatedAt: old},
		{ResidentUserID: "b", HamletID: 11, Problem: "cũ, có nhóm", SourceEvent: "s2", CreatedAt: old},
		{ResidentUserID: "c", HamletID: 12, Problem: "mới", SourceEvent: "s3", CreatedAt: t0.Add(-time.Hour)},
	} {
		if err := f.desk.CreateHelpRequest(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	out, err := resident.EscalateStale(ctx, f.deps, t0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out {
		got = append(got, fmt.Sprintf("%s %s %s fallback=%s", m.ID, m.To, m.Lang, m.FallbackGroup))
		if !strings.Contains(m.Text, "48") {
			t.Errorf("notice %q does not say how long it waited", m.Text)
		}
	}
	want := []string{
		"esc:HT3FGNBV:100 u:z-bay vi fallback=",
		"esc:HT3FGNBV:104 u:z-hanh vi fallback=",
		"esc:HT4TXBPQ:103 u:z-khoa en fallback=G-TANHOA",
		"esc:HT4TXBPQ:104 u:z-hanh vi fallback=G-TANHOA",
	}
	if !slices.Equal(got, want) {
		t.Errorf("escalations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	again, err := resident.EscalateStale(ctx, f.deps, t0.Add(time.Hour))
	if err != nil || len(again) != 0 {
		t.Errorf("second run: %d notices (%v), want none: each request escalates once", len(again), err)
	}
}

func TestPhotosBeforeAndAfterTheRequest(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "r1")
	c.Say("menu")
	if got := flowstest.Texts(c.Photo("https://img/0.jpg")); !strings.Contains(got, "chỉ đọc được chữ") {
		t.Errorf("photo without a request: %q", got)
	}
	c.Say("#dennha")
	c.Say("#dongy")
	c.Say("#co")
	for i := 1; i <= 6; i++ {
		c.Photo(fmt.Sprintf("https://img/%d.jpg", i))
	}
	if s := c.Session(); s.Step != "name" {
		t.Fatalf("photos moved the form to %s", s.Step)
	}
	for _, in := range []string{"Lan", "0912345678", "tan thanh", "tan hoa", "vneid", "sang", "#gui"} {
		c.Say(in)
	}
	if len(f.desk.Requests) != 1 || len(f.desk.Attachments) != 5 {
		t.Errorf("requests %d attachments %d, want 1 and 5 (kept while filling in)", len(f.desk.Requests), len(f.desk.Attachments))
	}
	c.Do(cnsbot.Event{Name: "user_send_location", Kind: cnsbot.KindMedia, Attachments: []cnsbot.Attachment{{Type: "location", Latitude: 9.17, Longitude: 105.15}}})
	if n := len(f.desk.Attachments); n != 6 || f.desk.Attachments[5].Latitude != 9.17 {
		t.Errorf("location after the request: %d attachments", n)
	}
}

func TestSubmitIsIdempotentAcrossRedelivery(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "r1")
	for _, in := range []string{"#dennha", "#dongy", "#co", "Lan", "0912345678", "tan thanh", "cay tram", "vneid", "sang"} {
		c.Say(in)
	}
	// The commit of "#gui" fails once (a crash after the store wrote the
	// request): the redelivered event must not create a second request
	// nor change the notices' ids.
	fail := true
	f.sessions.BeforeCommit = func(cnsbot.Session) {}
	ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "gui-1", Route: "u:r1", UserID: "r1", Text: "#gui"}
	var first []cnsbot.Outgoing
	failing := &failingSessions{Sessions: f.sessions, fail: &fail, seen: &first}
	e2 := flows.NewEngine(failing, f.texts, flows.Options{Now: f.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := resident.Register(e2, f.deps); err != nil {
		t.Fatal(err)
	}
	if err := e2.Handle(context.Background(), ev); err == nil {
		t.Fatal("want the failed commit's error")
	}
	if err := e2.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	second := f.sessions.Outbox()
	if len(f.desk.Requests) != 1 {
		t.Errorf("%d requests after redelivery, want 1", len(f.desk.Requests))
	}
	var ids1, ids2 []string
	for _, m := range first {
		ids1 = append(ids1, m.ID)
	}
	for _, m := range second[len(second)-len(first):] {
		ids2 = append(ids2, m.ID)
	}
	if !slices.Equal(ids1, ids2) {
		t.Errorf("ids %v then %v, want the same", ids1, ids2)
	}
}

// failingSessions fails the first commit, keeping what it would have sent.
type failingSessions struct {
	*flowstest.Sessions
	fail *bool
	seen *[]cnsbot.Outgoing
}

func (s *failingSessions) Commit(ctx context.Context, sess cnsbot.Session, out []cnsbot.Outgoing) error {
	if *s.fail {
		*s.fail = false
		*s.seen = out
		return cnsbot.Errorf(cnsbot.EUNAVAILABLE, "redis went away")
	}
	return s.Sessions.Commit(ctx, sess, out)
}

// Every guide in the repository can be published: each has a public
// source and the date it was checked (content.Guide.Check), and each flow
// that offers guides has some.
func TestGuideSources(t *testing.T) {
	seed, err := content.Seed()
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, f := range seed {
		if err := f.Guide.Check(); err != nil {
			t.Errorf("%s: %v", f.Dir, err)
		}
		if want := "guides/" + f.Guide.Flow + "/" + f.Guide.ID; f.Dir != want {
			t.Errorf("guide %s lives in %s, want %s", f.Guide.Key(), f.Dir, want)
		}
		per[f.Guide.Flow]++
	}
	for _, flow := range []string{resident.FlowVNeID, resident.FlowCaMauG, resident.FlowServices} {
		if per[flow] == 0 {
			t.Errorf("flow %s offers no guide", flow)
		}
	}
	if len(seed) < 10 {
		t.Errorf("%d guides in the repository: the walk over content/guides is broken", len(seed))
	}
}
