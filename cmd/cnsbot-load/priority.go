package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// priorityConfig is the "priority" scenario: how long a new resident waits
// for an answer while a burst of pushes is queued and one user floods.
type priorityConfig struct {
	Pushes    int           // pushes queued at the start, each to a different resident
	Residents int           // new residents who write during the burst
	Every     time.Duration // between two residents' first messages
	Flood     int           // messages from the one user who floods
	FloodRate int           // of those, per second
	Cap       time.Duration // how long to wait for the residents' answers
	UserRate  int           // USER_RATE
	UserBurst int           // USER_BURST
	Text      string        // what each new resident writes first (-text)
}

// PriorityResult is what the priority scenario measured.
type PriorityResult struct {
	SendRate   int `json:"send_rate"`
	Partitions int `json:"partitions"`
	Pushes     int `json:"pushes"`
	// ResidentLatency is from a resident's event entering the inbox to
	// their first answer reaching Zalo.
	Residents        int     `json:"residents"`
	Answered         int     `json:"answered"`
	ResidentLatency  Latency `json:"resident_latency"`
	Flood            int     `json:"flood"`
	FloodAnswers     int     `json:"flood_answers"`
	PushesSent       int     `json:"pushes_sent"`
	Seconds          float64 `json:"seconds"`
	PushesPerSec     float64 `json:"pushes_per_sec"`
	UnansweredAtStop int     `json:"unanswered_at_stop"`
}

