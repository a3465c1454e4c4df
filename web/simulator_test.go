package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/locales"
)

const (
	simApp    = "4400112233"
	simSecret = "oa-secret-sim"
	simOA     = "1646843870823903717"
)

// testClock is a Clock whose offset the test reads back.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}
func (c *testClock) SetOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// webhookRecorder is the server's webhook as the simulator sees it: it
// verifies the signature the way bot.Webhook does and keeps the events.
type webhookRecorder struct {
	mu     sync.Mutex
	events []map[string]any
	status int
}

func (w *webhookRecorder) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(rw, "bad json", http.StatusBadRequest)
		return
	}
	ts, _ := ev["timestamp"].(string)
	if !bot.Verify(simApp, simSecret, body, ts, r.Header.Get(bot.SignatureHeader)) {
		http.Error(rw, "bad signature", http.StatusUnauthorized)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, ev)
	if w.status != 0 {
		rw.WriteHeader(w.status)
	}
}

func (w *webhookRecorder) last(t *testing.T) map[string]any {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.events) == 0 {
		t.Fatal("no event reached the webhook")
	}
	return w.events[len(w.events)-1]
}

func (w *webhookRecorder) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

type simFixture struct {
	sim   *Simulator
	hook  *webhookRecorder
	clock *testClock
	srv   *httptest.Server
	ran   []time.Time
}

