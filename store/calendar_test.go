package store_test

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// calendarDialects opens a database of each kind with the calendar's tables.
func calendarDialects(t *testing.T) map[string]func(t *testing.T) *store.DB {
	open := func(t *testing.T, url, dir string) *store.DB {
		t.Helper()
		db, err := store.Open(context.Background(), url, dir, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return db
	}
	return map[string]func(t *testing.T) *store.DB{
		"sqlite":   func(t *testing.T) *store.DB { return open(t, "", t.TempDir()) },
		"postgres": func(t *testing.T) *store.DB { return open(t, storetest.PostgresURL(t), "") },
	}
}

func calendarLoc(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestCalendarSchedule(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			v, err := db.StoredSchedule(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v.Version != 0 || !reflect.DeepEqual(v.Schedule, calendar.TwoLevel()) {
				t.Errorf("default: got version %d %+v, want version 0 two-level", v.Version, v.Schedule)
			}

			bad := calendar.TwoLevel()
			bad.Steps[1].Day = 10
			if err := db.SaveSchedule(ctx, bad, "admin"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("save invalid: got %v, want %s", err, cnsbot.EINVALID)
			}

			edited := calendar.TwoLevel()
			edited.Name, edited.Offsets, edited.Hour = "edited", []int{10, 2}, 9
			for i, s := range []calendar.Schedule{calendar.TwoLevel(), edited} {
				if err := db.SaveSchedule(ctx, s, "admin"); err != nil {
					t.Fatalf("save %s: %v", s.Name, err)
				}
				v, err := db.StoredSchedule(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if v.Version != i+1 || v.UpdatedBy != "admin" || v.UpdatedAt.IsZero() || !reflect.DeepEqual(v.Schedule, s) {
					t.Errorf("after saving %s: got %+v, want version %d", s.Name, v, i+1)
				}
				got, err := db.Schedule(ctx)
				if err != nil || !reflect.DeepEqual(got, s) {
					t.Errorf("Schedule() = %+v, %v, want %+v", got, err, s)
				}
			}
		})
	}
}

func TestCalendarSubmissions(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			key := "2025Q3:team:commune"
			team := int64(7)
			first := time.Date(2025, 9, 12, 3, 0, 0, 0, time.UTC)
			if err := db.MarkSubmitted(ctx, key, 1, &team, 70, first); err != nil {
				t.Fatal(err)
			}
			// A second tap, by another leader of the same team, keeps the first.
			if err := db.MarkSubmitted(ctx, key, 2, &team, 70, first.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkSubmitted(ctx, "2025Q3:commune:district", 9, nil, 5, first); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkSubmitted(ctx, "2025Q3:team", 1, &team, 70, first); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("bad key: got %v, want %s", err, cnsbot.EINVALID)
			}
			other := int64(8)
			for _, c := range []struct {
				key  string
				team *int64
				unit int64
				want bool
			}{
				{key, &team, 70, true},
				{key, &other, 80, false},
				{"2025Q2:team:commune", &team, 70, false},
				{"2025Q3:commune:district", nil, 5, true},
				{"2025Q3:commune:district", nil, 6, false},
			} {
				got, err := db.Submitted(ctx, c.key, c.team, c.unit)
				if err != nil || got != c.want {
					t.Errorf("Submitted(%s, %v, %d) = %v, %v, want %v", c.key, c.team, c.unit, got, err, c.want)
				}
			}
			subs, err := db.Submissions(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(subs) != 1 || subs[0].PersonID != 1 || !subs[0].SubmittedAt.Equal(first) || subs[0].ReporterKey() != "team:7" {
				t.Errorf("submissions %+v, want one by person 1 at %v for team:7", subs, first)
			}
			subs, _ = db.Submissions(ctx, "2025Q3:commune:district")
			if len(subs) != 1 || subs[0].TeamID != nil || subs[0].ReporterKey() != "unit:5" {
				t.Errorf("submissions %+v, want one for unit:5", subs)
			}
		})
	}
}

