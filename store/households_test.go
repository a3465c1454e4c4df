package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

const householdUnits = `Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ
Cà Mau,An Xuyên,Ấp 1,612
Cà Mau,An Xuyên,Ấp 2,548
`

// householdList is a hamlet head's list with three "ông Năm".
const householdList = `DANH SÁCH HỘ GIA ĐÌNH ẤP 1
Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Số điện thoại,Số thành viên,Ghi chú
An Xuyên,Ấp 1,Số 3,Nguyễn Văn Năm,,4,
An Xuyên,Ấp 1,12,Trần Văn Năm,0912 000 112,3,
An Xuyên,Ấp 1,27/4,Lê Văn Năm,,5,gần chùa
An Xuyên,Ấp 1,5,Phạm Thị Tư,,2,
An Xuyên,Ấp 1,8,Võ Văn Sáu,,,
`

func importText(t *testing.T, db *store.DB, kind, text string) store.ImportReport {
	t.Helper()
	imp := db.ImportHouseholds
	if kind == "units" {
		imp = db.ImportUnits
	}
	rep, err := imp(context.Background(), strings.NewReader(text), kind+".csv")
	if err != nil {
		t.Fatalf("import %s: %v %v", kind, err, rep.Errors)
	}
	return rep
}

func hamletOf(t *testing.T, db *store.DB, hamlet string) (cnsbot.Unit, cnsbot.Team) {
	t.Helper()
	ctx := context.Background()
	c, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &c.ID, hamlet)
	if err != nil {
		t.Fatal(err)
	}
	teams, err := db.TeamsOfHamlet(ctx, h.ID)
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of %s: %v %v", hamlet, teams, err)
	}
	return h, teams[0]
}

