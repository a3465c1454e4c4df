package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
	"github.com/camau-cns/cnsbot/vn"
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
	open := func(t *testing.T, url, dir string) *store.DB {
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
	return map[string]func(t *testing.T) *store.DB{
		"sqlite":   func(t *testing.T) *store.DB { return open(t, "", t.TempDir()) },
		"postgres": func(t *testing.T) *store.DB { return open(t, storetest.PostgresURL(t), "") },
	}
}

// seed is a small province, laid out to touch every rule of the report:
//
//	Cà Mau
//	├── Phường 5
//	│   └── Khóm 1 (100 households): two teams, 1A and 1B
//	├── Xã Tân Lộc
//	│   ├── Ấp 1 (200): team T1 with a leader, a member and a pending member
//	│   ├── Ấp 2 (150): team T2, a leader, no visits
//	│   └── Ấp 10 (80): no team yet
//	└── Xã Trống: no hamlets
//
// Visits and help requests fall before, inside and after 2025Q3, some on
// its local boundaries (30/09 23:30 is Q3, 01/10 00:30 is not, although
// both are 30/09 in UTC).
func seed(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	loc := vietnam(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	unit := func(kind, name string, parent *cnsbot.Unit, households int) *cnsbot.Unit {
		u := &cnsbot.Unit{Kind: kind, Name: name, Folded: vn.Fold(name), Households: households}
		if parent != nil {
			u.ParentID = &parent.ID
		}
		create(t, db, u)
		return u
	}
	province := unit(cnsbot.UnitProvince, "Cà Mau", nil, 0)
	p5 := unit(cnsbot.UnitCommune, "Phường 5", province, 0)
	k1 := unit(cnsbot.UnitHamlet, "Khóm 1", p5, 100)
	tl := unit(cnsbot.UnitCommune, "Xã Tân Lộc", province, 0)
	ap1 := unit(cnsbot.UnitHamlet, "Ấp 1", tl, 200)
	ap2 := unit(cnsbot.UnitHamlet, "Ấp 2", tl, 150)
	ap10 := unit(cnsbot.UnitHamlet, "Ấp 10", tl, 80)
	unit(cnsbot.UnitCommune, "Xã Trống", province, 0)

	team := func(h *cnsbot.Unit, name, code string) *cnsbot.Team {
		tm := &cnsbot.Team{HamletID: h.ID, Name: name, Code: code}
		create(t, db, tm)
		return tm
	}
	k1a := team(k1, "Tổ Khóm 1A", "P5K1A")
	k1b := team(k1, "Tổ Khóm 1B", "P5K1B")
	t1 := team(ap1, "Tổ Ấp 1", "TLA1")
	t2 := team(ap2, "Tổ Ấp 2", "TLA2")

	phone := 0
	person := func(name string, tm *cnsbot.Team, role string, approved bool) *cnsbot.Person {
		phone++
		p := &cnsbot.Person{FullName: name, Phone: fmt.Sprintf("+8491234%04d", phone)}
		create(t, db, p)
		create(t, db, &cnsbot.Role{PersonID: p.ID, Role: role, UnitID: tm.HamletID, TeamID: &tm.ID, Approved: approved})
		return p
	}
	a := person("Nguyễn Văn An", t1, cnsbot.RoleLeader, true)
	m := person("Lê Văn Minh", t1, cnsbot.RoleMember, true)
	person("Trần Văn Chờ", t1, cnsbot.RoleMember, false)
	person("Trần Thị Bình", t2, cnsbot.RoleLeader, true)
	c := person("Phạm Văn Chín", k1a, cnsbot.RoleLeader, true)
	person("Đỗ Thị Dung", k1a, cnsbot.RoleMember, true)
	e := person("Võ Văn Em", k1b, cnsbot.RoleLeader, true)

	visits := []cnsbot.Visit{
		{PersonID: m.ID, TeamID: t1.ID, Household: "nhà ông Năm", Areas: "vneid", People: 1, Minutes: 20, VisitedAt: at("2025-05-10 09:00")},
		{PersonID: m.ID, TeamID: t1.ID, Household: "Ông Năm", Areas: "vneid,dvc", People: 2, Minutes: 45, VisitedAt: at("2025-07-05 09:00")},
		{PersonID: a.ID, TeamID: t1.ID, Household: "bà Sáu", Areas: "vneid,ttkdtm", People: 1, Minutes: 30, VisitedAt: at("2025-08-20 15:00")},
		{PersonID: m.ID, TeamID: t1.ID, Household: "bà Sáu", Areas: "camaug", People: 3, Minutes: 75, VisitedAt: at("2025-09-30 23:30")},
		{PersonID: m.ID, TeamID: t1.ID, Household: "ông Bảy", Areas: "vneid", People: 2, Minutes: 30, VisitedAt: at("2025-10-01 00:30")},
		{PersonID: c.ID, TeamID: k1a.ID, Household: "hộ số 1", Areas: "yte,xyz", People: 4, Minutes: 60, VisitedAt: at("2025-07-10 10:00")},
		{PersonID: e.ID, TeamID: k1b.ID, Household: "hộ số 1", Areas: "giaoduc", People: 1, Minutes: 20, VisitedAt: at("2025-08-01 10:00")},
	}
	for i, v := range visits {
		v.SourceEvent = fmt.Sprintf("seed-%d", i)
		if _, err := db.RecordVisit(ctx, &v); err != nil {
			t.Fatalf("seed visit: %v", err)
		}
	}

	ptr := func(v time.Time) *time.Time { v = v.UTC(); return &v }
	help := []cnsbot.HelpRequest{
		// Received and resolved in the quarter.
		{HamletID: ap1.ID, CommuneID: tl.ID, TeamID: &t1.ID, Status: cnsbot.HelpClosed,
			CreatedAt: at("2025-07-02 08:00"), ClosedAt: ptr(at("2025-07-03 10:00"))},
		// Received before the quarter, resolved in it.
		{HamletID: ap1.ID, CommuneID: tl.ID, TeamID: &t1.ID, Status: cnsbot.HelpClosed,
			CreatedAt: at("2025-06-20 08:00"), ClosedAt: ptr(at("2025-07-01 10:00"))},
		// A hamlet without a team.
		{HamletID: ap10.ID, CommuneID: tl.ID, Status: cnsbot.HelpOpen, CreatedAt: at("2025-08-05 08:00")},
		// Cancelled: received, never resolved.
		{HamletID: ap2.ID, CommuneID: tl.ID, TeamID: &t2.ID, Status: cnsbot.HelpCancelled, CreatedAt: at("2025-09-01 08:00")},
		// No team recorded: the hamlet's first team's row.
		{HamletID: k1.ID, CommuneID: p5.ID, Status: cnsbot.HelpOpen, CreatedAt: at("2025-07-15 08:00")},
		// After the quarter.
		{HamletID: k1.ID, CommuneID: p5.ID, TeamID: &k1b.ID, Status: cnsbot.HelpOpen, CreatedAt: at("2025-10-02 08:00")},
	}
	for i, h := range help {
		h.Code = fmt.Sprintf("HTSD%02d", i)
		h.ResidentUserID = fmt.Sprintf("r%d", i)
		h.SourceEvent = fmt.Sprintf("seed-help-%d", i)
		h.CreatedAt = h.CreatedAt.UTC()
		create(t, db, &h)
	}
}

// areas returns People in cnsbot.Areas' order from a map.
func areas(m map[string]int) []int {
	out := make([]int, len(cnsbot.Areas))
	for i, a := range cnsbot.Areas {
		out[i] = m[a]
	}
	return out
}

// want is the 2025Q3 report of the seed: rows by commune, in name order.
var want = struct {
	rows      []report.Row
	subtotals map[string]report.Figures
	total     report.Figures
}{
	rows: []report.Row{
		{No: 1, Commune: "Phường 5", Hamlet: "Khóm 1", Team: "Tổ Khóm 1A", Figures: report.Figures{
			Households: 100, GuidedInQuarter: 1, GuidedToDate: 1, People: areas(map[string]int{"yte": 4, "khac": 4}),
			Members: 2, ActiveMembers: 1, Visits: 1, Minutes: 60, HelpReceived: 1}},
		{No: 2, Commune: "Phường 5", Hamlet: "Khóm 1", Team: "Tổ Khóm 1B", Figures: report.Figures{
			Households: 100, GuidedInQuarter: 1, GuidedToDate: 1, People: areas(map[string]int{"giaoduc": 1}),
			Members: 1, ActiveMembers: 1, Visits: 1, Minutes: 20}},
		{No: 3, Commune: "Xã Tân Lộc", Hamlet: "Ấp 1", Team: "Tổ Ấp 1", Figures: report.Figures{
			Households: 200, GuidedInQuarter: 2, GuidedToDate: 2,
			People:  areas(map[string]int{"vneid": 3, "dvc": 2, "ttkdtm": 1, "camaug": 3}),
			Members: 2, ActiveMembers: 2, Visits: 3, Minutes: 150, HelpReceived: 1, HelpResolved: 2}},
		{No: 4, Commune: "Xã Tân Lộc", Hamlet: "Ấp 2", Team: "Tổ Ấp 2", Figures: report.Figures{
			Households: 150, People: areas(nil), Members: 1, HelpReceived: 1}},
		{No: 5, Commune: "Xã Tân Lộc", Hamlet: "Ấp 10", Figures: report.Figures{
			Households: 80, People: areas(nil), HelpReceived: 1}},
	},
	subtotals: map[string]report.Figures{
		"Phường 5": {Households: 100, GuidedInQuarter: 2, GuidedToDate: 2,
			People:  areas(map[string]int{"yte": 4, "khac": 4, "giaoduc": 1}),
			Members: 3, ActiveMembers: 2, Visits: 2, Minutes: 80, HelpReceived: 1},
		"Xã Tân Lộc": {Households: 430, GuidedInQuarter: 2, GuidedToDate: 2,
			People:  areas(map[string]int{"vneid": 3, "dvc": 2, "ttkdtm": 1, "camaug": 3}),
			Members: 3, ActiveMembers: 2, Visits: 3, Minutes: 150, HelpReceived: 3, HelpResolved: 2},
		"Xã Trống": {People: areas(nil)},
	},
	total: report.Figures{Households: 530, GuidedInQuarter: 4, GuidedToDate: 4,
		People:  areas(map[string]int{"vneid": 3, "dvc": 2, "ttkdtm": 1, "camaug": 3, "yte": 4, "khac": 4, "giaoduc": 1}),
		Members: 6, ActiveMembers: 4, Visits: 5, Minutes: 230, HelpReceived: 4, HelpResolved: 2},
}

// fixedMade is the date made printed in the golden files.
var fixedMade = time.Date(2025, 10, 5, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// built builds the seed's 2025Q3 report on each database.
func built(t *testing.T, commune string) map[string]*report.Report {
	t.Helper()
	out := map[string]*report.Report{}
	for name, open := range dialects() {
		t.Run("build on "+name, func(t *testing.T) {
			db := open(t)
			seed(t, db)
			r, err := report.Build(context.Background(), db, "2025q3", commune, vietnam(t))
			if err != nil {
				t.Fatal(err)
			}
			r.Made = fixedMade
			out[name] = r
		})
	}
	return out
}

func TestBuild(t *testing.T) {
	for name, r := range built(t, "") {
		t.Run(name, func(t *testing.T) {
			if r.Quarter != "2025Q3" || r.Unit != "Cà Mau" || r.Commune != "" {
				t.Errorf("quarter %q unit %q commune %q, want 2025Q3, Cà Mau, none", r.Quarter, r.Unit, r.Commune)
			}
			if got := r.Start.Format(time.DateTime + " -07"); got != "2025-07-01 00:00:00 +07" {
				t.Errorf("start %s", got)
			}
			if got := r.End.Format(time.DateOnly); got != "2025-10-01" {
				t.Errorf("end %s", got)
			}
			var names []string
			var rows []report.Row
			for _, c := range r.Communes {
				names = append(names, c.Name)
				for _, row := range c.Rows {
					row.HamletID, row.TeamID = 0, 0
					rows = append(rows, row)
				}
				if got := c.Subtotal; !equalFigures(got, want.subtotals[c.Name]) {
					t.Errorf("subtotal of %s:\n got %+v\nwant %+v", c.Name, got, want.subtotals[c.Name])
				}
			}
			if fmt.Sprint(names) != "[Phường 5 Xã Tân Lộc Xã Trống]" {
				t.Errorf("communes %v", names)
			}
			if len(rows) != len(want.rows) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(want.rows), rows)
			}
			for i := range rows {
				if g, w := rows[i], want.rows[i]; g.No != w.No || g.Commune != w.Commune || g.Hamlet != w.Hamlet ||
					g.Team != w.Team || !equalFigures(g.Figures, w.Figures) {
					t.Errorf("row %d:\n got %+v\nwant %+v", i+1, g, w)
				}
			}
			if !equalFigures(r.Total, want.total) {
				t.Errorf("total:\n got %+v\nwant %+v", r.Total, want.total)
			}
			if p := r.Total.Percent(); fmt.Sprintf("%.4f", p) != "0.0075" {
				t.Errorf("total percent %v, want 4/530", p)
			}
		})
	}
}