func newSimFixture(t *testing.T) *simFixture {
	t.Helper()
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &simFixture{hook: &webhookRecorder{}, clock: &testClock{}}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.POST(bot.WebhookPath, gin.WrapH(f.hook))
	f.srv = httptest.NewServer(r)
	t.Cleanup(f.srv.Close)
	f.sim, err = NewSimulator(SimConfig{
		AppID: simApp, SecretKey: simSecret, OAID: simOA, Texts: texts, Location: vietnam(t), Clock: f.clock,
		Personas: []Persona{
			{Key: "resident", Name: "Trần Thị Lan", Role: "web.sim.role.resident", ZaloUserID: "8100000000000000001",
				Phone: "+84912000001", Address: "Ấp Cây Trâm", City: "Cà Mau"},
			{Key: "member", Name: "Lê Văn Hùng", Role: "web.sim.role.member", ZaloUserID: "8100000000000000002", Phone: "+84900001002"},
			{Key: "group", Name: "Tổ CNSCĐ Ấp Cây Trâm", Role: "web.sim.role.group", GroupID: "8200000000000000001", Speakers: []string{"member"}},
		},
		Schedule: func(context.Context) (calendar.Schedule, error) { return calendar.Plan220(), nil },
		RunReminders: func(_ context.Context, now time.Time) error {
			f.ran = append(f.ran, now)
			return nil
		},
		Names: func(_ context.Context, id string) string {
			if id == "8100000000000000121" {
				return "Huỳnh Văn Tài"
			}
			return ""
		},
		WebhookURL: f.srv.URL + bot.WebhookPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Register(r)
	RegisterStatic(r)
	return f
}

func (f *simFixture) post(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestNewSimulatorChecksPersonas(t *testing.T) {
	texts, _ := locales.New()
	base := SimConfig{AppID: simApp, SecretKey: simSecret, OAID: simOA, Texts: texts, Location: vietnam(t), Clock: &testClock{}}
	bad := [][]Persona{
		{{Key: "", ZaloUserID: "1"}},
		{{Key: "x"}},
		{{Key: "x", ZaloUserID: "1", GroupID: "2"}},
		{{Key: "others", ZaloUserID: "1"}},
		{{Key: "g", GroupID: "2", Speakers: []string{"nobody"}}},
	}
	for _, ps := range bad {
		cfg := base
		cfg.Personas = ps
		if _, err := NewSimulator(cfg); err == nil {
			t.Errorf("personas %+v: no error", ps)
		}
	}
	cfg := base
	cfg.AppID = ""
	if _, err := NewSimulator(cfg); err == nil {
		t.Error("no app id: no error")
	}
}

func TestSimulatorEventsAreZaloShaped(t *testing.T) {
	f := newSimFixture(t)

	// The first open of a person's chat follows the OA, once.
	if st, out := f.post(t, "/sim/api/open", `{"persona":"resident"}`); st != 200 || out["followed"] != true {
		t.Fatalf("open: %d %v", st, out)
	}
	ev := f.hook.last(t)
	if ev["event_name"] != "follow" || ev["app_id"] != simApp || ev["oa_id"] != simOA ||
		ev["follower"].(map[string]any)["id"] != "8100000000000000001" {
		t.Errorf("follow: got %v", ev)
	}
	f.post(t, "/sim/api/open", `{"persona":"resident"}`)
	if n := f.hook.count(); n != 1 {
		t.Errorf("opened twice: %d events, want 1", n)
	}

	// A tapped button sends its payload as text; the bubble shows its title.
	if st, _ := f.post(t, "/sim/api/send", `{"persona":"resident","text":"#vneid","label":"VNeID"}`); st != 200 {
		t.Fatalf("send: %d", st)
	}
	ev = f.hook.last(t)
	msg := ev["message"].(map[string]any)
	if ev["event_name"] != "user_send_text" || ev["sender"].(map[string]any)["id"] != "8100000000000000001" ||
		ev["recipient"].(map[string]any)["id"] != simOA || msg["text"] != "#vneid" || len(msg["msg_id"].(string)) != 20 {
		t.Errorf("user_send_text: got %v", ev)
	}
	if _, ok := ev["timestamp"].(string); !ok {
		t.Errorf("timestamp is not a string: %v", ev["timestamp"])
	}
	chat := f.sim.Messages("resident")
	if len(chat) != 1 || chat[0].Text != "VNeID" || chat[0].From != "resident" {
		t.Errorf("resident's chat: got %+v", chat)
	}

	// The form's "share" answers with the persona's name and phone.
	f.post(t, "/sim/api/share", `{"persona":"resident"}`)
	ev = f.hook.last(t)
	info := ev["info"].(map[string]any)
	if ev["event_name"] != "user_submit_info" || info["name"] != "Trần Thị Lan" || info["phone"] != "84912000001" || info["address"] != "Ấp Cây Trâm" {
		t.Errorf("user_submit_info: got %v", ev)
	}
	if st, _ := f.post(t, "/sim/api/share", `{"persona":"group"}`); st != 400 {
		t.Errorf("a group sharing: %d, want 400", st)
	}

	// In the group the chosen speaker writes; the recipient is the group.
	f.post(t, "/sim/api/send", `{"persona":"group","text":"#tiendo","speaker":"member"}`)
	ev = f.hook.last(t)
	if ev["event_name"] != "user_send_group_text" || ev["sender"].(map[string]any)["id"] != "8100000000000000002" ||
		ev["recipient"].(map[string]any)["id"] != "8200000000000000001" {
		t.Errorf("user_send_group_text: got %v", ev)
	}
	for body, want := range map[string]int{
		`{"persona":"group","text":"x","speaker":"resident"}`:               400,
		`{"persona":"resident","text":"   "}`:                               400,
		`{"persona":"resident","text":"` + strings.Repeat("a", 2001) + `"}`: 400,
		`{"persona":"ghost","text":"x"}`:                                    404,
		`not json`:                                                          400,
	} {
		if st, _ := f.post(t, "/sim/api/send", body); st != want {
			t.Errorf("send %.40s: %d, want %d", body, st, want)
		}
	}

	// A webhook that refuses the event: the page hears of it, and so does the chat.
	f.hook.mu.Lock()
	f.hook.status = http.StatusServiceUnavailable
	f.hook.mu.Unlock()
	if st, _ := f.post(t, "/sim/api/send", `{"persona":"member","text":"menu"}`); st != http.StatusBadGateway {
		t.Errorf("refused event: %d, want 502", st)
	}
	chat = f.sim.Messages("member")
	if len(chat) != 2 || chat[1].Kind != "notice" {
		t.Errorf("member's chat after a refusal: got %+v", chat)
	}
}

func TestSimulatorCaptureAndLongPoll(t *testing.T) {
	f := newSimFixture(t)
	resp, err := http.Get(f.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="persona-resident"`, `id="persona-group"`, `id="speaker-group"`, "Trần Thị Lan", "Dữ liệu mẫu", `/static/sim.js`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page: want %q", want)
		}
	}

	got := make(chan []Message, 1)
	go func() {
		resp, err := http.Get(f.srv.URL + "/sim/api/messages?wait=1&after=0")
		if err != nil {
			got <- nil
			return
		}
		defer resp.Body.Close()
		var out struct{ Messages []Message }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		got <- out.Messages
	}()
	time.Sleep(100 * time.Millisecond)
	f.sim.Capture(Reply{UserID: "8100000000000000001", Kind: "list", Text: "Bạn cần giúp gì?",
		Buttons: []ReplyButton{{Title: "VNeID", Payload: "#vneid"}}})
	select {
	case ms := <-got:
		if len(ms) != 1 || ms[0].Chat != "resident" || ms[0].From != "bot" || ms[0].Buttons[0].Payload != "#vneid" {
			t.Errorf("long poll: got %+v", ms)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll did not answer when a reply came")
	}

	// Replies to the group, and to people who are no persona.
	f.sim.Capture(Reply{GroupID: "8200000000000000001", Kind: "text", Text: "Tiến độ"})
	f.sim.Capture(Reply{UserID: "8100000000000000121", Kind: "list", Text: "Còn 7 ngày"})
	if g := f.sim.Messages("group"); len(g) != 1 || g[0].Text != "Tiến độ" {
		t.Errorf("group chat: got %+v", g)
	}
	if o := f.sim.Messages(othersChat); len(o) != 1 || o[0].Name != "Huỳnh Văn Tài" || o[0].To != "8100000000000000121" {
		t.Errorf("others: got %+v", o)
	}

	// Shutdown ends a waiting poll at once.
	done := make(chan struct{})
	go func() {
		resp, err := http.Get(f.srv.URL + "/sim/api/messages?wait=1&after=99")
		if err == nil {
			resp.Body.Close()
		}
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	f.sim.Shutdown()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown did not end the long poll")
	}
}

func TestSimulatorClock(t *testing.T) {
	f := newSimFixture(t)
	loc := vietnam(t)
	st, out := f.post(t, "/sim/api/clock", `{"to":"7d"}`)
	if st != 200 || out["shifted"] != true {
		t.Fatalf("jump 7d: %d %v", st, out)
	}
	seven, err := time.ParseInLocation("02/01/2006 15:04", out["seven"].(string), loc)
	if err != nil {
		t.Fatal(err)
	}
	key := out["key"].(string)
	q, from, to, err := calendar.ParseKey(key)
	if err != nil || from != calendar.LevelTeam || to != calendar.LevelCommune {
		t.Fatalf("deadline %q: %v", key, err)
	}
	d, _ := calendar.Plan220().Deadline(key, loc)
	if want := d.Before.AddDate(0, 0, -7).Add(8*time.Hour + time.Minute); !seven.Equal(want) {
		t.Errorf("7 days before %s: got %v, want %v", q, seven, want)
	}
	if now := f.clock.Now(); now.Sub(seven).Abs() > 5*time.Second {
		t.Errorf("the clock reads %v, want %v", now, seven)
	}
	if !seven.After(time.Now()) {
		t.Errorf("the jump goes back in time: %v", seven)
	}

	f.post(t, "/sim/api/clock", `{"to":"1d"}`)
	if want := d.Before.AddDate(0, 0, -1).Add(8*time.Hour + time.Minute); f.clock.Now().Sub(want).Abs() > 5*time.Second {
		t.Errorf("1 day before: the clock reads %v, want %v", f.clock.Now(), want)
	}
	// The reminder pass runs as of the demo clock.
	if st, _ := f.post(t, "/sim/api/reminders", `{}`); st != 200 || len(f.ran) != 1 || f.ran[0].Sub(f.clock.Now()).Abs() > 5*time.Second {
		t.Errorf("reminders: %d, ran at %v", st, f.ran)
	}
	if st, out := f.post(t, "/sim/api/clock", `{"to":"now"}`); st != 200 || out["shifted"] != false {
		t.Errorf("back to now: %d %v", st, out)
	}
	if st, _ := f.post(t, "/sim/api/clock", `{"to":"yesterday"}`); st != 400 {
		t.Errorf("bad jump: %d, want 400", st)
	}
	// State changes need JSON: a cross-site form cannot make them.
	resp, err := http.Post(f.srv.URL+"/sim/api/reminders", "text/plain", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d, want 415", resp.StatusCode)
	}
}

func TestDisplayPhoneAndInitials(t *testing.T) {
	for in, want := range map[string]string{"+84912000001": "0912 000 001", "+8412": "+8412", "": ""} {
		if got := displayPhone(in); got != want {
			t.Errorf("displayPhone(%q): got %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"Trần Thị Lan": "TL", "Lan": "L", "": "?", "Tổ CNSCĐ Ấp Cây Trâm": "TT"} {
		if got := initials(in); got != want {
			t.Errorf("initials(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestSimulatorWithoutClock(t *testing.T) {
	texts, _ := locales.New()
	sim, err := NewSimulator(SimConfig{AppID: simApp, SecretKey: simSecret, OAID: simOA, Texts: texts, Location: vietnam(t),
		Personas: []Persona{{Key: "resident", Name: "Lan", ZaloUserID: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	sim.Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/sim/api/clock", "/sim/api/reminders"} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{"to":"7d"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without a clock: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), "clock-panel") {
		t.Error("the page shows the clock's controls without a clock")
	}
}
