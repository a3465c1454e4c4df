// Package loadgen drives cnsbot's webhook the way Zalo does, for the fault
// suite and the soak run: signed user_send_text events from a fixed set of
// returning users at a steady rate, each user's events strictly one after
// the other, and every event re-sent with the same body (same msg_id, same
// timestamp, same signature) until it is acknowledged with 200. An event
// re-sent after a 503 or a refused connection is still one event.
//
// It is a library rather than a mode of cmd/cnsbot-load because a fault
// test needs what a command cannot give it: the fake Zalo in the test's own
// process (so that the test can make it answer -32, 5xx or nothing, and
// expire its token), the generator's state between the fault and the
// check, and re-sending until acknowledged, which the load-test command
// deliberately does not do (it measures, and counts a 503 as an answer).
//
// What the fake received is checked against a Transcript: the messages the
// service answers each event of a user's sequence with, learned from one
// user before the load. A user's messages must be exactly the transcript of
// the events it sent, in order: that one comparison shows lost answers,
// duplicates, answers out of order, and conversations that started over
// (the welcome of a new user appearing again).
package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// Config says what load to put on the service.
type Config struct {
	// Targets are webhook URLs; successive requests alternate between them,
	// as a round-robin front of several replicas would.
	Targets []string
	// AppID and SecretKey sign the events (the OA secret key).
	AppID, SecretKey string
	// Users is how many returning users write; each sends its events one
	// after the other, the next only once the previous was acknowledged.
	Users int
	// Rate is how many new events per second are started.
	Rate float64
	// Pattern are the texts of a user's events: the i-th says
	// Pattern[i%len(Pattern)]. Default {"menu", "giúp"}.
	Pattern []string
	// Redeliver is the fraction of acknowledged events sent once more,
	// as Zalo does when it misses an answer.
	Redeliver float64
	// Timeout bounds one request (default 5 s).
	Timeout time.Duration
	// RetryMin and RetryMax bound the wait between re-sends of an event
	// that was not acknowledged (defaults 100 ms and 1 s).
	RetryMin, RetryMax time.Duration
	// GiveUp is how long an event is re-sent before the generator gives it
	// up (default 2 minutes); a user with an event given up sends no more.
	GiveUp time.Duration
	// UserBase is the first user id; 0 draws a random range, so that runs
	// against one Redis never share a user.
	UserBase uint64
	// Client sends the requests; nil builds one from Timeout.
	Client *http.Client
}

func (c *Config) fill() error {
	if len(c.Targets) == 0 {
		return errors.New("loadgen: no target")
	}
	if c.AppID == "" || c.SecretKey == "" {
		return errors.New("loadgen: app id and secret key are required")
	}
	if c.Users < 1 {
		return errors.New("loadgen: at least one user")
	}
	if c.Rate <= 0 {
		return errors.New("loadgen: rate must be positive")
	}
	if len(c.Pattern) == 0 {
		c.Pattern = []string{"menu", "giúp"}
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 100 * time.Millisecond
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(time.Second, c.RetryMin)
	}
	if c.GiveUp <= 0 {
		c.GiveUp = 2 * time.Minute
	}
	if c.UserBase == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("loadgen: random user range: %w", err)
		}
		// Zalo user ids are 18-19 digit decimal strings.
		c.UserBase = 6_000_000_000_000_000_000 + binary.LittleEndian.Uint64(b[:])%1_000_000_000_000_000_000
	}
	if c.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 128
		tr.DisableCompression = true
		c.Client = &http.Client{Transport: tr, Timeout: c.Timeout}
	}
	return nil
}

// Stats is what the generator did.
type Stats struct {
	// Events counts distinct events started; Acked those answered 200;
	// GaveUp those re-sent for Config.GiveUp without a 200.
	Events, Acked, GaveUp int
	// Posts counts every request; Resent the re-sends after an answer
	// other than 200; Redelivered the extra copies of acknowledged events.
	Posts, Resent, Redelivered int
	// Status counts answers by HTTP status, "error" for no answer.
	Status map[string]int
	// AckP50 and AckP99 are over the requests answered 200.
	AckP50, AckP99 time.Duration
	// LongestUnacked is the longest time from an event's first send to
	// its 200: how long the service made Zalo wait.
	LongestUnacked time.Duration
	// Stalled counts ticks at which every user was still waiting for an
	// answer, so that no new event could start.
	Stalled int
	// Seconds is how long events were started for.
	Seconds float64
}

