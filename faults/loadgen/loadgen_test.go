package loadgen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

const (
	testApp    = "4400112233"
	testSecret = "loadgen-test-secret"
)

// fakeService is a webhook that behaves like cnsbot seen from outside: it
// verifies, de-duplicates by msg_id, answers, and "replies" to the
// recorder: a welcome to a new user, then one message per event that
// depends on the text. It refuses the first refuse requests with 503, and
// can be told to misbehave.
type fakeService struct {
	rec    *Recorder
	refuse atomic.Int64

	mu       sync.Mutex
	seen     map[string]bool
	users    map[string]int
	mutate   func(user string, n int, out []zalotest.Sent) []zalotest.Sent
	requests int
}

func newFakeService(rec *Recorder) *fakeService {
	return &fakeService{rec: rec, seen: map[string]bool{}, users: map[string]int{}}
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests++
	f.mu.Unlock()
	if f.refuse.Add(-1) >= 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev zaloevent.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.Message == nil || ev.Sender == nil ||
		!bot.Verify(testApp, testSecret, body, ev.Timestamp, r.Header.Get(bot.SignatureHeader)) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	if f.seen[ev.Message.MsgID] {
		return
	}
	f.seen[ev.Message.MsgID] = true
	user := ev.Sender.ID
	var out []zalotest.Sent
	if f.users[user] == 0 {
		out = append(out, zalotest.Sent{UserID: user, Kind: zalotest.KindText, Text: "Xin chào"})
	}
	out = append(out, zalotest.Sent{UserID: user, Kind: zalotest.KindList, Text: "answer to " + ev.Message.Text,
		Buttons: []zalotest.Button{{Payload: "#menu"}}})
	f.users[user]++
	if f.mutate != nil {
		out = f.mutate(user, f.users[user], out)
	}
	for _, m := range out {
		f.rec.Record(m)
	}
}

