package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
)

// reportWorld is three teams in two hamlets with visits around 2025Q3.
func reportWorld(t *testing.T, db *store.DB, loc *time.Location) []int64 {
	t.Helper()
	ctx := context.Background()
	create := func(v any) {
		t.Helper()
		if err := db.ORM().Create(v).Error; err != nil {
			t.Fatalf("seed %T: %v", v, err)
		}
	}
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc"}
	create(&commune)
	h1 := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &commune.ID, Households: 120}
	create(&h1)
	h2 := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 2", Folded: "ap 2", ParentID: &commune.ID}
	create(&h2)
	var teams []int64
	for i, h := range []cnsbot.Unit{h1, h1, h2} {
		tm := cnsbot.Team{HamletID: h.ID, Name: fmt.Sprintf("Tổ %d", i), Code: fmt.Sprintf("RT%d", i)}
		create(&tm)
		teams = append(teams, tm.ID)
	}
	var people []int64
	for i := range 4 {
		p := cnsbot.Person{FullName: fmt.Sprintf("Người %d", i), Phone: fmt.Sprintf("+8491200000%d", i)}
		create(&p)
		people = append(people, p.ID)
		team := teams[i%2]
		create(&cnsbot.Role{PersonID: p.ID, Role: cnsbot.RoleMember, UnitID: h1.ID, TeamID: &team, Approved: i != 3})
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i, v := range []cnsbot.Visit{
		{PersonID: people[0], TeamID: teams[0], Household: "ông A", Areas: "vneid,dvc", People: 2, Minutes: 30, VisitedAt: at("2025-06-30 23:59")},
		{PersonID: people[0], TeamID: teams[0], Household: "ông A", Areas: "vneid", People: 1, Minutes: 15, VisitedAt: at("2025-07-01 00:00")},
		{PersonID: people[2], TeamID: teams[0], Household: "bà B", Areas: "vneid,dvc", People: 3, Minutes: 60, VisitedAt: at("2025-08-01 10:00")},
		{PersonID: people[1], TeamID: teams[1], Household: "ông A", Areas: "yte, yte ,", People: 1, Minutes: 20, VisitedAt: at("2025-09-30 23:59")},
		{PersonID: people[1], TeamID: teams[1], Household: "bà C", Areas: "", People: 1, Minutes: 10, VisitedAt: at("2025-10-01 00:00")},
	} {
		v.SourceEvent = fmt.Sprintf("rw-%d", i)
		if _, err := db.RecordVisit(ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	return teams
}

// ReportFigures gives every team the figures QuarterFigures gives it
// alone, in one call.
func TestReportFigures(t *testing.T) {
	ctx := context.Background()
	loc := calendarLoc(t)
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			teams := reportWorld(t, db, loc)
			for _, q := range []string{"2025Q2", "2025Q3", "2025Q4"} {
				got, err := db.ReportFigures(ctx, teams, q, loc)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(teams) {
					t.Errorf("%s: %d teams, want %d", q, len(got), len(teams))
				}
				for _, id := range teams {
					want, err := db.QuarterFigures(ctx, id, q, loc)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got[id], want) {
						t.Errorf("%s team %d:\n got %+v\nwant %+v", q, id, got[id], want)
					}
				}
			}
			q3, _ := db.ReportFigures(ctx, teams, "2025Q3", loc)
			if f := q3[teams[0]]; f.GuidedInQuarter != 2 || f.GuidedToDate != 2 || f.People["vneid"] != 4 || f.Members != 2 || f.Households != 120 {
				t.Errorf("team 0 in Q3: %+v", f)
			}
			if f := q3[teams[1]]; f.People["yte"] != 1 || len(f.People) != 1 || f.Members != 1 || f.Visits != 1 {
				t.Errorf("team 1 in Q3: %+v", f)
			}
			none, err := db.ReportFigures(ctx, nil, "2025Q3", loc)
			if err != nil || len(none) != 0 {
				t.Errorf("no teams: %v, %v", none, err)
			}
			if _, err := db.ReportFigures(ctx, teams, "2025Q9", loc); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("bad quarter: got %v, want EINVALID", err)
			}
		})
	}
}

func TestReportHelpRequests(t *testing.T) {
	ctx := context.Background()
	loc := calendarLoc(t)
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			start, end, _ := calendar.QuarterBounds("2025Q3", loc)
			ptr := func(v time.Time) *time.Time { v = v.UTC(); return &v }
			for i, h := range []cnsbot.HelpRequest{
				{CreatedAt: start.Add(-time.Hour)}, // before: left out
				{CreatedAt: start},                 // created in
				{CreatedAt: start.Add(-time.Hour), ClosedAt: ptr(start.Add(time.Hour)), Status: cnsbot.HelpClosed}, // closed in
				{CreatedAt: end.Add(-time.Minute)}, // created in
				{CreatedAt: end},                   // after: left out
			} {
				h.Code = fmt.Sprintf("HTRH%02d", i)
				h.ResidentUserID, h.Name, h.Phone, h.Problem = "r", "Bà Tư", "+84912345678", "quên mật khẩu"
				h.SourceEvent = fmt.Sprintf("rh-%d", i)
				if h.Status == "" {
					h.Status = cnsbot.HelpOpen
				}
				h.CreatedAt = h.CreatedAt.UTC()
				if err := db.ORM().Create(&h).Error; err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.ReportHelpRequests(ctx, start, end)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, h := range got {
				codes = append(codes, h.Code)
				if h.Name != "" || h.Phone != "" || h.Problem != "" || h.ResidentUserID != "" {
					t.Errorf("%s carries personal data: %+v", h.Code, h)
				}
			}
			if fmt.Sprint(codes) != "[HTRH01 HTRH02 HTRH03]" {
				t.Errorf("got %v, want HTRH01–03", codes)
			}
		})
	}
}
