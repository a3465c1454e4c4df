package reminder_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error)           { return string(f), nil }
func (f fixedToken) Refresh(context.Context, string) (string, error) { return string(f), nil }

// Zalo refuses the leader's private message (-230, out of the 7-day
// window): the reminder goes to the team's group, the delivery log keeps a
// copy, and the reminder's row says fallback so officers see it.
func TestOutOfWindowFallback(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	w := e.w
	ctx := context.Background()
	z := zalotest.Start(t)
	z.SetFault(zalotest.FailUsers(-230, "za"))
	access, _, _ := z.Tokens()
	now := e.at("2025-09-09 08:00")
	sender := bot.NewSender(bot.NewClient(z.URL(), fixedToken(access), nil, nil), nil, e.db,
		bot.SenderConfig{Location: e.loc, Now: func() time.Time { return now }}, nil, nil)

	if _, err := e.reminders().Pass(ctx, now, false); err != nil {
		t.Fatal(err)
	}
	msgs := e.push.all()
	if len(msgs) != 2 {
		t.Fatalf("%d messages queued, want 2", len(msgs))
	}
	for _, m := range msgs {
		if err := sender.Deliver(ctx, m); err != nil {
			t.Fatalf("deliver %s: %v", m.ID, err)
		}
	}
	if got := z.MessagesTo("za"); len(got) != 0 {
		t.Errorf("za received %d messages despite -230", len(got))
	}
	for _, g := range []string{"g1", "g2"} {
		got := z.MessagesTo(g)
		if len(got) != 1 || got[0].Kind != zalotest.KindText {
			t.Errorf("group %s received %+v, want one text message", g, got)
		}
	}
	d, err := e.db.FindDelivery(ctx, id(teamKey, w.a, "7"))
	if err != nil || d.State != "fallback" || d.ZaloCode != -230 || d.Payload == "" {
		t.Errorf("delivery of A's reminder: %+v, %v; want fallback with code -230 and the message kept", d, err)
	}
	if _, err := e.db.SyncReminderStates(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{fmt.Sprintf("%d/7", w.a.ID): "fallback", fmt.Sprintf("%d/7", w.b.ID): "fallback"}
	if got := e.states(teamKey); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", got, want)
	}
}
