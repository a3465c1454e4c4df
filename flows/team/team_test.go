package team_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// The compile-time proof that the store is what the team flows need.
var (
	_ team.Roster     = (*store.DB)(nil)
	_ team.Teams      = (*store.DB)(nil)
	_ team.Places     = (*store.DB)(nil)
	_ team.Visits     = (*store.DB)(nil)
	_ team.HelpDesk   = (*store.DB)(nil)
	_ team.WeekVisits = (*store.DB)(nil)
	_ team.Households = (*store.DB)(nil)
	_ team.Claimer    = (*store.Locks)(nil)
	_ team.Positions  = (*store.DB)(nil)
)

var vietnam = mustLocation("Asia/Ho_Chi_Minh")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// t0 is a Tuesday morning in Cà Mau; its week began on Monday 9 March.
var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, vietnam)

// The Zalo ids of the roster in testdata/roster.csv.
const (
	zHung  = "1001" // leader, Ấp 1
	zMai   = "1002" // member, Ấp 1
	zNgoc  = "1004" // member of Ấp 1 and Ấp 2
	zTam   = "1005" // leader, Ấp 2
	zHa    = "1006" // commune officer, An Xuyên
	zTu    = "1007" // leader, Ấp Bà Điều (Tân Thành)
	zUt    = "1008" // member, Ấp Bà Điều
	phPhuc = "0903 112 233"
)

type fixture struct {
	ctx      context.Context
	db       *store.DB
	engine   *flows.Engine
	sessions *flowstest.Sessions
	clock    *flowstest.Clock
	texts    *locales.Bundle
	deps     team.Deps
	chats    map[string]*flowstest.Chat
	// vars are substituted in journey inputs ("{code}") and put back in
	// transcripts, so that random codes do not change the golden files.
	vars map[string]string
}

type options struct {
	databaseURL string
	teamOnly    bool
	lookups     team.LookupLimiter
	// noPositions wires no team.Positions: the service as it was before
	// "nearest first".
	noPositions bool
}

// newFixture opens the real store on SQLite in a temporary directory (or
// on the given database), imports testdata's units and roster, and wires
// an engine with the resident and team flows, as serve does.
func newFixture(t *testing.T, opts options) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := ""
	if opts.databaseURL == "" {
		dir = t.TempDir()
	}
	db, err := store.Open(ctx, opts.databaseURL, dir, log)
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
		var rep store.ImportReport
		if name == "units.csv" {
			rep, err = db.ImportUnits(ctx, f, name)
		} else {
			rep, err = db.ImportRoster(ctx, f, name)
		}
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v %+v", name, err, rep.Errors)
		}
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{ctx: ctx, db: db, sessions: flowstest.NewSessions(), clock: flowstest.NewClock(t0), texts: texts,
		chats: map[string]*flowstest.Chat{}, vars: map[string]string{}}
	fx.engine = flows.NewEngine(fx.sessions, texts, flows.Options{Now: fx.clock.Now, Log: log, Handoffs: db, Directory: db,
		InfoImageURL: "https://example.invalid/form.png"})
	fx.deps = team.Deps{Roster: db, Teams: db, Places: db, Visits: db, HelpDesk: db, Texts: texts, Week: db,
		Lookups: &flowstest.Lookups{}, Attempts: store.NewAttempts(storetest.MiniRedis(t), "t:", "enrol-code", 5, 10*time.Minute),
		Households: db, Positions: db, Residents: resident.NewNotices(texts, fx.sessions, log), Location: vietnam, Names: []string{"Trợ lý Tổ"}, Log: log}
	if opts.lookups != nil {
		fx.deps.Lookups = opts.lookups
	}
	if opts.noPositions {
		fx.deps.Positions = nil
	}
	if err := team.Register(fx.engine, fx.deps); err != nil {
		t.Fatal(err)
	}
	if !opts.teamOnly {
		if err := resident.Register(fx.engine, resident.Deps{Places: db, HelpDesk: db, Texts: texts, Sessions: fx.sessions, Log: log,
			Privacy: &flowstest.Privacy{}, Feedback: db, Lookups: &flowstest.Lookups{}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fx.engine.Check(); err != nil {
		t.Fatal(err)
	}
	return fx
}

func (f *fixture) chat(t *testing.T, user string) *flowstest.Chat {
	c, ok := f.chats[user]
	if !ok || c.TB != t {
		c = &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: user}
		f.chats[user] = c
	}
	return c
}

func (f *fixture) group(t *testing.T, id string) *flowstest.Group {
	return &flowstest.Group{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, GroupID: id}
}

func (f *fixture) person(t *testing.T, phone string) cnsbot.Person {
	t.Helper()
	p, _, err := f.db.PersonByPhone(f.ctx, phone)
	if err != nil {
		t.Fatalf("person %s: %v", phone, err)
	}
	return p
}

// team returns the team of a hamlet by the hamlet's name.
func (f *fixture) team(t *testing.T, commune, hamlet string) cnsbot.Team {
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
		t.Fatalf("teams of %s: %v %v", hamlet, teams, err)
	}
	return teams[0]
}

