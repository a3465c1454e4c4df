package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

var ict = time.FixedZone("ICT", 7*3600)

// logEntry is one call to a DeliveryLog.
type logEntry struct {
	state  string // delivered, undeliverable, held, fallback
	m      cnsbot.Outgoing
	zaloID string
	code   int
	reason string
	until  time.Time
}

// memDeliveryLog is an in-memory bot.DeliveryLog.
type memDeliveryLog struct {
	mu         sync.Mutex
	entries    []logEntry
	failWrites int // the next failWrites calls fail
}

func (l *memDeliveryLog) add(e logEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failWrites > 0 {
		l.failWrites--
		return errors.New("database down")
	}
	l.entries = append(l.entries, e)
	return nil
}

func (l *memDeliveryLog) Delivered(_ context.Context, m cnsbot.Outgoing, id string) error {
	return l.add(logEntry{state: "delivered", m: m, zaloID: id})
}

func (l *memDeliveryLog) Undeliverable(_ context.Context, m cnsbot.Outgoing, code int, reason string) error {
	return l.add(logEntry{state: "undeliverable", m: m, code: code, reason: reason})
}

func (l *memDeliveryLog) Held(_ context.Context, m cnsbot.Outgoing, until time.Time, reason string) error {
	return l.add(logEntry{state: "held", m: m, until: until, reason: reason})
}

func (l *memDeliveryLog) all() []logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logEntry(nil), l.entries...)
}

// fallbackLog also records fallbacks as such.
type fallbackLog struct{ *memDeliveryLog }

func (l fallbackLog) Fallback(_ context.Context, m cnsbot.Outgoing, code int, reason string) error {
	return l.add(logEntry{state: "fallback", m: m, code: code, reason: reason})
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// countingLimiter counts waits (replies' and pushes') and can refuse.
type countingLimiter struct {
	mu     sync.Mutex
	waits  int
	pushes int
	err    error
}

func (l *countingLimiter) Wait(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	return l.err
}

func (l *countingLimiter) WaitPush(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pushes++
	return l.err
}

type senderSetup struct {
	*zaloSetup
	sender *bot.Sender
	dlog   *memDeliveryLog
	lim    *countingLimiter
	logs   *syncBuffer
}

// newSender returns a sender whose clock (and the fake Zalo's) reads at,
// Asia/Ho_Chi_Minh time.
func newSender(t *testing.T, at time.Time, dlog bot.DeliveryLog) *senderSetup {
	t.Helper()
	clock := func() time.Time { return at }
	zs := newZalo(t, zalotest.WithClock(clock))
	zs.tokens = zs.newTokens(bot.TokenConfig{Now: clock})
	zs.client = bot.NewClient(zs.z.URL(), zs.tokens, nil, zs.m)
	mem, ok := dlog.(*memDeliveryLog)
	if fl, isFallback := dlog.(fallbackLog); isFallback {
		mem, ok = fl.memDeliveryLog, true
	}
	if dlog == nil || !ok {
		mem = &memDeliveryLog{}
		dlog = mem
	}
	logs := &syncBuffer{}
	lim := &countingLimiter{}
	snd := bot.NewSender(zs.client, lim, dlog, bot.SenderConfig{Now: clock, Location: ict},
		slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), zs.m)
	return &senderSetup{zaloSetup: zs, sender: snd, dlog: mem, lim: lim, logs: logs}
}

var (
	morning = time.Date(2025, 6, 2, 10, 0, 0, 0, ict)
	user    = cnsbot.Recipient{UserID: "5510185758261927916"}
)

func textTo(to cnsbot.Recipient, purpose, text string) cnsbot.Outgoing {
	return cnsbot.Outgoing{ID: "ev1:0", To: to, Kind: cnsbot.MsgText, Text: text, Purpose: purpose}
}

