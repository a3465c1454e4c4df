package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// placedList is Ấp 1's list with places as officers write them: two
// columns, a Vietnamese spreadsheet's decimal commas, and houses without
// one. The houses go east from number 1 at about 110 m a thousandth of a
// degree, except that number 30 stands next to number 1.
const placedList = `Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Vĩ độ,Kinh độ
An Xuyên,Ấp 1,1,Nguyễn Văn Một,9.1769,105.1500
An Xuyên,Ấp 1,2,Trần Thị Hai,9.1769,105.1510
An Xuyên,Ấp 1,3,Lê Văn Ba,"9,1769","105,1520"
An Xuyên,Ấp 1,4,Phạm Thị Bốn,,
An Xuyên,Ấp 1,5,Võ Văn Năm,9.1769,105.1540
An Xuyên,Ấp 1,6,Đặng Thị Sáu,,
An Xuyên,Ấp 1,30,Huỳnh Văn Ba Mươi,9.1770,105.1501
`

func labels(hs []cnsbot.ListedHousehold) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Address)
	}
	return out
}

func listedByAddress(t *testing.T, db *store.DB, hamletID int64, address string) cnsbot.ListedHousehold {
	t.Helper()
	hs, err := db.MatchHouseholds(context.Background(), hamletID, address)
	if err != nil || len(hs) != 1 {
		t.Fatalf("household %s: %v %v", address, hs, err)
	}
	h, err := db.ListedHousehold(context.Background(), hs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestImportHouseholdPlaces(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			importText(t, db, "units", householdUnits)
			hamlet, _ := hamletOf(t, db, "Ấp 1")
			if rep := importText(t, db, "households", placedList); rep.Created != 7 {
				t.Fatalf("import %+v, want 7 created", rep)
			}
			h := listedByAddress(t, db, hamlet.ID, "3")
			if p, ok := h.Place(); !ok || p != (cnsbot.Place{Lat: 9.1769, Lng: 105.152}) || h.PlacedFrom != cnsbot.PlacedFromList {
				t.Errorf("number 3's place %v %v from %q, want 9.1769,105.152 from the list", p, ok, h.PlacedFrom)
			}
			if _, ok := listedByAddress(t, db, hamlet.ID, "4").Place(); ok {
				t.Error("number 4 has a place; its cells were empty")
			}
			// The same file again changes nothing; a file without the
			// columns keeps the places.
			if rep := importText(t, db, "households", placedList); rep.Created != 0 || rep.Updated != 0 {
				t.Errorf("second import %+v, want nothing changed", rep)
			}
			if rep := importText(t, db, "households", "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ\nAn Xuyên,Ấp 1,3,Lê Văn Ba\n"); rep.Updated != 0 {
				t.Errorf("import without places %+v, want nothing changed", rep)
			}
			if _, ok := listedByAddress(t, db, hamlet.ID, "3").Place(); !ok {
				t.Error("number 3 lost its place to a file without places")
			}
			// One cell, a map link, moves number 4 and number 3.
			one := "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Tọa độ\n" +
				"An Xuyên,Ấp 1,4,Phạm Thị Bốn,\"9.1769, 105.1530\"\n" +
				"An Xuyên,Ấp 1,3,Lê Văn Ba,\"https://www.google.com/maps?q=9.1771,105.1520\"\n"
			if rep := importText(t, db, "households", one); rep.Updated != 2 {
				t.Errorf("import of places %+v, want two updated", rep)
			}
			if p, _ := listedByAddress(t, db, hamlet.ID, "4").Place(); p != (cnsbot.Place{Lat: 9.1769, Lng: 105.153}) {
				t.Errorf("number 4 at %v, want 9.1769,105.153", p)
			}
			if p, _ := listedByAddress(t, db, hamlet.ID, "3").Place(); p != (cnsbot.Place{Lat: 9.1771, Lng: 105.152}) {
				t.Errorf("number 3 at %v, want 9.1771,105.152 from the link", p)
			}
		})
	}
}