func equalFigures(a, b report.Figures) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func TestBuildCommune(t *testing.T) {
	for name, r := range built(t, "tan loc") {
		t.Run(name, func(t *testing.T) {
			if r.Unit != "Xã Tân Lộc" || r.Commune != "Xã Tân Lộc" || len(r.Communes) != 1 {
				t.Fatalf("unit %q commune %q, %d communes; want Xã Tân Lộc alone", r.Unit, r.Commune, len(r.Communes))
			}
			if got, w := r.Total, want.subtotals["Xã Tân Lộc"]; !equalFigures(got, w) {
				t.Errorf("total:\n got %+v\nwant %+v", got, w)
			}
			if r.Communes[0].Rows[0].No != 1 {
				t.Errorf("rows are numbered from %d, want 1", r.Communes[0].Rows[0].No)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	db := dialects()["sqlite"](t)
	seed(t, db)
	loc := vietnam(t)
	tests := []struct {
		quarter, commune string
		code             string
	}{
		{"2025Q5", "", cnsbot.EINVALID},
		{"Q3", "", cnsbot.EINVALID},
		{"2025Q3", "Xã Không Có", cnsbot.ENOTFOUND},
	}
	for _, tt := range tests {
		_, err := report.Build(context.Background(), db, tt.quarter, tt.commune, loc)
		if got := cnsbot.ErrorCode(err); got != tt.code {
			t.Errorf("Build(%q, %q): got %v (%s), want %s", tt.quarter, tt.commune, err, got, tt.code)
		}
	}
}

// create inserts one seeded row, failing the test if it cannot.
func create[T store.Row](t testing.TB, db *store.DB, row *T) {
	t.Helper()
	if err := store.Insert(context.Background(), db, row); err != nil {
		t.Fatalf("seed %T: %v", row, err)
	}
}

// TestSubtotalsCountPeopleOnce: a person on two teams of a commune is one
// member of the commune and of the province, and one active member when
// they reported for both, as the chat's and the reminders' figures
// (UnitFigures, CommuneFigures) count them; the teams' rows still count
// them in each team. From the rollups (Vietnam's quarters) and from the
// visits (another zone's).
func TestSubtotalsCountPeopleOnce(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			seed(t, db)
			chin, _, err := db.PersonByPhone(ctx, "+84912340005") // Phạm Văn Chín, leader of Tổ Khóm 1A
			if err != nil {
				t.Fatal(err)
			}
			k1b, err := db.TeamByCode(ctx, "P5K1B")
			if err != nil {
				t.Fatal(err)
			}
			create(t, db, &cnsbot.Role{PersonID: chin.ID, Role: cnsbot.RoleMember, UnitID: k1b.HamletID, TeamID: &k1b.ID, Approved: true})
			at := time.Date(2025, 8, 2, 10, 0, 0, 0, vietnam(t))
			if _, err := db.RecordVisit(ctx, &cnsbot.Visit{PersonID: chin.ID, TeamID: k1b.ID, Household: "hộ số 2", Areas: "vneid",
				People: 1, Minutes: 15, VisitedAt: at, SourceEvent: "both-teams"}); err != nil {
				t.Fatal(err)
			}
			for _, loc := range []*time.Location{vietnam(t), time.FixedZone("UTC+8", 8*3600)} {
				r, err := report.Build(ctx, db, "2025Q3", "", loc)
				if err != nil {
					t.Fatal(err)
				}
				p5 := r.Communes[0]
				if p5.Name != "Phường 5" {
					t.Fatalf("first commune %s, want Phường 5", p5.Name)
				}
				for _, row := range p5.Rows {
					if row.Members != 2 || row.ActiveMembers != 1+boolInt(row.Team == "Tổ Khóm 1B") {
						t.Errorf("%s: row %s: %d members, %d active; want 2 and the team's own", loc, row.Team, row.Members, row.ActiveMembers)
					}
				}
				if got := p5.Subtotal; got.Members != 3 || got.ActiveMembers != 2 {
					t.Errorf("%s: subtotal of Phường 5: %d members, %d active; want 3 and 2 (Chín once)", loc, got.Members, got.ActiveMembers)
				}
				if got := r.Total; got.Members != 6 || got.ActiveMembers != 4 {
					t.Errorf("%s: total: %d members, %d active; want 6 and 4", loc, got.Members, got.ActiveMembers)
				}
				unit, err := db.UnitFigures(ctx, p5.ID, "2025Q3", loc)
				if err != nil {
					t.Fatal(err)
				}
				if unit.Members != p5.Subtotal.Members || unit.ActiveMembers != p5.Subtotal.ActiveMembers {
					t.Errorf("%s: chat figures of Phường 5: %d members, %d active; the report's subtotal %d, %d",
						loc, unit.Members, unit.ActiveMembers, p5.Subtotal.Members, p5.Subtotal.ActiveMembers)
				}
				province, err := db.CommuneFigures(ctx, 0, "2025Q3", loc)
				if err != nil {
					t.Fatal(err)
				}
				if province.Members != r.Total.Members || province.ActiveMembers != r.Total.ActiveMembers {
					t.Errorf("%s: province figures: %d members, %d active; the report's total %d, %d",
						loc, province.Members, province.ActiveMembers, r.Total.Members, r.Total.ActiveMembers)
				}
				one, err := report.Build(ctx, db, "2025Q3", "phuong 5", loc)
				if err != nil {
					t.Fatal(err)
				}
				if one.Total.Members != 3 || one.Total.ActiveMembers != 2 {
					t.Errorf("%s: Phường 5's own report: %d members, %d active; want 3 and 2", loc, one.Total.Members, one.Total.ActiveMembers)
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
