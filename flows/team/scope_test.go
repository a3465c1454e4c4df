package team_test

import (
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// zBao is a province officer added by addProvinceOfficer.
const zBao = "1009"

// addProvinceOfficer puts a province officer on the roster, linked to zBao.
func (f *fixture) addProvinceOfficer(t *testing.T) cnsbot.Person {
	t.Helper()
	communes, err := f.db.Communes(f.ctx)
	if err != nil || len(communes) == 0 || communes[0].ParentID == nil {
		t.Fatalf("communes %v: %v", communes, err)
	}
	province, err := f.db.Unit(f.ctx, *communes[0].ParentID)
	if err != nil {
		t.Fatal(err)
	}
	z := zBao
	p := cnsbot.Person{FullName: "Huỳnh Quốc Bảo", Phone: "+84945778899", ZaloUserID: &z}
	if err := store.Insert(f.ctx, f.db, &p); err != nil {
		t.Fatal(err)
	}
	r := cnsbot.Role{PersonID: p.ID, Role: cnsbot.RoleProvinceOfficer, UnitID: province.ID, Approved: true}
	if err := store.Insert(f.ctx, f.db, &r); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCrossHamletTake is the attack of issue 11: a leader of Ấp 1 (An
// Xuyên) and An Xuyên's commune officer type the code of a request of Ấp
// Bà Điều (Tân Thành), privately and in Ấp 1's group. They get what a code
// that does not exist gets, never the resident's name or phone, and the
// request stays open; Bà Điều's own leader and the province officer may
// take it.
func TestCrossHamletTake(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	bao := f.addProvinceOfficer(t)
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G-AP1"); err != nil {
		t.Fatal(err)
	}
	req := f.helpRequest(t, "r-badieu", "Tân Thành", "Ấp Bà Điều", "cài VNeID")
	const missing = "HT99ZZZZ"
	same := func(who, say string, got, want []cnsbot.Outgoing) {
		t.Helper()
		g, w := flowstest.Render(got, who), flowstest.Render(want, who)
		if strings.ReplaceAll(g, req.Code, missing) != w {
			t.Errorf("%s %q: got\n%s\nwant what a missing code gets:\n%s", who, say, g, w)
		}
		if strings.Contains(g, "Nguyễn Thị Lan") || strings.Contains(g, "912") {
			t.Errorf("%s %q: the resident's name or phone was shown:\n%s", who, say, g)
		}
	}
	for _, who := range []string{zHung, zHa} {
		f.chat(t, who).Say("menu") // past the first greeting
		for _, cmd := range []string{"nhận %s", "xong %s", "#nhan %s", "nhận #%s"} {
			say := strings.ReplaceAll(cmd, "%s", strings.ToLower(req.Code))
			got := f.chat(t, who).Say(say)
			f.chat(t, who).Say("menu")
			want := f.chat(t, who).Say(strings.ReplaceAll(cmd, "%s", strings.ToLower(missing)))
			f.chat(t, who).Say("menu")
			same(who, say, got, want)
		}
	}
	g := f.group(t, "G-AP1")
	same(zHung, "group nhận", g.Say(zHung, "nhận "+req.Code), g.Say(zHung, "nhận "+missing))
	same(zHung, "group #nhan", g.Say(zHung, "#nhan "+req.Code), g.Say(zHung, "#nhan "+missing))
	if r, _ := f.db.HelpRequestByCode(f.ctx, req.Code); r.Status != cnsbot.HelpOpen || r.TakenBy != nil {
		t.Fatalf("after the attempts: %s, taken by %v; want open", r.Status, r.TakenBy)
	}
	// An Xuyên's officer and Ấp 1's members do not see it in lists either.
	if got := flowstest.Texts(f.chat(t, zHung).Say("yêu cầu")); strings.Contains(got, req.Code) {
		t.Errorf("Ấp 1's leader lists Bà Điều's request: %q", got)
	}

	// The province officer takes it and gets the contact details.
	got := flowstest.Render(f.chat(t, zBao).Say("nhận "+req.Code), zBao)
	if !strings.Contains(got, "Nguyễn Thị Lan") || !strings.Contains(got, "<< to u:r-badieu") {
		t.Errorf("province officer takes:\n%s", got)
	}
	if r, _ := f.db.HelpRequestByCode(f.ctx, req.Code); r.TakenBy == nil || *r.TakenBy != bao.ID {
		t.Fatalf("taken by %v, want the province officer %d", r.TakenBy, bao.ID)
	}
	// Bà Điều's leader is told it is taken (the request is theirs to see).
	if got := flowstest.Texts(f.chat(t, zTu).Say("nhận " + req.Code)); !strings.Contains(got, "đã có") {
		t.Errorf("Bà Điều's leader on a taken request: %q", got)
	}
	// The province officer closes it: no visit of theirs is counted.
	c := f.chat(t, zBao)
	c.Say("xong " + req.Code)
	c.Say("#lamduoc")
	got = flowstest.Render(c.Say("30 phút"), zBao)
	if !strings.Contains(got, "Đã đóng yêu cầu "+req.Code) || !strings.Contains(got, "<< to u:r-badieu") {
		t.Errorf("province officer closes:\n%s", got)
	}
	if r, _ := f.db.HelpRequestByCode(f.ctx, req.Code); r.Status != cnsbot.HelpClosed {
		t.Errorf("status %s, want closed", r.Status)
	}
	if vs := f.visits(t, bao.ID); len(vs) != 0 {
		t.Errorf("an officer's close counted %d visits", len(vs))
	}
}

// TestGroupListNeedsTheRoster: in a team's group, "#yeucau" lists the
// hamlet's requests for its members, and nothing for someone who is not
// on the roster.
func TestGroupListNeedsTheRoster(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G-AP1"); err != nil {
		t.Fatal(err)
	}
	req := f.helpRequest(t, "r-ap1", "An Xuyên", "Ấp 1", "cài VNeID")
	g := f.group(t, "G-AP1")
	if got := flowstest.Texts(g.Say(zMai, "#yeucau")); !strings.Contains(got, req.Code) {
		t.Errorf("member: %q, want the request listed", got)
	}
	if got := flowstest.Texts(g.Say("stranger", "#yeucau")); strings.Contains(got, req.Code) {
		t.Errorf("someone not on the roster sees %q", got)
	}
	// Tư leads Bà Điều's team: in Ấp 1's group he sees none of Ấp 1's.
	if got := flowstest.Texts(g.Say(zTu, "#yeucau")); strings.Contains(got, req.Code) {
		t.Errorf("another hamlet's leader sees %q", got)
	}
}

// TestTeamLookupLimit: a member who types codes by the dozen is told kindly
// to wait; the limit is per Zalo user.
func TestTeamLookupLimit(t *testing.T) {
	f := newFixture(t, options{teamOnly: true, lookups: store.NewLookupLimiter(storetest.MiniRedis(t), "t:", 10, 30)})
	req := f.helpRequest(t, "r-ap1", "An Xuyên", "Ấp 1", "cài VNeID")
	c := f.chat(t, zMai)
	for i := range 10 {
		if got := flowstest.Texts(c.Say("nhận HT" + strings.Repeat(string("23456789BC"[i]), 6))); !strings.Contains(got, "không thấy") {
			t.Fatalf("lookup %d: %q", i+1, got)
		}
	}
	got := flowstest.Texts(c.Say("nhận " + req.Code))
	if !strings.Contains(got, "tra mã hơi nhiều") || strings.Contains(got, "Nguyễn Thị Lan") {
		t.Errorf("11th lookup in a minute: %q, want the kind refusal", got)
	}
	if r, _ := f.db.HelpRequestByCode(f.ctx, req.Code); r.Status != cnsbot.HelpOpen {
		t.Errorf("refused lookup took the request: %s", r.Status)
	}
	if got := flowstest.Texts(f.chat(t, zHung).Say("nhận " + req.Code)); !strings.Contains(got, "Nguyễn Thị Lan") {
		t.Errorf("another member is slowed: %q", got)
	}
}
