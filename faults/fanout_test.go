package faults

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/faults/loadgen"
	"github.com/camau-cns/cnsbot/internal/machine"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// TestReminderFanOut makes FAULTS_FANOUT_N team leaders (default 10,000)
// due the same reminder at once and sends them through the service's own
// pieces, wired as serve wires them: the reminder pass on PostgreSQL, the
// Redis outbox, and the sender with the shared rate limit of
// FAULTS_FANOUT_RATE messages a second (SEND_RATE; default 500, so about
// 20 s). Every leader must get exactly one reminder, and the sending must
// take about count ÷ rate: never faster (the limit holds), not much slower
// (the limit is the bottleneck, not the pipeline).
//
// It runs in-process rather than on the built binary because the sender
// holds pushes during Vietnam's quiet hours by the real clock; here its
// clock is fixed at 08:30, so the test means the same at any hour.
func TestReminderFanOut(t *testing.T) {
	e := sharedEnv(t)
	n := envInt(t, "FAULTS_FANOUT_N", 10000)
	rate := envInt(t, "FAULTS_FANOUT_RATE", 500)
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, remindAt)
	if err != nil {
		t.Fatal(err)
	}

	dbURL := e.pg.createDB(t, "f_fanout")
	t0 := time.Now()
	leaders := seedLeaders(t, dbURL, n, leaderBase)
	t.Logf("seeded %d teams with a leader each in %s", n, time.Since(t0).Round(time.Millisecond))
	db, err := store.Open(ctx, dbURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rdb := redis.NewClient(&redis.Options{Addr: e.redis.addr(), PoolSize: 64})
	defer rdb.Close()
	prefix := "fanout-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	q, err := store.NewQueue(ctx, rdb, store.QueueOptions{Prefix: prefix, Partitions: 16, OnDead: db.RecordDeadEvent})
	if err != nil {
		t.Fatal(err)
	}

	z := zalotest.Start(t, zalotest.WithoutRecording())
	rec := loadgen.NewRecorder()
	rec.Attach(z)
	access, refresh, exp := z.Tokens()
	hc := &http.Client{Timeout: 10 * time.Second}
	tokens := bot.NewTokens(bot.TokenConfig{AppID: z.AppID(), AppSecret: z.AppSecret(), OAuthBase: z.URL(),
		Initial: cnsbot.Token{Access: access, Refresh: refresh, ExpiresAt: exp}}, db, store.NewLocks(rdb, prefix), hc, nil, nil)
	sender := bot.NewSender(bot.NewClient(z.URL(), tokens, hc, nil), store.NewLimiter(rdb, prefix, rate), db,
		bot.SenderConfig{Location: loc, Now: func() time.Time { return now }}, nil, nil)
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}

	// The pass queues every reminder; the sender is not running yet, so
	// what follows times the sending alone.
	t0 = time.Now()
	rep, err := reminder.New(db, q, texts, reminder.Options{Location: loc}).Pass(ctx, now, false)
	if err != nil {
		t.Fatalf("reminder pass: %v", err)
	}
	passTook := time.Since(t0)
	queued, kind := 0, ""
	for _, it := range rep.Items {
		if it.Action == reminder.ActionQueued {
			queued++
			kind = it.Message.Kind
		}
	}
	if queued != n {
		t.Fatalf("the pass queued %d reminders, want %d", queued, n)
	}
	if _, outbox, err := q.Backlog(ctx); err != nil || outbox != int64(n) {
		t.Fatalf("outbox holds %d messages (%v), want %d", outbox, err, n)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		_ = q.Run(runCtx, func(context.Context, []byte) error { return nil }, sender.Deliver)
	}()
	deadline := start.Add(time.Duration(3*n/rate)*time.Second + 60*time.Second)
	for rec.Total() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// A while longer, so that a duplicate would be seen.
	time.Sleep(2 * time.Second)
	stop()
	<-done

	var times []time.Time
	missing, doubled := 0, 0
	for _, id := range leaders {
		got := 0
		for _, m := range rec.Messages(id) {
			if m.Kind == kind {
				got++
			}
			times = append(times, m.Time)
		}
		switch {
		case got == 0:
			missing++
		case got > 1:
			doubled++
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	var took time.Duration
	if len(times) > 1 {
		took = times[len(times)-1].Sub(start)
	}
	expected := time.Duration(float64(n) / float64(rate) * float64(time.Second))
	// The limiter allows a burst of one second's worth at the start.
	floor := time.Duration(float64(n-rate) / float64(rate) * float64(time.Second) * 0.9)
	ceiling := expected*3/2 + 3*time.Second
	perSec := float64(len(times)) / took.Seconds()
	t.Logf("fan-out: %d leaders; pass %s (%.0f reminders/s queued); %d messages sent in %s (%.0f/s) at SEND_RATE %d; count÷rate %s; missing %d, doubled %d",
		n, passTook.Round(time.Millisecond), float64(n)/passTook.Seconds(), len(times), took.Round(time.Millisecond), perSec, rate,
		expected, missing, doubled)
	addRow(row{Scenario: "reminder-fanout", Events: n, Acked: queued, Posts: len(times), Non200: "-",
		Reminders: fmt.Sprintf("%d+0/%d", n-missing, n), RemindersOK: missing == 0 && doubled == 0, Refreshes: -1,
		Took: took, OK: missing == 0 && doubled == 0 && took >= floor && (took <= ceiling || machine.Starved()),
		Extra: fmt.Sprintf("%d reminders queued by the pass in %s; sent in %s at SEND_RATE %d (%.0f/s; count÷rate %s); missing %d, doubled %d",
			n, passTook.Round(100*time.Millisecond), took.Round(100*time.Millisecond), rate, perSec, expected, missing, doubled)})
	if missing > 0 || doubled > 0 {
		t.Errorf("reminders: %d leaders without one, %d with more than one; want exactly one each", missing, doubled)
	}
	switch {
	case took < floor:
		// Faster than the limit allows: a busy machine cannot cause that.
		t.Errorf("sending %d reminders at %d/s took %s, under %s: the shared rate limit did not hold (count÷rate %s)",
			n, rate, took.Round(time.Millisecond), floor.Round(time.Millisecond), expected)
	case took > ceiling && machine.Starved():
		// Slower than the limit explains, on a machine whose other work
		// took the cores: that says nothing about the pipeline.
		t.Logf("could not measure whether the pipeline keeps up with the limit: sending took %s (want at most %s) at a load average of %s on %d cores",
			took.Round(time.Millisecond), ceiling.Round(time.Millisecond), machine.LoadAverage(), runtime.NumCPU())
	case took > ceiling:
		t.Errorf("sending %d reminders at %d/s took %s, over %s: the pipeline, not the limit, set the pace (count÷rate %s)",
			n, rate, took.Round(time.Millisecond), ceiling.Round(time.Millisecond), expected)
	}
}