func TestCalendarClaimReminder(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			key := "2025Q3:team:commune"

			// Many schedulers at once: exactly one wins each (deadline, person, offset).
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for _, off := range []string{"7", "3"} {
						ok, err := db.ClaimReminder(ctx, key, 42, off)
						if err != nil {
							t.Errorf("claim: %v", err)
						}
						if ok {
							wins.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if got := wins.Load(); got != 2 {
				t.Errorf("%d claims won, want 2 (one per offset)", got)
			}
			if ok, err := db.ClaimReminder(ctx, key, 43, "7"); !ok || err != nil {
				t.Errorf("another person's claim: %v %v, want true", ok, err)
			}

			if err := db.SetReminderState(ctx, key, 42, "7", calendar.StateQueued, ""); err != nil {
				t.Fatal(err)
			}
			if err := db.SetReminderState(ctx, key, 99, "7", calendar.StateQueued, ""); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("state of an unclaimed reminder: got %v, want %s", err, cnsbot.ENOTFOUND)
			}

			// A fresh planned claim cannot be retaken; a stale one can, once.
			if ok, _ := db.RetakeReminder(ctx, key, 42, "3", time.Now().Add(-time.Minute)); ok {
				t.Error("retook a fresh claim")
			}
			future := time.Now().Add(time.Minute)
			if ok, err := db.RetakeReminder(ctx, key, 42, "3", future); !ok || err != nil {
				t.Errorf("retake a stale claim: %v %v, want true", ok, err)
			}
			if ok, _ := db.RetakeReminder(ctx, key, 42, "3", time.Now().Add(-time.Minute)); ok {
				t.Error("retook a claim just retaken")
			}
			if ok, _ := db.RetakeReminder(ctx, key, 42, "7", future); ok {
				t.Error("retook a queued reminder")
			}
			// A planned claim whose message reached the delivery log was
			// queued after all: it is not retaken, and the sync records it.
			msg := cnsbot.Outgoing{ID: calendar.ReminderID(key, 43, "7"), To: cnsbot.Recipient{UserID: "u43"}, Purpose: "reminder", Ref: key}
			if err := db.Undeliverable(ctx, msg, -230, "out of window"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := db.RetakeReminder(ctx, key, 43, "7", future); ok {
				t.Error("retook a claim whose message was delivered")
			}
			sent := cnsbot.Outgoing{ID: calendar.ReminderID(key, 42, "7"), To: cnsbot.Recipient{UserID: "u42"}, Purpose: "reminder", Ref: key}
			if err := db.Delivered(ctx, sent, "zmsg"); err != nil {
				t.Fatal(err)
			}
			n, err := db.SyncReminderStates(ctx)
			if err != nil || n != 2 {
				t.Errorf("sync: %d, %v, want 2 changed", n, err)
			}
			recs, err := db.Reminders(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range recs {
				got[r.MessageID] = r.State + "/" + r.Reason
			}
			want := map[string]string{
				calendar.ReminderID(key, 42, "7"): "sent/",
				calendar.ReminderID(key, 42, "3"): "planned/",
				calendar.ReminderID(key, 43, "7"): "undeliverable/out of window",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("reminders %v, want %v", got, want)
			}
		})
	}
}

// calendarSeed is a small province: one commune with two hamlets and a team each.
type calendarSeed struct {
	province, commune, hamlet1, hamlet2 cnsbot.Unit
	team1, team2                        cnsbot.Team
	leader1, leader2, member, officer   cnsbot.Person
	provOfficer, pending                cnsbot.Person
}

func seedCalendar(t *testing.T, db *store.DB) calendarSeed {
	t.Helper()
	var s calendarSeed
	create := func(v any) {
		t.Helper()
		if err := db.ORM().Create(v).Error; err != nil {
			t.Fatalf("seed %T: %v", v, err)
		}
	}
	s.province = cnsbot.Unit{Kind: cnsbot.UnitProvince, Name: "Cà Mau", Folded: "ca mau"}
	create(&s.province)
	s.commune = cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc", ParentID: &s.province.ID}
	create(&s.commune)
	s.hamlet1 = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &s.commune.ID, Households: 200}
	create(&s.hamlet1)
	s.hamlet2 = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 2", Folded: "ap 2", ParentID: &s.commune.ID, Households: 100}
	create(&s.hamlet2)
	s.team1 = cnsbot.Team{HamletID: s.hamlet1.ID, Name: "Tổ CNSCĐ Ấp 1", Code: "TL1", GroupID: "g1"}
	create(&s.team1)
	s.team2 = cnsbot.Team{HamletID: s.hamlet2.ID, Name: "Tổ CNSCĐ Ấp 2", Code: "TL2"}
	create(&s.team2)
	zalo := func(id string) *string { return &id }
	people := []*cnsbot.Person{&s.leader1, &s.leader2, &s.member, &s.officer, &s.provOfficer, &s.pending}
	for i, p := range people {
		*p = cnsbot.Person{FullName: []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Võ Văn Em", "Đỗ Thị Giang"}[i],
			Phone: "+8491234567" + string(rune('0'+i))}
		if i != 1 { // leader 2 never wrote to the OA
			p.ZaloUserID = zalo("z" + string(rune('a'+i)))
		}
		create(p)
	}
	roles := []cnsbot.Role{
		{PersonID: s.leader1.ID, Role: cnsbot.RoleLeader, UnitID: s.hamlet1.ID, TeamID: &s.team1.ID, Approved: true},
		{PersonID: s.leader2.ID, Role: cnsbot.RoleLeader, UnitID: s.hamlet2.ID, TeamID: &s.team2.ID, Approved: true},
		{PersonID: s.member.ID, Role: cnsbot.RoleMember, UnitID: s.hamlet1.ID, TeamID: &s.team1.ID, Approved: true},
		{PersonID: s.officer.ID, Role: cnsbot.RoleCommuneOfficer, UnitID: s.commune.ID, Approved: true},
		{PersonID: s.provOfficer.ID, Role: cnsbot.RoleProvinceOfficer, UnitID: s.province.ID, Approved: true},
		{PersonID: s.pending.ID, Role: cnsbot.RoleLeader, UnitID: s.hamlet2.ID, TeamID: &s.team2.ID, Approved: false},
		{PersonID: s.pending.ID, Role: cnsbot.RoleMember, UnitID: s.hamlet2.ID, TeamID: &s.team2.ID, Approved: false},
	}
	for i := range roles {
		create(&roles[i])
	}
	return s
}

