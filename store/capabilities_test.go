package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/store"
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

// TestDeliveredVia records a reminder delivered as a transaction message:
// sent, with the first path's code and the channel in the reason.
func TestDeliveredVia(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			m := cnsbot.Outgoing{ID: "rem:1", To: cnsbot.Recipient{UserID: "u1"}, Kind: cnsbot.MsgText, Text: "x", Purpose: "reminder"}
			if err := db.DeliveredVia(context.Background(), m, "zid", "transaction", -230, "outside_window"); err != nil {
				t.Fatal(err)
			}
			var d store.Delivery
			if err := db.ORM().Where("message_id = ?", "rem:1").First(&d).Error; err != nil {
				t.Fatal(err)
			}
			if d.State != store.StateSent || d.ZaloMessageID != "zid" || d.ZaloCode != -230 || d.Reason != "via_transaction:outside_window" {
				t.Errorf("got %+v, want sent via transaction after -230", d)
			}
		})
	}
}
