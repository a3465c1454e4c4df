package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLogged is start with the log kept, at debug level.
func startLogged(t *testing.T, cfg Config, w *syncBuffer) *running {
	t.Helper()
	log := newLogger(w, slog.LevelDebug)
	s, err := newServer(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ts := httptest.NewServer(s.handler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.runWorkers(ctx); close(done) }()
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

// phonePattern finds Vietnamese phone numbers in the forms people and
// Zalo write them: 0912345678, +84912345678, 84912345678, with or without
// spaces, dots or dashes between the groups. Masked numbers
// (+8491****678) do not match.
var phonePattern = regexp.MustCompile(`(?:^|[^0-9])(?:\+?84|0)[ .-]?[35789][0-9](?:[ .-]?[0-9]){7}(?:[^0-9*]|$)`)

// TestLogsKeepNoSecrets runs the real server with the log at debug level
// through what puts personal data and secrets in its hands: a resident's
// request for a team member with a phone number, a phone shared through a
// Zalo form, a stale request escalated to the team leader and the commune
// officer, an access token refreshed after Zalo refused it, and a forged
// signature. The log must hold no phone number in any form, no token, no
// secret, and none of the resident's own words.
func TestLogsKeepNoSecrets(t *testing.T) {
	// The OAuth endpoint must know the app id the webhook signs with, as
	// Zalo does, for the refresh to work.
	z := zalotest.Start(t, zalotest.WithApp(e2eAppID, zalotest.DefaultAppSecret))
	cfg := testConfig(t, z)
	ctx := context.Background()

	// The province the resident lives in, a team with a leader and a
	// commune officer, and a request nobody took for three days.
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedLogWorld(t, db)
	db.Close()

	var logBuf syncBuffer
	r := startLogged(t, cfg, &logBuf)
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
			t.Logf("last log lines:\n%s", strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	})
	access0, refresh0, _ := z.Tokens()

	const resident = "5510185758261927916"
	const name = "Nguyễn Thị Hồng Nhung"
	const problem = "Quên mật khẩu VNeID của mẹ tôi ở số nhà 45"
	n := 0
	say := func(text string) []zalotest.Sent {
		t.Helper()
		before := len(z.MessagesTo(resident))
		n++
		body, sig := signedEvent("user_send_text", resident, "m-log-"+strconv.Itoa(n), text)
		if got := post(t, r.url, body, sig); got != http.StatusOK {
			t.Fatalf("%q: status %d, want 200", text, got)
		}
		waitMessages(t, z, resident, before+1)
		time.Sleep(150 * time.Millisecond)
		return z.MessagesTo(resident)[before:]
	}
	// choose answers a question by its first button that is not one of
	// the global commands.
	choose := func(msgs []zalotest.Sent) []zalotest.Sent {
		t.Helper()
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, b := range msgs[i].Buttons {
				switch b.Payload {
				case "#menu", "#huy", "#quaylai", "#giup", "#nguoi", "#them", "#en", "#vi", "":
					continue
				}
				return say(b.Payload)
			}
		}
		t.Fatalf("no button to choose in %+v", msgs)
		return nil
	}

	say("menu")
	say("#dennha")
	msgs := say("#dongy")
	msgs = say("#co")
	msgs = say(name)
	msgs = say("0912 345 678")
	msgs = choose(msgs) // commune
	msgs = choose(msgs) // hamlet
	msgs = say(problem)
	msgs = choose(msgs) // a time
	last := msgs[len(msgs)-1]
	confirm := ""
	for _, b := range last.Buttons {
		if b.Payload == "#gui" || strings.Contains(strings.ToLower(b.Title), "gửi") {
			confirm = b.Payload
		}
	}
	if confirm == "" {
		t.Fatalf("no send button on the summary: %+v", last)
	}
	say(confirm)

	// A phone shared through Zalo's form, as Zalo sends it.
	body, sig := e2eZalo.Sign(e2eZalo.SubmitInfo(resident,
		zaloevent.Info{Name: "Hồng Nhung", Phone: "84912345678", Address: "Ấp 1", City: "Cà Mau"}, time.Now()))
	if got := post(t, r.url, body, sig); got != http.StatusOK {
		t.Fatalf("submit info: status %d", got)
	}

	// Zalo refuses the access token: one refresh, then the reply goes out.
	z.ExpireToken()
	refreshesBefore := z.Refreshes()
	say("giúp")
	if z.Refreshes() <= refreshesBefore {
		t.Fatalf("no token refresh after the token expired")
	}
	access1, refresh1, _ := z.Tokens()

	// A forged event.
	body, _ = signedEvent("user_send_text", resident, "m-forged", "menu")
	if got := post(t, r.url, body, "mac="+strings.Repeat("0", 64)); got != http.StatusUnauthorized {
		t.Fatalf("forged event: status %d, want 401", got)
	}

	// The resident's request is stored with the phone, and the team
	// leader was told; the stale request was escalated at start-up to the
	// leader and the officer.
	req, err := r.db.OpenHelpRequestFor(ctx, resident)
	if err != nil || req.Phone != "+84912345678" {
		t.Fatalf("the resident's request: %+v, %v; want one with the phone +84912345678", req.Code, err)
	}
	waitMessages(t, z, "z-leader", 2)
	waitMessages(t, z, "z-officer", 1)
	time.Sleep(300 * time.Millisecond)
	r.stop()

	log := logBuf.String()
	for _, want := range []string{"zalo event received", "access token refreshed", "signature refused"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q: the scenario did not run as planned", want)
		}
	}
	lines := strings.Split(log, "\n")
	t.Logf("checked %d log lines (%d bytes)", len(lines), len(log))
	secrets := []struct{ what, value string }{
		{"OA secret key", cfg.ZaloOASecretKey},
		{"app secret", cfg.ZaloAppSecret},
		{"first access token", access0},
		{"first refresh token", refresh0},
		{"refreshed access token", access1},
		{"refreshed refresh token", refresh1},
		{"admin token", cfg.AdminToken},
		{"phone as typed", "0912 345 678"},
		{"phone, national", "0912345678"},
		{"phone, international", "+84912345678"},
		{"phone, as Zalo sends it", "84912345678"},
		{"phone of the stale request", "0987654321"},
		{"phone of the stale request, international", "+84987654321"},
		{"resident's name", name},
		{"resident's words", problem},
	}
	for _, s := range secrets {
		if s.value == "" {
			continue
		}
		for i, l := range lines {
			if strings.Contains(l, s.value) {
				t.Errorf("log line %d holds the %s: %s", i+1, s.what, l)
				break
			}
		}
	}
	for i, l := range lines {
		if m := phonePattern.FindString(l); m != "" {
			t.Errorf("log line %d holds a phone number %q: %s", i+1, strings.TrimSpace(m), l)
		}
	}
}

