package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
	"github.com/xuri/excelize/v2"
)

// TestBuildCountsListedHouseholds: a hamlet with a household list counts
// its listed households, the other its units count, and the report says so.
func TestBuildCountsListedHouseholds(t *testing.T) {
	ctx := context.Background()
	db := dialects()["sqlite"](t)
	units := "Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ\nCà Mau,Tân Lộc,Ấp 1,200\nCà Mau,Tân Lộc,Ấp 2,150\n"
	if _, err := db.ImportUnits(ctx, strings.NewReader(units), "units.csv"); err != nil {
		t.Fatal(err)
	}
	list := "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ\nTân Lộc,Ấp 1,1,Nguyễn Văn Năm\nTân Lộc,Ấp 1,2,Trần Văn Năm\nTân Lộc,Ấp 1,3,Lê Thị Tư\n"
	if rep, err := db.ImportHouseholds(ctx, strings.NewReader(list), "ho.csv"); err != nil {
		t.Fatal(err, rep.Errors)
	}
	r, err := report.Build(ctx, db, "2025Q3", "", vietnam(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, row := range r.Communes[0].Rows {
		got[row.Hamlet] = row.Households
	}
	if got["Ấp 1"] != 3 || got["Ấp 2"] != 150 || r.Total.Households != 153 || r.ListedHamlets != 1 {
		t.Errorf("households %v total %d listed %d, want Ấp 1 3 (its list), Ấp 2 150, total 153, 1 listed",
			got, r.Total.Households, r.ListedHamlets)
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, r, texts, "vi"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		for _, c := range row {
			found = found || strings.Contains(c, "tính theo danh sách hộ gia đình")
		}
	}
	if !found {
		t.Error("the report does not say that Ấp 1's households are its list's")
	}
}

// TestListedCountsAgree: in a hamlet with a household list and two teams
// (the seed's Khóm 1, teams 1A and 1B), the report's rows and subtotal,
// the reminders' figures, the dashboard's progress and "tiến độ" count the
// same households guided: each team the listed households its visits
// named, the hamlet each of them once although both teams guided one, and
// neither the household typed that matches nothing nor the one a member
// added until the leader confirms it.
func TestListedCountsAgree(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			testListedCountsAgree(t, open(t))
		})
	}
}