// event is one event of a user and what happened to it.
type event struct {
	msgID    string
	text     string
	first    time.Time
	acked    bool
	gaveUp   bool
	attempts int
}

// user is one returning user's state.
type user struct {
	id     string
	busy   bool
	retire bool
	events []*event
}

// Generator puts load on the service. Start it, inject faults, Stop it,
// then Check what the fake received.
type Generator struct {
	cfg   Config
	runID string
	oa    zaloevent.OA
	next  atomic.Uint64 // target round robin

	mu       sync.Mutex
	users    []*user
	cursor   int
	status   map[string]int
	acks     []time.Duration
	posts    int
	resent   int
	redeliv  int
	stalled  int
	longest  time.Duration
	started  time.Time
	stoppedT time.Time
	rng      *mrand.Rand
	kills    []time.Time // see Killed

	stop    chan struct{}
	stopped chan struct{}
	wg      sync.WaitGroup
}

// New returns a Generator; it sends nothing until Start.
func New(cfg Config) (*Generator, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("loadgen: run id: %w", err)
	}
	g := &Generator{
		cfg:    cfg,
		runID:  hex.EncodeToString(b[:5]),
		oa:     zaloevent.OA{AppID: cfg.AppID, OAID: zalotest.DefaultOAID, SecretKey: cfg.SecretKey},
		status: map[string]int{},
		rng:    mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(b[:]), 7)),
	}
	g.users = make([]*user, cfg.Users)
	for i := range g.users {
		g.users[i] = &user{id: strconv.FormatUint(cfg.UserBase+1+uint64(i), 10)}
	}
	return g, nil
}

// WarmUser is the id of the user Learn writes as: outside the load's users.
func (g *Generator) WarmUser() string { return strconv.FormatUint(g.cfg.UserBase, 10) }

// Users returns the ids of the load's users.
func (g *Generator) Users() []string {
	out := make([]string, len(g.users))
	for i, u := range g.users {
		out[i] = u.id
	}
	return out
}

// Start begins sending events at the configured rate until Stop or ctx ends.
func (g *Generator) Start(ctx context.Context) {
	g.stop = make(chan struct{})
	g.stopped = make(chan struct{})
	g.mu.Lock()
	g.started = time.Now()
	g.mu.Unlock()
	go g.schedule(ctx)
}

// Stop stops starting new events, waits until every event in flight is
// acknowledged or given up, and returns the statistics.
func (g *Generator) Stop() Stats {
	close(g.stop)
	<-g.stopped
	g.wg.Wait()
	return g.Stats()
}

func (g *Generator) schedule(ctx context.Context) {
	defer close(g.stopped)
	interval := time.Duration(float64(time.Second) / g.cfg.Rate)
	next := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			g.mu.Lock()
			g.stoppedT = time.Now()
			g.mu.Unlock()
			return
		case <-ctx.Done():
			g.mu.Lock()
			g.stoppedT = time.Now()
			g.mu.Unlock()
			return
		case <-t.C:
		}
		next = next.Add(interval)
		if now := time.Now(); now.Sub(next) > time.Second {
			// Far behind (the machine stalled): do not burst to catch up.
			next = now
		}
		t.Reset(time.Until(next))
		u, i := g.pick()
		if u == nil {
			continue
		}
		g.wg.Go(func() { g.run(ctx, u, i) })
	}
}

// pick takes the next idle user round robin and books its next event.
func (g *Generator) pick() (*user, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for range g.users {
		u := g.users[g.cursor]
		g.cursor = (g.cursor + 1) % len(g.users)
		if u.busy || u.retire {
			continue
		}
		u.busy = true
		i := len(u.events)
		u.events = append(u.events, &event{
			msgID: g.runID + fmt.Sprintf("%s%06x", u.id[len(u.id)-6:], i),
			text:  g.cfg.Pattern[i%len(g.cfg.Pattern)],
		})
		return u, i
	}
	g.stalled++
	return nil, 0
}