func TestDeliverOK(t *testing.T) {
	s := newSender(t, morning, nil)
	if err := s.sender.Deliver(context.Background(), textTo(user, bot.PurposeNotify, "Chào anh")); err != nil {
		t.Fatal(err)
	}
	msgs, log := s.z.Messages(), s.dlog.all()
	if len(msgs) != 1 || len(log) != 1 || log[0].state != "delivered" || log[0].zaloID != msgs[0].MessageID {
		t.Fatalf("got messages %v and log %v, want one message logged delivered with its id", msgs, log)
	}
	if s.lim.pushes != 1 || s.lim.waits != 0 {
		t.Errorf("got %d push waits and %d reply waits for a notice, want 1 and 0", s.lim.pushes, s.lim.waits)
	}
	if got := counterValue(t, s.m.Sends.WithLabelValues("ok")); got != 1 {
		t.Errorf("got %v ok sends counted, want 1", got)
	}
}

func TestDeliverPermanent(t *testing.T) {
	for _, code := range []int{-213, -217, -227, -230, -232, -244} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			s := newSender(t, morning, nil)
			s.z.SetFault(zalotest.FailUsers(code, user.UserID))
			if err := s.sender.Deliver(context.Background(), textTo(user, bot.PurposeReminder, "Nhắc việc")); err != nil {
				t.Fatalf("got %v, want nil (do not retry)", err)
			}
			log := s.dlog.all()
			if len(log) != 1 || log[0].state != "undeliverable" || log[0].code != code || log[0].reason == "" {
				t.Errorf("got log %+v, want undeliverable with code %d and a reason", log, code)
			}
			if s.z.Count() != 0 || s.z.Requests() != 1 {
				t.Errorf("got %d messages after %d requests, want 0 after 1", s.z.Count(), s.z.Requests())
			}
		})
	}
}

func TestDeliverFallbackToGroup(t *testing.T) {
	tests := []struct {
		name      string
		log       func() bot.DeliveryLog
		kind      string
		wantState string
		wantText  string
	}{
		{"text, plain log", func() bot.DeliveryLog { return &memDeliveryLog{} }, cnsbot.MsgText, "delivered", "Anh Hai ơi, hạn báo cáo là hôm nay."},
		{"text, fallback log", func() bot.DeliveryLog { return fallbackLog{&memDeliveryLog{}} }, cnsbot.MsgText, "fallback", "Anh Hai ơi, hạn báo cáo là hôm nay."},
		{"list as text", func() bot.DeliveryLog { return &memDeliveryLog{} }, cnsbot.MsgList, "delivered", "Anh Hai ơi, hạn báo cáo là hôm nay.\n1. Đã nộp — #nop r7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, morning, tt.log())
			s.z.SetFault(zalotest.FailUsers(-230, user.UserID))
			m := cnsbot.Outgoing{ID: "rem7", To: user, Kind: tt.kind, Text: "Anh Hai ơi, hạn báo cáo là hôm nay.",
				Purpose: bot.PurposeReminder, FallbackGroup: "team-g1"}
			if tt.kind == cnsbot.MsgList {
				m.Buttons = []cnsbot.Button{{Title: "Đã nộp", Payload: "#nop r7"}}
			}
			if err := s.sender.Deliver(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := s.z.MessagesTo("team-g1")
			if len(got) != 1 || got[0].Text != tt.wantText || s.z.Count() != 1 {
				t.Fatalf("got %+v, want one group message %q", got, tt.wantText)
			}
			log := s.dlog.all()
			if len(log) != 1 || log[0].state != tt.wantState {
				t.Fatalf("got log %+v, want %s", log, tt.wantState)
			}
			switch tt.wantState {
			case "delivered":
				if log[0].m.To.GroupID != "team-g1" || log[0].m.ID != "rem7" || log[0].zaloID != got[0].MessageID {
					t.Errorf("got logged recipient %v id %s, want the group and the message's id", log[0].m.To, log[0].m.ID)
				}
			case "fallback":
				if log[0].code != -230 || log[0].reason != "outside_window" || log[0].m.To != user {
					t.Errorf("got %+v, want code -230 for the original recipient", log[0])
				}
			}
		})
	}
}

