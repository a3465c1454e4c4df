package team_test

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// rewire registers the team flows again, on a new engine, with changed
// dependencies; call it before any chat starts.
func rewire(t *testing.T, f *fixture, change func(*team.Deps)) {
	t.Helper()
	change(&f.deps)
	f.engine = flows.NewEngine(f.sessions, f.texts, flows.Options{Now: f.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handoffs: f.db, Directory: f.db, InfoImageURL: "https://example.invalid/form.png"})
	if err := team.Register(f.engine, f.deps); err != nil {
		t.Fatal(err)
	}
	f.chats = map[string]*flowstest.Chat{}
}

// say plays inputs as user and returns what the user was told (not what
// others were).
func (f *fixture) say(t *testing.T, user string, inputs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, in := range inputs {
		_, out := f.play(t, user, in)
		var own []cnsbot.Outgoing
		for _, m := range out {
			if m.To.UserID == user {
				own = append(own, m)
			}
		}
		b.WriteString("> " + in + "\n" + flowstest.Render(own, user))
	}
	return b.String()
}

// sentTo returns the messages queued so far to a user.
// replies drops the inputs from a transcript of say.
func replies(transcript string) string {
	var keep []string
	for _, l := range strings.Split(transcript, "\n") {
		if !strings.HasPrefix(l, "> ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func (f *fixture) sentTo(user string) []cnsbot.Outgoing {
	var out []cnsbot.Outgoing
	for _, m := range f.sessions.Outbox() {
		if m.To.UserID == user {
			out = append(out, m)
		}
	}
	return out
}

func (f *fixture) linkedTo(t *testing.T, zalo string) (cnsbot.Person, bool) {
	t.Helper()
	p, _, err := f.db.PersonByZalo(f.ctx, zalo)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		return p, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}

func (f *fixture) enrolCode(t *testing.T, phone string) string {
	t.Helper()
	code, _, err := f.db.CreateEnrolCode(f.ctx, f.person(t, phone).ID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// A typed phone is answered the same whether it is nobody's, a plain
// member's, a leader's or an officer's, linked or not: it tells a stranger
// neither whether nor who is on the roster.
func TestTypedPhoneRevealsNothing(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	inputs := func(phone string) []string {
		return []string{"đăng ký", phone, "đúng rồi", "#dungroi", "#nhoduyet", "an xuyen", "ấp 1", "Ai Đó"}
	}
	phones := map[string]string{
		"nobody's":               "0909 999 777",
		"a member's":             phPhuc,
		"a leader's":             "0912 345 678",
		"an officer's":           "0911 000 104",
		"a linked member's":      "0987 654 321",
		"another commune's lead": "0918 222 333",
	}
	var first, firstWhose string
	n := 0
	for whose, phone := range phones {
		n++
		user := "70" + strconv.Itoa(n)
		got := replies(f.say(t, user, inputs(phone)...))
		for _, secret := range []string{"Lê Hoàng Phúc", "Nguyễn Văn Hùng", "Võ Thị Thu Hà", "Trần Thị Mai", "Phạm Văn Tư", "• Thành viên", "• Tổ trưởng", "• Cán bộ"} {
			if strings.Contains(replies(got), secret) {
				t.Errorf("%s phone: the answer holds %q:\n%s", whose, secret, got)
			}
		}
		if first == "" {
			first, firstWhose = got, whose
		} else if got != first {
			t.Errorf("%s phone and %s phone are answered differently:\n%s\n---\n%s", firstWhose, whose, first, got)
		}
		if p, ok := f.linkedTo(t, user); ok && whose != "nobody's" {
			t.Errorf("%s phone linked the stranger to %s", whose, p.FullName)
		}
		if _, roles, ok, _ := personRoles(t, f, user); ok && !pendingOnly(roles) {
			t.Errorf("%s phone gave the stranger an approved role: %+v", whose, roles)
		}
	}
	if !strings.Contains(first, "Chia sẻ số Zalo") || !strings.Contains(first, "#ma") {
		t.Errorf("the answer to a typed phone offers neither the share form nor a code:\n%s", first)
	}
}

func personRoles(t *testing.T, f *fixture, zalo string) (cnsbot.Person, []cnsbot.Role, bool, error) {
	t.Helper()
	p, roles, err := f.db.PersonByZalo(f.ctx, zalo)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		return p, nil, false, nil
	}
	return p, roles, err == nil, err
}

func pendingOnly(roles []cnsbot.Role) bool {
	for _, r := range roles {
		if r.Approved {
			return false
		}
	}
	return true
}

// A stranger who types a leader's phone and says "đúng rồi" gets nothing
// of the leader's; the real leader hears that someone tried.
func TestTypedLeaderPhoneNeverLinks(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	req := f.helpRequest(t, "r-9", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
	got := f.say(t, "2004", "đăng ký", "0912 345 678", "đúng rồi", "#dungroi", "#nhoduyet", "an xuyen", "ấp 1",
		"Nguyễn Văn Hùng", "yêu cầu", "nhận "+req.Code, "tiến độ")
	for _, secret := range []string{"Nguyễn Thị Lan", "0912 000 111", req.Code, "Tổ trưởng, Tổ"} {
		if strings.Contains(replies(got), secret) {
			t.Errorf("the stranger read %q:\n%s", secret, got)
		}
	}
	if p, ok := f.linkedTo(t, "2004"); ok {
		t.Errorf("the stranger is %s", p.FullName)
	}
	if p, ok := f.linkedTo(t, zHung); !ok || p.FullName != "Nguyễn Văn Hùng" {
		t.Errorf("Hùng's Zalo lost him: %+v", p)
	}
	if !strings.Contains(flowstest.Texts(f.sentTo(zHung)), "gõ số điện thoại của bạn") {
		t.Errorf("Hùng was not told someone typed his number: %q", flowstest.Texts(f.sentTo(zHung)))
	}
	// Nor does Hùng's approval link anyone to himself or to Tâm (a leader).
	hung := f.person(t, "0912 345 678")
	f.say(t, zHung, "duyệt "+strconv.FormatInt(hung.ID, 10))
	if _, ok := f.linkedTo(t, "2004"); ok {
		t.Error("a leader's approval linked the stranger")
	}
}

// A shared phone already linked to someone else moves nobody: only an
// officer's code does.
func TestSharedPhoneOfLinkedPersonMovesNobody(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	got := f.say(t, "2005", "đăng ký", "#chiase", "!submit Nguyễn Văn Hùng|84912345678", "đúng rồi")
	if !strings.Contains(got, "đã gắn với một tài khoản Zalo khác") {
		t.Errorf("answer:\n%s", got)
	}
	if _, ok := f.linkedTo(t, "2005"); ok {
		t.Error("a shared phone moved a linked leader")
	}
}

// With DoubtSharedPhone, the share form proves nothing.
func TestDoubtSharedPhone(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	rewire(t, f, func(d *team.Deps) { d.DoubtSharedPhone = true })
	got := f.say(t, "2006", "đăng ký", "#chiase", "!submit Lê Hoàng Phúc|84903112233", "đúng rồi", "#dungroi")
	if strings.Contains(got, "Lê Hoàng Phúc\n") || !strings.Contains(got, "Nhập mã đăng ký") {
		t.Errorf("answer:\n%s", got)
	}
	if _, ok := f.linkedTo(t, "2006"); ok {
		t.Error("a doubted shared phone linked")
	}
}

// A plain member who typed their phone is linked once their leader says
// "duyệt"; before that they see nothing of the team.
func TestTypedMemberPhoneLeaderApproves(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	f.helpRequest(t, "r-8", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
	phuc := f.person(t, phPhuc)
	id := strconv.FormatInt(phuc.ID, 10)
	f.say(t, "2003", "đăng ký", phPhuc, "#nhoduyet", "an xuyen", "ấp 1", "Phúc nè")
	notice := flowstest.Texts(f.sentTo(zHung))
	if !strings.Contains(notice, "Lê Hoàng Phúc") || !strings.Contains(notice, "Phúc nè") || !strings.Contains(notice, "duyệt "+id) {
		t.Errorf("the leader's notice: %q", notice)
	}
	if _, ok := f.linkedTo(t, "2003"); ok {
		t.Fatal("linked before the leader approved")
	}
	if got := f.say(t, "2003", "yêu cầu"); strings.Contains(got, "Nguyễn Thị Lan") || strings.Contains(got, "Cài VNeID") {
		t.Errorf("unapproved, the requests: %s", got)
	}
	if got := f.say(t, zMai, "duyệt "+id); !strings.Contains(got, "Chỉ tổ trưởng") {
		t.Errorf("a member approving: %s", got)
	}
	if _, ok := f.linkedTo(t, "2003"); ok {
		t.Fatal("a member's approval linked")
	}
	if got := f.say(t, zHung, "duyệt "+id); !strings.Contains(got, "Đã xác nhận Zalo của Lê Hoàng Phúc") {
		t.Errorf("the leader's approval: %s", got)
	}
	if p, ok := f.linkedTo(t, "2003"); !ok || p.ID != phuc.ID {
		t.Fatalf("after approval 2003 is %+v", p)
	}
	if !strings.Contains(flowstest.Texts(f.sentTo("2003")), "đã duyệt bạn vào Tổ CNSCĐ Ấp 1") {
		t.Errorf("Phúc was not told: %q", flowstest.Texts(f.sentTo("2003")))
	}
	if got := f.say(t, "2003", "yêu cầu"); !strings.Contains(got, "Cài VNeID cho mẹ") {
		t.Errorf("approved, the requests: %s", got)
	}
	// A second stranger's request for Phúc, now linked, goes nowhere.
	before := len(f.sentTo(zHung))
	f.say(t, "2010", "đăng ký", phPhuc, "#nhoduyet", "an xuyen", "ấp 1", "Lê Hoàng Phúc")
	if len(f.sentTo(zHung)) != before {
		t.Errorf("the leader was asked about a linked member: %q", flowstest.Texts(f.sentTo(zHung)[before:]))
	}
}

func TestEnrolCodes(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})

	// Valid, typed at the menu.
	code := f.enrolCode(t, phPhuc)
	if got := f.say(t, "2020", "mã "+strings.ToLower(code)); !strings.Contains(got, "Chào mừng Lê Hoàng Phúc vào Tổ CNSCĐ Ấp 1") {
		t.Errorf("valid code: %s", got)
	}
	if p, ok := f.linkedTo(t, "2020"); !ok || p.FullName != "Lê Hoàng Phúc" {
		t.Errorf("after the code 2020 is %+v", p)
	}
	// Reused, and wrong.
	for _, c := range []string{code, "ABCD2345"} {
		if got := f.say(t, "2021", "mã "+c); !strings.Contains(got, "mã này không đúng, đã dùng rồi hoặc đã hết hạn") {
			t.Errorf("code %s: %s", c, got)
		}
	}
	// Expired.
	old := f.enrolCode(t, "0987 654 321")
	storetest.Exec(t, f.db, "UPDATE enrol_codes SET expires_at = $1 WHERE code_hash = $2", time.Now().Add(-time.Minute), store.TokenHash(old))
	if got := f.say(t, "2022", "đăng ký "+old); !strings.Contains(got, "đã hết hạn") {
		t.Errorf("expired code: %s", got)
	}
	if _, ok := f.linkedTo(t, "2022"); ok {
		t.Error("an expired code linked")
	}

	// Moving a linked leader: the old Zalo account is told, once.
	move := f.enrolCode(t, "0912 345 678")
	if got := f.say(t, "2023", "đăng ký "+move); !strings.Contains(got, "Nguyễn Văn Hùng") {
		t.Errorf("moving code: %s", got)
	}
	if p, ok := f.linkedTo(t, "2023"); !ok || p.FullName != "Nguyễn Văn Hùng" {
		t.Errorf("after the move 2023 is %+v", p)
	}
	if _, ok := f.linkedTo(t, zHung); ok {
		t.Error("the old Zalo account still is Hùng")
	}
	if told := f.sentTo(zHung); len(told) != 1 || !strings.Contains(told[0].Text, "không còn gắn với danh sách tổ") {
		t.Errorf("the old account was told %d times: %q", len(told), flowstest.Texts(told))
	}

	// At enrolment's phone question, and at its code question.
	tam := f.enrolCode(t, "0977 111 222")
	if got := f.say(t, "2024", "đăng ký", tam); !strings.Contains(got, "Võ Văn Tâm") {
		t.Errorf("code at the phone question: %s", got)
	}
	ut := f.enrolCode(t, "0918 222 444")
	got := f.say(t, "2025", "đăng ký", "0918 222 444", "#ma", "abc", ut)
	if !strings.Contains(got, "Mã gồm 8 chữ và số") || !strings.Contains(got, "Chào mừng Lý Thị Út") {
		t.Errorf("code at the code question: %s", got)
	}

	// Someone already on the roster cannot take a second person; the code
	// stays good for its owner.
	ngoc := f.enrolCode(t, "0388 112 344")
	if got := f.say(t, zMai, "mã "+ngoc); !strings.Contains(got, "đã gắn với một người khác") {
		t.Errorf("code from a linked account: %s", got)
	}
	if got := f.say(t, "2026", "mã "+ngoc); !strings.Contains(got, "Đặng Thị Bích Ngọc") {
		t.Errorf("the code after a refused try: %s", got)
	}
}

// Code attempts are limited per Zalo user: a guesser is slowed down, even
// for a right code, and others are not.
func TestEnrolCodeAttemptsLimited(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	rdb := storetest.MiniRedis(t)
	rewire(t, f, func(d *team.Deps) { d.Attempts = store.NewAttempts(rdb, "t:", "enrol-code", 3, time.Hour) })
	for _, c := range []string{"ABCD2345", "ABCD2346", "ABCD2347"} {
		if got := f.say(t, "2030", "mã "+c); !strings.Contains(got, "không đúng") {
			t.Errorf("guess %s: %s", c, got)
		}
	}
	code := f.enrolCode(t, phPhuc)
	if got := f.say(t, "2030", "mã "+code); !strings.Contains(got, "thử mã nhiều lần quá") {
		t.Errorf("fourth try: %s", got)
	}
	if _, ok := f.linkedTo(t, "2030"); ok {
		t.Error("the guesser got in past the limit")
	}
	if got := f.say(t, "2031", "mã "+code); !strings.Contains(got, "Lê Hoàng Phúc") {
		t.Errorf("another user with the right code: %s", got)
	}
}