func (f *fixture) visits(t *testing.T, personID int64) []cnsbot.Visit {
	t.Helper()
	// Every visit has a team: the person's visits are in all the teams'.
	teams, err := f.db.ReportTeams(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var vs []cnsbot.Visit
	for _, tm := range teams {
		all, err := f.db.TeamVisits(f.ctx, tm.ID, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range all {
			if v.PersonID == personID {
				vs = append(vs, v)
			}
		}
	}
	slices.SortFunc(vs, func(a, b cnsbot.Visit) int { return cmp.Compare(a.ID, b.ID) })
	return vs
}

// helpRequest stores a resident's request in a hamlet, as the resident
// flow does.
func (f *fixture) helpRequest(t *testing.T, resident, commune, hamlet, problem string) cnsbot.HelpRequest {
	t.Helper()
	tm := f.team(t, commune, hamlet)
	r := cnsbot.HelpRequest{ResidentUserID: resident, Name: "Nguyễn Thị Lan", Phone: "+84912000111", HamletID: tm.HamletID,
		Topic: cnsbot.AreaVNeIDInstall, Problem: problem, PreferredTime: "morning", SourceEvent: "seed-" + resident}
	if err := f.db.CreateHelpRequest(f.ctx, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegister(t *testing.T) {
	f := newFixture(t, options{})
	if err := team.Register(flows.NewEngine(f.sessions, f.texts, flows.Options{}), team.Deps{}); err == nil {
		t.Error("Register without deps: want an error")
	}
	// Every message a team flow names exists in both languages.
	for _, fl := range f.engine.Flows() {
		for _, id := range fl.MessageIDs() {
			if strings.HasPrefix(id, "team.") && (!f.texts.Has("vi", id) || !f.texts.Has("en", id)) {
				t.Errorf("flow %s: message %s missing", fl.Name, id)
			}
		}
	}
	for _, a := range cnsbot.Areas {
		for _, lang := range []string{"vi", "en"} {
			if !f.texts.Has(lang, "team.area."+a) {
				t.Errorf("team.area.%s missing in %s", a, lang)
			}
		}
	}
	for _, r := range []string{cnsbot.RoleMember, cnsbot.RoleLeader, cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin} {
		if !f.texts.Has("vi", "team.role."+r) || !f.texts.Has("en", "team.role."+r) {
			t.Errorf("team.role.%s missing", r)
		}
	}
}

// everyStepData is a report's answers at the summary and an enrolment's,
// so that any step can be entered and asked.
var everyStepData = map[string]string{
	"team": "1", "household": "nhà ông Năm", "areas": "vneid,dvc", "people": "2", "minutes": "30",
	"note": "hẹn quay lại", "phone": "+84903112233", "person": "3", "name": "Lê Hoàng Phúc",
	"commune": "u1", "commune_name": "An Xuyên", "hamlet_id": "u2", "hamlet_name": "Ấp 1", "code": "HTBAAA",
}

func TestCancelBackMenuAtEveryStep(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	flowstest.EveryStep(t, f.engine, f.sessions, everyStepData, t0)
}

// play runs one journey input. "@1001 text" speaks as user 1001; inputs
// starting with "!" are other events: "!submit Name|84…", "!photo URL",
// "!location lat,lng", "!wait 2h". "{name}" is replaced from f.vars.
func (f *fixture) play(t *testing.T, user, in string) (who string, out []cnsbot.Outgoing) {
	t.Helper()
	if rest, ok := strings.CutPrefix(in, "@"); ok {
		user, in, _ = strings.Cut(rest, " ")
	}
	for k, v := range f.vars {
		in = strings.ReplaceAll(in, "{"+k+"}", v)
	}
	c := f.chat(t, user)
	cmd, arg, _ := strings.Cut(in, " ")
	switch cmd {
	case "!submit":
		name, phone, _ := strings.Cut(arg, "|")
		return user, c.Submit(cnsbot.UserInfo{Name: name, Phone: phone})
	case "!photo":
		return user, c.Photo(arg)
	case "!location":
		lat, lng, _ := strings.Cut(arg, ",")
		la, _ := strconv.ParseFloat(lat, 64)
		ln, _ := strconv.ParseFloat(lng, 64)
		return user, c.Do(cnsbot.Event{Name: "user_send_location", Kind: cnsbot.KindMedia, Attachments: []cnsbot.Attachment{{Type: "location", Latitude: la, Longitude: ln}}})
	case "!wait":
		d, err := time.ParseDuration(arg)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(d)
		return user, nil
	}
	return user, c.Say(in)
}

// unvar puts the placeholders back into a transcript.
func (f *fixture) unvar(s string) string {
	for k, v := range f.vars {
		s = strings.ReplaceAll(s, v, "{"+k+"}")
	}
	return s
}