func TestDeliverFallbackFails(t *testing.T) {
	s := newSender(t, morning, nil)
	m := textTo(user, bot.PurposeReminder, "Nhắc")
	m.FallbackGroup = "gone"
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
		switch {
		case r.UserID != "":
			return zalotest.Fault{Error: -230}
		case r.GroupID == "gone":
			return zalotest.Fault{Error: -403}
		}
		return zalotest.Fault{}
	})
	if err := s.sender.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if log := s.dlog.all(); len(log) != 1 || log[0].state != "undeliverable" || log[0].code != -230 {
		t.Errorf("got %+v, want undeliverable with the recipient's code", log)
	}

	// A transient failure of the group keeps the message for a retry.
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
		if r.UserID != "" {
			return zalotest.Fault{Error: -230}
		}
		return zalotest.Fault{Status: 503}
	})
	m.ID = "other"
	if err := s.sender.Deliver(context.Background(), m); bot.Classify(err) != bot.ClassRetry {
		t.Errorf("got %v, want a retry error", err)
	}
}

func TestDeliverAtNight(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Time
		purpose  string
		zaloHour bool // the fake refuses at night too
		wantSent bool
		want     time.Time
	}{
		{"reminder late evening", time.Date(2025, 6, 2, 22, 30, 0, 0, ict), bot.PurposeReminder, false, false, time.Date(2025, 6, 3, 6, 0, 0, 0, ict)},
		{"notify before dawn", time.Date(2025, 6, 3, 5, 59, 0, 0, ict), bot.PurposeNotify, false, false, time.Date(2025, 6, 3, 6, 0, 0, 0, ict)},
		{"notify at six", time.Date(2025, 6, 3, 6, 0, 0, 0, ict), bot.PurposeNotify, true, true, time.Time{}},
		{"reminder at 21:59", time.Date(2025, 6, 2, 21, 59, 0, 0, ict), bot.PurposeReminder, true, true, time.Time{}},
		{"reply at night is sent", time.Date(2025, 6, 2, 23, 0, 0, 0, ict), bot.PurposeReply, false, true, time.Time{}},
		{"reply refused -234", time.Date(2025, 6, 2, 23, 0, 0, 0, ict), bot.PurposeReply, true, false, time.Date(2025, 6, 3, 6, 0, 0, 0, ict)},
		{"UTC clock", time.Date(2025, 6, 2, 16, 0, 0, 0, time.UTC), bot.PurposeReminder, false, false, time.Date(2025, 6, 3, 6, 0, 0, 0, ict)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, tt.at, nil)
			if tt.zaloHour {
				s.z.SetFault(zalotest.Night(ict))
			}
			if err := s.sender.Deliver(context.Background(), textTo(user, tt.purpose, "x")); err != nil {
				t.Fatal(err)
			}
			log := s.dlog.all()
			if tt.purpose == bot.PurposeReply && tt.wantSent {
				// Replies that went out are not logged (see TestReplyNotLogged).
				if len(log) != 0 || s.z.Count() != 1 {
					t.Errorf("got log %+v and %d messages, want one message and no log", log, s.z.Count())
				}
				return
			}
			if len(log) != 1 {
				t.Fatalf("got log %+v, want one entry", log)
			}
			if tt.wantSent {
				if log[0].state != "delivered" || s.z.Count() != 1 {
					t.Errorf("got %s and %d messages, want delivered", log[0].state, s.z.Count())
				}
				return
			}
			if log[0].state != "held" || !log[0].until.Equal(tt.want) || s.z.Count() != 0 {
				t.Errorf("got %s until %v with %d messages, want held until %v", log[0].state, log[0].until, s.z.Count(), tt.want)
			}
			if tt.purpose != bot.PurposeReply && s.z.Requests() != 0 {
				t.Errorf("got %d requests to Zalo, want none for a push at night", s.z.Requests())
			}
		})
	}
}

func TestDeliverRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     zalotest.Fault
		timeout   time.Duration
		wantClass bot.Class
	}{
		{"rate limit", zalotest.Fault{Error: -32}, 0, bot.ClassRetry},
		{"HTTP 500", zalotest.Fault{Status: 500}, 0, bot.ClassRetry},
		{"HTTP 503 with a Zalo body", zalotest.Fault{Status: 503, Error: -32}, 0, bot.ClassRetry},
		{"timeout", zalotest.Fault{Delay: 5 * time.Second}, 100 * time.Millisecond, bot.ClassRetry},
		{"quota", zalotest.Fault{Error: -211}, 0, bot.ClassQuota},
		{"refused token after refresh", zalotest.Fault{Error: -216}, 0, bot.ClassRefresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, morning, nil)
			var mu sync.Mutex
			failing := true
			s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
				mu.Lock()
				defer mu.Unlock()
				if failing && r.UserID != "" {
					return tt.fault
				}
				return zalotest.Fault{}
			})
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			m := textTo(user, bot.PurposeReply, "Chào")
			err := s.sender.Deliver(ctx, m)
			if err == nil || bot.Classify(err) != tt.wantClass {
				t.Fatalf("got %v (class %v), want an error of class %v", err, bot.Classify(err), tt.wantClass)
			}
			if log := s.dlog.all(); len(log) != 0 {
				t.Errorf("got log %+v, want nothing recorded", log)
			}
			mu.Lock()
			failing = false
			mu.Unlock()
			if err := s.sender.Deliver(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			if n := s.z.Count(); n != 1 {
				t.Errorf("got %d messages after the retry, want 1", n)
			}
		})
	}
}

func TestDeliverRefusedRequestIsLoggedWithoutContent(t *testing.T) {
	tests := []struct {
		name string
		code int
		to   cnsbot.Recipient
	}{
		{"invalid field", -201, user},
		{"OA not in group", -403, cnsbot.Recipient{GroupID: "g-42424242"}},
		{"group disabled", -237, cnsbot.Recipient{GroupID: "g-42424242"}},
		{"unknown code", -299, user},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, morning, nil)
			s.z.FailNext(1, tt.code)
			secret := "Số điện thoại của tôi là 0912345678"
			if err := s.sender.Deliver(context.Background(), textTo(tt.to, bot.PurposeReply, secret)); err != nil {
				t.Fatalf("got %v, want nil (do not retry)", err)
			}
			if log := s.dlog.all(); len(log) != 1 || log[0].state != "undeliverable" || log[0].code != tt.code {
				t.Errorf("got %+v, want undeliverable with code %d", log, tt.code)
			}
			out := s.logs.String()
			if !strings.Contains(out, fmt.Sprint(tt.code)) || !strings.Contains(out, `"level":"ERROR"`) {
				t.Errorf("got log %s, want an error with the code", out)
			}
			for _, leak := range []string{"0912345678", "Số điện thoại", tt.to.UserID + tt.to.GroupID} {
				if strings.Contains(out, leak) {
					t.Errorf("log contains %q: %s", leak, out)
				}
			}
		})
	}
}

func TestDeliverRefreshesTokenInTheMiddle(t *testing.T) {
	s := newSender(t, morning, nil)
	ctx := context.Background()
	first := textTo(user, bot.PurposeReply, "một")
	if err := s.sender.Deliver(ctx, first); err != nil {
		t.Fatal(err)
	}
	s.z.ExpireToken()
	second := textTo(user, bot.PurposeReply, "hai")
	second.ID = "ev2:0"
	if err := s.sender.Deliver(ctx, second); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(msgs) != 2 || s.z.Refreshes() != 1 || msgs[0].AccessToken == msgs[1].AccessToken {
		t.Errorf("got %d messages and %d refreshes, want 2 messages on two tokens after 1 refresh", len(msgs), s.z.Refreshes())
	}
	if rej := s.z.Rejected()[-216]; rej != 1 {
		t.Errorf("got %d refusals of the token, want 1", rej)
	}
}