func TestImportHouseholds(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			importText(t, db, "units", householdUnits)
			hamlet, team := hamletOf(t, db, "Ấp 1")
			p := cnsbot.Person{FullName: "Trần Thị Mai", Phone: "+84987654321"}
			if err := store.Insert(ctx, db, &p); err != nil {
				t.Fatal(err)
			}
			// Before the list: the units' count, and free-text visits.
			if n, listed, err := db.HamletHouseholds(ctx, hamlet.ID); err != nil || n != 612 || listed {
				t.Fatalf("households before the list: %d %v %v, want 612 false", n, listed, err)
			}
			for _, h := range []string{"nhà bà Tư", "ông Năm", "nha ba Tu"} {
				v := cnsbot.Visit{PersonID: p.ID, TeamID: team.ID, Household: h, Areas: "vneid", People: 1, Minutes: 30}
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
			}

			rep := importText(t, db, "households", householdList)
			if rep.Rows != 5 || rep.Created != 5 || rep.Updated != 0 {
				t.Errorf("first import %+v, want 5 rows created", rep)
			}
			// Idempotent: the same file again changes nothing.
			if rep := importText(t, db, "households", householdList); rep.Created != 0 || rep.Updated != 0 {
				t.Errorf("second import %+v, want nothing changed", rep)
			}
			// A corrected row updates its household.
			fixed := strings.Replace(householdList, "Võ Văn Sáu,,,", "Võ Văn Sáu,,6,", 1)
			if rep := importText(t, db, "households", fixed); rep.Created != 0 || rep.Updated != 1 {
				t.Errorf("corrected import %+v, want one update", rep)
			}
			if n, listed, err := db.HamletHouseholds(ctx, hamlet.ID); err != nil || n != 5 || !listed {
				t.Errorf("households with the list: %d %v %v, want 5 true", n, listed, err)
			}

			// The old visits to bà Tư (typed twice) were certain: they now
			// name her household and count once; "ông Năm" stays.
			guided, households, err := db.TeamProgress(ctx, team.ID)
			if err != nil || guided != 1 || households != 5 {
				t.Errorf("progress %d/%d %v, want 1/5", guided, households, err)
			}
			un, err := db.UnmatchedVisits(ctx, hamlet.ID, 10)
			if err != nil || len(un) != 1 || un[0].Household != "ông Năm" || un[0].Matches != 3 {
				t.Errorf("unmatched %+v %v, want ông Năm with 3 matches", un, err)
			}

			match := func(text string) []string {
				t.Helper()
				hs, err := db.MatchHouseholds(ctx, hamlet.ID, text)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, h := range hs {
					out = append(out, h.Label())
				}
				return out
			}
			for _, c := range []struct {
				text string
				want []string
			}{
				{"ông Năm", []string{"Nguyễn Văn Năm – Số 3", "Trần Văn Năm – 12", "Lê Văn Năm – 27/4"}},
				{"nha ong nam", []string{"Nguyễn Văn Năm – Số 3", "Trần Văn Năm – 12", "Lê Văn Năm – 27/4"}},
				{"12", []string{"Trần Văn Năm – 12"}},
				{"so 27", []string{"Lê Văn Năm – 27/4"}},
				{"3 ông Năm", []string{"Nguyễn Văn Năm – Số 3"}},
				{"0912000112", []string{"Trần Văn Năm – 12"}},
				{"ông Ba", nil},
				{"bà Tư", []string{"Phạm Thị Tư – 5"}},
				{"chi Tu", []string{"Phạm Thị Tư – 5"}},
				{"ông Sáu", []string{"Võ Văn Sáu – 8"}},
				{"nhà", nil},
			} {
				if got := match(c.text); !slices.Equal(got, c.want) {
					t.Errorf("match %q = %q, want %q", c.text, got, c.want)
				}
			}

			// A visit to a household of another hamlet's list is refused.
			other, team2 := hamletOf(t, db, "Ấp 2")
			hs, _ := db.MatchHouseholds(ctx, hamlet.ID, "12")
			v := cnsbot.Visit{PersonID: p.ID, TeamID: team2.ID, HamletID: other.ID, Household: "x", ListedHouseholdID: &hs[0].ID}
			if _, err := db.RecordVisit(ctx, &v); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("visit to another hamlet's household: %v, want EINVALID", err)
			}
			v = cnsbot.Visit{PersonID: p.ID, TeamID: team.ID, Household: "anh Năm số 12", ListedHouseholdID: &hs[0].ID}
			if _, err := db.RecordVisit(ctx, &v); err != nil {
				t.Fatal(err)
			}
			if guided, _, _ := db.TeamProgress(ctx, team.ID); guided != 2 {
				t.Errorf("guided after a listed visit: %d, want 2", guided)
			}

			// The round: three left, split between two members.
			list, total, err := db.UnvisitedHouseholds(ctx, hamlet.ID, 0, 0, 2)
			if err != nil || total != 3 || len(list) != 2 || list[0].Number != 3 || list[1].Number != 8 {
				t.Errorf("unvisited %+v %d %v, want 3 in all, numbers 3 and 8 first", list, total, err)
			}
			shares, err := db.SplitHouseholds(ctx, hamlet.ID, []int64{p.ID, p.ID + 100})
			if err != nil || len(shares) != 2 || shares[0].Count != 2 || shares[1].Count != 1 || shares[1].From.Number != 27 {
				t.Errorf("shares %+v %v", shares, err)
			}
			if _, n, _ := db.UnvisitedHouseholds(ctx, hamlet.ID, p.ID, 0, 10); n != 2 {
				t.Errorf("member's share %d, want 2", n)
			}

			// A household not on the list waits for the leader.
			added, err := db.AddHousehold(ctx, hamlet.ID, "14 bà Bảy", p.ID)
			if err != nil || !added.Pending || added.Number != 14 || added.Head != "bà Bảy" {
				t.Errorf("added %+v %v", added, err)
			}
			if n, _, _ := db.HamletHouseholds(ctx, hamlet.ID); n != 5 {
				t.Errorf("households with one pending: %d, want 5", n)
			}
			if err := db.ConfirmHousehold(ctx, hamlet.ID, added.ID); err != nil {
				t.Fatal(err)
			}
			if n, _, _ := db.HamletHouseholds(ctx, hamlet.ID); n != 6 {
				t.Errorf("households once confirmed: %d, want 6", n)
			}

			// The report, the reminders and the dashboard count on the list,
			// and say so.
			figs, err := db.ReportFigures(ctx, []int64{team.ID}, "2026Q4", time.UTC)
			if f := figs[team.ID]; err != nil || f.Households != 6 || f.ListedHamlets != 1 {
				t.Errorf("report figures %+v %v, want 6 households, 1 listed hamlet", f, err)
			}
			commune, _ := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
			if f, err := db.UnitFigures(ctx, commune.ID, "2026Q4", time.UTC); err != nil ||
				f.Households != 6+548 || f.ListedHamlets != 1 {
				t.Errorf("commune figures %+v %v, want 554 households, 1 listed hamlet", f, err)
			}
			progress, err := db.HamletProgress(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range progress {
				if u.ID == hamlet.ID && u.Households != 6 || u.ID == other.ID && u.Households != 548 {
					t.Errorf("dashboard progress %+v", u)
				}
			}
		})
	}
}

