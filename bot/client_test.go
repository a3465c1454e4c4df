package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// memTokenStore is an in-memory bot.TokenStore.
type memTokenStore struct {
	mu      sync.Mutex
	tok     cnsbot.Token
	has     bool
	saves   int
	saveErr error
	loadErr error
}

func (s *memTokenStore) LoadToken(context.Context) (cnsbot.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return cnsbot.Token{}, s.loadErr
	}
	if !s.has {
		return cnsbot.Token{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "no token")
	}
	return s.tok, nil
}

func (s *memTokenStore) SaveToken(_ context.Context, t cnsbot.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErr != nil {
		return s.saveErr
	}
	s.tok, s.has = t, true
	s.saves++
	return nil
}

func (s *memTokenStore) get() (cnsbot.Token, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, s.saves
}

func (s *memTokenStore) set(f func(s *memTokenStore)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// memLocker is an in-process bot.Locker, as the replicas of a test share it.
type memLocker struct {
	mu    sync.Mutex
	held  map[string]bool
	err   error
	takes int
}

func (l *memLocker) TryLock(_ context.Context, name string, _ time.Duration) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, false, l.err
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	if l.held[name] {
		return nil, false, nil
	}
	l.held[name] = true
	l.takes++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, name)
	}, true, nil
}

// zaloSetup is a fake Zalo with a client whose token store holds the
// fake's current pair.
type zaloSetup struct {
	z      *zalotest.Server
	store  *memTokenStore
	lock   *memLocker
	tokens *bot.Tokens
	client *bot.Client
	m      *bot.Metrics
}

func newZalo(t *testing.T, opts ...zalotest.Option) *zaloSetup {
	t.Helper()
	z := zalotest.Start(t, opts...)
	access, refresh, exp := z.Tokens()
	st := &memTokenStore{tok: cnsbot.Token{Access: access, Refresh: refresh, ExpiresAt: exp}, has: true}
	s := &zaloSetup{z: z, store: st, lock: &memLocker{}, m: bot.NewMetrics(nil)}
	s.tokens = s.newTokens(bot.TokenConfig{})
	s.client = bot.NewClient(z.URL(), s.tokens, nil, s.m)
	return s
}

// newTokens returns another Tokens on the same store and lock: a replica.
func (s *zaloSetup) newTokens(cfg bot.TokenConfig) *bot.Tokens {
	cfg.AppID, cfg.AppSecret, cfg.OAuthBase = s.z.AppID(), s.z.AppSecret(), s.z.URL()
	return bot.NewTokens(cfg, s.store, s.lock, nil, nil, s.m)
}