func TestCalendarResponsibleFor(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			s := seedCalendar(t, db)
			tests := []struct {
				level calendar.Level
				want  []calendar.Responsible
			}{
				{calendar.LevelTeam, []calendar.Responsible{
					{PersonID: s.leader1.ID, Name: s.leader1.FullName, ZaloUserID: "za", TeamID: &s.team1.ID, UnitID: s.hamlet1.ID,
						ReporterName: s.team1.Name, ParentUnitID: s.commune.ID, GroupID: "g1"},
					{PersonID: s.leader2.ID, Name: s.leader2.FullName, TeamID: &s.team2.ID, UnitID: s.hamlet2.ID,
						ReporterName: s.team2.Name, ParentUnitID: s.commune.ID},
				}},
				{calendar.LevelCommune, []calendar.Responsible{
					{PersonID: s.officer.ID, Name: s.officer.FullName, ZaloUserID: "zd", UnitID: s.commune.ID,
						ReporterName: s.commune.Name, ParentUnitID: s.province.ID},
				}},
				{calendar.LevelDistrict, []calendar.Responsible{
					{PersonID: s.provOfficer.ID, Name: s.provOfficer.FullName, ZaloUserID: "ze", UnitID: s.province.ID,
						ReporterName: s.province.Name},
				}},
				{calendar.LevelDepartment, []calendar.Responsible{
					{PersonID: s.provOfficer.ID, Name: s.provOfficer.FullName, ZaloUserID: "ze", UnitID: s.province.ID,
						ReporterName: s.province.Name},
				}},
			}
			for _, tt := range tests {
				got, err := db.ResponsibleFor(ctx, tt.level)
				if err != nil {
					t.Fatalf("%s: %v", tt.level, err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s: got %+v, want %+v", tt.level, got, tt.want)
				}
			}
			if _, err := db.ResponsibleFor(ctx, "province"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("unknown level: got %v, want %s", err, cnsbot.EINVALID)
			}
		})
	}
}

