package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
)

// TestCapabilities stores, replaces and reads back what Zalo accepts, on
// both databases: a refusal, then an acceptance of the same feature.
func TestCapabilities(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			if got, err := db.LoadCapabilities(ctx); err != nil || len(got) != 0 {
				t.Fatalf("empty: got %v, %v", got, err)
			}
			at := time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC)
			if err := db.SaveCapability(ctx, bot.FeatureList, bot.Capability{Refused: true, Code: -201, CheckedAt: at}); err != nil {
				t.Fatal(err)
			}
			if err := db.SaveCapability(ctx, bot.FeatureImage, bot.Capability{CheckedAt: at}); err != nil {
				t.Fatal(err)
			}
			got, err := db.LoadCapabilities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c := got[bot.FeatureList]; !c.Refused || c.Code != -201 || !c.CheckedAt.Equal(at) || len(got) != 2 {
				t.Errorf("got %+v, want list refused -201 at %v and image", got, at)
			}
			later := at.Add(time.Hour)
			if err := db.SaveCapability(ctx, bot.FeatureList, bot.Capability{CheckedAt: later}); err != nil {
				t.Fatal(err)
			}
			got, _ = db.LoadCapabilities(ctx)
			if c := got[bot.FeatureList]; c.Refused || c.Code != 0 || !c.CheckedAt.Equal(later) {
				t.Errorf("after acceptance got %+v, want accepted at %v", c, later)
			}
		})
	}
}
