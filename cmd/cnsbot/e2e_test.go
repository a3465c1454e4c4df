package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store/storetest"
)

const (
	e2eAppID  = "4400112233"
	e2eSecret = "oa-secret-e2e"
	e2eOA     = "1646843870823903717"
)

// e2eZalo is the OA the tests' events come from, signed as Zalo signs them.
var e2eZalo = zaloevent.OA{AppID: e2eAppID, OAID: e2eOA, SecretKey: e2eSecret}

// testConfig points a server at the test Postgres schema, a unique Redis
// prefix and the fake Zalo.
func testConfig(t *testing.T, z *zalotest.Server) Config {
	t.Helper()
	rdb, prefix := storetest.Redis(t)
	opt := rdb.Options()
	access, refresh, _ := z.Tokens()
	return Config{
		HTTPAddr:         "127.0.0.1:0",
		DatabaseURL:      storetest.PostgresURL(t),
		RedisURL:         fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB),
		RedisPrefix:      prefix,
		ZaloAppID:        e2eAppID,
		ZaloOASecretKey:  e2eSecret,
		ZaloAppSecret:    z.AppSecret(),
		ZaloAccessToken:  access,
		ZaloRefreshToken: refresh,
		ZaloAPIBase:      z.URL(),
		ZaloOAuthBase:    z.URL(),
		Migrate:          true,
		Partitions:       4,
		SendRate:         1000,
		HandoffPause:     30 * time.Minute,
		ShutdownTimeout:  10 * time.Second,
		AdminToken:       "admin-e2e",
		// Pushes go out at any hour, so the tests mean the same at night
		// in Vietnam (CI may run then).
		PushQuietHours: "off",
		// Forms go as forms (Zalo requires their picture).
		ZaloInfoImageURL: "https://cnsbot.test" + bot.InfoImagePath,
	}
}

// running is a server under test: its HTTP front and its workers.
type running struct {
	*server
	url  string
	stop func()
}

// start wires a server; with workers false only the webhook runs, as if
// the process died right after acknowledging.
func start(t *testing.T, cfg Config, workers bool) *running {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	s, err := newServer(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ts := httptest.NewServer(s.handler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if workers {
		go func() { s.runWorkers(ctx); close(done) }()
	} else {
		close(done)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ts.Close()
			cancel()
			<-done
			s.close()
		})
	}
	t.Cleanup(stop)
	return &running{server: s, url: ts.URL, stop: stop}
}

// signedEvent builds and signs a follow, an unfollow, or a text event
// named name (user_send_text, or another name in the same shape).
func signedEvent(name, userID, msgID, text string) ([]byte, string) {
	now := time.Now()
	switch name {
	case "follow":
		return e2eZalo.Sign(e2eZalo.Follow(userID, now))
	case "unfollow":
		return e2eZalo.Sign(e2eZalo.Unfollow(userID, now))
	}
	ev := e2eZalo.Text(userID, msgID, text, now)
	ev.Name = name
	return e2eZalo.Sign(ev)
}

func post(t *testing.T, url string, body []byte, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/zalo", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(bot.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitMessages waits until the fake Zalo holds at least n messages to user.
func waitMessages(t *testing.T, z *zalotest.Server, user string, n int) []zalotest.Sent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got := z.MessagesTo(user); len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("user %s got %d messages, want at least %d", user, len(z.MessagesTo(user)), n)
	return nil
}

func TestEndToEndFollowGetsWelcomeAndMenu(t *testing.T) {
	z := zalotest.Start(t)
	r := start(t, testConfig(t, z), true)

	body, sig := signedEvent("follow", "5510185758261927916", "", "")
	if got := post(t, r.url, body, sig); got != http.StatusOK {
		t.Fatalf("follow: status %d, want 200", got)
	}
	// One message: the main menu as a list of buttons, titled with the
	// greeting.
	msgs := waitMessages(t, z, "5510185758261927916", 1)
	first := msgs[0]
	if first.Kind != zalotest.KindList || len(first.Buttons) == 0 || !strings.HasPrefix(first.Text, "Chào anh chị!") {
		t.Fatalf("got a %q with %d buttons titled %q, want the main menu titled with the welcome",
			first.Kind, len(first.Buttons), first.Text)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(z.MessagesTo("5510185758261927916")); n != 1 {
		t.Errorf("follow got %d messages, want 1", n)
	}
}

func TestEndToEndRefusesForgedAndMalformed(t *testing.T) {
	z := zalotest.Start(t)
	r := start(t, testConfig(t, z), true)

	body, sig := signedEvent("user_send_text", "1001", "m-forged", "menu")
	tampered := bytes.Replace(body, []byte("menu"), []byte("hack"), 1)
	cases := []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"missing signature", body, "", http.StatusUnauthorized},
		{"tampered body", tampered, sig, http.StatusUnauthorized},
		{"wrong signature", body, "mac=" + bot.Sign(e2eAppID, body, "1", e2eSecret), http.StatusUnauthorized},
		{"not json", []byte("{oops"), sig, http.StatusBadRequest},
		{"too large", bytes.Repeat([]byte("x"), 2<<20), sig, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		if got := post(t, r.url, c.body, c.sig); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(z.MessagesTo("1001")); n != 0 {
		t.Fatalf("refused events produced %d messages, want 0", n)
	}
}

func TestEndToEndRedeliveryAnsweredOnce(t *testing.T) {
	z := zalotest.Start(t)
	r := start(t, testConfig(t, z), true)

	// A reference user tells how many messages one "menu" produces.
	body, sig := signedEvent("user_send_text", "2001", "m-ref", "menu")
	post(t, r.url, body, sig)
	waitMessages(t, z, "2001", 1)
	time.Sleep(300 * time.Millisecond)
	want := len(z.MessagesTo("2001"))

	body, sig = signedEvent("user_send_text", "2002", "m-dup", "menu")
	for i := 0; i < 3; i++ {
		if got := post(t, r.url, body, sig); got != http.StatusOK {
			t.Fatalf("delivery %d: status %d, want 200", i, got)
		}
	}
	waitMessages(t, z, "2002", want)
	time.Sleep(500 * time.Millisecond)
	if got := len(z.MessagesTo("2002")); got != want {
		t.Fatalf("an event delivered 3 times got %d messages, want %d (as once)", got, want)
	}
}

// TestEndToEndCrashAfterAckLosesNothing acknowledges events on a server
// whose workers never run (it "crashes" after the 200), then starts a new
// server on the same stores: the replies still go out, once.
func TestEndToEndCrashAfterAckLosesNothing(t *testing.T) {
	z := zalotest.Start(t)
	cfg := testConfig(t, z)

	first := start(t, cfg, false)
	users := []string{"3001", "3002", "3003"}
	for i, u := range users {
		body, sig := signedEvent("user_send_text", u, "m-crash-"+strconv.Itoa(i), "menu")
		if got := post(t, first.url, body, sig); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
	}
	first.stop()
	if n := z.Count(); n != 0 {
		t.Fatalf("%d messages sent before any worker ran, want 0", n)
	}

	start(t, cfg, true)
	for _, u := range users {
		waitMessages(t, z, u, 1)
	}
}