func wireBody(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestClientWire(t *testing.T) {
	user := cnsbot.Recipient{UserID: "5510185758261927916"}
	group := cnsbot.Recipient{GroupID: "7b1f0c2d"}
	tests := []struct {
		name string
		send func(c *bot.Client) error
		want string // the request body, keys sorted
	}{
		{"user text", func(c *bot.Client) error {
			_, err := c.SendText(context.Background(), user, "Xin chào")
			return err
		}, `{"message":{"text":"Xin chào"},"recipient":{"user_id":"5510185758261927916"}}`},
		{"group text", func(c *bot.Client) error {
			_, err := c.SendText(context.Background(), group, "Họp lúc 8h")
			return err
		}, `{"message":{"text":"Họp lúc 8h"},"recipient":{"group_id":"7b1f0c2d"}}`},
		{"list", func(c *bot.Client) error {
			_, err := c.SendList(context.Background(), user, "Bạn cần gì?", "Chọn một mục", []cnsbot.Button{
				{Title: "Cài VNeID", Payload: "#vneid"},
				{Title: "Trang web", URL: "https://dichvucong.gov.vn"},
				{Title: "Gọi tổng đài", Phone: "+84 912 345 678"},
				{Title: "Gọi xã", Phone: "0290 3831 234"},
			})
			return err
		}, `{"message":{"attachment":{"payload":{"buttons":[` +
			`{"payload":"#vneid","title":"Cài VNeID","type":"oa.query.hide"},` +
			`{"payload":{"url":"https://dichvucong.gov.vn"},"title":"Trang web","type":"oa.open.url"},` +
			`{"payload":{"phone_code":"84912345678"},"title":"Gọi tổng đài","type":"oa.open.phone"},` +
			`{"payload":{"phone_code":"842903831234"},"title":"Gọi xã","type":"oa.open.phone"}],` +
			`"elements":[{"subtitle":"Chọn một mục","title":"Bạn cần gì?"}],"template_type":"list"},"type":"template"}},` +
			`"recipient":{"user_id":"5510185758261927916"}}`},
		{"request user info", func(c *bot.Client) error {
			_, err := c.RequestUserInfo(context.Background(), user.UserID, "Cho biết thông tin", "Để hỗ trợ bạn", "https://x.vn/a.png")
			return err
		}, `{"message":{"attachment":{"payload":{"elements":[{"image_url":"https://x.vn/a.png","subtitle":"Để hỗ trợ bạn","title":"Cho biết thông tin"}],` +
			`"template_type":"request_user_info"},"type":"template"}},"recipient":{"user_id":"5510185758261927916"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newZalo(t)
			if err := tt.send(s.client); err != nil {
				t.Fatal(err)
			}
			got := s.z.Messages()
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1", len(got))
			}
			if b := wireBody(t, got[0].Body); b != tt.want {
				t.Errorf("got body\n%s\nwant\n%s", b, tt.want)
			}
			access, _, _ := s.z.Tokens()
			if got[0].AccessToken != access {
				t.Errorf("got access_token %q, want %q", got[0].AccessToken, access)
			}
		})
	}
}

func TestClientSendReturnsIDs(t *testing.T) {
	s := newZalo(t)
	ids, err := s.client.Send(context.Background(), cnsbot.Outgoing{
		To: cnsbot.Recipient{UserID: "u1"}, Kind: cnsbot.MsgList, Text: "Menu", ImageURL: "https://x.vn/banner.jpg",
		Buttons: []cnsbot.Button{{Title: "A", Payload: "#a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(ids) != 1 || len(msgs) != 1 || ids[0] != msgs[0].MessageID || msgs[0].Kind != zalotest.KindList ||
		msgs[0].ImageURL != "https://x.vn/banner.jpg" {
		t.Errorf("got ids %v for %v, want the one list message's id", ids, msgs)
	}
}

func TestClientRefusesBeforeSending(t *testing.T) {
	six := make([]cnsbot.Button, 6)
	for i := range six {
		six[i] = cnsbot.Button{Title: "B", Payload: "#b"}
	}
	user := cnsbot.Recipient{UserID: "u1"}
	tests := []struct {
		name string
		m    cnsbot.Outgoing
	}{
		{"six buttons", cnsbot.Outgoing{To: user, Kind: cnsbot.MsgList, Text: "T", Buttons: six}},
		{"button without action", cnsbot.Outgoing{To: user, Kind: cnsbot.MsgList, Text: "T", Buttons: []cnsbot.Button{{Title: "B"}}}},
		{"list without title", cnsbot.Outgoing{To: user, Kind: cnsbot.MsgList}},
		{"empty text", cnsbot.Outgoing{To: user, Kind: cnsbot.MsgText, Text: "  "}},
		{"no recipient", cnsbot.Outgoing{Kind: cnsbot.MsgText, Text: "x"}},
		{"two recipients", cnsbot.Outgoing{To: cnsbot.Recipient{UserID: "u", GroupID: "g"}, Kind: cnsbot.MsgText, Text: "x"}},
		{"form to a group", cnsbot.Outgoing{To: cnsbot.Recipient{GroupID: "g"}, Kind: cnsbot.MsgRequestInfo, Text: "x"}},
		{"unknown kind", cnsbot.Outgoing{To: user, Kind: "sticker", Text: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newZalo(t)
			_, err := s.client.Send(context.Background(), tt.m)
			if cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("got %v, want an EINVALID error", err)
			}
			if bot.Classify(err) != bot.ClassBug {
				t.Errorf("got class %v, want bug", bot.Classify(err))
			}
			if n := s.z.Requests(); n != 0 {
				t.Errorf("got %d requests to Zalo, want 0", n)
			}
		})
	}
}

func TestClientListToGroupIsText(t *testing.T) {
	s := newZalo(t)
	_, err := s.client.SendList(context.Background(), cnsbot.Recipient{GroupID: "g1"}, "Báo cáo hôm nay", "", []cnsbot.Button{
		{Title: "Đã xong", Payload: "#xong r42"},
		{Title: "Xem", URL: "https://x.vn/r/42"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.z.MessagesTo("g1")
	if len(msgs) != 1 || msgs[0].Kind != zalotest.KindText {
		t.Fatalf("got %v, want one text message", msgs)
	}
	want := "Báo cáo hôm nay\n1. Đã xong — #xong r42\n2. Xem — https://x.vn/r/42"
	if msgs[0].Text != want {
		t.Errorf("got %q, want %q", msgs[0].Text, want)
	}
}

func TestClientSplitsLongText(t *testing.T) {
	s := newZalo(t)
	var paragraphs []string
	for i := range 12 {
		paragraphs = append(paragraphs, strings.Repeat("Người dân cần cài VNeID mức 2. ", 12)+string(rune('A'+i)))
	}
	text := strings.Join(paragraphs, "\n")
	ids, err := s.client.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, text)
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(ids) != len(msgs) || len(msgs) < 3 {
		t.Fatalf("got %d ids and %d messages, want the same number, at least 3", len(ids), len(msgs))
	}
	var joined []string
	for i, m := range msgs {
		if ids[i] != m.MessageID {
			t.Errorf("id %d: got %s, want %s", i, ids[i], m.MessageID)
		}
		if n := len(utf16.Encode([]rune(m.Text))); n > bot.MaxTextLen {
			t.Errorf("part %d has %d characters, want at most %d", i, n, bot.MaxTextLen)
		}
		joined = append(joined, m.Text)
	}
	if got := strings.Join(joined, "\n"); got != text {
		t.Errorf("parts joined with line breaks differ from the text")
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"short", "xin chào", 20, []string{"xin chào"}},
		{"exact", "0123456789", 10, []string{"0123456789"}},
		{"line break", "dòng một\ndòng hai dài hơn", 16, []string{"dòng một", "dòng hai dài hơn"}},
		{"line break in first half loses to a later space", "ab\ncd ef gh ij kl", 12, []string{"ab\ncd ef gh", "ij kl"}},
		{"sentence end", "Câu một. Câu hai nữa", 14, []string{"Câu một.", "Câu hai nữa"}},
		{"space", "một hai ba bốn năm", 10, []string{"một hai", "ba bốn năm"}},
		{"long word", "aaaaaaaaaaaaaaa", 6, []string{"aaaaaa", "aaaaaa", "aaa"}},
		{"combining marks stay with their letter", "aaaaa" + "a\u0306\u0301" + "bbbb", 7, []string{"aaaaa", "a\u0306\u0301bbbb"}},
		{"emoji count double", "😀😀😀😀 ok", 6, []string{"😀😀😀", "😀 ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.SplitText(tt.text, tt.max)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, p := range got {
				if n := len(utf16.Encode([]rune(p))); n > tt.max {
					t.Errorf("part %q has %d units, want at most %d", p, n, tt.max)
				}
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Câu một. Câu hai!\nDòng ba", 7)
	f.Add("a\u0306\u0301a\u0306\u0301a\u0306\u0301", 2)
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max < 2 || max > 4000 {
			return
		}
		parts := bot.SplitText(text, max)
		for _, p := range parts {
			if n := len(utf16.Encode([]rune(p))); n > max && p != text {
				t.Fatalf("part of %d units, max %d", n, max)
			}
			if p == "" && text != "" {
				t.Fatal("empty part")
			}
		}
		// Only the spaces at the breaks may go.
		squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if got, want := squeeze(strings.Join(parts, "")), squeeze(text); got != want {
			t.Fatalf("text changed: got %q, want %q", got, want)
		}
	})
}

func TestClientUserDetail(t *testing.T) {
	s := newZalo(t)
	s.z.SetUserDetail("u1", zalotest.UserDetail{DisplayName: "Chị Lan", Shared: map[string]any{
		"name": "Nguyễn Thị Lan", "phone": 84912345678, "address": "Ấp 3", "city": "Cà Mau",
	}})
	s.z.SetUserDetail("u2", zalotest.UserDetail{Raw: json.RawMessage(
		`{"user_id":5510185758261927916123,"display_name":"Anh Ba","user_is_follower":"1","shared_info":null}`)})
	s.z.SetUserDetail("u3", zalotest.UserDetail{NotFollower: true})

	tests := []struct {
		id   string
		want bot.Profile
	}{
		{"u1", bot.Profile{UserID: "u1", DisplayName: "Chị Lan", IsFollower: true, Shared: &cnsbot.UserInfo{
			Name: "Nguyễn Thị Lan", Phone: "84912345678", Address: "Ấp 3", City: "Cà Mau"}}},
		{"u2", bot.Profile{UserID: "5510185758261927916123", DisplayName: "Anh Ba", IsFollower: true}},
		{"u3", bot.Profile{UserID: "u3", IsFollower: false}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := s.client.UserDetail(context.Background(), tt.id)
			if err != nil {
				t.Fatal(err)
			}
			gs, ws := got.Shared, tt.want.Shared
			got.Shared, tt.want.Shared = nil, nil
			if tt.id == "u3" {
				got.DisplayName = ""
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if (gs == nil) != (ws == nil) || (gs != nil && *gs != *ws) {
				t.Errorf("got shared %+v, want %+v", gs, ws)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name       string
		fail       int
		wantCode   int
		wantStatus int
		wantClass  bot.Class
	}{
		{"rate limit", -32, -32, 0, bot.ClassRetry},
		{"not follower", -213, -213, 0, bot.ClassPermanent},
		{"window", -230, -230, 0, bot.ClassPermanent},
		{"night", -234, -234, 0, bot.ClassNight},
		{"quota", -211, -211, 0, bot.ClassQuota},
		{"invalid", -201, -201, 0, bot.ClassBug},
		{"group gone", -403, -403, 0, bot.ClassGroupGone},
		{"HTTP 502", 502, 0, 502, bot.ClassRetry},
		{"HTTP 503", 503, 0, 503, bot.ClassRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newZalo(t)
			s.z.FailNext(1, tt.fail)
			_, err := s.client.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "x")
			var ae *bot.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *APIError", err)
			}
			if ae.Code != tt.wantCode || ae.Status != tt.wantStatus {
				t.Errorf("got code %d status %d, want %d %d", ae.Code, ae.Status, tt.wantCode, tt.wantStatus)
			}
			if c := bot.Classify(err); c != tt.wantClass {
				t.Errorf("got class %v, want %v", c, tt.wantClass)
			}
			if s.z.Count() != 0 {
				t.Errorf("got %d messages, want 0", s.z.Count())
			}
		})
	}
}

func TestClientTimeout(t *testing.T) {
	s := newZalo(t)
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault { return zalotest.Fault{Delay: 5 * time.Second} })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.client.SendText(ctx, cnsbot.Recipient{UserID: "u1"}, "x")
	if !errors.Is(err, context.DeadlineExceeded) || bot.Classify(err) != bot.ClassRetry {
		t.Errorf("got %v (class %v), want a deadline error classed retry", err, bot.Classify(err))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v, want the context's deadline to end the call", d)
	}
}

func TestClientAnswerNotJSON(t *testing.T) {
	// A 200 that is not Zalo's envelope: a captive proxy's page, say.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	defer srv.Close()
	s := newZalo(t)
	c := bot.NewClient(srv.URL, s.tokens, nil, nil)
	_, err := c.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "x")
	if bot.Classify(err) != bot.ClassRetry {
		t.Errorf("got %v, want an error classed retry", err)
	}
}

func TestClientRefreshesOnceOnInvalidToken(t *testing.T) {
	s := newZalo(t)
	s.z.ExpireToken()
	ids, err := s.client.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "x")
	if err != nil || len(ids) != 1 {
		t.Fatalf("got %v, %v, want one message after a refresh", ids, err)
	}
	if n := s.z.Refreshes(); n != 1 {
		t.Errorf("got %d refreshes, want 1", n)
	}
	access, refresh, _ := s.z.Tokens()
	if st, _ := s.store.get(); st.Access != access || st.Refresh != refresh {
		t.Errorf("stored pair is not the new one")
	}
	if got := s.z.Messages()[0].AccessToken; got != access {
		t.Errorf("message sent with %q, want the new token", got)
	}

	// Refused again after the refresh: one refresh, one retry, then the error.
	s.z.Reset()
	s.z.FailNext(2, -216)
	_, err = s.client.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "x")
	if bot.Code(err) != -216 {
		t.Errorf("got %v, want -216", err)
	}
	if n, r := s.z.Refreshes(), s.z.Requests(); n != 1 || r != 3 {
		t.Errorf("got %d refreshes and %d requests, want 1 and 3", n, r)
	}
}