func TestImportHouseholdPlacesRefusesBadOnes(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, "", t.TempDir())
	importText(t, db, "units", householdUnits)
	for _, c := range []struct {
		file string
		want []string // "line code"
	}{
		{"Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Vĩ độ,Kinh độ\n" +
			"An Xuyên,Ấp 1,1,Nguyễn Văn Một,9.1769,105.1500\n" +
			"An Xuyên,Ấp 1,2,Trần Thị Hai,105.1510,9.1769\n" + // line 3: swapped
			"An Xuyên,Ấp 1,3,Lê Văn Ba,91769,105.1520\n" + // line 4: lost its point
			"An Xuyên,Ấp 1,4,Phạm Thị Bốn,9.1769,\n" + // line 5: half a place
			"An Xuyên,Ấp 1,5,Võ Văn Năm,chín,105.1540\n" + // line 6: not a number
			"An Xuyên,Ấp 1,6,Đặng Thị Sáu,13.75,100.50\n", // line 7: Bangkok
			[]string{"3 " + store.RowPlaceSwapped, "4 " + store.RowPlaceOutside, "5 " + store.RowPlaceHalf,
				"6 " + store.RowDegreeNotNumber, "7 " + store.RowPlaceOutside}},
		{"Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Vị trí\n" +
			"An Xuyên,Ấp 1,1,Nguyễn Văn Một,https://maps.app.goo.gl/Xyz123\n" +
			"An Xuyên,Ấp 1,2,Trần Thị Hai,gần chợ\n" +
			"An Xuyên,Ấp 1,3,Lê Văn Ba,\"9.1769, 105.1520\"\n",
			[]string{"2 " + store.RowPlaceShortLink, "3 " + store.RowPlaceNeedsTwo}},
	} {
		rep, err := db.ImportHouseholds(ctx, strings.NewReader(c.file), "ho.csv")
		if cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Fatalf("err %v, want EINVALID", err)
		}
		var got []string
		for _, e := range rep.Errors {
			for _, p := range e.Problems {
				got = append(got, fmt.Sprintf("%d %s", e.Line, p.Code))
			}
			for _, v := range []string{"105.1510", "91769", "chín", "Xyz123", "13.75", "100.50", "gần chợ", "105.1520"} {
				if strings.Contains(fmt.Sprint(e), v) {
					t.Errorf("row error %+v repeats the cell", e)
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("problems %q, want %q", got, c.want)
		}
	}
	hamlet, _ := hamletOf(t, db, "Ấp 1")
	if has, _ := db.HasHouseholdList(ctx, hamlet.ID); has {
		t.Error("a refused file wrote households")
	}
}

func TestNearestUnvisited(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			importText(t, db, "units", householdUnits)
			hamlet, team := hamletOf(t, db, "Ấp 1")
			importText(t, db, "households", placedList)
			page := func(from cnsbot.Place, assigned int64, offset, limit int) ([]string, int) {
				t.Helper()
				hs, total, err := db.NearestUnvisited(ctx, hamlet.ID, assigned, from, offset, limit)
				if err != nil {
					t.Fatal(err)
				}
				return labels(hs), total
			}
			// Standing at number 5: 5, then westwards, then number 30 and 1
			// (30 is a little farther, a little north), then the houses
			// without a place by number.
			at5 := cnsbot.Place{Lat: 9.1769, Lng: 105.1540}
			want := []string{"5", "3", "2", "30", "1", "4", "6"}
			if got, total := page(at5, 0, 0, 10); !slices.Equal(got, want) || total != 7 {
				t.Errorf("from number 5: %q (%d), want %q", got, total, want)
			}
			// Pages follow on: three at a time give the same order.
			var paged []string
			for off := 0; off < 7; off += 3 {
				got, _ := page(at5, 0, off, 3)
				paged = append(paged, got...)
			}
			if !slices.Equal(paged, want) {
				t.Errorf("paged %q, want %q", paged, want)
			}
			if got, total := page(at5, 0, 7, 3); len(got) != 0 || total != 7 {
				t.Errorf("past the end %q %d", got, total)
			}
			// Standing at number 1: number 30 is next door.
			if got, _ := page(cnsbot.Place{Lat: 9.1769, Lng: 105.15}, 0, 0, 3); !slices.Equal(got, []string{"1", "30", "2"}) {
				t.Errorf("from number 1: %q, want 1 30 2", got)
			}
			// A visited household leaves; a share keeps its member's houses.
			p := cnsbot.Person{FullName: "Trần Thị Mai", Phone: "+84987654321"}
			if err := store.Insert(ctx, db, &p); err != nil {
				t.Fatal(err)
			}
			h5 := listedByAddress(t, db, hamlet.ID, "5")
			v := cnsbot.Visit{PersonID: p.ID, TeamID: team.ID, Household: h5.Label(), ListedHouseholdID: &h5.ID,
				Areas: "vneid", People: 1, Minutes: 20}
			if _, err := db.RecordVisit(ctx, &v); err != nil {
				t.Fatal(err)
			}
			if got, total := page(at5, 0, 0, 2); !slices.Equal(got, []string{"3", "2"}) || total != 6 {
				t.Errorf("after visiting 5: %q %d, want 3 2 of 6", got, total)
			}
			if _, err := db.SplitHouseholds(ctx, hamlet.ID, []int64{p.ID, p.ID + 1000}); err != nil {
				t.Fatal(err)
			}
			// Mai's share is the first three by number: 1, 2, 3.
			if got, total := page(at5, p.ID, 0, 10); !slices.Equal(got, []string{"3", "2", "1"}) || total != 3 {
				t.Errorf("Mai's share from 5: %q %d, want 3 2 1", got, total)
			}
		})
	}
}

