package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// loadConfig says what load to put on a target.
type loadConfig struct {
	Events    int           // measured events
	Senders   int           // concurrent senders
	Users     int           // distinct users; events of one user go in sequence
	Redeliver float64       // fraction of events sent a second time
	Texts     []string      // what users write: each user one, drawn at random
	TextsName string        // where Texts came from, for the report
	Duration  time.Duration // cap on the send phase
	Drain     time.Duration // how long to wait for answers after sending
	Settle    time.Duration // extra wait after the last expected answer, for duplicates
	Timeout   time.Duration // per webhook request
	AppID     string
	SecretKey string
	// Quiet is how long the warm-up waits with no new message before it
	// takes the count of one event's messages as final.
	Quiet time.Duration
	// Seed fixes which events are redelivered; 0 picks one at random.
	Seed uint64
}

func (c loadConfig) validate() error {
	switch {
	case c.Events < 1:
		return fmt.Errorf("-n must be at least 1")
	case c.Senders < 1:
		return fmt.Errorf("-c must be at least 1")
	case c.Users < 1 || c.Users > c.Events:
		return fmt.Errorf("-users must be between 1 and -n")
	case c.Redeliver < 0 || c.Redeliver > 1:
		return fmt.Errorf("-redeliver must be between 0 and 1")
	case len(c.Texts) == 0:
		return fmt.Errorf("no text to send")
	}
	for _, t := range c.Texts {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("a text to send is blank")
		}
	}
	return nil
}

// Result is what one target did under load. Durations are in milliseconds
// in JSON.
type Result struct {
	Target string `json:"target"`
	// Sent counts events sent at least once; Redelivered the second copies.
	Sent        int `json:"sent"`
	Redelivered int `json:"redelivered"`
	// Acked counts events that got a 2xx answer (to either copy).
	Acked int `json:"acked"`
	// Non2xx counts webhook answers that were not 2xx, by status ("error"
	// for a request that got no answer).
	Non2xx      map[string]int `json:"non_2xx"`
	SendSeconds float64        `json:"send_seconds"`
	AckPerSec   float64        `json:"ack_per_sec"`
	AckLatency  Latency        `json:"ack_latency"`
	// Observed is false when the target's replies do not reach the fake
	// Zalo (an external server configured elsewhere): then nothing below
	// is measured.
	Observed bool `json:"observed"`
	// MessagesFirst and MessagesAgain are how many messages one event
	// produces for a new user and for a user who wrote before, as the
	// warm-up found, averaged over the users' texts; MessagesAgain is 0
	// when every event came from a new user (not measured then).
	MessagesFirst float64 `json:"messages_first"`
	MessagesAgain float64 `json:"messages_again"`
	// SilentTexts counts texts left out because the warm-up got no answer
	// to them, so that their answers could not be counted.
	SilentTexts    int     `json:"silent_texts,omitempty"`
	Answered       int     `json:"answered"`
	AnswerSeconds  float64 `json:"answer_seconds"`
	AnsweredPerSec float64 `json:"answered_per_sec"`
	ReplyLatency   Latency `json:"reply_latency"`
	// Lost counts acknowledged events never answered.
	Lost int `json:"lost"`
	// DuplicateUsers counts users who received more messages than their
	// events can explain; DuplicateMessages the surplus messages.
	DuplicateUsers    int `json:"duplicate_users"`
	DuplicateMessages int `json:"duplicate_messages"`
	// Stray counts messages to users the run did not write as.
	Stray int `json:"stray"`
	// RedisCPUSeconds is the CPU time Redis used during the measurement
	// (warm-up to the end of the drain), when the tool can ask it.
	RedisCPUSeconds float64       `json:"redis_cpu_seconds,omitempty"`
	Process         *ProcessStats `json:"process,omitempty"`
}

// Latency is a latency distribution summary.
type Latency struct {
	P50 time.Duration `json:"-"`
	P99 time.Duration `json:"-"`
	Max time.Duration `json:"-"`
}