func TestImportHouseholdsRefusesBadRows(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, "", t.TempDir())
	importText(t, db, "units", householdUnits)
	bad := `Xã/Phường,Ấp/Khóm,Địa chỉ,Chủ hộ,SĐT,Số thành viên
An Xuyên,Ấp 1,12,Trần Văn Năm,,3
An Xuyên,Ấp 9,13,Lê Thị Hoa,,2
An Xuyên,Ấp 1,14,,,2
An Xuyên,Ấp 1,15,Võ Văn Tám,0123,2
An Xuyên,Ấp 1,12,Trần Văn Năm,,3
An Xuyên,Ấp 1,16,Đỗ Văn Chín,,hai
`
	rep, err := db.ImportHouseholds(ctx, strings.NewReader(bad), "ho.csv")
	if cnsbot.ErrorCode(err) != cnsbot.EINVALID {
		t.Fatalf("err %v, want EINVALID", err)
	}
	var got []string
	for _, e := range rep.Errors {
		for _, p := range e.Problems {
			got = append(got, fmt.Sprintf("%d %s", e.Line, p.Code))
		}
		if strings.Contains(fmt.Sprint(e), "0123") {
			t.Errorf("row error %+v repeats the phone", e)
		}
	}
	want := []string{"3 " + store.RowUnknownHamlet, "4 " + store.RowEmpty, "5 " + store.RowPhoneLength,
		"6 " + store.RowSameHousehold, "7 " + store.RowNotWholeNumber}
	if !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	hamlet, _ := hamletOf(t, db, "Ấp 1")
	if n, listed, _ := db.HamletHouseholds(ctx, hamlet.ID); n != 612 || listed {
		t.Errorf("after a refused file: %d %v, want 612 false (nothing written)", n, listed)
	}
}

// largeCommuneList is a household list of one large commune: n households
// in 40 hamlets, as officers write it.
func largeCommuneList(n int) (units, list string) {
	var u, l strings.Builder
	u.WriteString("Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ\n")
	for h := 1; h <= 40; h++ {
		fmt.Fprintf(&u, "Cà Mau,Tân Thành,Ấp %d,%d\n", h, n/40)
	}
	l.WriteString("Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Số điện thoại,Số thành viên,Ghi chú\n")
	names := []string{"Nguyễn Văn Năm", "Trần Thị Tư", "Lê Văn Ba", "Phạm Thị Sáu", "Võ Văn Bảy", "Đặng Thị Út"}
	for i := 0; i < n; i++ {
		phone := ""
		if i%3 == 0 {
			phone = fmt.Sprintf("09%08d", i)
		}
		fmt.Fprintf(&l, "Tân Thành,Ấp %d,%d/%d,%s,%s,%d,\n", i%40+1, i/40+1, i%7, names[i%len(names)], phone, i%6+1)
	}
	return u.String(), l.String()
}

// BenchmarkImportHouseholds30k imports one large commune's 30,000
// households into a fresh database each time (the README quotes it):
//
//	go test ./store -run '^$' -bench ImportHouseholds30k -benchtime 1x
//
// It uses the embedded SQLite, or Postgres when CNSBOT_BENCH_POSTGRES is set.
func BenchmarkImportHouseholds30k(b *testing.B) {
	ctx := context.Background()
	units, list := largeCommuneList(30_000)
	for b.Loop() {
		b.StopTimer()
		var db *store.DB
		var err error
		if os.Getenv("CNSBOT_BENCH_POSTGRES") != "" {
			db, err = store.Open(ctx, storetest.PostgresURL(b), "", nil)
		} else {
			db, err = store.Open(ctx, "", b.TempDir(), nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ImportUnits(ctx, strings.NewReader(units), "units.csv"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rep, err := db.ImportHouseholds(ctx, strings.NewReader(list), "households.csv")
		if err != nil || rep.Created != 30_000 {
			b.Fatalf("import: %+v %v", rep.Errors, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/import")
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
