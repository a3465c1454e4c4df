package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
)

func TestDomainFindUnit(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mustImport(t, db, "units", "units.csv")
		ax, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			kind     string
			parentID *int64
			in       string
			want     string // the unit's name, or the error code
		}{
			{"exact", cnsbot.UnitCommune, nil, "An Xuyên", "An Xuyên"},
			{"no diacritics", cnsbot.UnitCommune, nil, "an xuyen", "An Xuyên"},
			{"other tone placement and case", cnsbot.UnitCommune, nil, "LÝ VĂN LÂM", "Lý Văn Lâm"},
			{"administrative word", cnsbot.UnitCommune, nil, "Phường Tân Thành", "Tân Thành"},
			{"hamlet without its word", cnsbot.UnitHamlet, &ax.ID, "Tân Dân", "Ấp Tân Dân"},
			{"hamlet number", cnsbot.UnitHamlet, &ax.ID, "ap 3", "Ấp 3"},
			{"hamlet in another commune", cnsbot.UnitHamlet, &ax.ID, "Khóm 1", cnsbot.ENOTFOUND},
			{"unknown", cnsbot.UnitCommune, nil, "Hòa Thành", cnsbot.ENOTFOUND},
			{"empty", cnsbot.UnitCommune, nil, " ", cnsbot.EINVALID},
			{"province", cnsbot.UnitProvince, nil, "Tỉnh Cà Mau", "Cà Mau"},
		}
		for _, tt := range tests {
			u, err := db.FindUnit(ctx, tt.kind, tt.parentID, tt.in)
			got := u.Name
			if err != nil {
				got = cnsbot.ErrorCode(err)
			}
			if got != tt.want {
				t.Errorf("%s: FindUnit(%q): got %q (%v), want %q", tt.name, tt.in, got, err, tt.want)
			}
		}

		// Two hamlets whose names differ only by their word are ambiguous
		// without it, but each is found by its full name.
		for _, n := range [][2]string{{"Khóm 5", "khom 5"}, {"Ấp 5", "ap 5"}} {
			if err := db.orm.Create(&cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: n[0], Folded: n[1], ParentID: &ax.ID}).Error; err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &ax.ID, "5"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("ambiguous bare name: got %v, want ECONFLICT", err)
		}
		if u, err := db.FindUnit(ctx, cnsbot.UnitHamlet, &ax.ID, "khom 5"); err != nil || u.Name != "Khóm 5" {
			t.Errorf("full name: got %q, %v, want Khóm 5", u.Name, err)
		}

		if _, err := db.Unit(ctx, 999999); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("Unit(999999): got %v, want ENOTFOUND", err)
		}
	})
}

func TestDomainTeams(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mustImport(t, db, "units", "units.csv")
		ap1 := findHamlet(t, db, "An Xuyên", "Ấp 1")
		ap2 := findHamlet(t, db, "An Xuyên", "Ấp 2")
		teams1, err := db.TeamsOfHamlet(ctx, ap1.ID)
		if err != nil || len(teams1) != 1 {
			t.Fatalf("teams of Ấp 1: got %v, %v", teams1, err)
		}
		teams2, err := db.TeamsOfHamlet(ctx, ap2.ID)
		if err != nil || len(teams2) != 1 {
			t.Fatalf("teams of Ấp 2: got %v, %v", teams2, err)
		}
		t1, t2 := teams1[0], teams2[0]

		code := strings.ToLower(t1.Code[:3]) + " " + t1.Code[3:]
		if got, err := db.TeamByCode(ctx, code); err != nil || got.ID != t1.ID {
			t.Errorf("TeamByCode(%q): got %+v, %v, want team %d", code, got, err, t1.ID)
		}
		if _, err := db.TeamByCode(ctx, "CMZZZZZ"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("unknown code: got %v, want ENOTFOUND", err)
		}
		if got, err := db.Team(ctx, t2.ID); err != nil || got.Code != t2.Code {
			t.Errorf("Team: got %+v, %v", got, err)
		}

		if _, err := db.TeamByGroup(ctx, "g-100"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("unlinked group: got %v, want ENOTFOUND", err)
		}
		if err := db.LinkGroup(ctx, t1.ID, "g-100"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.TeamByGroup(ctx, "g-100"); err != nil || got.ID != t1.ID {
			t.Errorf("TeamByGroup: got %+v, %v, want team %d", got, err, t1.ID)
		}
		// A group moves to the team that links it last.
		if err := db.LinkGroup(ctx, t2.ID, "g-100"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.TeamByGroup(ctx, "g-100"); err != nil || got.ID != t2.ID {
			t.Errorf("TeamByGroup after relink: got %+v, %v, want team %d", got, err, t2.ID)
		}
		if got, _ := db.Team(ctx, t1.ID); got.GroupID != "" {
			t.Errorf("old team keeps group %q, want none", got.GroupID)
		}
		if err := db.LinkGroup(ctx, 999999, "g-1"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("LinkGroup of a missing team: got %v, want ENOTFOUND", err)
		}
	})
}

func TestTeamCode(t *testing.T) {
	seen := map[string]bool{}
	for i := range 2000 {
		c := teamCode("ca mau", "an xuyen", "ap "+string(rune('a'+i%26))+string(rune('a'+i/26)), 0)
		if !teamCodeRE.MatchString(c) {
			t.Fatalf("code %q does not match %s", c, teamCodeRE)
		}
		seen[c] = true
	}
	// 2000 codes among 32^4: a handful of collisions at most.
	if len(seen) < 1990 {
		t.Errorf("got %d distinct codes of 2000", len(seen))
	}
	if a, b := teamCode("ca mau", "x", "y", 0), teamCode("ca mau", "x", "y", 0); a != b {
		t.Errorf("codes differ between runs: %s, %s", a, b)
	}
	if a, b := teamCode("ca mau", "x", "y", 0), teamCode("ca mau", "x", "y", 1); a == b {
		t.Errorf("the next attempt gives the same code %s", a)
	}
	if c := teamCode("bac lieu", "x", "y", 0); !strings.HasPrefix(c, "BL") {
		t.Errorf("Bạc Liêu code %q, want prefix BL", c)
	}
}

func TestNaturalSort(t *testing.T) {
	in := []string{"khom 10", "khom 2", "ap ba dieu", "khom 1", "ap 03", "ap 3a", "ap 12"}
	units := make([]cnsbot.Unit, len(in))
	for i, s := range in {
		units[i] = cnsbot.Unit{Name: s, Folded: s}
	}
	sortUnits(units)
	var got []string
	for _, u := range units {
		got = append(got, u.Name)
	}
	want := []string{"ap 03", "ap 3a", "ap 12", "ap ba dieu", "khom 1", "khom 2", "khom 10"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
