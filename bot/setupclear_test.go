package bot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
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

// clearingLog runs during once, inside the first Held, before recording.
type clearingLog struct {
	*memDeliveryLog
	during func()
}

func (l *clearingLog) Held(ctx context.Context, m cnsbot.Outgoing, until time.Time, reason string) error {
	if f := l.during; f != nil {
		l.during = nil
		f()
	}
	return l.memDeliveryLog.Held(ctx, m, until, reason)
}

// TestSetupClearedWhileHolding: a message refused for the fault whose hold
// is written after the fault cleared (and after what was held then was let
// go) is let go as well, not left for the whole hold.
func TestSetupClearedWhileHolding(t *testing.T) {
	s := newSender(t, morning, nil)
	calls := 0
	dlog := &clearingLog{memDeliveryLog: &memDeliveryLog{}}
	snd := bot.NewSender(s.client, nil, dlog, bot.SenderConfig{Now: func() time.Time { return morning }, Location: ict,
		OnSetupCleared: func(context.Context) { calls++ }}, nil, s.m)
	ctx := context.Background()
	msg := func(id string) cnsbot.Outgoing {
		m := textTo(user, bot.PurposeReply, "Chào")
		m.ID = id
		return m
	}
	s.z.SetMode(zalotest.ModeSetupFault)
	dlog.during = func() {
		// Zalo refused b; before its hold is written, the OA is fixed and
		// c goes through, letting go what was held so far.
		s.z.SetMode(zalotest.ModeNormal)
		if err := snd.Deliver(ctx, msg("c:0")); err != nil {
			t.Errorf("c: %v", err)
		}
		if calls != 1 {
			t.Errorf("OnSetupCleared called %d times after c, want 1", calls)
		}
	}
	if err := snd.Deliver(ctx, msg("b:0")); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("OnSetupCleared called %d times, want 2 (again for b, held after the clear)", calls)
	}
	if code, _ := snd.Health(); code != 0 {
		t.Errorf("Health %d after the clear, want 0", code)
	}
}

func TestSetupReasons(t *testing.T) {
	want := []string{"api_not_granted", "api_not_registered", "app_not_active", "oa_not_verified", "package_needed"}
	if got := bot.SetupReasons(); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
