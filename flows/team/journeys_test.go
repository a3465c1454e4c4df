package team_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// A journey is a conversation, in Vietnamese and in English, whose
// transcript is kept in testdata/<name>.<lang>.golden. Inputs are said by
// user unless they start with "@<zalo id> " (see play).
type journey struct {
	name   string
	user   string
	setup  func(t *testing.T, f *fixture)
	vi, en []string
	check  func(t *testing.T, f *fixture, lang string)
	// menu shows the main menu's buttons. Only the menu's own journey
	// does: the others show "[menu]" (flowstest.Transcript), so that a
	// new menu item changes two golden files, not every journey's.
	menu bool
}

var journeys = []journey{
	{
		// The main menu as a resident (who is offered to enrol, so it
		// pages) and as a member (who reports visits) see it.
		name: "main_menu",
		user: "2001",
		menu: true,
		vi:   []string{"menu", "#them", "#them", "@" + zMai + " menu", "@" + zMai + " #them"},
		en:   []string{"English", "#them", "#them", "@" + zMai + " English", "@" + zMai + " #them"},
	},
	{
		name: "visit_steps",
		user: zMai,
		vi: []string{"menu", "#bc", "nhà ông Năm", "#vneid", "#dvc", "#xong", "2", "1g30",
			"!photo https://img.example/nam.jpg", "!location 9.1769,105.1524", "#tiep", "hẹn quay lại cài thanh toán",
			"#sua", "#songuoi", "3", "#luu"},
		en: []string{"English", "#bc", "nhà ông Năm", "#vneid", "#dvc", "done", "2", "1h30",
			"!photo https://img.example/nam.jpg", "!location 9.1769,105.1524", "next", "coming back for payments",
			"edit", "people", "3", "save"},
		check: func(t *testing.T, f *fixture, lang string) {
			vs := f.visits(t, f.person(t, "0987654321").ID)
			if len(vs) != 1 {
				t.Fatalf("visits %+v, want one", vs)
			}
			v := vs[0]
			if v.Household != "nhà ông Năm" || v.Areas != "vneid,dvc" || v.People != 3 || v.Minutes != 90 ||
				v.PhotoURL != "https://img.example/nam.jpg" || v.Latitude != 9.1769 || v.Note == "" ||
				v.TeamID != f.team(t, "An Xuyên", "Ấp 1").ID {
				t.Errorf("visit %+v", v)
			}
		},
	},
	{
		name: "visit_one_line",
		user: zMai,
		vi: []string{"bc ấp 1, nhà ông Năm, vneid+dvc, 2 người, 30p", "#luu", "!wait 1h",
			"bc nha ba Tu, dinh danh", "2", "45p", "#luu", "!wait 1h",
			"bc", "#h2", "#khac", "#xong", "1", "#15", "#tiep", "#boqua", "#luu"},
		en: []string{"English", "bc ấp 1, nhà ông Năm, vneid+dvc, 2 người, 30p", "save", "!wait 1h",
			"bc nha ba Tu, dinh danh", "2", "45 min", "save", "!wait 1h",
			"report", "#h2", "#khac", "#xong", "1", "#15", "skip", "skip", "save"},
		check: func(t *testing.T, f *fixture, lang string) {
			vs := f.visits(t, f.person(t, "0987654321").ID)
			var got []string
			for _, v := range vs {
				got = append(got, fmt.Sprintf("%s|%s|%d|%d", v.Household, v.Areas, v.People, v.Minutes))
			}
			want := []string{"nhà ông Năm|vneid,dvc|2|30", "nha ba Tu|vneid|2|45", "nhà ông Năm|khac|1|15"}
			if !slices.Equal(got, want) {
				t.Errorf("visits %q, want %q", got, want)
			}
			guided, _, err := f.db.TeamProgress(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID)
			if err != nil || guided != 2 {
				t.Errorf("guided %d (%v), want 2: the same household counts once", guided, err)
			}
		},
	},
	{
		name: "visit_typed",
		user: zMai,
		vi:   []string{"báo cáo thăm hộ", "nha ba Hai", "1 4", "hai người", "2", "bỏ qua", "không", "đúng rồi"},
		en:   []string{"English", "report", "nha ba Hai", "1 4", "2 people", "2", "skip", "skip", "yes"},
		check: func(t *testing.T, f *fixture, lang string) {
			vs := f.visits(t, f.person(t, "0987654321").ID)
			if len(vs) != 1 || vs[0].Areas != "vneid,dvc" || vs[0].People != 2 || vs[0].Minutes != 120 || vs[0].Note != "" {
				t.Errorf("visits %+v", vs)
			}
		},
	},
	{
		// A hamlet named without "ấp" is the hamlet, not the household; a
		// hamlet the commune does not have is asked about, not guessed.
		name: "visit_hamlet_named",
		user: zMai,
		vi: []string{"bc tan dan, nha ba Hai Loan, vneid, 2 nguoi, 30p", "#luu",
			"bc ấp 9, nhà ông Tư, vneid, 1 người, 20p", "ấp 1", "#luu"},
		en: []string{"English", "bc tan dan, nha ba Hai Loan, vneid, 2 nguoi, 30p", "save",
			"bc ấp 9, nhà ông Tư, vneid, 1 người, 20p", "ấp 1", "save"},
		check: func(t *testing.T, f *fixture, lang string) {
			var got []string
			for _, v := range f.visits(t, f.person(t, "0987654321").ID) {
				got = append(got, v.Household)
			}
			if want := []string{"nha ba Hai Loan (Ấp Tân Dân)", "nhà ông Tư"}; !slices.Equal(got, want) {
				t.Errorf("visits %q, want %q", got, want)
			}
		},
	},
	{
		name: "visit_two_teams",
		user: zNgoc,
		vi: []string{"bc ấp 2, nhà ông Ba, y tế, 1 người, 20p", "#luu",
			"bc nhà ông Sáu, vneid, 1 người, 20p", "ấp 1", "#luu",
			"bc ấp Tân Dân, nhà bà Chín, vneid, 1 người, 20p", "ấp 2", "#luu"},
		en: []string{"English", "bc ấp 2, nhà ông Ba, y tế, 1 người, 20p", "save",
			"bc nhà ông Sáu, vneid, 1 người, 20p", "ấp 1", "save",
			"bc ấp Tân Dân, nhà bà Chín, vneid, 1 người, 20p", "ấp 2", "save"},
		check: func(t *testing.T, f *fixture, lang string) {
			a1, a2 := f.team(t, "An Xuyên", "Ấp 1").ID, f.team(t, "An Xuyên", "Ấp 2").ID
			var got []string
			for _, v := range f.visits(t, f.person(t, "0388112344").ID) {
				got = append(got, fmt.Sprintf("%s@%d", v.Household, v.TeamID))
			}
			want := []string{fmt.Sprintf("nhà ông Ba@%d", a2), fmt.Sprintf("nhà ông Sáu@%d", a1), fmt.Sprintf("nhà bà Chín (Ấp Tân Dân)@%d", a2)}
			if !slices.Equal(got, want) {
				t.Errorf("visits %q, want %q", got, want)
			}
		},
	},
	{
		name: "enrol_known",
		user: "2001",
		vi:   []string{"đăng ký", "0903 112 233", "#chiase", "!submit Lê Hoàng Phúc|84903112233", "#dungroi", "menu", "bc", "hủy"},
		en:   []string{"English", "#dangky", "#chiase", "!submit Lê Hoàng Phúc|84903112233", "yes", "menu", "#bc", "cancel"},
		check: func(t *testing.T, f *fixture, lang string) {
			p := f.person(t, phPhuc)
			if p.ZaloUserID == nil || *p.ZaloUserID != "2001" {
				t.Errorf("Phúc's Zalo is %v, want 2001", p.ZaloUserID)
			}
		},
	},
	{
		name: "enrol_not_me",
		user: "2002",
		vi:   []string{"#dangky", "#chiase", "!submit Phúc|84903112233", "#khongphai", "đăng ký", "0987 654 321"},
		en:   []string{"English", "#dangky", "share", "!submit Phúc|84903112233", "that's not me", "register", "0987 654 321"},
		check: func(t *testing.T, f *fixture, lang string) {
			if p := f.person(t, phPhuc); p.ZaloUserID != nil {
				t.Errorf("Phúc linked to %v after “not me”", *p.ZaloUserID)
			}
		},
	},
	{
		name: "enrol_unknown_approved",
		user: "3001",
		vi: []string{"đăng ký", "0909 999 888", "#nhoduyet", "an xuyen", "ấp 1", "Trần Văn Mới", "bc",
			"@" + zMai + " duyệt {pending}", "@" + zHung + " duyệt {pending}", "@" + zHung + " duyệt {pending}", "bc", "hủy"},
		en: []string{"English", "register", "0909 999 888", "ask my team leader", "an xuyen", "ấp 1", "Tran Van Moi", "report",
			"@" + zMai + " approve {pending}", "@" + zHung + " approve {pending}", "@" + zHung + " approve 999", "report", "cancel"},
		check: func(t *testing.T, f *fixture, lang string) {
			p, roles, err := f.db.PersonByPhone(f.ctx, "0909999888")
			if err != nil || len(roles) != 1 || !roles[0].Approved || p.ZaloUserID == nil || *p.ZaloUserID != "3001" {
				t.Errorf("new member %+v %+v %v", p, roles, err)
			}
		},
	},
	{
		name: "help_take_close",
		user: zMai,
		setup: func(t *testing.T, f *fixture) {
			r := f.helpRequest(t, "r-1", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
			f.vars["code"] = r.Code
		},
		vi: []string{"yêu cầu", "#nhan {code}", "@" + zHung + " nhận {code}", "xong {code}", "#lamduoc", "45p",
			"@" + zHung + " xong {code}", "yêu cầu"},
		en: []string{"English", "requests", "#nhan {code}", "@" + zHung + " take {code}", "done {code}", "It worked", "45 min",
			"@" + zHung + " done {code}", "requests"},
		check: func(t *testing.T, f *fixture, lang string) {
			code := f.vars["code"]
			r, err := f.db.HelpRequestByCode(f.ctx, code)
			mai := f.person(t, "0987654321")
			if err != nil || r.Status != cnsbot.HelpClosed || r.TakenBy == nil || *r.TakenBy != mai.ID || r.Outcome != cnsbot.OutcomeDone {
				t.Errorf("request %+v %v", r, err)
			}
			vs := f.visits(t, mai.ID)
			if len(vs) != 1 || vs[0].HelpCode != code || vs[0].Minutes != 45 || vs[0].Household != "Nguyễn Thị Lan" || vs[0].Note != "" {
				t.Errorf("visits %+v", vs)
			}
			var ids []string
			for _, m := range f.sessions.Outbox() {
				if m.To.UserID == "r-1" {
					ids = append(ids, m.ID)
				}
			}
			if want := []string{"help:" + code + ":taken", "help:" + code + ":closed"}; !slices.Equal(ids, want) {
				t.Errorf("resident told %v, want %v", ids, want)
			}
		},
	},
	typedOutcome,
	areaProgress,
}

// typedOutcome is a close whose outcome the member types: words that are
// no button's are kept as written, on the request and as the visit's note.
var typedOutcome = journey{
	name: "help_close_typed",
	user: zMai,
	setup: func(t *testing.T, f *fixture) {
		r := f.helpRequest(t, "r-1", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
		f.vars["code"] = r.Code
	},
	vi: []string{"#nhan {code}", "xong {code}", "Cài xong VNeID, mẹ tự đăng nhập được", "30p"},
	en: []string{"English", "#nhan {code}", "done {code}", "Cài xong VNeID, mẹ tự đăng nhập được", "30 min"},
	check: func(t *testing.T, f *fixture, lang string) {
		r, err := f.db.HelpRequestByCode(f.ctx, f.vars["code"])
		const typed = "Cài xong VNeID, mẹ tự đăng nhập được"
		if err != nil || r.Status != cnsbot.HelpClosed || r.Outcome != typed {
			t.Errorf("request %+v %v", r, err)
		}
		if vs := f.visits(t, f.person(t, "0987654321").ID); len(vs) != 1 || vs[0].Note != typed {
			t.Errorf("visits %+v", vs)
		}
	},
}

// areaProgress is "tiến độ" with visits in six areas of the plan: a line
// per area, most households first, the four largest and a count of the
// rest; a household visited twice in an area counts once there.
var areaProgress = journey{
	name: "progress_areas",
	user: zMai,
	setup: func(t *testing.T, f *fixture) {
		team := f.team(t, "An Xuyên", "Ấp 1")
		mai := f.person(t, "0987654321")
		for i, v := range []struct{ household, areas string }{
			{"nhà ông Năm", "vneid,dvc"}, {"ông Năm", "vneid,yte"}, {"bà Tư", "vneid,ttkdtm"}, {"bà Sáu", "dvc,giaoduc"},
			{"ông Bảy", "antoan"}, {"ông Tám", "khac"},
		} {
			visit := cnsbot.Visit{PersonID: mai.ID, TeamID: team.ID, Household: v.household, Areas: v.areas, People: 1, Minutes: 30,
				VisitedAt: f.clock.Now().Add(-time.Hour), SourceEvent: fmt.Sprintf("area-%d", i)}
			if _, err := f.db.RecordVisit(f.ctx, &visit); err != nil {
				t.Fatal(err)
			}
		}
	},
	vi: []string{"tiến độ"},
	en: []string{"English", "progress"},
}

func TestJourneys(t *testing.T) {
	for _, j := range journeys {
		for _, lang := range []string{"vi", "en"} {
			t.Run(j.name+"."+lang, func(t *testing.T) {
				runJourney(t, newFixture(t, options{}), j, lang)
			})
		}
	}
}

// TestJourneysPostgres runs journeys on Postgres: the same transcripts come
// out of the other database.
func TestJourneysPostgres(t *testing.T) {
	for _, j := range journeys {
		switch j.name {
		case "visit_one_line", "visit_two_teams", "enrol_unknown_approved", "help_take_close":
		default:
			continue
		}
		t.Run(j.name, func(t *testing.T) {
			runJourney(t, newFixture(t, options{databaseURL: storetest.PostgresURL(t)}), j, "vi")
		})
	}
}

func runJourney(t *testing.T, f *fixture, j journey, lang string) {
	t.Helper()
	if j.setup != nil {
		j.setup(t, f)
	}
	inputs := j.vi
	if lang == "en" {
		inputs = j.en
	}
	var b strings.Builder
	for _, in := range inputs {
		said := in
		if strings.Contains(in, "{pending}") {
			// The id of the person who enrolled from chat.
			if p, _, err := f.db.PersonByPhone(f.ctx, "0909999888"); err == nil {
				said = strings.ReplaceAll(in, "{pending}", fmt.Sprint(p.ID))
			}
		}
		who, out := f.play(t, j.user, said)
		if who == j.user {
			fmt.Fprintf(&b, "> %s\n", in)
		} else {
			fmt.Fprintf(&b, "> [%s] %s\n", who, strings.TrimPrefix(in, "@"+who+" "))
		}
		var menu flowstest.Menu = f.engine
		if j.menu {
			menu = nil
		}
		b.WriteString(f.unvar(flowstest.Transcript(out, who, menu)))
	}
	flowstest.Golden(t, filepath.Join("testdata", j.name+"."+lang+".golden"), b.String())
	if j.check != nil {
		j.check(t, f, lang)
	}
}
