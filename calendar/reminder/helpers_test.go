package reminder_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

func vietnam(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// dialects opens a migrated database of each kind.
func dialects() map[string]func(t *testing.T) *store.DB {
	return map[string]func(t *testing.T) *store.DB{
		"sqlite":   func(t *testing.T) *store.DB { return openStore(t, "", t.TempDir()) },
		"postgres": func(t *testing.T) *store.DB { return openStore(t, storetest.PostgresURL(t), "") },
	}
}

func openStore(t *testing.T, url, dir string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url, dir, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// world is a small province: a commune with two hamlets and a team each.
// Leader A has a Zalo account and a team group; leader B has no Zalo
// account, only a team group; the commune officer O and the province
// officer P have Zalo accounts.
type world struct {
	province, commune, hamlet1, hamlet2 cnsbot.Unit
	team1, team2                        cnsbot.Team
	a, b, member, o, p                  cnsbot.Person
}

func seedWorld(t *testing.T, db *store.DB) world {
	t.Helper()
	var w world
	w.province = cnsbot.Unit{Kind: cnsbot.UnitProvince, Name: "Cà Mau", Folded: "ca mau"}
	create(t, db, &w.province)
	w.commune = cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc", ParentID: &w.province.ID}
	create(t, db, &w.commune)
	w.hamlet1 = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &w.commune.ID, Households: 200}
	create(t, db, &w.hamlet1)
	w.hamlet2 = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 2", Folded: "ap 2", ParentID: &w.commune.ID, Households: 150}
	create(t, db, &w.hamlet2)
	w.team1 = cnsbot.Team{HamletID: w.hamlet1.ID, Name: "Tổ Ấp 1", Code: "TL1", GroupID: "g1"}
	create(t, db, &w.team1)
	w.team2 = cnsbot.Team{HamletID: w.hamlet2.ID, Name: "Tổ Ấp 2", Code: "TL2", GroupID: "g2"}
	create(t, db, &w.team2)
	zalo := func(id string) *string { return &id }
	w.a = cnsbot.Person{FullName: "Nguyễn Văn An", Phone: "+84912345670", ZaloUserID: zalo("za")}
	w.b = cnsbot.Person{FullName: "Trần Thị Bình", Phone: "+84912345671"}
	w.member = cnsbot.Person{FullName: "Lê Văn Cường", Phone: "+84912345672", ZaloUserID: zalo("zc")}
	w.o = cnsbot.Person{FullName: "Phạm Thị Dung", Phone: "+84912345673", ZaloUserID: zalo("zo")}
	w.p = cnsbot.Person{FullName: "Võ Văn Em", Phone: "+84912345674", ZaloUserID: zalo("zp"), Lang: "en"}
	for _, p := range []*cnsbot.Person{&w.a, &w.b, &w.member, &w.o, &w.p} {
		create(t, db, p)
	}
	for _, r := range []cnsbot.Role{
		{PersonID: w.a.ID, Role: cnsbot.RoleLeader, UnitID: w.hamlet1.ID, TeamID: &w.team1.ID, Approved: true},
		{PersonID: w.member.ID, Role: cnsbot.RoleMember, UnitID: w.hamlet1.ID, TeamID: &w.team1.ID, Approved: true},
		{PersonID: w.b.ID, Role: cnsbot.RoleLeader, UnitID: w.hamlet2.ID, TeamID: &w.team2.ID, Approved: true},
		{PersonID: w.o.ID, Role: cnsbot.RoleCommuneOfficer, UnitID: w.commune.ID, Approved: true},
		{PersonID: w.p.ID, Role: cnsbot.RoleProvinceOfficer, UnitID: w.province.ID, Approved: true},
	} {
		create(t, db, &r)
	}
	loc := vietnam(t)
	for i, v := range []cnsbot.Visit{
		{PersonID: w.member.ID, TeamID: w.team1.ID, Household: "nhà ông Năm", Areas: "vneid,dvc", People: 2, Minutes: 45,
			VisitedAt: time.Date(2025, 7, 5, 9, 0, 0, 0, loc)},
		{PersonID: w.a.ID, TeamID: w.team1.ID, Household: "bà Sáu", Areas: "vneid,ttkdtm", People: 1, Minutes: 30,
			VisitedAt: time.Date(2025, 8, 20, 15, 0, 0, 0, loc)},
		{PersonID: w.member.ID, TeamID: w.team1.ID, Household: "Ông Năm", Areas: "camaug", People: 3, Minutes: 75,
			VisitedAt: time.Date(2025, 9, 2, 8, 30, 0, 0, loc)},
	} {
		v.SourceEvent = fmt.Sprintf("seed-%d", i)
		if _, err := db.RecordVisit(context.Background(), &v); err != nil {
			t.Fatalf("seed visit: %v", err)
		}
	}
	// These tests walk plan 220's three levels (the 2025 quarters it
	// governed); the default is the two-level chain.
	if err := db.SaveSchedule(context.Background(), calendar.Plan220(), "test"); err != nil {
		t.Fatal(err)
	}
	return w
}

// fakePusher records what a pass queued. It is what store.Queue.Push
// would put on the outbox.
type fakePusher struct {
	mu   sync.Mutex
	msgs []cnsbot.Outgoing
	fail error
}

func (f *fakePusher) Push(_ context.Context, outs ...cnsbot.Outgoing) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.msgs = append(f.msgs, outs...)
	return nil
}