// MarshalJSON writes the durations as milliseconds.
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"p50_ms": ms(l.P50), "p99_ms": ms(l.P99), "max_ms": ms(l.Max)})
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// summarize returns the nearest-rank percentiles of ds (sorted in place).
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{P50: percentile(ds, 0.50), P99: percentile(ds, 0.99), Max: ds[len(ds)-1]}
}

// percentile returns the nearest-rank p-quantile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// event is one planned webhook event and what happened to it.
type event struct {
	user   int
	msgID  string
	resend bool

	body     []byte
	sig      string
	sentAt   time.Time
	acked    bool
	attempts int
}

// driver sends one run's events to one webhook URL and reads the answers
// off a recorder.
type driver struct {
	cfg   loadConfig
	url   string
	rec   *recorder
	hc    *http.Client
	runID string
	users []string // user ids by index
	// userText is the index in cfg.Texts of what each user writes.
	userText []int
	// warmIDs are the warm-up's users, one per text.
	warmIDs []string
	// counts are the messages one event of each text produces, as the
	// warm-up found.
	counts []msgCount
	events []event
	// byUser lists each user's event indexes in sending order.
	byUser [][]int
}

func newDriver(cfg loadConfig, url string, rec *recorder) (*driver, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("random run id: %w", err)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = binary.LittleEndian.Uint64(b[:])
	}
	rng := mrand.New(mrand.NewPCG(seed, 0x636e73626f74))
	d := &driver{cfg: cfg, url: url, rec: rec, runID: hex.EncodeToString(b[:6])}
	// Zalo user ids are 18-19 digit decimal strings; each run draws its own
	// range so that runs against one Redis never share a user.
	base := uint64(7_000_000_000_000_000_000) + rng.Uint64N(1_000_000_000_000_000_000)
	d.warmIDs = make([]string, len(cfg.Texts))
	for t := range d.warmIDs {
		d.warmIDs[t] = strconv.FormatUint(base+uint64(t), 10)
	}
	base += uint64(len(cfg.Texts))
	d.users = make([]string, cfg.Users)
	d.userText = make([]int, cfg.Users)
	for i := range d.users {
		d.users[i] = strconv.FormatUint(base+uint64(i), 10)
		d.userText[i] = rng.IntN(len(cfg.Texts))
	}
	d.counts = make([]msgCount, len(cfg.Texts))
	d.events = make([]event, cfg.Events)
	d.byUser = make([][]int, cfg.Users)
	for i := range d.events {
		u := i % cfg.Users
		d.events[i] = event{user: u, msgID: d.msgID(i), resend: rng.Float64() < cfg.Redeliver}
		d.byUser[u] = append(d.byUser[u], i)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2*cfg.Senders + 8
	tr.MaxIdleConnsPerHost = 2*cfg.Senders + 8
	tr.DisableCompression = true
	d.hc = &http.Client{Transport: tr, Timeout: cfg.Timeout}
	return d, nil
}

func (d *driver) msgID(i int) string { return d.runID + fmt.Sprintf("%08x", i) }

// sign builds and signs the body of a text event from user, stamped now;
// sig is the signature header's value.
func (d *driver) sign(user, msgID, text string) (body []byte, sig string) {
	oa := zaloevent.OA{AppID: d.cfg.AppID, OAID: zalotest.DefaultOAID, SecretKey: d.cfg.SecretKey}
	return oa.Sign(oa.Text(user, msgID, text, time.Now()))
}

