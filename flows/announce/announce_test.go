package announce_test

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
	"github.com/camau-cns/cnsbot/flows/announce"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

var vietnam = time.FixedZone("ICT", 7*3600)

type fixture struct {
	ctx      context.Context
	db       *store.DB
	engine   *flows.Engine
	sessions *flowstest.Sessions
	clock    *flowstest.Clock
	hamlet   cnsbot.Unit
	team     cnsbot.Team
}

// newFixture is the engine with the announcement commands, the team's and
// the residents' flows, registered as serve registers them, on an embedded
// database with one hamlet, its team (leader "leader", member "member")
// and a stranger ("stranger").
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
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Thành", Folded: "xa tan thanh"}
	must(t, store.Insert(ctx, db, &commune))
	hamlet := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp Cái Nhúc", Folded: "ap cai nhuc", ParentID: &commune.ID, Households: 120}
	must(t, store.Insert(ctx, db, &hamlet))
	tm := cnsbot.Team{HamletID: hamlet.ID, Name: "Tổ CNS Ấp Cái Nhúc", Code: "CN1"}
	must(t, store.Insert(ctx, db, &tm))
	for i, p := range []struct{ name, zalo, role string }{{"Phạm Thị Mai", "leader", cnsbot.RoleLeader}, {"Lê Văn Hùng", "member", cnsbot.RoleMember}} {
		zalo := p.zalo
		person := cnsbot.Person{FullName: p.name, Phone: fmt.Sprintf("+8491200000%d", i), ZaloUserID: &zalo}
		must(t, store.Insert(ctx, db, &person))
		must(t, store.Insert(ctx, db, &cnsbot.Role{PersonID: person.ID, Role: p.role, UnitID: hamlet.ID, TeamID: &tm.ID, Approved: true}))
	}
	texts, err := locales.New()
	must(t, err)
	fx := &fixture{ctx: ctx, db: db, sessions: flowstest.NewSessions(), clock: flowstest.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, vietnam)),
		hamlet: hamlet, team: tm}
	fx.engine = flows.NewEngine(fx.sessions, texts, flows.Options{Now: fx.clock.Now, Log: log, Handoffs: db, Directory: db,
		InfoImageURL: "https://example.invalid/form.png"})
	must(t, announce.Register(fx.engine, announce.Deps{OptOuts: db, Hamlets: db, Log: log}))
	must(t, team.Register(fx.engine, team.Deps{Roster: db, Teams: db, Places: db, Visits: db, HelpDesk: db, Texts: texts, Week: db,
		Lookups: &flowstest.Lookups{}, Attempts: store.NewAttempts(storetest.MiniRedis(t), "t:", "enrol-code", 5, 10*time.Minute),
		Residents: resident.NewNotices(texts, fx.sessions, log), Location: vietnam, Log: log}))
	must(t, resident.Register(fx.engine, resident.Deps{Places: db, HelpDesk: db, Texts: texts, Sessions: fx.sessions, Log: log,
		Privacy: &flowstest.Privacy{}, Feedback: db, Lookups: &flowstest.Lookups{}}))
	must(t, fx.engine.Check())
	return fx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) chat(t *testing.T, user string) *flowstest.Chat {
	return &flowstest.Chat{TB: t, Handler: fx.engine, Sessions: fx.sessions, Clock: fx.clock, UserID: user}
}

func (fx *fixture) group(t *testing.T, id string) *flowstest.Group {
	return &flowstest.Group{TB: t, Handler: fx.engine, Sessions: fx.sessions, Clock: fx.clock, GroupID: id}
}

// TestStopAndResume is a resident who stops announcements with the
// button, types "nhan tin" to get them again, and a neighbour who types
// "nhan tin" meaning something else: the record is in the database.
func TestStopAndResume(t *testing.T) {
	fx := newFixture(t)
	var b strings.Builder
	c := fx.chat(t, "resident")
	for _, text := range []string{"#dungnhantin", "nhan tin", "dừng nhận tin", "Dung nhan tin."} {
		fmt.Fprintf(&b, "> %s\n%s", text, flowstest.Transcript(c.Say(text), "resident", fx.engine))
	}
	if ok, err := fx.db.IsOptedOut(fx.ctx, "resident"); !ok || err != nil {
		t.Errorf("after \"dừng nhận tin\": opted out %v, %v", ok, err)
	}
	other := fx.chat(t, "neighbour")
	fmt.Fprintf(&b, "> nhan tin\n%s", flowstest.Transcript(other.Say("nhan tin"), "neighbour", fx.engine))
	flowstest.Golden(t, "testdata/stop_resume.vi.golden", b.String())
	if ok, _ := fx.db.IsOptedOut(fx.ctx, "neighbour"); ok {
		t.Error("\"nhan tin\" opted a neighbour out")
	}
}

// TestHouseholdGroup links a hamlet's household group and talks in it:
// the bot answers the guides' commands, keeps quiet in chatter, and never
// answers a team command there.
func TestHouseholdGroup(t *testing.T) {
	fx := newFixture(t)
	g := fx.group(t, "G-HOUSE")
	code := announce.HamletCode(fx.hamlet.ID)
	var b strings.Builder
	say := func(who, text string) []cnsbot.Outgoing {
		out := g.Say(who, text)
		fmt.Fprintf(&b, "%s> %s\n%s", who, text, flowstest.Transcript(out, "", fx.engine))
		return out
	}
	say("stranger", "#lienket "+code)
	say("member", "#lienket AP999999")
	say("member", "#lienket "+strings.ToLower(code))
	if h, err := fx.db.HamletOfGroup(fx.ctx, "G-HOUSE"); err != nil || h.ID != fx.hamlet.ID {
		t.Fatalf("household group of %v, %v; want %s", h, err, fx.hamlet.Name)
	}
	for _, text := range chatter {
		if out := g.Say("stranger", text); len(out) != 0 {
			t.Errorf("chatter %q got %q", text, flowstest.Texts(out))
		}
	}
	say("resident", "#vneid")
	say("resident", "bot ơi camaug")
	say("resident", "#giup")
	for _, cmd := range []string{"#tiendo", "#yeucau", "#tuan", "#baocao nha ong Nam, vneid, 2 nguoi", "#lienket CN1"} {
		out := say("member", cmd)
		if len(out) != 1 || strings.Contains(out[0].Text, "%") || strings.Contains(out[0].Text, "Tổ CNS") {
			t.Errorf("%q in the household group: %q, want only the household group's help", cmd, flowstest.Texts(out))
		}
	}
	flowstest.Golden(t, "testdata/household_group.vi.golden", b.String())
	if tm, err := fx.db.Team(fx.ctx, fx.team.ID); err != nil || tm.GroupID != "" {
		t.Errorf("the team's group is %q (%v); a household group must not become it", tm.GroupID, err)
	}
}

// chatter is what households say in their group: none of it addresses the
// bot.
var chatter = []string{
	"Chào bà con, mai ai đi họp ấp không",
	"vneid của tui bị lỗi hoài",
	"bột giặt giảm giá ở tạp hóa bà Tư",
	"nhan tin cho tui nha",
	"dừng nhận tin gì vậy",
	"#camau",
	"ok",
	"",
}