func (f *fakePusher) all() []cnsbot.Outgoing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

func (f *fakePusher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

// env is a store, texts and a pusher; each reminders() call is a fresh
// Reminders, as after a restart: everything it knows is in the database.
type env struct {
	t     *testing.T
	db    *store.DB
	texts *locales.Bundle
	push  *fakePusher
	loc   *time.Location
	w     world
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, texts: texts, push: &fakePusher{}, loc: vietnam(t), w: seedWorld(t, db)}
}

func (e *env) reminders() *reminder.Reminders {
	return reminder.New(e.db, e.push, e.texts, reminder.Options{Location: e.loc})
}

// at parses a local time "2025-09-09 08:00".
func (e *env) at(s string) time.Time {
	e.t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, e.loc)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// run runs a pass (as a restarted process) at every step from from to
// to, except in the downtimes, and returns "time id" for each message
// queued, in order.
func (e *env) run(from, to string, step time.Duration, down ...[2]string) []string {
	e.t.Helper()
	var out []string
	start, end := e.at(from), e.at(to)
	for now := start; !now.After(end); now = now.Add(step) {
		if slices.ContainsFunc(down, func(d [2]string) bool { return !now.Before(e.at(d[0])) && now.Before(e.at(d[1])) }) {
			continue
		}
		before := e.push.count()
		if _, err := e.reminders().Pass(context.Background(), now, false); err != nil {
			e.t.Fatalf("pass at %v: %v", now, err)
		}
		for _, m := range e.push.all()[before:] {
			out = append(out, now.Format("01-02 15:04")+" "+m.ID)
		}
	}
	return out
}

// id is the message ID of a reminder.
func id(key string, p cnsbot.Person, offset string) string {
	return calendar.ReminderID(key, p.ID, offset)
}

// states returns "person/offset state" for the stored reminders of a deadline.
func (e *env) states(key string) map[string]string {
	e.t.Helper()
	recs, err := e.db.Reminders(context.Background(), key)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[fmt.Sprintf("%d/%s", r.PersonID, r.Offset)] = r.State
	}
	return out
}

// create inserts one seeded row, failing the test if it cannot.
func create[T store.Row](t testing.TB, db *store.DB, row *T) {
	t.Helper()
	if err := store.Insert(context.Background(), db, row); err != nil {
		t.Fatalf("seed %T: %v", row, err)
	}
}