func TestVisitPlaces(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			importText(t, db, "units", householdUnits)
			hamlet, team := hamletOf(t, db, "Ấp 1")
			importText(t, db, "households", placedList)
			p := cnsbot.Person{FullName: "Trần Thị Mai", Phone: "+84987654321"}
			if err := store.Insert(ctx, db, &p); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
			visit := func(address string, at time.Time, place cnsbot.Place) cnsbot.Visit {
				t.Helper()
				h := listedByAddress(t, db, hamlet.ID, address)
				v := cnsbot.Visit{PersonID: p.ID, TeamID: team.ID, Household: h.Label(), ListedHouseholdID: &h.ID,
					Areas: "vneid", People: 1, Minutes: 20, VisitedAt: at, Latitude: place.Lat, Longitude: place.Lng}
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
				return v
			}
			door4 := cnsbot.Place{Lat: 9.17695, Lng: 105.15302}
			// A visit with a location gives number 4, which had no place,
			// its place; the list's place of number 2 stays.
			visit("4", now, door4)
			if h := listedByAddress(t, db, hamlet.ID, "4"); h.PlacedFrom != cnsbot.PlacedFromVisit {
				t.Errorf("number 4 placed from %q, want visit", h.PlacedFrom)
			} else if got, _ := h.Place(); got != door4 {
				t.Errorf("number 4 at %v, want %v", got, door4)
			}
			visit("2", now.Add(time.Minute), cnsbot.Place{Lat: 9.18, Lng: 105.16})
			if got, _ := listedByAddress(t, db, hamlet.ID, "2").Place(); got != (cnsbot.Place{Lat: 9.1769, Lng: 105.151}) {
				t.Errorf("number 2 moved to %v; the list's place wins", got)
			}
			// A location shared after a visit without one: within the
			// window it goes on the visit and places number 6; again
			// (a retried event) the same answer.
			v6 := visit("6", now.Add(2*time.Minute), cnsbot.Place{})
			door6 := cnsbot.Place{Lat: 9.1769, Lng: 105.155}
			for range 2 {
				got, ok, err := db.AttachVisitPlace(ctx, p.ID, now.Add(-8*time.Minute), door6)
				if err != nil || !ok || got.Visit.ID != v6.ID || !got.Placed {
					t.Errorf("attach %+v %v %v, want visit %d placed", got, ok, err, v6.ID)
				}
			}
			if got, _ := listedByAddress(t, db, hamlet.ID, "6").Place(); got != door6 {
				t.Errorf("number 6 at %v, want %v", got, door6)
			}
			// Another location just after: the visit keeps its first.
			if _, ok, _ := db.AttachVisitPlace(ctx, p.ID, now.Add(-8*time.Minute), cnsbot.Place{Lat: 9.2, Lng: 105.2}); ok {
				t.Error("a second location went on the visit")
			}
			// Too late: no visit since.
			if _, ok, _ := db.AttachVisitPlace(ctx, p.ID, now.Add(20*time.Minute), door6); ok {
				t.Error("a location went on a visit older than the window")
			}
			// Where a member stands: the latest share, while fresh.
			at := cnsbot.Place{Lat: 9.1769, Lng: 105.1540}
			if err := db.SharePlace(ctx, p.ID, cnsbot.Place{Lat: 9.1, Lng: 105.1}, now.Add(-3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := db.SharedPlace(ctx, p.ID, now.Add(-2*time.Hour)); ok {
				t.Error("a place shared three hours ago is still fresh")
			}
			if err := db.SharePlace(ctx, p.ID, at, now); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := db.SharedPlace(ctx, p.ID, now.Add(-2*time.Hour)); err != nil || !ok || got != at {
				t.Errorf("shared place %v %v %v, want %v", got, ok, err, at)
			}
			if err := db.SharePlace(ctx, p.ID, cnsbot.Place{}, now); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("0,0 shared: %v, want EINVALID", err)
			}
		})
	}
}

// BenchmarkNearestUnvisited sorts one page of a hamlet of 2,000 unvisited
// households, each with a place, from a member's location (the README
// quotes it):
//
//	go test ./store -run '^$' -bench NearestUnvisited -benchtime 200x
func BenchmarkNearestUnvisited(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ImportUnits(ctx, strings.NewReader(householdUnits), "units.csv"); err != nil {
		b.Fatal(err)
	}
	var l strings.Builder
	l.WriteString("Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Vĩ độ,Kinh độ\n")
	for i := range 2000 {
		fmt.Fprintf(&l, "An Xuyên,Ấp 1,%d,Chủ hộ %d,%.5f,%.5f\n", i+1, i, 9.17+float64(i%50)*0.0002, 105.15+float64(i/50)*0.0002)
	}
	if rep, err := db.ImportHouseholds(ctx, strings.NewReader(l.String()), "ho.csv"); err != nil {
		b.Fatalf("import: %v %+v", err, rep.Errors)
	}
	c, _ := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
	h, _ := db.FindUnit(ctx, cnsbot.UnitHamlet, &c.ID, "Ấp 1")
	from := cnsbot.Place{Lat: 9.175, Lng: 105.152}
	for b.Loop() {
		list, total, err := db.NearestUnvisited(ctx, h.ID, 0, from, 10, 10)
		if err != nil || total != 2000 || len(list) != 10 {
			b.Fatalf("page: %d of %d, %v", len(list), total, err)
		}
	}
}
