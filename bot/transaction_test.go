package bot_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// viaLog also records deliveries by another path.
type viaLog struct{ fallbackLog }

func (l viaLog) DeliveredVia(_ context.Context, m cnsbot.Outgoing, id, channel string, code int, reason string) error {
	return l.add(logEntry{state: "via_" + channel, m: m, zaloID: id, code: code, reason: reason})
}

// outsideWindow refuses every consultation message to user with -230 and
// lets transaction messages through.
func outsideWindow(r zalotest.Request) zalotest.Fault {
	if r.UserID == user.UserID && r.Kind != zalotest.KindTransaction && r.Kind != zalotest.KindUserDetail {
		return zalotest.Fault{Error: -230}
	}
	return zalotest.Fault{}
}

func reminderOutsideWindow() cnsbot.Outgoing {
	return cnsbot.Outgoing{ID: "rem:1", To: user, Kind: cnsbot.MsgList, Text: "Hạn báo cáo quý còn 3 ngày",
		Subtitle: "Tổ Ấp 1: 12 hộ trong quý.", Purpose: bot.PurposeReminder, FallbackGroup: "g-ap1", Lang: "vi",
		Buttons: []cnsbot.Button{{Title: "Báo cáo", Payload: "#baocao"}}}
}

func newTransactionSender(t *testing.T, on bool, caps bot.CapabilityStore) (*senderSetup, *bot.Sender, viaLog) {
	t.Helper()
	s := newSender(t, morning, nil)
	log := viaLog{fallbackLog{s.dlog}}
	snd := bot.NewSender(s.client, nil, log, bot.SenderConfig{Now: func() time.Time { return morning }, Location: ict,
		TransactionReminders: on, Capabilities: caps}, slog.New(slog.NewJSONHandler(s.logs, nil)), s.m)
	s.z.SetFault(outsideWindow)
	return s, snd, log
}

// TestReminderViaTransaction: a reminder refused for the 7-day window goes
// as a transaction message (header, text, buttons) before the group, and
// the log says which path delivered it.
func TestReminderViaTransaction(t *testing.T) {
	s, snd, log := newTransactionSender(t, true, nil)
	if err := snd.Deliver(context.Background(), reminderOutsideWindow()); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(msgs) != 1 || msgs[0].Kind != zalotest.KindTransaction || msgs[0].Text != "Hạn báo cáo quý còn 3 ngày" ||
		msgs[0].Subtitle != "Tổ Ấp 1: 12 hộ trong quý." || len(msgs[0].Buttons) != 1 {
		t.Fatalf("got %+v, want one transaction message with the reminder", msgs)
	}
	entries := log.all()
	if len(entries) != 1 || entries[0].state != "via_transaction" || entries[0].code != -230 || entries[0].zaloID != msgs[0].MessageID {
		t.Errorf("got log %+v, want delivered via transaction after -230", entries)
	}
}

// TestReminderTransactionRefusedFallsBack: with transaction messages
// refused (an OA without the paid templates), the reminder goes to the
// group, the refusal is learnt, and the next reminder skips the try.
func TestReminderTransactionRefusedFallsBack(t *testing.T) {
	caps := &bot.MemoryCapabilities{}
	s, snd, log := newTransactionSender(t, true, caps)
	s.z.Refuse(zalotest.KindTransaction, -224)
	ctx := context.Background()
	if err := snd.Deliver(ctx, reminderOutsideWindow()); err != nil {
		t.Fatal(err)
	}
	if got := s.z.MessagesTo("g-ap1"); len(got) != 1 {
		t.Fatalf("group got %d messages, want the reminder", len(got))
	}
	if e := log.all(); len(e) != 1 || e[0].state != "fallback" || e[0].code != -230 {
		t.Errorf("got log %+v, want a fallback for -230", e)
	}
	known, _ := caps.LoadCapabilities(ctx)
	if c := known[bot.FeatureTransaction]; !c.Refused || c.Code != -224 {
		t.Errorf("got %+v, want transaction refused -224", c)
	}
	before := s.z.Rejected()[-224]
	m := reminderOutsideWindow()
	m.ID = "rem:2"
	if err := snd.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := s.z.Rejected()[-224]; got != before {
		t.Errorf("a known-refused transaction was tried again")
	}
}

// TestReminderChannelCS: by default (REMINDER_CHANNEL=cs) no transaction
// message is tried.
func TestReminderChannelCS(t *testing.T) {
	s, snd, _ := newTransactionSender(t, false, nil)
	if err := snd.Deliver(context.Background(), reminderOutsideWindow()); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.z.Messages() {
		if m.Kind == zalotest.KindTransaction {
			t.Fatalf("a transaction message was sent with the channel off")
		}
	}
	if len(s.z.MessagesTo("g-ap1")) != 1 {
		t.Errorf("the reminder did not reach the group")
	}
}
