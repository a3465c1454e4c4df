package bot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// TestSetupClearedLetsHeldGo: the first send Zalo accepts after a setup
// fault calls OnSetupCleared once, so that the messages held for the fault
// go at once rather than a quarter of an hour later; sends without a fault
// before them do not call it.
func TestSetupClearedLetsHeldGo(t *testing.T) {
	s := newSender(t, morning, nil)
	calls := 0
	snd := bot.NewSender(s.client, nil, s.dlog, bot.SenderConfig{Now: func() time.Time { return morning }, Location: ict,
		OnSetupCleared: func(context.Context) { calls++ }}, nil, s.m)
	ctx := context.Background()
	deliver := func(id string) {
		t.Helper()
		m := textTo(user, bot.PurposeReply, "Chào")
		m.ID = id
		if err := snd.Deliver(ctx, m); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	deliver("a:0")
	if calls != 0 {
		t.Fatalf("OnSetupCleared called %d times without a fault", calls)
	}
	s.z.SetMode(zalotest.ModeSetupFault)
	deliver("b:0")
	if log := s.dlog.all(); len(log) != 1 || log[0].state != "held" || !slices.Contains(bot.SetupReasons(), log[0].reason) {
		t.Fatalf("got log %+v, want b held for a setup reason (%v)", log, bot.SetupReasons())
	}
	if calls != 0 {
		t.Fatalf("OnSetupCleared called %d times while the fault lasts", calls)
	}
	s.z.SetMode(zalotest.ModeNormal)
	deliver("c:0")
	deliver("d:0")
	if calls != 1 {
		t.Errorf("OnSetupCleared called %d times after the fault cleared, want 1", calls)
	}
}

func TestSetupReasons(t *testing.T) {
	want := []string{"api_not_granted", "api_not_registered", "app_not_active", "oa_not_verified", "package_needed"}
	if got := bot.SetupReasons(); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