// post sends one signed body. A request that got no answer has status 0.
func (d *driver) post(ctx context.Context, body []byte, sig string) (status int, took time.Duration) {
	req, err := zaloevent.NewRequest(ctx, d.url, body, sig)
	if err != nil {
		return 0, 0
	}
	start := time.Now()
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

func ok2xx(status int) bool { return status >= 200 && status < 300 }

// msgCount is how many messages one event of a text produces for a new
// user and for a user who wrote the same text before.
type msgCount struct{ first, again int }

// warmUps is how many texts the warm-up tries at once: enough to get
// through a corpus of hundreds in seconds, few enough that each answer
// comes well within the quiet time.
const warmUps = 32

// warmUp sends each text in use from a user outside the measured set and
// counts the messages it produced into d.counts: texts are answered
// differently, and the first event of a new user differently from a later
// one (a welcome before the menu). When users write more than once, each
// warm-up user sends its text a second time. It returns false when nothing
// reached the fake.
func (d *driver) warmUp(ctx context.Context) (observed bool, err error) {
	rounds := 1
	if d.cfg.Users < d.cfg.Events {
		rounds = 2
	}
	inUse := make([]bool, len(d.cfg.Texts))
	for _, t := range d.userText {
		inUse[t] = true
	}
	jobs := make(chan int, len(inUse))
	for t, ok := range inUse {
		if ok {
			jobs <- t
		}
	}
	close(jobs)
	errs := make([]error, len(inUse))
	var wg sync.WaitGroup
	for range min(warmUps, len(inUse)) {
		wg.Go(func() {
			for t := range jobs {
				errs[t] = d.warmText(ctx, t, rounds)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return false, err
	}
	for t, c := range d.counts {
		if inUse[t] && c.first > 0 {
			return true, nil
		}
	}
	return false, nil
}

// warmText counts the messages text t produces (see warmUp).
func (d *driver) warmText(ctx context.Context, t, rounds int) error {
	user, counts := d.warmIDs[t], [2]int{}
	for round := range rounds {
		before := d.rec.count(user)
		body, sig := d.sign(user, d.runID+"warm"+strconv.Itoa(t)+"."+strconv.Itoa(round), d.cfg.Texts[t])
		status, _ := d.post(ctx, body, sig)
		if !ok2xx(status) {
			return fmt.Errorf("warm-up event answered with status %d, want 2xx (signature, app id or readiness?)", status)
		}
		n, err := d.waitQuiet(ctx, user, before)
		if err != nil || n == 0 {
			break
		}
		counts[round] = n
	}
	d.counts[t] = msgCount{first: counts[0], again: counts[1]}
	return ctx.Err()
}

// dropSilent gives the users of a text that produced no message (or, when
// users write more than once, no message the second time) another text,
// since their answers could not be told apart; it returns how many texts
// were dropped, or an error when no text is left.
func (d *driver) dropSilent() (int, error) {
	inUse := make([]bool, len(d.cfg.Texts))
	for _, t := range d.userText {
		inUse[t] = true
	}
	var ok []int
	silent := 0
	for t, c := range d.counts {
		switch {
		case !inUse[t]:
		case c.first > 0 && (c.again > 0 || d.cfg.Users == d.cfg.Events):
			ok = append(ok, t)
		default:
			silent++
		}
	}
	if len(ok) == 0 {
		return silent, errors.New("a second event of one user produced no message, so replies cannot be told apart; use -users = -n")
	}
	for u, t := range d.userText {
		if c := d.counts[t]; c.first == 0 || (c.again == 0 && d.cfg.Users < d.cfg.Events) {
			d.userText[u] = ok[u%len(ok)]
		}
	}
	return silent, nil
}

// expect returns how many messages k events of user u produce in total.
func (d *driver) expect(u, k int) int {
	c := d.counts[d.userText[u]]
	return need(k, c.first, c.again)
}

// meanCounts returns the mean messages per event over the users, for the
// report.
func (d *driver) meanCounts() (first, again float64) {
	for _, t := range d.userText {
		first += float64(d.counts[t].first)
		again += float64(d.counts[t].again)
	}
	n := float64(len(d.userText))
	return first / n, again / n
}

// waitQuiet waits for user's message count to rise above before and then
// to stay put for cfg.Quiet, and returns by how much it rose (0 when
// nothing came within 10 s).
func (d *driver) waitQuiet(ctx context.Context, user string, before int) (int, error) {
	const firstWait = 10 * time.Second
	start := time.Now()
	last, lastChange := before, time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n := d.rec.count(user)
		if n != last {
			last, lastChange = n, time.Now()
		}
		if last == before && time.Since(start) > firstWait {
			return 0, nil
		}
		if last > before && time.Since(lastChange) >= d.cfg.Quiet {
			return last - before, nil
		}
		sleep(ctx, 10*time.Millisecond)
	}
}

// sendResult is what one sender saw.
type sendResult struct {
	latencies []time.Duration
	statuses  map[int]int
	sent      int
	resent    int
}

// send runs the send phase: cfg.Senders goroutines take users one at a
// time and send that user's events in order, each redelivered copy right
// after its original's answer (while the original is likely still being
// processed, the hardest moment for de-duplication).
func (d *driver) send(ctx context.Context) (results []sendResult, elapsed time.Duration) {
	jobs := make(chan int, len(d.byUser))
	for u := range d.byUser {
		jobs <- u
	}
	close(jobs)
	deadline := time.Now().Add(d.cfg.Duration)
	results = make([]sendResult, d.cfg.Senders)
	var wg sync.WaitGroup
	start := time.Now()
	for s := range d.cfg.Senders {
		r := &results[s]
		r.statuses = make(map[int]int)
		r.latencies = make([]time.Duration, 0, 2*len(d.events)/d.cfg.Senders+8)
		wg.Go(func() {
			for u := range jobs {
				for _, i := range d.byUser[u] {
					if ctx.Err() != nil || time.Now().After(deadline) {
						return
					}
					d.sendOne(ctx, i, r)
				}
			}
		})
	}
	wg.Wait()
	return results, time.Since(start)
}

func (d *driver) sendOne(ctx context.Context, i int, r *sendResult) {
	ev := &d.events[i]
	ev.body, ev.sig = d.sign(d.users[ev.user], ev.msgID, d.cfg.Texts[d.userText[ev.user]])
	ev.sentAt = time.Now()
	copies := 1
	if ev.resend {
		copies = 2
	}
	for c := range copies {
		status, took := d.post(ctx, ev.body, ev.sig)
		ev.attempts++
		r.latencies = append(r.latencies, took)
		r.statuses[status]++
		if ok2xx(status) {
			ev.acked = true
		}
		if c == 0 {
			r.sent++
		} else {
			r.resent++
		}
	}
}

// need returns how many messages k events of one user produce in total.
func need(k, first, again int) int {
	if k == 0 {
		return 0
	}
	return first + (k-1)*again
}

// drain waits until every user received the messages its acknowledged
// events should produce, or until cfg.Drain passes; then it waits
// cfg.Settle more so that late duplicates are seen.
func (d *driver) drain(ctx context.Context) {
	pending := make([]int, 0, len(d.byUser))
	want := make([]int, len(d.byUser))
	for u, idx := range d.byUser {
		k := 0
		for _, i := range idx {
			if d.events[i].acked {
				k++
			}
		}
		want[u] = d.expect(u, k)
		if want[u] > 0 {
			pending = append(pending, u)
		}
	}
	deadline := time.Now().Add(d.cfg.Drain)
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		pending = slices.DeleteFunc(pending, func(u int) bool { return d.rec.count(d.users[u]) >= want[u] })
		if len(pending) > 0 {
			sleep(ctx, 50*time.Millisecond)
		}
	}
	sleep(ctx, d.cfg.Settle)
}

// run drives the whole measurement: warm-up, send phase, drain, tally.
// requireAnswers makes a silent warm-up an error (the target's replies are
// expected at the fake); otherwise only acknowledgements are measured.
func (d *driver) run(ctx context.Context, name string, requireAnswers bool, progress io.Writer) (Result, error) {
	observed, err := d.warmUp(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("%s: warm-up: %w", name, err)
	}
	silent := 0
	switch {
	case !observed && requireAnswers:
		return Result{}, fmt.Errorf("%s: warm-up: no reply reached the fake zalo within 10 s", name)
	case !observed:
		fmt.Fprintf(progress, "%s: warning: no reply reached the fake zalo; measuring acknowledgements only\n", name)
	default:
		if silent, err = d.dropSilent(); err != nil {
			return Result{}, fmt.Errorf("%s: warm-up: %w", name, err)
		}
		if silent > 0 {
			fmt.Fprintf(progress, "%s: warning: %d text(s) got no answer in the warm-up; their users write another text\n", name, silent)
		}
	}
	first, again := d.meanCounts()
	later := ""
	if again > 0 {
		later = ", " + mean(again) + " for a later one"
	}
	fmt.Fprintf(progress, "%s: warm-up done (%s message(s) for a new user's event%s); sending %d events with %d senders\n",
		name, mean(first), later, d.cfg.Events, d.cfg.Senders)
	start := time.Now()
	sends, elapsed := d.send(ctx)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if observed {
		fmt.Fprintf(progress, "%s: sent in %.1fs; waiting for answers\n", name, elapsed.Seconds())
		d.drain(ctx)
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
	}
	r := d.tally(name, start, sends, elapsed, observed)
	r.SilentTexts = silent
	return r, nil
}

// tally turns what was sent and what the fake received into a Result.
func (d *driver) tally(name string, start time.Time, sends []sendResult, elapsed time.Duration, observed bool) Result {
	r := Result{Target: name, Non2xx: map[string]int{}, Observed: observed}
	r.MessagesFirst, r.MessagesAgain = d.meanCounts()
	var acks []time.Duration
	for _, s := range sends {
		acks = append(acks, s.latencies...)
		r.Sent += s.sent
		r.Redelivered += s.resent
		for status, n := range s.statuses {
			switch {
			case ok2xx(status):
			case status == 0:
				r.Non2xx["error"] += n
			default:
				r.Non2xx[strconv.Itoa(status)] += n
			}
		}
	}
	for i := range d.events {
		if d.events[i].acked {
			r.Acked++
		}
	}
	r.SendSeconds = elapsed.Seconds()
	if elapsed > 0 {
		r.AckPerSec = float64(r.Acked) / elapsed.Seconds()
	}
	r.AckLatency = summarize(acks)
	if !observed {
		return r
	}

	known := make(map[string]bool, len(d.users)+len(d.warmIDs))
	for _, id := range d.warmIDs {
		known[id] = true
	}
	var replies []time.Duration
	var lastAnswer time.Time
	for u, idx := range d.byUser {
		known[d.users[u]] = true
		times := d.rec.times(d.users[u])
		k, sent := 0, 0
		for _, i := range idx {
			ev := &d.events[i]
			if ev.attempts > 0 {
				sent++
			}
			if !ev.acked {
				continue
			}
			// Events of one user are answered in order, so the j-th
			// acknowledged event's first message is at a known position.
			at := d.expect(u, k)
			k++
			if at >= len(times) {
				r.Lost++
				continue
			}
			r.Answered++
			replies = append(replies, times[at].Sub(ev.sentAt))
			if times[at].After(lastAnswer) {
				lastAnswer = times[at]
			}
		}
		// An event that got no 2xx may still have been processed (a
		// time-out after the enqueue), so only messages beyond what every
		// sent event could produce are duplicates.
		if extra := len(times) - d.expect(u, sent); extra > 0 {
			r.DuplicateUsers++
			r.DuplicateMessages += extra
		}
	}
	for _, u := range d.rec.users() {
		if !known[u] {
			r.Stray += d.rec.count(u)
		}
	}
	r.ReplyLatency = summarize(replies)
	if r.Answered > 0 {
		r.AnswerSeconds = lastAnswer.Sub(start).Seconds()
		r.AnsweredPerSec = float64(r.Answered) / r.AnswerSeconds
	}
	return r
}
