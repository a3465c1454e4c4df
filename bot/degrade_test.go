package bot_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/locales"
)

// newDegradeSender is newSender with the message catalogue, a capability
// store and an image for forms (unless noImage).
func newDegradeSender(t *testing.T, caps bot.CapabilityStore, image string, clock func() time.Time) (*senderSetup, *bot.Sender) {
	t.Helper()
	s := newSender(t, morning, nil)
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	if clock == nil {
		clock = func() time.Time { return morning }
	}
	snd := bot.NewSender(s.client, nil, s.dlog, bot.SenderConfig{Now: clock, Location: ict, Texts: texts,
		Capabilities: caps, InfoImageURL: image},
		slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), s.m)
	return s, snd
}

func menuList(purpose string) cnsbot.Outgoing {
	return cnsbot.Outgoing{ID: "ev9:0", To: user, Kind: cnsbot.MsgList, Text: "Bạn cần gì?", Purpose: purpose, Lang: "vi",
		Buttons: []cnsbot.Button{{Title: "Cài VNeID", Payload: "#vneid"}, {Title: "CaMau-G", Payload: "#camaug"},
			{Title: "Trang web", URL: "https://camau.gov.vn"}}}
}

// TestListRefusedDegrades: a refused list reaches the person as numbered
// text, the refusal is remembered (the next list is not tried) and
// counted, and after RetryRefused a list is tried again.
func TestListRefusedDegrades(t *testing.T) {
	caps := &bot.MemoryCapabilities{}
	now := morning
	s, snd := newDegradeSender(t, caps, "", func() time.Time { return now })
	s.z.Refuse(zalotest.KindList, -201)
	ctx := context.Background()
	if err := snd.Deliver(ctx, menuList(bot.PurposeReply)); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	want := "Bạn cần gì?\n\n1. Cài VNeID\n2. CaMau-G\n• Trang web: https://camau.gov.vn\n\nGõ 1 hoặc 2 để chọn nha (gõ chữ cũng được)."
	if len(msgs) != 1 || msgs[0].Kind != zalotest.KindText || msgs[0].Text != want {
		t.Fatalf("got %+v, want one text %q", msgs, want)
	}
	if got := counterValue(t, s.m.Degraded.WithLabelValues(bot.FeatureList, "refused")); got != 1 {
		t.Errorf("got %v refused lists counted, want 1", got)
	}
	known, _ := caps.LoadCapabilities(ctx)
	if c := known[bot.FeatureList]; !c.Refused || c.Code != -201 {
		t.Errorf("got capability %+v, want list refused -201", c)
	}
	// Known refused: straight to text, Zalo sees no second list.
	before := s.z.Rejected()[-201]
	m := menuList(bot.PurposeReply)
	m.ID = "ev10:0"
	if err := snd.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := s.z.Rejected()[-201]; got != before {
		t.Errorf("a known-refused list was tried again: %d refusals, want %d", got, before)
	}
	if got := counterValue(t, s.m.Degraded.WithLabelValues(bot.FeatureList, "known_refused")); got != 1 {
		t.Errorf("got %v known-refused lists counted, want 1", got)
	}
	// Later, Zalo takes lists: after the retry interval one is tried,
	// goes through as a list, and the capability says so.
	s.z.Refuse(zalotest.KindList, 0)
	now = now.Add(bot.DefaultRetryRefused + 2*time.Minute)
	m.ID = "ev11:0"
	if err := snd.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	msgs = s.z.Messages()
	if last := msgs[len(msgs)-1]; last.Kind != zalotest.KindList {
		t.Errorf("after the retry interval got a %s, want a list", last.Kind)
	}
	known, _ = caps.LoadCapabilities(ctx)
	if known[bot.FeatureList].Refused {
		t.Errorf("list still marked refused after Zalo accepted one")
	}
}