func TestDeliverResumesSplitText(t *testing.T) {
	s := newSender(t, morning, nil)
	var mu sync.Mutex
	n := 0
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 2 { // the second part, once
			return zalotest.Fault{Status: 503}
		}
		return zalotest.Fault{}
	})
	lines := make([]string, 60)
	for i := range lines {
		lines[i] = fmt.Sprintf("%02d %s", i, strings.Repeat("chữ ", 20))
	}
	m := textTo(user, bot.PurposeNotify, strings.Join(lines, "\n"))
	if err := s.sender.Deliver(context.Background(), m); bot.Classify(err) != bot.ClassRetry {
		t.Fatalf("got %v, want a retry error", err)
	}
	if err := s.sender.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	want := bot.SplitText(m.Text, bot.MaxTextLen)
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d (no part twice)", len(msgs), len(want))
	}
	for i := range want {
		if msgs[i].Text != want[i] {
			t.Errorf("part %d differs", i)
		}
	}
	if log := s.dlog.all(); len(log) != 1 || log[0].zaloID != msgs[0].MessageID {
		t.Errorf("got %+v, want one delivered entry with the first part's id", log)
	}
}

func TestDeliverLogWriteFailureDoesNotResend(t *testing.T) {
	dlog := &memDeliveryLog{failWrites: 1}
	s := newSender(t, morning, dlog)
	m := textTo(user, bot.PurposeNotify, "Chào")
	if err := s.sender.Deliver(context.Background(), m); err == nil {
		t.Fatal("got nil, want the log write error so the queue keeps the message")
	}
	if err := s.sender.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if n := s.z.Count(); n != 1 {
		t.Errorf("got %d messages, want 1", n)
	}
	if log := dlog.all(); len(log) != 1 || log[0].state != "delivered" {
		t.Errorf("got %+v, want one delivered entry", log)
	}
}

func TestDeliverLimiterRefuses(t *testing.T) {
	s := newSender(t, morning, nil)
	s.lim.err = context.DeadlineExceeded
	err := s.sender.Deliver(context.Background(), textTo(user, bot.PurposeReply, "x"))
	if bot.Classify(err) != bot.ClassRetry || s.z.Requests() != 0 {
		t.Errorf("got %v after %d requests, want a retry error and no request", err, s.z.Requests())
	}
}

// TestDeliverPushesWaitBehindReplies checks that a reply asks the limiter
// for a reply's permit and every push (a reminder, a notice, anything but
// a reply) for a push's, which waits while replies do.
func TestDeliverPushesWaitBehindReplies(t *testing.T) {
	s := newSender(t, morning, nil)
	ctx := context.Background()
	for i, p := range []string{bot.PurposeReply, "", bot.PurposeNotify, bot.PurposeReminder, "announcement"} {
		m := textTo(user, p, "x")
		m.ID = fmt.Sprintf("m%d", i)
		if err := s.sender.Deliver(ctx, m); err != nil {
			t.Fatalf("deliver %q: %v", p, err)
		}
	}
	if s.lim.waits != 2 || s.lim.pushes != 3 {
		t.Errorf("got %d reply waits and %d push waits, want 2 and 3", s.lim.waits, s.lim.pushes)
	}
}

func TestDeliverOtherKinds(t *testing.T) {
	tests := []struct {
		name string
		m    cnsbot.Outgoing
		kind string
	}{
		{"list", cnsbot.Outgoing{ID: "a", To: user, Kind: cnsbot.MsgList, Text: "Menu",
			Buttons: []cnsbot.Button{{Title: "A", Payload: "#a"}}}, zalotest.KindList},
		{"request info", cnsbot.Outgoing{ID: "b", To: user, Kind: cnsbot.MsgRequestInfo, Text: "Thông tin",
			Subtitle: "Cho xin số điện thoại", ImageURL: "https://x.vn/a.png"}, zalotest.KindRequestInfo},
		{"group text", cnsbot.Outgoing{ID: "c", To: cnsbot.Recipient{GroupID: "g1"}, Kind: cnsbot.MsgText, Text: "Họp"}, zalotest.KindText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, morning, nil)
			if err := s.sender.Deliver(context.Background(), tt.m); err != nil {
				t.Fatal(err)
			}
			msgs := s.z.Messages()
			if len(msgs) != 1 || msgs[0].Kind != tt.kind {
				t.Errorf("got %+v, want one %s", msgs, tt.kind)
			}
		})
	}
}