func testListedCountsAgree(t *testing.T, db *store.DB) {
	ctx := context.Background()
	loc := vietnam(t)
	seed(t, db)
	// The seed's two visits to "hộ số 1" of Khóm 1, one per team, were
	// typed; the import links them to household 1 of the list.
	list := "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ\nPhường 5,Khóm 1,1,Nguyễn Văn Một\nPhường 5,Khóm 1,2,Trần Thị Hai\n" +
		"Phường 5,Khóm 1,3,Lê Văn Ba\nPhường 5,Khóm 1,4,Phạm Thị Bốn\n"
	if rep, err := db.ImportHouseholds(ctx, strings.NewReader(list), "ho.csv"); err != nil {
		t.Fatal(err, rep.Errors)
	}
	p5, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Phường 5")
	if err != nil {
		t.Fatal(err)
	}
	k1, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &p5.ID, "Khóm 1")
	if err != nil {
		t.Fatal(err)
	}
	teams, err := db.ReportTeams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a, b cnsbot.Team
	for _, tm := range teams {
		switch tm.Name {
		case "Tổ Khóm 1A":
			a = tm
		case "Tổ Khóm 1B":
			b = tm
		}
	}
	leaderOf := func(tm cnsbot.Team) int64 {
		t.Helper()
		leaders, err := db.TeamLeaders(ctx, tm.ID)
		if err != nil || len(leaders) == 0 {
			t.Fatalf("leaders of %s: %v, %v", tm.Name, leaders, err)
		}
		return leaders[0].ID
	}
	household := func(number string) *int64 {
		t.Helper()
		m, err := db.MatchHouseholds(ctx, k1.ID, number)
		if err != nil || len(m) != 1 {
			t.Fatalf("household %s: %v, %v", number, m, err)
		}
		return &m[0].ID
	}
	added, err := db.AddHousehold(ctx, k1.ID, "5 Bà Năm Mới", leaderOf(b))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	visits := []cnsbot.Visit{
		{PersonID: leaderOf(a), TeamID: a.ID, Household: "Nhà 2", ListedHouseholdID: household("2"), VisitedAt: at("2025-08-15 09:00")},
		{PersonID: leaderOf(a), TeamID: a.ID, Household: "ông Tám", VisitedAt: at("2025-09-01 09:00")},
		{PersonID: leaderOf(a), TeamID: a.ID, Household: "Nhà 1", ListedHouseholdID: household("1"), VisitedAt: at("2025-10-05 09:00")},
		{PersonID: leaderOf(b), TeamID: b.ID, Household: "Nhà 5", ListedHouseholdID: &added.ID, VisitedAt: at("2025-09-10 09:00")},
		// Reported late, for the quarter before: written after the others.
		{PersonID: leaderOf(b), TeamID: b.ID, Household: "Nhà 3", ListedHouseholdID: household("3"), VisitedAt: at("2025-05-20 09:00")},
	}
	for i, v := range visits {
		v.Areas, v.People, v.Minutes, v.SourceEvent = "vneid", 1, 15, fmt.Sprintf("listed-%d", i)
		if _, err := db.RecordVisit(ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}

	type counts struct{ households, inQuarter, toDate, unmatched int }
	check := func(when string, teamA, teamB, hamlet counts, allTime int) {
		t.Helper()
		r, err := report.Build(ctx, db, "2025Q3", "", loc)
		if err != nil {
			t.Fatal(err)
		}
		of := func(f report.Figures) counts {
			return counts{f.Households, f.GuidedInQuarter, f.GuidedToDate, f.Unmatched}
		}
		cal := func(f calendar.Figures) counts {
			return counts{f.Households, f.GuidedInQuarter, f.GuidedToDate, f.Unmatched}
		}
		var rows []counts
		for _, row := range r.Communes[0].Rows {
			rows = append(rows, of(row.Figures))
		}
		if r.Communes[0].Name != "Phường 5" || !slices.Equal(rows, []counts{teamA, teamB}) {
			t.Errorf("%s: report rows of %s %+v, want %+v", when, r.Communes[0].Name, rows, []counts{teamA, teamB})
		}
		if got := of(r.Communes[0].Subtotal); got != hamlet {
			t.Errorf("%s: report subtotal of Phường 5 %+v, want %+v (a household two teams guided counts once)", when, got, hamlet)
		}
		// Xã Tân Lộc's seed has no list: 430 households, 2 guided.
		if got, want := of(r.Total), (counts{hamlet.households + 430, hamlet.inQuarter + 2, hamlet.toDate + 2, hamlet.unmatched}); got != want ||
			r.ListedHamlets != 1 {
			t.Errorf("%s: report total %+v with %d listed hamlets, want %+v with 1", when, got, r.ListedHamlets, want)
		}

		// The reminders: a leader's team, and the commune's officer.
		for _, tt := range []struct {
			team cnsbot.Team
			want counts
		}{{a, teamA}, {b, teamB}} {
			f, err := db.QuarterFigures(ctx, tt.team.ID, "2025Q3", loc)
			if err != nil {
				t.Fatal(err)
			}
			if cal(f) != tt.want || f.ListedHamlets != 1 {
				t.Errorf("%s: reminder figures of %s %+v, want %+v", when, tt.team.Name, cal(f), tt.want)
			}
		}
		f, err := db.UnitFigures(ctx, p5.ID, "2025Q3", loc)
		if err != nil {
			t.Fatal(err)
		}
		if cal(f) != hamlet || f.ListedHamlets != 1 {
			t.Errorf("%s: reminder figures of Phường 5 %+v, want %+v", when, cal(f), hamlet)
		}
		text := strings.Join(reminder.FiguresText(texts, "vi", f, true), "\n")
		for _, s := range []string{fmt.Sprintf("%d/%d hộ", hamlet.toDate, hamlet.households), "của 1 ấp, khóm tính theo danh sách",
			fmt.Sprintf("%d hộ đã gõ chưa khớp", hamlet.unmatched)} {
			if !strings.Contains(text, s) {
				t.Errorf("%s: the reminder's figures do not say %q:\n%s", when, s, text)
			}
		}

		// The dashboard: the commune's indicators and the hamlet's progress.
		qs, err := db.CommuneFiguresQuarters(ctx, p5.ID, []string{"2025Q3", "2025Q2"}, loc)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := db.CommuneFigures(ctx, p5.ID, "2025Q3", loc)
		if err != nil {
			t.Fatal(err)
		}
		if cal(qs[0]) != hamlet || cal(cf) != hamlet {
			t.Errorf("%s: dashboard figures of Phường 5 %+v and %+v, want %+v", when, cal(qs[0]), cal(cf), hamlet)
		}
		if q2 := (counts{hamlet.households, 1, 1, 0}); cal(qs[1]) != q2 {
			t.Errorf("%s: dashboard figures of Phường 5 in 2025Q2 %+v, want %+v (1B's late visit to household 3)", when, cal(qs[1]), q2)
		}
		progress, err := db.HamletProgress(ctx, p5.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(progress) != 1 || progress[0].Guided != allTime || progress[0].Households != hamlet.households {
			t.Errorf("%s: dashboard progress %+v, want Khóm 1 %d/%d", when, progress, allTime, hamlet.households)
		}

		// "tiến độ": the team's own, against the hamlet's list. No visit
		// after 2025Q3 adds a household to either team.
		for _, tt := range []struct {
			team cnsbot.Team
			want counts
		}{{a, teamA}, {b, teamB}} {
			guided, households, err := db.TeamProgress(ctx, tt.team.ID)
			if err != nil {
				t.Fatal(err)
			}
			if guided != tt.want.toDate || households != tt.want.households {
				t.Errorf("%s: tiến độ of %s %d/%d, want %d/%d", when, tt.team.Name, guided, households, tt.want.toDate, tt.want.households)
			}
		}

		// The printed report says what the reminders say.
		var buf bytes.Buffer
		if err := report.WriteXLSX(&buf, r, texts, "vi"); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		cells, err := x.GetRows(x.GetSheetList()[0])
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, row := range cells {
			all = append(all, row...)
		}
		sheet := strings.Join(all, "\n")
		for _, s := range []string{"của 1 ấp, khóm tính theo danh sách", fmt.Sprintf("%d hộ tổ gõ trong báo cáo chưa khớp", hamlet.unmatched)} {
			if !strings.Contains(sheet, s) {
				t.Errorf("%s: the report does not say %q", when, s)
			}
		}
		checkCSVNotes(t, when, r, texts, []string{"của 1 ấp, khóm tính theo danh sách",
			fmt.Sprintf("%d hộ tổ gõ trong báo cáo chưa khớp", hamlet.unmatched)})
	}
	// 1A: households 1 (with 1B) and 2 in the quarter; "ông Tám" matches
	// nothing. 1B: household 1 in the quarter, 3 in the one before; the
	// household it added waits for the leader.
	check("as written",
		counts{4, 2, 2, 1}, counts{4, 1, 2, 0}, counts{4, 2, 3, 1}, 3)
	if err := db.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt",
		counts{4, 2, 2, 1}, counts{4, 1, 2, 0}, counts{4, 2, 3, 1}, 3)
	// The leader confirms the household 1B added ("hộ mới"): it is on the
	// list and counts.
	if err := db.ConfirmHousehold(ctx, k1.ID, added.ID); err != nil {
		t.Fatal(err)
	}
	check("hộ mới confirmed",
		counts{5, 2, 2, 1}, counts{5, 2, 3, 0}, counts{5, 3, 4, 1}, 4)
}

// checkCSVNotes: the CSV says the report's notes (want, in order) after
// the total and an empty row, each in the commune column with no number,
// and every record is as wide as the header, so that a strict reader
// reads the file.
func checkCSVNotes(t *testing.T, when string, r *report.Report, texts report.Texts, want []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, r, texts, "vi"); err != nil {
		t.Fatal(err)
	}
	// encoding/csv wants every record as wide as the first.
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("%s: the CSV does not read as a table: %v", when, err)
	}
	total := slices.IndexFunc(recs, func(rec []string) bool { return rec[1] == "TỔNG CỘNG" })
	if total < 0 || len(recs) != total+2+len(want) {
		t.Fatalf("%s: the total at record %d of %d, want it followed by an empty row and %d notes:\n%s", when, total, len(recs), len(want), buf.String())
	}
	if strings.Join(recs[total+1], "") != "" {
		t.Errorf("%s: record after the total %q, want it empty", when, recs[total+1])
	}
	for i, w := range want {
		rec := recs[total+2+i]
		if !strings.Contains(rec[1], w) || rec[0] != "" || strings.Join(rec, "") != rec[1] {
			t.Errorf("%s: note %d %q, want %q alone in the commune column", when, i+1, rec, w)
		}
	}
}