// seedLogWorld adds a commune with a hamlet and its team (a leader with
// Zalo, no group), a commune officer, and a request with a phone number
// that nobody took for three days.
func seedLogWorld(t *testing.T, db *store.DB) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc"}
	must(store.Insert(context.Background(), db, &commune))
	hamlet := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &commune.ID, Households: 120}
	must(store.Insert(context.Background(), db, &hamlet))
	team := cnsbot.Team{HamletID: hamlet.ID, Name: "Tổ Ấp 1", Code: "TL1"}
	must(store.Insert(context.Background(), db, &team))
	leaderZalo, officerZalo := "z-leader", "z-officer"
	leader := cnsbot.Person{FullName: "Trần Văn Bảy", Phone: "+84911000100", ZaloUserID: &leaderZalo}
	must(store.Insert(context.Background(), db, &leader))
	officer := cnsbot.Person{FullName: "Phạm Thị Dung", Phone: "+84911000104", ZaloUserID: &officerZalo}
	must(store.Insert(context.Background(), db, &officer))
	must(store.Insert(context.Background(), db, &cnsbot.Role{PersonID: leader.ID, Role: cnsbot.RoleLeader, UnitID: hamlet.ID, TeamID: &team.ID, Approved: true}))
	must(store.Insert(context.Background(), db, &cnsbot.Role{PersonID: officer.ID, Role: cnsbot.RoleCommuneOfficer, UnitID: commune.ID, Approved: true}))
	req := cnsbot.HelpRequest{ResidentUserID: "4400000000000000001", Name: "Lê Văn Tám", Phone: "+84987654321",
		HamletID: hamlet.ID, Topic: "vneid", Problem: "Không đăng nhập được", PreferredTime: "Sáng",
		SourceEvent: "seed-stale", CreatedAt: time.Now().Add(-72 * time.Hour)}
	must(db.CreateHelpRequest(context.Background(), &req))
}

// TestPhonePatternFindsEveryForm keeps the log check honest.
func TestPhonePatternFindsEveryForm(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{`{"phone":"0912345678"}`, true},
		{`{"phone":"+84912345678"}`, true},
		{`{"phone":"84912345678"}`, true},
		{`"text":"gọi 0912 345 678 nhé"`, true},
		{`"text":"0912.345.678"`, true},
		{`"text":"+84 912-345-678"`, true},
		{`"phone":"+8491****678"`, false},
		{`"user":"5510185758261927916"`, false},
		{`"time":1717061839659`, false},
		{`"in":1589579620`, false},
		{`"key":"m-log-1"`, false},
	}
	for _, tt := range tests {
		if got := phonePattern.MatchString(tt.line); got != tt.want {
			t.Errorf("%s: matched %v, want %v", tt.line, got, tt.want)
		}
	}
}
