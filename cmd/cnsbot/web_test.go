package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
	"github.com/camau-cns/cnsbot/web"
)

// embeddedConfig is the newcomer's configuration: no Postgres, no Redis,
// no Zalo account.
func embeddedConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		HTTPAddr:        "127.0.0.1:0",
		DataDir:         t.TempDir(),
		RedisPrefix:     "cnsbot:",
		Migrate:         true,
		Partitions:      4,
		SendRate:        1000,
		HandoffPause:    30 * time.Minute,
		WebhookMaxAge:   24 * time.Hour,
		ShutdownTimeout: 10 * time.Second,
	}
}

// webServer is a running server with the simulator and the dashboard.
type webServer struct {
	*server
	web  *webApp
	url  string
	stop func()
}

// startWeb wires a server the way serve does (newServer, with the
// simulator and the dashboard); then the workers run.
func startWeb(t *testing.T, cfg Config, wc WebConfig) *webServer {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	cfg.WebConfig = wc
	s, err := newServer(ctx, cfg, log)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	w := s.web
	ts := httptest.NewServer(s.handler)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.runWorkers(wctx); close(done) }()
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
	return &webServer{server: s, web: w, url: ts.URL, stop: stop}
}

// call sends a JSON request and decodes a JSON answer into out.
func call(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && err != io.EOF {
			t.Fatalf("%s %s: decode: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

type simMessages struct {
	Seq      int64         `json:"seq"`
	Messages []web.Message `json:"messages"`
}

// waitChat waits until the persona's chat holds a bot message that
// satisfies ok, and returns the chat.
func waitChat(t *testing.T, url, persona string, ok func(web.Message) bool) []web.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var got simMessages
		if st := call(t, http.MethodGet, url+"/sim/api/messages?after=0", "", nil, &got); st != http.StatusOK {
			t.Fatalf("messages: status %d", st)
		}
		var chat []web.Message
		for _, m := range got.Messages {
			if m.Chat == persona {
				chat = append(chat, m)
			}
		}
		for _, m := range chat {
			if m.From == "bot" && ok(m) {
				return chat
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("%s: the awaited bot message never came", persona)
	return nil
}

func hasButton(payload string) func(web.Message) bool {
	return func(m web.Message) bool {
		for _, b := range m.Buttons {
			if b.Payload == payload {
				return true
			}
		}
		return false
	}
}

func TestSimulatorDecision(t *testing.T) {
	const pg = "postgres://db.example/cnsbot"
	tests := []struct {
		name         string
		dbURL, appID string
		sim          string
		want, asked  bool
		wantErr      bool
	}{
		{"embedded default", "", "", "", true, false, false},
		{"real OA configured", "", "4400112233", "", false, false, false},
		// A deployment whose Zalo app is not set up yet is no demo.
		{"database without a Zalo app", pg, "", "", false, false, false},
		{"asked for with a real OA", "", "4400112233", "true", true, true, false},
		{"asked for on a database", pg, "", "true", true, true, false},
		{"turned off", "", "", "false", false, false, false},
		{"nonsense", "", "", "maybe", false, false, true},
	}
	for _, tt := range tests {
		got, asked, err := simulatorWanted(Config{DatabaseURL: tt.dbURL, ZaloAppID: tt.appID}, WebConfig{Simulator: tt.sim})
		if got != tt.want || asked != tt.asked || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %v, %v, %v, want %v, %v (error %v)", tt.name, got, asked, err, tt.want, tt.asked, tt.wantErr)
		}
	}
}

func TestDemoOnly(t *testing.T) {
	tests := []struct {
		st   store.DemoState
		want string
	}{
		{store.DemoState{Marked: true, Demo: true}, ""},
		{store.DemoState{Demo: true}, "not created as a demo database"},
		{store.DemoState{}, "not created as a demo database"},
		{store.DemoState{Marked: true, Demo: true, RealPeople: 2}, "(people: 2, places: 0)"},
		{store.DemoState{Marked: true, Demo: true, RealUnits: 1}, "(people: 0, places: 1)"},
	}
	for _, tt := range tests {
		err := demoOnly(tt.st)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: got %v, want %q", tt.st, err, tt.want)
		}
	}
}

func TestPrepareWebAdjustsConfig(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	cfg := embeddedConfig(t)
	db := openDatabase(t, cfg)
	// What newServer does before anything reads the configuration.
	prepareWeb := func(cfg Config) (Config, *webApp, error) {
		if err := seedDemo(ctx, cfg, db, log); err != nil {
			return cfg, nil, err
		}
		return startSimulator(ctx, cfg, db, log)
	}
	got, w, err := prepareWeb(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !w.sim || got.ZaloAppID == "" || got.ZaloOASecretKey == "" || got.AdminToken == "" || w.generatedToken != got.AdminToken {
		t.Fatalf("got sim %v, app id %q, secret set %v, admin token set %v: want all made up",
			w.sim, got.ZaloAppID, got.ZaloOASecretKey != "", got.AdminToken != "")
	}
	if !strings.HasPrefix(got.ZaloAPIBase, "http://127.0.0.1:") || !strings.HasSuffix(got.ZaloAPIBase, "/_zalo") || got.ZaloOAuthBase != got.ZaloAPIBase {
		t.Errorf("API base %q, OAuth base %q: want the loopback fake under /_zalo", got.ZaloAPIBase, got.ZaloOAuthBase)
	}
	// The fake answers there, with Zalo's envelope.
	resp, err := http.Post(got.ZaloAPIBase+"/v3.0/oa/message/cs", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Error int `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if env.Error != -216 {
		t.Errorf("fake Zalo without a token: got error %d, want -216", env.Error)
	}

	// Operator's values are kept; a real OA leaves everything alone.
	cfg.ZaloAppID, cfg.ZaloOASecretKey, cfg.AdminToken = "4400112233", "oa-secret", "admin-set"
	same, w2, err := prepareWeb(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w2.Close()
	if w2.sim || same != cfg {
		t.Errorf("with a real OA: got sim %v and a changed config, want neither", w2.sim)
	}
	cfg.WebConfig = WebConfig{Simulator: "true"}
	forced, w3, err := prepareWeb(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w3.Close()
	if !w3.sim || forced.ZaloAppID != "4400112233" || forced.ZaloOASecretKey != "oa-secret" || forced.AdminToken != "admin-set" || w3.generatedToken != "" {
		t.Errorf("SIMULATOR=true: got %+v, want the operator's app id, secret and admin token kept", forced)
	}
}

func TestDemoClock(t *testing.T) {
	var c demoClock
	if d := time.Since(c.Now()).Abs(); d > time.Second {
		t.Fatalf("fresh clock is %v off", d)
	}
	c.SetOffset(72 * time.Hour)
	if d := c.Now().Sub(time.Now()); d < 71*time.Hour || d > 73*time.Hour {
		t.Errorf("offset 72h: got %v", d)
	}
	c.SetOffset(0)
	if d := time.Since(c.Now()).Abs(); d > time.Second {
		t.Errorf("back to now: %v off", d)
	}
}

// TestSimulatorResidentGetsMenu goes the real path: the page's message is
// signed, posted to the server's own webhook, queued, handled by the
// engine, sent by the sender to the fake Zalo and captured for the page.
func TestSimulatorResidentGetsMenu(t *testing.T) {
	r := startWeb(t, embeddedConfig(t), WebConfig{})

	var page bytes.Buffer
	resp, err := http.Get(r.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(&page, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(page.String(), "persona-resident") || !strings.Contains(page.String(), "Dữ liệu mẫu") {
		t.Fatalf("simulator page: status %d, want 200 with the personas and the demo badge", resp.StatusCode)
	}

	if st := call(t, http.MethodPost, r.url+"/sim/api/open", "", map[string]string{"persona": "resident"}, nil); st != http.StatusOK {
		t.Fatalf("open: status %d", st)
	}
	waitChat(t, r.url, "resident", hasButton("#vneid"))
	// Seq numbers all chats together: the answer is the list after the
	// resident's own message.
	var sent struct{ Seq int64 }
	if st := call(t, http.MethodPost, r.url+"/sim/api/send", "", map[string]string{"persona": "resident", "text": "menu"}, &sent); st != http.StatusOK || sent.Seq == 0 {
		t.Fatalf("send: status %d, seq %d", st, sent.Seq)
	}
	chat := waitChat(t, r.url, "resident", func(m web.Message) bool { return m.Kind == "list" && m.Seq > sent.Seq && hasButton("#vneid")(m) })
	var mine int
	for _, m := range chat {
		if m.From == "resident" {
			mine++
		}
	}
	if mine != 1 {
		t.Errorf("got %d of the resident's own messages in the chat, want 1", mine)
	}
	// The reply really went through the fake Zalo.
	if n := len(r.web.fake.MessagesTo(store.DemoPersonas()[0].ZaloUserID)); n < 2 {
		t.Errorf("fake Zalo holds %d messages to the resident, want at least 2 (the welcoming menu, the menu)", n)
	}
	// Opening again does not follow again.
	var open struct{ Followed bool }
	call(t, http.MethodPost, r.url+"/sim/api/open", "", map[string]string{"persona": "resident"}, &open)
	if open.Followed {
		t.Error("a second open followed again")
	}
}

func TestSimulatorShareAndGroup(t *testing.T) {
	r := startWeb(t, embeddedConfig(t), WebConfig{})

	// A request for a team member: the resident shares her number
	// through the request_user_info form.
	steps := []struct{ text, wantPayload string }{
		{"#dennha", "#dongy"},
		{"#dongy", "#co"},
		{"#co", ""},
		{"Trần Thị Lan", "#chiase"},
		{"#chiase", ""},
	}
	for _, s := range steps {
		if st := call(t, http.MethodPost, r.url+"/sim/api/send", "", map[string]string{"persona": "resident", "text": s.text}, nil); st != http.StatusOK {
			t.Fatalf("send %q: status %d", s.text, st)
		}
		if s.wantPayload != "" {
			waitChat(t, r.url, "resident", hasButton(s.wantPayload))
		}
	}
	waitChat(t, r.url, "resident", func(m web.Message) bool { return m.Kind == "request_info" })
	if st := call(t, http.MethodPost, r.url+"/sim/api/share", "", map[string]string{"persona": "resident"}, nil); st != http.StatusOK {
		t.Fatalf("share: status %d", st)
	}
	// The form's answer moves the flow on to the commune question.
	waitChat(t, r.url, "resident", func(m web.Message) bool {
		for _, b := range m.Buttons {
			if strings.HasPrefix(b.Title, "Xã ") || strings.HasPrefix(b.Title, "Phường ") {
				return true
			}
		}
		return false
	})

	// A group message reaches the pipeline as user_send_group_text: the
	// webhook accepts it (200) and the message shows with its writer.
	if st := call(t, http.MethodPost, r.url+"/sim/api/send", "", map[string]string{"persona": "group", "text": "Chào cả tổ", "speaker": "member"}, nil); st != http.StatusOK {
		t.Fatalf("group send: status %d", st)
	}
	var got simMessages
	call(t, http.MethodGet, r.url+"/sim/api/messages?after=0", "", nil, &got)
	var found bool
	for _, m := range got.Messages {
		if m.Chat == "group" && m.From == "member" && m.Name == "Lê Văn Hùng" && m.Text == "Chào cả tổ" {
			found = true
		}
	}
	if !found {
		t.Error("the group message is not in the group chat with its writer's name")
	}
	if st := call(t, http.MethodPost, r.url+"/sim/api/send", "", map[string]string{"persona": "group", "text": "x"}, nil); st != http.StatusBadRequest {
		t.Errorf("group message without a speaker: status %d, want 400", st)
	}
	if st := call(t, http.MethodPost, r.url+"/sim/api/send", "", map[string]string{"persona": "nobody", "text": "x"}, nil); st != http.StatusNotFound {
		t.Errorf("unknown persona: status %d, want 404", st)
	}
	// A cross-site form post (not JSON) is refused.
	resp, err := http.Post(r.url+"/sim/api/send", "application/x-www-form-urlencoded", strings.NewReader("persona=resident&text=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form post: status %d, want 415", resp.StatusCode)
	}
}

// TestSimulatorClockAndReminders jumps the demo clock to 7 days before the
// next deadline and runs the reminder pass: the leader's reminder goes
// through the queue and the sender to the fake Zalo.
func TestSimulatorClockAndReminders(t *testing.T) {
	r := startWeb(t, embeddedConfig(t), WebConfig{})

	type clock struct {
		Now, Offset, Deadline, Key, Seven, One string
		Shifted                                bool
	}
	var c clock
	if st := call(t, http.MethodPost, r.url+"/sim/api/clock", "", map[string]string{"to": "7d"}, &c); st != http.StatusOK {
		t.Fatalf("jump: status %d", st)
	}
	if !c.Shifted || c.Now != c.Seven || !strings.HasSuffix(c.Key, ":team:commune") {
		t.Fatalf("after the jump: got %+v, want the clock at the 7-day point of a team deadline", c)
	}
	if d := r.web.Now().Sub(time.Now()); d <= 0 {
		t.Fatalf("the server's clock did not move: offset %v", d)
	}
	if st := call(t, http.MethodPost, r.url+"/sim/api/reminders", "", map[string]string{}, nil); st != http.StatusOK {
		t.Fatalf("reminders: status %d", st)
	}
	leader := "8100000000000000003"
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		msgs := r.web.fake.MessagesTo(leader)
		if len(msgs) > 0 {
			break
		}
		// Until the sender reads the demo clock, a reminder made at night
		// (real time) waits in the delivery log for the morning.
		if d, err := r.db.FindDelivery(context.Background(), "reminder:"+c.Key+":"+personID(t, r, leader)+":7"); err == nil && d.State == store.StateHeld {
			t.Logf("the reminder is held for the night by the sender's real clock")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	msgs := waitChat(t, r.url, "leader", func(m web.Message) bool { return m.Kind == "list" && len(m.Buttons) > 0 })
	if len(msgs) == 0 {
		t.Fatal("no reminder in the leader's chat")
	}
	if st := call(t, http.MethodPost, r.url+"/sim/api/clock", "", map[string]string{"to": "now"}, &c); st != http.StatusOK || c.Shifted {
		t.Errorf("back to now: status %d, shifted %v", st, c.Shifted)
	}
	if st := call(t, http.MethodPost, r.url+"/sim/api/clock", "", map[string]string{"to": "later"}, nil); st != http.StatusBadRequest {
		t.Errorf("bad jump: status %d, want 400", st)
	}
}

func personID(t *testing.T, r *webServer, zaloID string) string {
	t.Helper()
	p, _, err := r.db.PersonByZalo(context.Background(), zaloID)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(p.ID, 10)
}

// TestDemoDataOnlyWhereAsked checks that the demo dataset goes into the
// embedded database with the simulator, into Postgres only with DEMO=true
// (SIMULATOR=true on an empty Postgres without it: see
// TestSimulatorRefusedOnRealDatabase).
func TestDemoDataOnlyWhereAsked(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(t *testing.T) Config
		wc   WebConfig
		want bool
	}{
		{"embedded with the simulator", embeddedConfig, WebConfig{}, true},
		{"embedded without the simulator", embeddedConfig, WebConfig{Simulator: "false"}, false},
		{"postgres with DEMO", postgresConfig, WebConfig{Simulator: "true", Demo: true}, true},
		{"postgres with DEMO, no simulator", postgresConfig, WebConfig{Demo: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startWeb(t, tt.cfg(t), tt.wc)
			got, err := r.db.HasDemo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("demo data: got %v, want %v", got, tt.want)
			}
			// The demo clock's controls come with the demo data only.
			if r.web.sim {
				st := call(t, http.MethodGet, r.url+"/sim/api/clock", "", nil, nil)
				if want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[tt.want]; st != want {
					t.Errorf("clock controls: status %d, want %d", st, want)
				}
			}
		})
	}
}

// postgresConfig is the embedded configuration on the test Postgres and
// Redis.
func postgresConfig(t *testing.T) Config {
	cfg := embeddedConfig(t)
	rdb, prefix := storetest.Redis(t)
	opt := rdb.Options()
	cfg.DatabaseURL = storetest.PostgresURL(t)
	cfg.RedisURL = "redis://" + opt.Addr
	cfg.RedisPrefix = prefix
	return cfg
}

// TestDashboardWiredWithExport signs in with the generated admin token and
// downloads the quarterly report from the API.
func TestDashboardWiredWithExport(t *testing.T) {
	r := startWeb(t, embeddedConfig(t), WebConfig{})
	token := r.web.generatedToken
	if st := call(t, http.MethodGet, r.url+"/admin/api/progress", "", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("progress without a token: status %d, want 401", st)
	}
	var pr struct {
		Province struct{ Households, Guided int }
	}
	if st := call(t, http.MethodGet, r.url+"/admin/api/progress", token, nil, &pr); st != http.StatusOK || pr.Province.Households == 0 {
		t.Fatalf("progress: status %d, %+v", st, pr)
	}
	for _, format := range []string{"xlsx", "csv"} {
		req, _ := http.NewRequest(http.MethodGet, r.url+"/admin/api/report?format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) < 100 || !strings.Contains(resp.Header.Get("Content-Disposition"), "."+format) {
			t.Errorf("report %s: status %d, %d bytes, %q", format, resp.StatusCode, len(b), resp.Header.Get("Content-Disposition"))
		}
	}
}
