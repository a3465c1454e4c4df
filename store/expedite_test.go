package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// TestExpediteHeld: messages held for the given reasons become due at
// once; those held for other reasons (the night) keep their time.
func TestExpediteHeld(t *testing.T) {
	ctx := context.Background()
	msg := func(id string) cnsbot.Outgoing {
		return cnsbot.Outgoing{ID: id, To: cnsbot.Recipient{UserID: "42"}, Kind: cnsbot.MsgText, Text: "xin chào", Purpose: "reply"}
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			for id, reason := range map[string]string{"s1": "api_not_granted", "s2": "package_needed", "n1": "quiet_hours"} {
				if err := db.Held(ctx, msg(id), now.Add(15*time.Minute), reason); err != nil {
					t.Fatal(err)
				}
			}
			if due, err := db.DueHeld(ctx, now, 10); err != nil || len(due) != 0 {
				t.Fatalf("due before expediting: %v, %v; want none", due, err)
			}
			n, err := db.ExpediteHeld(ctx, []string{"api_not_granted", "package_needed", "app_not_active"}, now)
			if err != nil || n != 2 {
				t.Fatalf("expedited %d (%v), want 2", n, err)
			}
			due, err := db.DueHeld(ctx, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range due {
				got = append(got, m.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, []string{"s1", "s2"}) {
				t.Errorf("due after expediting: %v, want [s1 s2]", got)
			}
			if n, err := db.ExpediteHeld(ctx, nil, now); err != nil || n != 0 {
				t.Errorf("no reasons: %d, %v", n, err)
			}
		})
	}
}