// TestListRefusedPushShowsCommands: a notice's options show what to type,
// not numbers a step in progress would take as its own answer.
func TestListRefusedPushShowsCommands(t *testing.T) {
	s, snd := newDegradeSender(t, nil, "", nil)
	s.z.Refuse(zalotest.KindList, -233)
	m := menuList(bot.PurposeNotify)
	m.Lang = "en"
	if err := snd.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	want := "Bạn cần gì?\n\n• Cài VNeID: type “#vneid”\n• CaMau-G: type “#camaug”\n• Trang web: https://camau.gov.vn"
	if len(msgs) != 1 || msgs[0].Text != want {
		t.Fatalf("got %+v, want %q", msgs, want)
	}
	if log := s.dlog.all(); len(log) != 1 || log[0].state != "delivered" || log[0].zaloID != msgs[0].MessageID {
		t.Errorf("got log %+v, want the text recorded delivered", log)
	}
}

// TestListRefusedAfterLongTitle: the lead of a long title went out as text
// before the list was refused; only the title goes with the options, and
// a retry after a failed text resends nothing twice.
func TestListRefusedAfterLongTitle(t *testing.T) {
	s, snd := newDegradeSender(t, nil, "", nil)
	s.z.Refuse(zalotest.KindList, -201)
	m := menuList(bot.PurposeReply)
	m.Text = strings.Repeat("Hướng dẫn dài. ", 10) + "\nBạn chọn gì?"
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
		if r.Kind == zalotest.KindText && strings.HasPrefix(r.Text, "Bạn chọn gì?") {
			s.z.SetFault(nil)
			return zalotest.Fault{Status: 503}
		}
		return zalotest.Fault{}
	})
	ctx := context.Background()
	if err := snd.Deliver(ctx, m); err == nil {
		t.Fatal("want a retry after the 503")
	}
	if err := snd.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(msgs) != 2 || !strings.HasPrefix(msgs[0].Text, "Hướng dẫn dài.") || !strings.HasPrefix(msgs[1].Text, "Bạn chọn gì?\n\n1. Cài VNeID") {
		t.Fatalf("got %+v, want the lead then the title with numbered options", msgs)
	}
}

// TestFormShape: a form goes with title, subtitle and image (cut to
// Zalo's limits); without an image, or refused, it is asked as text.
func TestFormShape(t *testing.T) {
	form := cnsbot.Outgoing{ID: "f1", To: user, Kind: cnsbot.MsgRequestInfo, Text: strings.Repeat("T", 120),
		Subtitle: "Tổ dùng số này để gọi.", Purpose: bot.PurposeReply, Lang: "vi"}
	ctx := context.Background()
	t.Run("with image", func(t *testing.T) {
		s, snd := newDegradeSender(t, nil, "https://bot.example/zalo/info.png", nil)
		if err := snd.Deliver(ctx, form); err != nil {
			t.Fatal(err)
		}
		msgs := s.z.Messages()
		if len(msgs) != 1 || msgs[0].Kind != zalotest.KindRequestInfo || len([]rune(msgs[0].Text)) != 100 ||
			msgs[0].ImageURL != "https://bot.example/zalo/info.png" || msgs[0].Subtitle != form.Subtitle {
			t.Fatalf("got %+v, want a form with a 100-character title, the subtitle and the image", msgs)
		}
	})
	for name, image := range map[string]string{"no image": "", "refused": "https://bot.example/zalo/info.png"} {
		t.Run(name, func(t *testing.T) {
			s2, snd := newDegradeSender(t, nil, image, nil)
			if image != "" {
				s2.z.Refuse(zalotest.KindRequestInfo, -201)
			}
			if err := snd.Deliver(ctx, form); err != nil {
				t.Fatal(err)
			}
			msgs := s2.z.Messages()
			if len(msgs) != 1 || msgs[0].Kind != zalotest.KindText || !strings.Contains(msgs[0].Text, "Gõ số điện thoại") ||
				!strings.Contains(msgs[0].Text, form.Subtitle) {
				t.Fatalf("got %+v, want the form asked as text", msgs)
			}
		})
	}
}