func TestDeliverInvalidMessageIsUndeliverable(t *testing.T) {
	s := newSender(t, morning, nil)
	six := make([]cnsbot.Button, 6)
	for i := range six {
		six[i] = cnsbot.Button{Title: "B", Payload: "#b"}
	}
	m := cnsbot.Outgoing{ID: "x", To: user, Kind: cnsbot.MsgList, Text: "Menu", Buttons: six}
	if err := s.sender.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if log := s.dlog.all(); len(log) != 1 || log[0].state != "undeliverable" || log[0].reason != cnsbot.EINVALID {
		t.Errorf("got %+v, want undeliverable %s", log, cnsbot.EINVALID)
	}
}

func TestDeliverFallbackRecordFailureDoesNotResend(t *testing.T) {
	for _, withFallback := range []bool{false, true} {
		t.Run(fmt.Sprint("FallbackLog ", withFallback), func(t *testing.T) {
			mem := &memDeliveryLog{failWrites: 1}
			var dlog bot.DeliveryLog = mem
			if withFallback {
				dlog = fallbackLog{mem}
			}
			s := newSender(t, morning, dlog)
			s.z.SetFault(zalotest.FailUsers(-213, user.UserID))
			m := textTo(user, bot.PurposeNotify, "Thông báo")
			m.FallbackGroup = "g1"
			if err := s.sender.Deliver(context.Background(), m); err == nil {
				t.Fatal("got nil, want the log write error")
			}
			if err := s.sender.Deliver(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			if n := len(s.z.MessagesTo("g1")); n != 1 {
				t.Errorf("got %d group messages, want 1", n)
			}
			want := "delivered"
			if withFallback {
				want = "fallback"
			}
			if log := mem.all(); len(log) != 1 || log[0].state != want {
				t.Errorf("got %+v, want one %s entry", log, want)
			}
		})
	}
}

func TestLongListTitleSentAsTextThenList(t *testing.T) {
	s := newSender(t, morning, nil)
	text := strings.Repeat("Một bước hướng dẫn rất dài cho bà con. ", 5) + "\nBạn cần gì?"
	m := cnsbot.Outgoing{ID: "long-1", To: cnsbot.Recipient{UserID: "u1"}, Kind: cnsbot.MsgList, Text: text,
		Buttons: []cnsbot.Button{{Title: "Menu", Payload: "#menu"}}}
	if err := s.sender.Deliver(context.Background(), m); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got := s.z.MessagesTo("u1")
	if len(got) != 2 || got[0].Kind != zalotest.KindText || got[1].Kind != zalotest.KindList || got[1].Text != "Bạn cần gì?" {
		t.Fatalf("got %+v, want a text then a list titled %q", got, "Bạn cần gì?")
	}
}

// TestReplyNotLogged checks that a plain reply costs no delivery-log write,
// while a reply that was held and released brings its row up to date.
func TestReplyNotLogged(t *testing.T) {
	s := newSender(t, morning, nil)
	if err := s.sender.Deliver(context.Background(), textTo(user, bot.PurposeReply, "Chào anh")); err != nil {
		t.Fatal(err)
	}
	if log := s.dlog.all(); len(log) != 0 || s.z.Count() != 1 {
		t.Fatalf("got log %+v and %d messages, want one message and no log", log, s.z.Count())
	}
	released := textTo(user, bot.PurposeReply, "Chào buổi sáng")
	released.ID, released.Released = "ev2:0", true
	if err := s.sender.Deliver(context.Background(), released); err != nil {
		t.Fatal(err)
	}
	if log := s.dlog.all(); len(log) != 1 || log[0].state != "delivered" || log[0].m.ID != "ev2:0" {
		t.Fatalf("got log %+v, want the released reply logged delivered", log)
	}
}

// TestDeliverNoQuiet: an operator who turns the quiet night off gets
// reminders delivered at 23:00.
func TestDeliverNoQuiet(t *testing.T) {
	at := time.Date(2025, 6, 2, 23, 0, 0, 0, ict)
	s := newSender(t, at, nil)
	clock := func() time.Time { return at }
	s.sender = bot.NewSender(s.client, &countingLimiter{}, s.dlog, bot.SenderConfig{Now: clock, Location: ict, NoQuiet: true},
		slog.New(slog.DiscardHandler), s.m)
	if err := s.sender.Deliver(context.Background(), textTo(user, bot.PurposeReminder, "x")); err != nil {
		t.Fatal(err)
	}
	if log := s.dlog.all(); len(log) != 1 || log[0].state != "delivered" || s.z.Count() != 1 {
		t.Errorf("got log %+v and %d messages, want the reminder delivered", log, s.z.Count())
	}
}

// TestLongListNoItemAsTitle: a long list whose text ends with its items
// (the areas of a visit, the open help requests) goes as the whole text,
// then the buttons under a pointer: no item becomes the card's title.
func TestLongListNoItemAsTitle(t *testing.T) {
	for name, text := range map[string]string{
		"numbered": "Bạn đã hướng dẫn những gì? Bấm từng mục rồi bấm “Xong”, hoặc gõ số hay tên.\n1. VNeID\n2. VNeID mức 2\n3. CaMau-G\n10. Khác",
		"requests": "Yêu cầu đang chờ tổ nhận (2):\n• HTBC3D4F: Cài VNeID cho mẹ. Ấp 1, An Xuyên\n• HTBC3D4G: Quên mật khẩu CaMau-G. Ấp 1, An Xuyên",
	} {
		t.Run(name, func(t *testing.T) {
			s := newSender(t, morning, nil)
			m := cnsbot.Outgoing{ID: "items-" + name, To: cnsbot.Recipient{UserID: "u1"}, Kind: cnsbot.MsgList, Text: text,
				Buttons: []cnsbot.Button{{Title: "Xong", Payload: "#xong"}}}
			if err := s.sender.Deliver(context.Background(), m); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			got := s.z.MessagesTo("u1")
			if len(got) != 2 || got[0].Kind != zalotest.KindText || got[0].Text != text || got[1].Kind != zalotest.KindList {
				t.Fatalf("got %+v, want the whole text, then a list", got)
			}
			if title := got[1].Text; strings.HasPrefix(title, "•") || strings.Contains(title, "Khác") || strings.Contains(title, "HTBC") {
				t.Errorf("list title %q is an item of the list", title)
			}
		})
	}
}

// TestUndeliverableReported: a message Zalo refuses for good is recorded
// and handed to OnUndeliverable once (a person's relayed answer, whose
// writer must hear it did not arrive); a delivered one is not.
func TestUndeliverableReported(t *testing.T) {
	clock := func() time.Time { return morning }
	zs := newZalo(t, zalotest.WithClock(clock))
	zs.tokens = zs.newTokens(bot.TokenConfig{Now: clock})
	zs.client = bot.NewClient(zs.z.URL(), zs.tokens, nil, zs.m)
	var got []cnsbot.Outgoing
	var codes []int
	cfg := bot.SenderConfig{Now: clock, Location: ict, OnUndeliverable: func(_ context.Context, m cnsbot.Outgoing, code int, _ string) {
		got, codes = append(got, m), append(codes, code)
	}}
	snd := bot.NewSender(zs.client, &countingLimiter{}, &memDeliveryLog{}, cfg, slog.New(slog.DiscardHandler), zs.m)
	zs.z.SetFault(zalotest.FailUsers(-230, user.UserID))
	if err := snd.Deliver(context.Background(), textTo(user, "relay", "Dạ cô, con là Mai")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if err := snd.Deliver(context.Background(), textTo(cnsbot.Recipient{UserID: "42"}, "relay", "Chào chú")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(got) != 1 || got[0].To != user || codes[0] != -230 {
		t.Errorf("OnUndeliverable got %+v (codes %v), want the refused message once with -230", got, codes)
	}
}