// run sends one event until it is acknowledged (or given up), then maybe
// delivers it once more, as Zalo does.
func (g *Generator) run(ctx context.Context, u *user, i int) {
	g.mu.Lock()
	ev := u.events[i]
	g.mu.Unlock()
	acked, gaveUp := g.deliver(ctx, u.id, ev)
	g.mu.Lock()
	ev.acked, ev.gaveUp = acked, gaveUp
	u.busy = false
	u.retire = gaveUp
	again := acked && g.cfg.Redeliver > 0 && g.rng.Float64() < g.cfg.Redeliver
	g.mu.Unlock()
	if again {
		body, sig := g.oa.Sign(g.oa.Text(u.id, ev.msgID, ev.text, ev.first))
		status, _ := g.post(ctx, body, sig)
		g.mu.Lock()
		g.redeliv++
		g.countLocked(status, 0)
		g.mu.Unlock()
	}
}

// deliver posts ev until a 200, re-sending the very same request like Zalo.
func (g *Generator) deliver(ctx context.Context, userID string, ev *event) (acked, gaveUp bool) {
	g.mu.Lock()
	ev.first = time.Now()
	g.mu.Unlock()
	body, sig := g.oa.Sign(g.oa.Text(userID, ev.msgID, ev.text, ev.first))
	wait := g.cfg.RetryMin
	for attempt := 0; ; attempt++ {
		status, took := g.post(ctx, body, sig)
		g.mu.Lock()
		ev.attempts++
		if attempt > 0 {
			g.resent++
		}
		g.countLocked(status, took)
		if status == http.StatusOK {
			g.longest = max(g.longest, time.Since(ev.first))
			g.mu.Unlock()
			return true, false
		}
		g.mu.Unlock()
		if time.Since(ev.first) > g.cfg.GiveUp || ctx.Err() != nil {
			return false, true
		}
		// Jitter keeps the re-sends of many events from arriving in step.
		d := wait/2 + time.Duration(g.jitter(int64(wait)))
		if !sleep(ctx, d) {
			return false, true
		}
		wait = min(2*wait, g.cfg.RetryMax)
	}
}

func (g *Generator) jitter(n int64) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.Int64N(max(n, 1))
}

func (g *Generator) countLocked(status int, took time.Duration) {
	g.posts++
	key := "error"
	if status != 0 {
		key = strconv.Itoa(status)
	}
	g.status[key]++
	if status == http.StatusOK && took > 0 {
		g.acks = append(g.acks, took)
	}
}

// post sends one signed body to the next target. No answer is status 0.
func (g *Generator) post(ctx context.Context, body []byte, sig string) (int, time.Duration) {
	target := g.cfg.Targets[int(g.next.Add(1)%uint64(len(g.cfg.Targets)))]
	return Post(ctx, g.cfg.Client, target, body, sig)
}

// Post sends one signed webhook body (mac is the signature header's value,
// as zaloevent.OA.Sign returns it) and returns the status (0 when no
// answer came) and how long it took.
func Post(ctx context.Context, hc *http.Client, url string, body []byte, mac string) (int, time.Duration) {
	req, err := zaloevent.NewRequest(ctx, url, body, mac)
	if err != nil {
		return 0, 0
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// Stats returns the statistics so far.
func (g *Generator) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := Stats{
		Posts: g.posts, Resent: g.resent, Redelivered: g.redeliv, Stalled: g.stalled,
		Status: make(map[string]int, len(g.status)), LongestUnacked: g.longest,
	}
	for k, v := range g.status {
		s.Status[k] = v
	}
	for _, u := range g.users {
		for _, ev := range u.events {
			s.Events++
			if ev.acked {
				s.Acked++
			}
			if ev.gaveUp {
				s.GaveUp++
			}
		}
	}
	acks := slices.Clone(g.acks)
	slices.Sort(acks)
	if n := len(acks); n > 0 {
		s.AckP50 = acks[(n-1)/2]
		s.AckP99 = acks[min(n-1, (99*n+99)/100-1)]
	}
	end := g.stoppedT
	if end.IsZero() {
		end = time.Now()
	}
	if !g.started.IsZero() {
		s.Seconds = end.Sub(g.started).Seconds()
	}
	return s
}

// sent returns, per user, how many events were acknowledged in a row from
// the first and whether an event of the user was given up.
func (g *Generator) sent() map[string]userSent {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]userSent, len(g.users))
	for _, u := range g.users {
		var us userSent
		for _, ev := range u.events {
			switch {
			case ev.acked:
				us.acked++
			case ev.gaveUp:
				us.gaveUp = true
			default:
				us.inFlight = true
			}
		}
		out[u.id] = us
	}
	return out
}

type userSent struct {
	acked    int
	gaveUp   bool
	inFlight bool
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