// runPriority wires the service's queue, engine and sender in this process
// (as serve wires them, on the shared Redis, with the real rate limiter)
// and measures the priority scenario. It runs in process, like the fault
// suite's fan-out test, because the sender holds pushes during Vietnam's
// quiet hours by its clock: here that clock is fixed at 08:30, so the
// measurement means the same at any hour.
func runPriority(ctx context.Context, o options, rdb redis.UniversalClient, prefix string, progress io.Writer) (*PriorityResult, error) {
	pc := o.priority
	res := &PriorityResult{SendRate: o.sendRate, Partitions: o.partitions, Pushes: pc.Pushes,
		Residents: pc.Residents, Flood: pc.Flood}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteKeys(cctx, rdb, prefix); err != nil {
			fmt.Fprintln(progress, "priority: cleanup:", err)
		}
	}()
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	q, err := store.NewQueue(ctx, rdb, store.QueueOptions{Prefix: prefix, Partitions: o.partitions, Log: log})
	if err != nil {
		return nil, err
	}
	fake, err := startFake("")
	if err != nil {
		return nil, err
	}
	defer fake.close()
	access, refresh, exp := fake.zalo.Tokens()
	hc := bot.NewHTTPClient(10 * time.Second)
	tokens := bot.NewTokens(bot.TokenConfig{AppID: fake.zalo.AppID(), AppSecret: fake.zalo.AppSecret(), OAuthBase: fake.url,
		Initial: cnsbot.Token{Access: access, Refresh: refresh, ExpiresAt: exp}}, &bot.MemoryTokens{}, store.NewLocks(rdb, prefix), hc, nil, nil)
	vietnam := time.FixedZone("ICT", 7*3600)
	morning := time.Date(2026, 12, 8, 8, 30, 0, 0, vietnam)
	sender := bot.NewSender(bot.NewClient(fake.url, tokens, hc, nil), store.NewLimiter(rdb, prefix, o.sendRate),
		memDeliveries{}, bot.SenderConfig{Location: vietnam, Now: func() time.Time { return morning }}, log, nil)
	texts, err := locales.New()
	if err != nil {
		return nil, err
	}
	engine := flows.NewEngine(q, texts, priorityEngineOptions(pc, log))

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = q.Run(runCtx, engine.HandleEvent, sender.Deliver)
	}()
	defer func() { stop(); <-done }()

	// The burst: an announcement to every resident, queued as a pass does.
	fmt.Fprintf(progress, "priority: queueing %d pushes\n", pc.Pushes)
	for i := 0; i < pc.Pushes; i += 1000 {
		var batch []cnsbot.Outgoing
		for j := i; j < min(i+1000, pc.Pushes); j++ {
			batch = append(batch, cnsbot.Outgoing{ID: "push/" + strconv.Itoa(j),
				To: cnsbot.Recipient{UserID: "push" + strconv.Itoa(j)}, Kind: cnsbot.MsgText,
				Text: "Thông báo: tuần này tổ công nghệ số đến từng nhà.", Purpose: "notify", Lang: "vi"})
		}
		if err := q.Push(ctx, batch...); err != nil {
			return nil, err
		}
	}
	start := time.Now()

	text := pc.Text
	if text == "" {
		text = "menu"
	}
	enqueue := func(user, key string) (time.Time, error) {
		ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: key, Route: "u:" + user, UserID: user, Text: text, Time: time.Now()}
		b, _ := json.Marshal(ev)
		at := time.Now()
		_, err := q.Enqueue(ctx, key, ev.Route, b)
		return at, err
	}

	// One user floods; meanwhile new residents write, one every pc.Every.
	var wg sync.WaitGroup
	floodErr := make(chan error, 1)
	wg.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(max(pc.FloodRate, 1)))
		defer tick.Stop()
		for i := range pc.Flood {
			if _, err := enqueue("flooder", "flood/"+strconv.Itoa(i)); err != nil {
				floodErr <- err
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	sentAt := make([]time.Time, pc.Residents)
	for i := range pc.Residents {
		if i > 0 && !sleepCtx(ctx, pc.Every) {
			break
		}
		at, err := enqueue("resident"+strconv.Itoa(i), "resident/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		sentAt[i] = at
	}
	wg.Wait()
	select {
	case err := <-floodErr:
		return nil, err
	default:
	}

	// Wait for every resident's first answer, or the cap.
	deadline := start.Add(pc.Cap)
	var lat []time.Duration
	for {
		lat = lat[:0]
		for i, at := range sentAt {
			if t := fake.rec.times("resident" + strconv.Itoa(i)); len(t) > 0 {
				lat = append(lat, t[0].Sub(at))
			}
		}
		if len(lat) == pc.Residents || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	took := time.Since(start)
	res.Answered = len(lat)
	res.UnansweredAtStop = pc.Residents - len(lat)
	res.ResidentLatency = summarize(slices.Clone(lat))
	res.FloodAnswers = fake.rec.count("flooder")
	for _, u := range fake.rec.users() {
		if len(u) > 4 && u[:4] == "push" {
			res.PushesSent += fake.rec.count(u)
		}
	}
	res.Seconds = took.Seconds()
	res.PushesPerSec = float64(res.PushesSent) / took.Seconds()
	return res, nil
}

// priorityEngineOptions are the engine's options for the scenario: those
// of serve that bear on it.
func priorityEngineOptions(pc priorityConfig, log *slog.Logger) flows.Options {
	return flows.Options{Inbound: flows.NewPersonLimit(pc.UserRate, pc.UserBurst), Log: log}
}

// runPriorityCmd is run for -scenario priority: it returns the exit code.
func runPriorityCmd(ctx context.Context, o options, stdout, stderr io.Writer) int {
	opt, err := redis.ParseURL(o.redisURL)
	if err == nil {
		err = requireLoopback(opt.Addr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "cnsbot-load: -redis:", err)
		return exitError
	}
	opt.PoolSize = max(opt.PoolSize, 4*o.partitions)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	prefix := "cnsbot-load-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-priority:"
	r, err := runPriority(ctx, o, rdb, prefix, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "cnsbot-load:", err)
		return exitError
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	} else {
		printPriority(stdout, r)
	}
	if r.Answered < r.Residents {
		return exitFailed
	}
	return exitOK
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// printPriority prints the priority scenario's figures.
func printPriority(w io.Writer, r *PriorityResult) {
	fmt.Fprintf(w, "priority scenario: %d pushes queued at once, SEND_RATE %d, %d partitions\n", r.Pushes, r.SendRate, r.Partitions)
	fmt.Fprintf(w, "  new residents answered:  %d of %d (%d still waiting when measuring stopped)\n", r.Answered, r.Residents, r.UnansweredAtStop)
	fmt.Fprintf(w, "  their reply latency:     p50 %s, max %s\n", round(r.ResidentLatency.P50), round(r.ResidentLatency.Max))
	fmt.Fprintf(w, "  flooding user:           %d messages sent, %d answers received\n", r.Flood, r.FloodAnswers)
	fmt.Fprintf(w, "  pushes sent meanwhile:   %d in %.1f s (%.1f/s)\n", r.PushesSent, r.Seconds, r.PushesPerSec)
}

// memDeliveries is a delivery log that keeps nothing: the scenario measures
// the queue and the limit, not the database.
type memDeliveries struct{}

func (memDeliveries) Delivered(context.Context, cnsbot.Outgoing, string) error { return nil }
func (memDeliveries) Undeliverable(context.Context, cnsbot.Outgoing, int, string) error {
	return nil
}
func (memDeliveries) Held(context.Context, cnsbot.Outgoing, time.Time, string) error { return nil }