// TestUserQuotaHoldsOnlyThatMessage: -218 holds the message (done for the
// queue, so the partition goes on) and the next one to someone else goes.
func TestUserQuotaHoldsOnlyThatMessage(t *testing.T) {
	s, snd := newDegradeSender(t, nil, "", nil)
	s.z.SetFault(zalotest.FailUsers(-218, user.UserID))
	ctx := context.Background()
	if err := snd.Deliver(ctx, textTo(user, bot.PurposeReply, "Chào")); err != nil {
		t.Fatalf("got %v, want the message held (nil)", err)
	}
	other := textTo(cnsbot.Recipient{UserID: "42"}, bot.PurposeReply, "Chào")
	other.ID = "ev2:0"
	if err := snd.Deliver(ctx, other); err != nil {
		t.Fatal(err)
	}
	log := s.dlog.all()
	if len(log) != 1 || log[0].state != "held" || log[0].reason != "user_quota" || !log[0].until.Equal(morning.Add(time.Hour)) {
		t.Fatalf("got log %+v, want one message held an hour for user_quota", log)
	}
	if len(s.z.MessagesTo("42")) != 1 {
		t.Errorf("the other person's message did not go")
	}
}

// TestSetupFaultHoldsAndAlerts: an OA setup fault holds every message,
// raises the alert and shows in Health until a send goes through.
func TestSetupFaultHoldsAndAlerts(t *testing.T) {
	s, snd := newDegradeSender(t, nil, "", nil)
	s.z.SetupFault(-224)
	ctx := context.Background()
	for i, id := range []string{"a:0", "b:0"} {
		m := textTo(user, bot.PurposeReply, "Chào")
		m.ID = id
		if err := snd.Deliver(ctx, m); err != nil {
			t.Fatalf("message %d: got %v, want held", i, err)
		}
	}
	log := s.dlog.all()
	if len(log) != 2 || log[0].state != "held" || log[1].reason != "package_needed" {
		t.Fatalf("got log %+v, want both held for package_needed", log)
	}
	if code, since := snd.Health(); code != -224 || !since.Equal(morning) {
		t.Errorf("Health: got %d since %v, want -224 since %v", code, since, morning)
	}
	if got := gaugeValue(t, s.m.Alerts.WithLabelValues(bot.AlertSetup)); got != 1 {
		t.Errorf("setup alert %v, want 1", got)
	}
	if n := strings.Count(s.logs.String(), "setup fault"); n != 1 {
		t.Errorf("got %d error lines about the setup fault, want 1 (not one per message)", n)
	}
	s.z.SetupFault(0)
	m := textTo(user, bot.PurposeReply, "Chào")
	m.ID = "c:0"
	if err := snd.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	if code, _ := snd.Health(); code != 0 {
		t.Errorf("Health after a good send: %d, want 0", code)
	}
	if got := gaugeValue(t, s.m.Alerts.WithLabelValues(bot.AlertSetup)); got != 0 {
		t.Errorf("setup alert %v after a good send, want 0", got)
	}
}

// TestOnSentGetsZaloIDs: every accepted send reports Zalo's message ids,
// for the webhook to tell its own echoes from a human agent's.
func TestOnSentGetsZaloIDs(t *testing.T) {
	s := newSender(t, morning, nil)
	var got []string
	snd := bot.NewSender(s.client, nil, s.dlog, bot.SenderConfig{Now: func() time.Time { return morning }, Location: ict,
		OnSent: func(_ context.Context, m cnsbot.Outgoing, ids []string) { got = append(got, ids...) }}, nil, s.m)
	long := strings.Repeat("Một câu dài. ", 200)
	// The second part fails once: the first part's id is known at once,
	// not only when the whole message is done.
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
		if r.Kind == zalotest.KindText && len(s.z.Messages()) == 1 {
			return zalotest.Fault{Status: 503}
		}
		return zalotest.Fault{}
	})
	if err := snd.Deliver(context.Background(), textTo(user, bot.PurposeReply, long)); err == nil {
		t.Fatal("want a retry after the 503")
	}
	if len(got) != 1 || got[0] != s.z.Messages()[0].MessageID {
		t.Fatalf("after the first part got ids %v, want its id", got)
	}
	s.z.SetFault(nil)
	if err := snd.Deliver(context.Background(), textTo(user, bot.PurposeReply, long)); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(msgs) < 2 || len(got) != len(msgs) || got[0] != msgs[0].MessageID || got[len(got)-1] != msgs[len(msgs)-1].MessageID {
		t.Errorf("got ids %v for %d messages, want every part's id", got, len(msgs))
	}
}
