package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TestLinkUnmatched: a leader says which listed household an unmatched
// "ông Năm" is; its visits then count for it, in the rollups as in the
// visits, and it leaves the unmatched list.
func TestLinkUnmatched(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			loc := calendarLoc(t)
			importText(t, db, "units", householdUnits)
			hamlet, team := hamletOf(t, db, "Ấp 1")
			other, _ := hamletOf(t, db, "Ấp 2")
			p := cnsbot.Person{FullName: "Trần Thị Mai", Phone: "+84987654321"}
			if err := store.Insert(ctx, db, &p); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 2, 10, 3, 0, 0, 0, time.UTC)
			visit := func(household string, listed *int64, at time.Time) {
				t.Helper()
				v := cnsbot.Visit{PersonID: p.ID, TeamID: team.ID, Household: household, Areas: "vneid", People: 1,
					Minutes: 30, VisitedAt: at, ListedHouseholdID: listed}
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
			}
			visit("ông Năm", nil, at)
			visit("ong nam", nil, at.Add(24*time.Hour))
			importText(t, db, "households", householdList)
			un, err := db.UnmatchedVisits(ctx, hamlet.ID, 10)
			if err != nil || len(un) != 1 || un[0].Visits != 2 || un[0].Key == "" {
				t.Fatalf("unmatched %+v %v, want ông Năm's 2 visits with a key", un, err)
			}
			hs, err := db.MatchHouseholds(ctx, hamlet.ID, "12")
			if err != nil || len(hs) != 1 {
				t.Fatalf("match 12: %+v %v", hs, err)
			}
			// A later visit the same quarter already names the household: the
			// linked ones merge with it and the household counts once.
			visit("anh Năm số 12", &hs[0].ID, at.Add(10*24*time.Hour))
			before, _, err := db.TeamProgress(ctx, team.ID)
			if err != nil {
				t.Fatal(err)
			}

			// Refused: a household of another hamlet, a pending one.
			if _, err := db.LinkUnmatched(ctx, other.ID, un[0].Key, hs[0].ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("link in another hamlet: %v, want ENOTFOUND", err)
			}
			added, err := db.AddHousehold(ctx, hamlet.ID, "14 bà Bảy", p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.LinkUnmatched(ctx, hamlet.ID, un[0].Key, added.ID); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("link to a pending household: %v, want EINVALID", err)
			}

			n, err := db.LinkUnmatched(ctx, hamlet.ID, un[0].Key, hs[0].ID)
			if err != nil || n != 2 {
				t.Fatalf("link: %d %v, want 2 visits", n, err)
			}
			if un, err := db.UnmatchedVisits(ctx, hamlet.ID, 10); err != nil || len(un) != 0 {
				t.Errorf("unmatched after the link: %+v %v, want none", un, err)
			}
			// The household was already guided by the later visit.
			if after, _, _ := db.TeamProgress(ctx, team.ID); after != before {
				t.Errorf("guided %d after the link, want %d", after, before)
			}
			h, err := db.ListedHousehold(ctx, hs[0].ID)
			if err != nil || h.GuidedAt == nil || !h.GuidedAt.Equal(at) {
				t.Errorf("household guided at %v %v, want the first linked visit %v", h.GuidedAt, err, at)
			}
			for _, q := range []string{"2026Q1", "2026Q2"} {
				got, err := db.Figures(ctx, []int64{team.ID}, q, loc)
				if err != nil {
					t.Fatal(err)
				}
				want, err := db.CountedFigures(ctx, []int64{team.ID}, q, loc)
				if err != nil {
					t.Fatal(err)
				}
				if got.Unmatched != 0 {
					t.Errorf("%s: %d unmatched households after the link, want 0", q, got.Unmatched)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("figures of %s after the link:\n got %+v\nwant %+v", q, got, want)
				}
			}
			// Linked already (by another leader): nothing left to move.
			if n, err := db.LinkUnmatched(ctx, hamlet.ID, un[0].Key, hs[0].ID); err != nil || n != 0 {
				t.Errorf("second link: %d %v, want 0", n, err)
			}
		})
	}
}