func newTestGen(t *testing.T, url string, users int) *Generator {
	t.Helper()
	g, err := New(Config{Targets: []string{url}, AppID: testApp, SecretKey: testSecret, Users: users, Rate: 400,
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, Redeliver: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// learned starts a fake service and a generator of users users that has
// learned its transcript.
func learned(t *testing.T, users int) (*Recorder, *fakeService, *Generator, Transcript) {
	t.Helper()
	rec := NewRecorder()
	svc := newFakeService(rec)
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	g := newTestGen(t, srv.URL, users)
	tr, err := g.Learn(context.Background(), rec, 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return rec, svc, g, tr
}

// TestGeneratorResendsUntilAcknowledged: refused requests are re-sent with
// the same msg_id and count as one event.
func TestGeneratorResendsUntilAcknowledged(t *testing.T) {
	rec, svc, g, tr := learned(t, 20)
	ctx := context.Background()
	svc.refuse.Store(50)
	g.Start(ctx)
	time.Sleep(300 * time.Millisecond)
	st := g.Stop()
	if short := g.WaitAnswered(ctx, tr, rec, 2*time.Second); short != 0 {
		t.Fatalf("%d users short of answers", short)
	}
	v := g.Check(tr, rec, nil)
	if !v.OK() {
		t.Fatalf("verdict %s; examples %v", v, v.Examples)
	}
	if st.Events == 0 || st.Acked != st.Events || st.Status["503"] < 40 || st.Resent < 40 {
		t.Fatalf("stats %+v: want every event acknowledged after about 50 refusals re-sent", st)
	}
	if v.Events != st.Events {
		t.Errorf("verdict counts %d events, generator %d", v.Events, st.Events)
	}
}

func TestCheckFindsEachProblem(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(user string, n int, out []zalotest.Sent) []zalotest.Sent
		want   func(v Verdict) bool
	}{
		{"nothing wrong", nil, func(v Verdict) bool { return v.OK() && v.OKInAnyOrder() }},
		{"an answer lost", func(_ string, n int, out []zalotest.Sent) []zalotest.Sent {
			if n == 2 {
				return nil
			}
			return out
		}, func(v Verdict) bool {
			return v.LostMessages > 0 && v.Answered < v.Events && !v.OK() && !v.OKInAnyOrder()
		}},
		{"an answer sent twice", func(_ string, n int, out []zalotest.Sent) []zalotest.Sent {
			if n == 2 {
				return append(out, out...)
			}
			return out
		}, func(v Verdict) bool { return v.DuplicateMessages > 0 && !v.OK() && !v.OKInAnyOrder() }},
		{"conversation reset", func(user string, n int, out []zalotest.Sent) []zalotest.Sent {
			if n == 3 {
				return append([]zalotest.Sent{{UserID: user, Kind: zalotest.KindText, Text: "Xin chào"}}, out...)
			}
			return out
		}, func(v Verdict) bool { return v.Resets > 0 && !v.OK() && !v.OKInAnyOrder() }},
		{"answers swapped", func(user string, n int, out []zalotest.Sent) []zalotest.Sent {
			// The second and third answers arrive swapped.
			text := map[int]string{2: "answer to menu", 3: "answer to giúp"}[n]
			if text == "" {
				return out
			}
			return []zalotest.Sent{{UserID: user, Kind: zalotest.KindList, Text: text, Buttons: []zalotest.Button{{Payload: "#menu"}}}}
			// Every answer came, once: OK in any order (held replies).
		}, func(v Verdict) bool { return v.Reordered > 0 && !v.OK() && v.OKInAnyOrder() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, svc, g, tr := learned(t, 5)
			ctx := context.Background()
			svc.mu.Lock()
			svc.mutate = tt.mutate
			svc.mu.Unlock()
			g.Start(ctx)
			time.Sleep(150 * time.Millisecond)
			g.Stop()
			g.WaitAnswered(ctx, tr, rec, 200*time.Millisecond)
			if v := g.Check(tr, rec, nil); !tt.want(v) {
				t.Errorf("verdict %s does not show the problem; examples %v", v, v.Examples)
			}
		})
	}
}

func TestLearnRefusesAmbiguousAnswers(t *testing.T) {
	rec := NewRecorder()
	svc := newFakeService(rec)
	// Every event is answered alike: order could not be checked.
	svc.mutate = func(user string, n int, out []zalotest.Sent) []zalotest.Sent {
		for i := range out {
			if out[i].Kind == zalotest.KindList {
				out[i].Text = "same"
			}
		}
		return out
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	g := newTestGen(t, srv.URL, 1)
	if _, err := g.Learn(context.Background(), rec, 30*time.Millisecond); err == nil {
		t.Fatal("Learn accepted answers that do not depend on the event")
	}
}

func TestCheckCountsChangedAnswers(t *testing.T) {
	rec, svc, g, tr := learned(t, 5)
	ctx := context.Background()
	// The third answer of each user comes with other buttons, as a menu
	// does while the database is down.
	svc.mu.Lock()
	svc.mutate = func(_ string, n int, out []zalotest.Sent) []zalotest.Sent {
		if n == 3 {
			out[len(out)-1].Buttons = []zalotest.Button{{Payload: "#en"}}
		}
		return out
	}
	svc.mu.Unlock()
	g.Start(ctx)
	time.Sleep(150 * time.Millisecond)
	g.Stop()
	g.WaitAnswered(ctx, tr, rec, 200*time.Millisecond)
	v := g.Check(tr, rec, nil)
	if !v.OK() || v.Changed == 0 || v.LostMessages != 0 || v.DuplicateMessages != 0 {
		t.Errorf("verdict %s: want changed answers counted, nothing lost or duplicated", v)
	}
}

// TestCrashResends checks which second copies count as re-sent across a
// kill: only those whose first copy Zalo accepted just before it.
func TestCrashResends(t *testing.T) {
	kill := time.Now()
	at := func(m Msg, d time.Duration) Msg { m.Time = kill.Add(d); return m }
	a := at(Msg{Kind: zalotest.KindText, Text: "a"}, -20*time.Millisecond)
	b := at(Msg{Kind: zalotest.KindList, Text: "b", Buttons: "#menu"}, -5*time.Millisecond)
	c := at(Msg{Kind: zalotest.KindText, Text: "c"}, 2*time.Second)
	again := at(b, time.Second)

	g := &Generator{}
	if _, n := g.CrashResends([]Msg{a, b, again, c}); n != 0 {
		t.Errorf("no kill noted: %d re-sent, want 0", n)
	}
	g.Killed(kill)
	got, n := g.CrashResends([]Msg{a, b, again, c})
	if n != 1 || !sameKeys(got, []Msg{a, b, c}) {
		t.Errorf("copy across the kill: %d re-sent, left %v; want 1 and a, b, c", n, got)
	}
	long := at(b, -time.Second)
	if _, n := g.CrashResends([]Msg{a, long, again, c}); n != 0 {
		t.Errorf("first copy %v before the kill: %d re-sent, want 0 (a duplicate)", time.Second, n)
	}
	before := at(b, -time.Millisecond)
	if _, n := g.CrashResends([]Msg{a, b, before, c}); n != 0 {
		t.Errorf("both copies before the kill: %d re-sent, want 0 (a duplicate)", n)
	}
	// The dead process's last request, handled by the fake just after the
	// kill was noted, and sent again by the partition's next owner.
	inFlight := at(b, 30*time.Millisecond)
	if got, n := g.CrashResends([]Msg{a, inFlight, again, c}); n != 1 || !sameKeys(got, []Msg{a, inFlight, c}) {
		t.Errorf("first copy in flight at the kill: %d re-sent, left %v; want 1", n, got)
	}
	late := at(b, InFlightGrace+time.Millisecond)
	if _, n := g.CrashResends([]Msg{a, late, again, c}); n != 0 {
		t.Errorf("first copy %v after the kill: %d re-sent, want 0 (a duplicate)", InFlightGrace+time.Millisecond, n)
	}
	// The same menu again later, as the answer to another event: one
	// first copy excuses one re-send, not every later copy (the fault
	// suite's cnsbot-sigkill once counted a user's answers as duplicated
	// because the in-flight menu excused both).
	menuAgain := at(b, 2*time.Second+time.Millisecond)
	if got, n := g.CrashResends([]Msg{a, inFlight, again, c, menuAgain}); n != 1 || !sameKeys(got, []Msg{a, inFlight, c, menuAgain}) {
		t.Errorf("a re-send then the same menu answering a later event: %d re-sent, left %v; want 1 and the later menu kept", n, got)
	}
	soon := at(b, 40*time.Millisecond)
	if _, n := g.CrashResends([]Msg{a, inFlight, soon, c}); n != 0 {
		t.Errorf("two copies 10 ms apart just after the kill: %d re-sent, want 0 (no next owner is that quick)", n)
	}
}