func TestCalendarQuarterFigures(t *testing.T) {
	ctx := context.Background()
	loc := calendarLoc(t)
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			s := seedCalendar(t, db)
			visit := func(team cnsbot.Team, person cnsbot.Person, household, areas string, people, minutes int, at time.Time) {
				t.Helper()
				v := cnsbot.Visit{PersonID: person.ID, TeamID: team.ID, Household: household, Areas: areas,
					People: people, Minutes: minutes, VisitedAt: at}
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
			}
			day := func(m time.Month, d, h int) time.Time { return time.Date(2025, m, d, h, 0, 0, 0, loc) }
			// Q2: two households of team 1.
			visit(s.team1, s.member, "nhà ông Năm", "vneid", 2, 30, day(6, 10, 9))
			visit(s.team1, s.member, "bà Sáu", "vneid,dvc", 1, 20, day(6, 30, 23)) // 23:00 local on 30 June is still Q2
			// Q3: one household again, two new ones, by two people.
			visit(s.team1, s.leader1, "Ông Năm", "ttkdtm,tmdt", 3, 45, day(7, 1, 0))
			visit(s.team1, s.member, "ông Bảy", "vneid,camaug", 2, 40, day(8, 5, 15))
			visit(s.team1, s.member, "ông Tám", "vneid", 1, 15, day(9, 30, 22))
			// Q4: not counted in Q3 at all.
			visit(s.team1, s.member, "ông Chín", "vneid", 1, 10, day(10, 1, 0))
			// Team 2, Q3.
			visit(s.team2, s.leader2, "bà Mười", "yte", 4, 60, day(9, 1, 8))

			got, err := db.QuarterFigures(ctx, s.team1.ID, "2025Q3", loc)
			if err != nil {
				t.Fatal(err)
			}
			want := calendar.Figures{Quarter: "2025Q3", Teams: 1, Households: 200, GuidedInQuarter: 3, GuidedToDate: 4,
				People:  map[string]int{"vneid": 3, "camaug": 2, "ttkdtm": 3, "tmdt": 3},
				Members: 2, ActiveMembers: 2, Visits: 3, Minutes: 100}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("team 1 Q3: got %+v, want %+v", got, want)
			}
			if p := got.Percent(); p != 2 {
				t.Errorf("percent %v, want 2", p)
			}
			if a := got.Areas(); !reflect.DeepEqual(a, []string{"vneid", "camaug", "tmdt", "ttkdtm"}) {
				t.Errorf("areas %v", a)
			}

			got, err = db.QuarterFigures(ctx, s.team1.ID, "2025Q2", loc)
			if err != nil {
				t.Fatal(err)
			}
			want = calendar.Figures{Quarter: "2025Q2", Teams: 1, Households: 200, GuidedInQuarter: 2, GuidedToDate: 2,
				People: map[string]int{"vneid": 3, "dvc": 1}, Members: 2, ActiveMembers: 1, Visits: 2, Minutes: 50}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("team 1 Q2: got %+v, want %+v", got, want)
			}

			// The commune and the province add both teams up.
			for _, unit := range []int64{s.commune.ID, s.province.ID} {
				got, err = db.UnitFigures(ctx, unit, "2025Q3", loc)
				if err != nil {
					t.Fatal(err)
				}
				want = calendar.Figures{Quarter: "2025Q3", Teams: 2, Households: 300, GuidedInQuarter: 4, GuidedToDate: 5,
					People:  map[string]int{"vneid": 3, "camaug": 2, "ttkdtm": 3, "tmdt": 3, "yte": 4},
					Members: 3, ActiveMembers: 3, Visits: 4, Minutes: 160}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("unit %d Q3: got %+v, want %+v", unit, got, want)
				}
			}
			got, err = db.UnitFigures(ctx, s.hamlet2.ID, "2025Q3", loc)
			if err != nil || got.Teams != 1 || got.GuidedInQuarter != 1 || got.Households != 100 {
				t.Errorf("hamlet 2: got %+v, %v", got, err)
			}
			if _, err := db.QuarterFigures(ctx, s.team1.ID, "2025Q5", loc); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("bad quarter: got %v, want %s", err, cnsbot.EINVALID)
			}
		})
	}
}

// TestCalendarClaimReminders: a batch claim inserts each row once, however
// many passes claim the same batch at once, says which rows it inserted,
// and records a dropped reminder in the claim itself.
func TestCalendarClaimReminders(t *testing.T) {
	ctx := context.Background()
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			key := "2025Q3:team:commune"
			if ok, err := db.ClaimReminder(ctx, key, 5, "7"); !ok || err != nil {
				t.Fatalf("claim: %v %v", ok, err)
			}
			var batch []calendar.ReminderRecord
			for id := int64(1); id <= 600; id++ {
				batch = append(batch, calendar.ReminderRecord{DeadlineKey: key, PersonID: id, Offset: "7", State: calendar.StatePlanned})
			}
			batch = append(batch, calendar.ReminderRecord{DeadlineKey: key, PersonID: 1, Offset: "14",
				State: calendar.StateDroppedLate, Reason: calendar.ReasonSuperseded})

			// Four passes claim the same batch at once: each row is won once.
			wins := make([]atomic.Int32, len(batch))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					got, err := db.ClaimReminders(ctx, batch)
					if err != nil {
						t.Errorf("claim batch: %v", err)
						return
					}
					if len(got) != len(batch) {
						t.Errorf("%d results for %d claims", len(got), len(batch))
						return
					}
					for i, ok := range got {
						if ok {
							wins[i].Add(1)
						}
					}
				})
			}
			wg.Wait()
			for i, r := range batch {
				want := int32(1)
				if r.PersonID == 5 {
					want = 0 // claimed alone before
				}
				if got := wins[i].Load(); got != want {
					t.Errorf("person %d offset %s won %d times, want %d", r.PersonID, r.Offset, got, want)
				}
			}
			if err := db.SetReminderStates(ctx, key, "7", []int64{1, 2, 3}, calendar.StateQueued, ""); err != nil {
				t.Fatal(err)
			}
			recs, err := db.Reminders(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 601 {
				t.Fatalf("%d rows, want 601", len(recs))
			}
			states := map[string]int{}
			for _, r := range recs {
				states[r.State+"/"+r.Reason]++
				if r.MessageID != calendar.ReminderID(key, r.PersonID, r.Offset) {
					t.Errorf("message id %q", r.MessageID)
				}
			}
			want := map[string]int{calendar.StateQueued + "/": 3, calendar.StatePlanned + "/": 597,
				calendar.StateDroppedLate + "/" + calendar.ReasonSuperseded: 1}
			if !maps.Equal(states, want) {
				t.Errorf("states %v, want %v", states, want)
			}
		})
	}
}
