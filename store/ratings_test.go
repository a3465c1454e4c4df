package store_test

import (
	"context"
	"math"
	"testing"

	"github.com/camau-cns/cnsbot"
)

// TestGuideRatings records ratings, counts a re-delivered event once,
// refuses a rating outside 1–5, and sums them up per guide.
func TestGuideRatings(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			for _, r := range []struct {
				guide  string
				rating int
				event  string
			}{{"vneid", 5, "e1"}, {"vneid", 4, "e2"}, {"vneid", 4, "e2"}, {"camaug", 2, "e3"}} {
				if err := db.RateGuide(ctx, "u1", r.guide, r.rating, r.event); err != nil {
					t.Fatalf("rate %v: %v", r, err)
				}
			}
			if err := db.RateGuide(ctx, "u1", "vneid", 6, "e4"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("rating 6: got %v, want EINVALID", err)
			}
			got, err := db.GuideScores(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Guide != "vneid" || got[0].Count != 2 || math.Abs(got[0].Average-4.5) > 1e-9 ||
				got[1].Guide != "camaug" || got[1].Count != 1 || got[1].Average != 2 {
				t.Errorf("got %+v, want vneid 2 × 4.5 then camaug 1 × 2", got)
			}
		})
	}
}
