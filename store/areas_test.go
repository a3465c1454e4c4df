package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TestAreaProgress: households guided per area count each household once
// per area, whoever visited; a hamlet without a list counts every
// household typed, against the units' "Số hộ"; once it has a list, only
// the listed households, the old free-text visits its import links
// included and the ones it cannot link left out. A rebuild agrees.
func TestAreaProgress(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			importText(t, db, "units", householdUnits)
			ap1, team1 := hamletOf(t, db, "Ấp 1")
			ap2, team2 := hamletOf(t, db, "Ấp 2")
			p := cnsbot.Person{FullName: "Trần Thị Mai", Phone: "+84987654321"}
			if err := store.Insert(ctx, db, &p); err != nil {
				t.Fatal(err)
			}
			n := 0
			visit := func(team cnsbot.Team, household, areas string, listed *int64) {
				t.Helper()
				n++
				v := cnsbot.Visit{PersonID: p.ID, TeamID: team.ID, Household: household, Areas: areas, People: 1, Minutes: 20,
					ListedHouseholdID: listed, SourceEvent: fmt.Sprintf("area-%d", n)}
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
			}
			check := func(when string, hamlet cnsbot.Unit, households int, want map[string]int) {
				t.Helper()
				got, err := db.HamletAreaProgress(ctx, hamlet.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Households != households || !reflect.DeepEqual(got.Guided, want) {
					t.Errorf("%s: %s %d households %v, want %d %v", when, hamlet.Name, got.Households, got.Guided, households, want)
				}
			}
			// Ấp 2 has no list: every household typed counts, folded.
			visit(team2, "nhà ông Ba", "vneid,dvc", nil)
			visit(team2, "Ông Ba", "vneid", nil)
			visit(team2, "bà Tư", "vneid, yte", nil)
			visit(team2, "bà Tư", "", nil)
			// Ấp 1 before its list: bà Tư (twice typed) and an ông Năm the
			// list will have three of.
			visit(team1, "nhà bà Tư", "vneid", nil)
			visit(team1, "nha ba Tu", "ttkdtm", nil)
			visit(team1, "ông Năm", "vneid", nil)
			check("before the list", ap1, 612, map[string]int{"vneid": 2, "ttkdtm": 1})
			check("no list", ap2, 548, map[string]int{"vneid": 2, "dvc": 1, "yte": 1})

			importText(t, db, "households", householdList)
			// bà Tư's visits now name her listed household; ông Năm's
			// cannot be linked and no longer counts.
			check("with the list", ap1, 5, map[string]int{"vneid": 1, "ttkdtm": 1})
			sau, err := db.MatchHouseholds(ctx, ap1.ID, "ông Sáu")
			if err != nil || len(sau) != 1 {
				t.Fatalf("ông Sáu: %v %v", sau, err)
			}
			visit(team1, "ông Sáu", "vneid,antoan", &sau[0].ID)
			visit(team1, "ông Sáu", "vneid", &sau[0].ID)
			visit(team1, "ông Không Có", "vneid", nil)
			want1 := map[string]int{"vneid": 2, "ttkdtm": 1, "antoan": 1}
			check("listed visits", ap1, 5, want1)

			commune, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
			if err != nil {
				t.Fatal(err)
			}
			all, err := db.AreaProgress(ctx, commune.ID, 0)
			if err != nil || len(all) != 2 || all[0].Name != "Ấp 1" || all[1].Name != "Ấp 2" {
				t.Fatalf("commune: %+v %v", all, err)
			}
			sum := store.CommuneAreas(all)
			if sum.Households != 553 || !reflect.DeepEqual(sum.Guided, map[string]int{"vneid": 4, "ttkdtm": 1, "antoan": 1, "dvc": 1, "yte": 1}) {
				t.Errorf("commune's sum %+v", sum)
			}
			if err := db.RebuildRollups(ctx); err != nil {
				t.Fatal(err)
			}
			check("rebuilt", ap1, 5, want1)
			check("rebuilt", ap2, 548, map[string]int{"vneid": 2, "dvc": 1, "yte": 1})
		})
	}
}
