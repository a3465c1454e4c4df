package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/faults/loadgen"
	"github.com/camau-cns/cnsbot/store"
)

// Test values the suite signs with and gives the service; not credentials.
const (
	appID     = "4318201209281734957"
	secretKey = "faults-oa-secret-key"
)

// config is the suite's load and timing, from FAULTS_* variables.
type config struct {
	rate       float64       // FAULTS_RATE: new events per second
	users      int           // FAULTS_USERS: returning users
	load       time.Duration // FAULTS_LOAD: how long each scenario's load runs
	outage     time.Duration // FAULTS_OUTAGE: how long a stopped dependency stays down
	drain      time.Duration // FAULTS_DRAIN: how long to wait for the last answers
	settle     time.Duration // FAULTS_SETTLE: extra wait for late duplicates
	leaders    int           // FAULTS_LEADERS: team leaders due a reminder
	partitions int
	sendRate   int
}

func loadConfig(t *testing.T) config {
	t.Helper()
	return config{
		rate:       envFloat(t, "FAULTS_RATE", 60),
		users:      envInt(t, "FAULTS_USERS", 120),
		load:       envDuration(t, "FAULTS_LOAD", 15*time.Second),
		outage:     envDuration(t, "FAULTS_OUTAGE", 3*time.Second),
		drain:      envDuration(t, "FAULTS_DRAIN", 90*time.Second),
		settle:     envDuration(t, "FAULTS_SETTLE", 2*time.Second),
		leaders:    envInt(t, "FAULTS_LEADERS", 40),
		partitions: 16,
		sendRate:   400,
	}
}

// stage is one scenario: its database, Redis prefix, fake Zalo, services
// and load.
type stage struct {
	t       *testing.T
	e       *env
	cfg     config
	name    string
	z       *zalotest.Server
	rec     *loadgen.Recorder
	dbURL   string
	vars    map[string]string
	svcs    []*service
	gen     *loadgen.Generator
	tr      loadgen.Transcript
	leaders []string
	notes   []string
	// refreshesBefore is the fake's refresh count when the token expired.
	refreshesBefore int
	// passes is how many reminder passes run at once (replicas each run
	// one); 0 means 1.
	passes int
	// allowChanged accepts answers with other content than usual (see
	// loadgen.Verdict.Changed): a degraded menu while the database is down.
	allowChanged bool
	// allowReordered accepts a user's answers in another order, all of
	// them once (loadgen.Verdict.OKInAnyOrder): replies held for an OA
	// setup fault go after the ones sent once it cleared.
	allowReordered bool
	// outside are the leaders Zalo refuses consultation messages to for
	// the 7-day window (TestZaloModes); atLeader, when set, are the
	// leaders whose reminder is waited for at the fake.
	outside  map[string]bool
	atLeader []string
}

// stageOptions vary a scenario's set-up.
type stageOptions struct {
	// replicas is how many services share the stores (default 1).
	replicas int
	// vars override the services' environment (SEND_RATE, say).
	vars map[string]string
	// leaders overrides FAULTS_LEADERS.
	leaders int
	// mode is the fake Zalo's mode from the start (default: the suite's,
	// from CNSBOT_ZALOTEST_MODE).
	mode zalotest.Mode
}

// newStage starts the services sharing a fresh database and Redis prefix,
// seeds the leaders, and learns the service's answers.
func newStage(t *testing.T, name string, o stageOptions) *stage {
	t.Helper()
	s := prepareStage(t, name, o.vars)
	if o.mode != "" {
		s.z.SetMode(o.mode)
	}
	if o.leaders > 0 {
		s.cfg.leaders = o.leaders
	}
	for i := range max(o.replicas, 1) {
		s.svcs = append(s.svcs, startService(t, s.e, fmt.Sprintf("%s-%d", name, i+1), s.vars))
	}
	s.leaders = seedLeaders(t, s.dbURL, s.cfg.leaders, leaderBase)
	var targets []string
	for _, svc := range s.svcs {
		targets = append(targets, svc.webhook())
	}
	gen, err := loadgen.New(loadgen.Config{
		Targets: targets, AppID: appID, SecretKey: secretKey,
		Users: s.cfg.users, Rate: s.cfg.rate, Redeliver: 0.05,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.gen = gen
	if s.tr, err = gen.Learn(context.Background(), s.rec, 400*time.Millisecond); err != nil {
		t.Fatalf("learn the service's answers: %v", err)
	}
	t.Logf("answers: %s", s.tr)
	return s
}

// prepareStage makes a scenario's fake Zalo, database and environment,
// without starting a service.
func prepareStage(t *testing.T, name string, extra map[string]string) *stage {
	t.Helper()
	e := sharedEnv(t)
	s := &stage{t: t, e: e, cfg: loadConfig(t), name: name, rec: loadgen.NewRecorder()}
	s.z = zalotest.Start(t, zalotest.WithoutRecording(), zalotest.WithMode(suiteMode(t)))
	s.rec.Attach(s.z)
	db := "f_" + strings.NewReplacer("-", "_", "/", "_").Replace(name)
	s.dbURL = e.pg.createDB(t, db)
	access, refresh, _ := s.z.Tokens()
	s.vars = map[string]string{
		"DATABASE_URL":       s.dbURL,
		"REDIS_URL":          e.redis.url(),
		"REDIS_PREFIX":       "f-" + name + ":",
		"ZALO_APP_ID":        appID,
		"ZALO_OA_SECRET_KEY": secretKey,
		"ZALO_APP_SECRET":    s.z.AppSecret(),
		"ZALO_ACCESS_TOKEN":  access,
		"ZALO_REFRESH_TOKEN": refresh,
		"ZALO_API_BASE":      s.z.URL(),
		"ZALO_OAUTH_BASE":    s.z.URL(),
		"INBOX_PARTITIONS":   strconv.Itoa(s.cfg.partitions),
		"SEND_RATE":          strconv.Itoa(s.cfg.sendRate),
		"LOG_LEVEL":          "info",
		"SIMULATOR":          "false",
		"DATA_DIR":           t.TempDir(),
		"SHUTDOWN_TIMEOUT":   "10s",
	}
	for k, v := range extra {
		s.vars[k] = v
	}
	return s
}

func (s *stage) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.notes = append(s.notes, msg)
	s.t.Log(msg)
}

// cliVars are the variables of a `cnsbot remind` run against the stage.
func (s *stage) cliVars() map[string]string {
	v := map[string]string{"LOG_LEVEL": "warn", "MIGRATE": "false", "SIMULATOR": "false"}
	for _, k := range []string{"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "INBOX_PARTITIONS", "DATA_DIR"} {
		v[k] = s.vars[k]
	}
	return v
}

// result is what a scenario measured.
type result struct {
	stats     loadgen.Stats
	verdict   loadgen.Verdict
	reminders reminderTally
	short     int
}

// run puts the load on the stage for cfg.load; one third in, it runs a
// reminder pass and then fault (which returns once the fault is over).
// Then it waits for the answers and checks them.
func (s *stage) run(fault func(s *stage)) result {
	t := s.t
	start := time.Now()
	ctx := context.Background()
	s.gen.Start(ctx)
	sleep(s.cfg.load / 3)
	queued, kind := s.remind(ctx)
	if fault != nil {
		fault(s)
	}
	if rest := s.cfg.load - time.Since(start); rest > 0 {
		sleep(rest)
	}
	st := s.gen.Stop()
	short := s.gen.WaitAnswered(ctx, s.tr, s.rec, s.cfg.drain)
	atLeader := s.leaders
	if s.atLeader != nil {
		atLeader = s.atLeader
	}
	waitReminders(s.rec, atLeader, s.reminderWait())
	sleep(s.cfg.settle)
	r := result{stats: st, short: short}
	others := map[string]bool{}
	for _, id := range s.leaders {
		others[id] = true
	}
	r.verdict = s.gen.Check(s.tr, s.rec, others)
	if kind == "list" && s.z.Mode() == zalotest.ModeListsRefused {
		// Zalo refuses lists: the reminders went as numbered text.
		kind = zalotest.KindText
	}
	r.reminders = tallyReminders(t, s.rec, s.gen, s.dbURL, s.leaders, kind)
	r.reminders.Queued = queued
	return r
}

// report logs the figures, adds the summary row and fails the test for
// any lost, doubled, reordered or reset answer or reminder.
func (s *stage) report(r result, took time.Duration, refreshes int, extra string) {
	t := s.t
	st, v, rem := r.stats, r.verdict, r.reminders
	t.Logf("load: %d events in %.1fs (%.0f/s), %d acknowledged, %d gave up, %d posts (%d re-sent after a refusal, %d redelivered), non-200 %s, ack p50 %s p99 %s, longest unacknowledged %s, stalled ticks %d",
		st.Events, st.Seconds, float64(st.Events)/max(st.Seconds, 0.001), st.Acked, st.GaveUp, st.Posts, st.Resent, st.Redelivered,
		statuses(st.Status), st.AckP50.Round(time.Microsecond*10), st.AckP99.Round(time.Microsecond*10),
		st.LongestUnacked.Round(time.Millisecond), st.Stalled)
	t.Logf("answers: %s", v)
	for _, ex := range v.Examples {
		t.Logf("  %s", ex)
	}
	t.Logf("reminders: %d leaders, %d queued, %d sent, %d held for the morning, %d missing, %d doubled (messages per leader: %v) %v",
		rem.Leaders, rem.Queued, rem.Sent, rem.Held, rem.Missing, rem.Doubled, rem.MessagesPerReminder, rem.DoubledExamples)
	if qs, err := s.queueState(); err != nil {
		t.Logf("queue state: %v", err)
	} else {
		t.Logf("queue after the drain: %s", qs)
		if qs.inbox+qs.outbox > 0 {
			t.Errorf("queue not empty after the drain: %s", qs)
		}
	}
	dead := s.deadEvents()
	if len(dead) > 0 {
		t.Errorf("%d event(s) given up as dead (never answered): %v", len(dead), dead)
	}
	warns, errs := 0, 0
	for _, svc := range s.svcs {
		w, e, fw, fe := svc.logSummary()
		warns += w
		errs += e
		if len(fw)+len(fe) > 0 {
			t.Logf("%s logged %d warnings, %d errors; first: %q %q", svc.name, w, e, fw, fe)
		}
	}
	verdictOK := v.OK() || (s.allowReordered && v.OKInAnyOrder())
	ok := verdictOK && (v.Changed == 0 || s.allowChanged) && rem.OK() && r.short == 0 && st.GaveUp == 0 && !t.Failed()
	addRow(row{
		Scenario: s.name, Events: st.Events, Acked: st.Acked, Posts: st.Posts, Non200: statuses(st.Status),
		LongestUnacked: st.LongestUnacked, Answered: v.Answered, Lost: v.LostMessages, Dup: v.DuplicateMessages,
		Resets: v.Resets, Reordered: v.Reordered, Changed: v.Changed, Dead: len(dead),
		Reminders: fmt.Sprintf("%d+%d/%d", rem.Sent, rem.Held, rem.Leaders), RemindersOK: rem.OK(),
		Refreshes: refreshes, LogWarns: warns, LogErrs: errs, Took: took, OK: ok,
		Extra: strings.Join(slices.DeleteFunc(append(slices.Clone(s.notes), extra, resent(v, rem.Resent)), func(x string) bool { return x == "" }), "; "),
	})
	if st.GaveUp > 0 {
		t.Errorf("%d events were never acknowledged within the give-up time", st.GaveUp)
	}
	if r.short > 0 {
		t.Errorf("%d users still lacked answers after %s", r.short, s.cfg.drain)
	}
	if !verdictOK {
		t.Errorf("answers: %s", v)
	}
	if v.Changed > 0 && !s.allowChanged {
		t.Errorf("%d answers had other content than usual (see the examples)", v.Changed)
	}
	if !rem.OK() {
		t.Errorf("reminders: %d leaders, %d sent, %d held, %d missing, %d doubled %v",
			rem.Leaders, rem.Sent, rem.Held, rem.Missing, rem.Doubled, rem.DoubledExamples)
	}
}

func sleep(d time.Duration) { time.Sleep(d) }

// resent describes the messages sent again across a kill, if any.
func resent(v loadgen.Verdict, reminders int) string {
	if v.Resent+reminders == 0 {
		return ""
	}
	return fmt.Sprintf("%d answer(s) and %d reminder(s) Zalo accepted within %v before the SIGKILL were sent again after the restart (no idempotency key in Zalo's API)",
		v.Resent, reminders, loadgen.ResendWindow)
}

// TestFaults runs one scenario per fault, each under a steady load from
// returning users, with a reminder pass just before the fault.
func TestFaults(t *testing.T) {
	scenarios := []struct {
		name  string
		fault func(s *stage)
		// check adds scenario-specific checks; it returns the refresh count
		// to show (-1: not relevant) and a note for the summary.
		check func(s *stage) (int, string)
		// allowChanged: see stage.allowChanged.
		allowChanged bool
		opts         stageOptions
	}{
		{name: "baseline"},
		{name: "redis-sigterm", fault: func(s *stage) { restartRedis(s, syscall.SIGTERM) }},
		{name: "redis-sigkill", fault: func(s *stage) { restartRedis(s, syscall.SIGKILL) }},
		// More leaders and a lower send rate, so that reminders are still
		// going out (and their delivery being recorded in the database)
		// while PostgreSQL is down.
		{name: "postgres-restart", fault: restartPostgres, allowChanged: true,
			opts: stageOptions{leaders: 300, vars: map[string]string{"SEND_RATE": "150"}}},
		{name: "cnsbot-sigkill", fault: killService},
		{name: "zalo-errors", fault: zaloErrors},
		{name: "token-expired", fault: expireToken, check: func(s *stage) (int, string) {
			n := s.z.Refreshes() - s.refreshesBefore
			if n != 1 {
				s.t.Errorf("token refreshes after the expiry: got %d, want 1", n)
			}
			return n, ""
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			start := time.Now()
			s := newStage(t, sc.name, sc.opts)
			s.allowChanged = sc.allowChanged
			r := s.run(sc.fault)
			refreshes := -1
			extra := ""
			if sc.check != nil {
				refreshes, extra = sc.check(s)
			}
			s.report(r, time.Since(start), refreshes, extra)
		})
	}
}

// restartRedis stops the suite's Redis with sig, keeps it down for the
// outage, and starts it again on the same directory: the append-only file
// brings back the streams, sessions and de-duplication keys.
func restartRedis(s *stage, sig syscall.Signal) {
	t0 := time.Now()
	if err := s.e.redis.stop(sig); err != nil {
		s.t.Errorf("stop redis: %v", err)
	}
	sleep(s.cfg.outage)
	if err := s.e.redis.start(); err != nil {
		s.t.Fatalf("restart redis: %v", err)
	}
	s.note("redis stopped with %v and restarted: down %.1fs", sig, time.Since(t0).Seconds())
}

// restartPostgres crashes PostgreSQL (immediate shutdown), keeps it down
// for the outage, and starts it again (crash recovery).
func restartPostgres(s *stage) {
	t0 := time.Now()
	if err := s.e.pg.stop(syscall.SIGQUIT); err != nil {
		s.t.Errorf("stop postgres: %v", err)
	}
	sleep(s.cfg.outage)
	if err := s.e.pg.start(); err != nil {
		s.t.Fatalf("restart postgres: %v", err)
	}
	s.note("postgres crashed (immediate shutdown) and restarted: down %.1fs", time.Since(t0).Seconds())
}

// killService kills the service with SIGKILL and starts it again at once,
// as a supervisor would.
func killService(s *stage) {
	t0 := time.Now()
	svc := s.svcs[0]
	svc.kill()
	// Noted once the process is gone: until then it may still be handing
	// messages to Zalo, which the restarted one then sends again.
	s.gen.Killed(time.Now())
	svc.start()
	s.note("cnsbot killed with SIGKILL at %s and restarted: ready again after %.1fs", t0.Format("15:04:05.000"), time.Since(t0).Seconds())
}

// zaloErrors makes the fake Zalo refuse with -32 (rate limit), then answer
// HTTP 503, then not answer within the client's time-out, each for the
// outage, then recover.
func zaloErrors(s *stage) {
	phases := []struct {
		what  string
		fault zalotest.Fault
	}{
		{"-32 rate limit", zalotest.Fault{Error: -32}},
		{"HTTP 503", zalotest.Fault{Status: http.StatusServiceUnavailable}},
		// Longer than the service's 10 s client time-out: the request is
		// dropped unanswered.
		{"time-outs", zalotest.Fault{Delay: 12 * time.Second}},
	}
	for _, p := range phases {
		f := p.fault
		s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
			if r.Kind == zalotest.KindRefresh || r.Kind == zalotest.KindAuthCode {
				return zalotest.Fault{}
			}
			return f
		})
		sleep(s.cfg.outage)
	}
	s.z.SetFault(nil)
	rej := s.z.Rejected()
	s.note("fake zalo answered -32 ×%d, then 503, then held requests past the time-out, %s each", rej[-32], s.cfg.outage)
}

// expireToken makes the fake refuse the current access token (-216): the
// service must refresh once and go on.
func expireToken(s *stage) {
	s.refreshesBefore = s.z.Refreshes()
	s.z.ExpireToken()
	s.note("access token expired at the fake (%d refresh(es) before, at start-up: the pair from the environment has no known expiry)", s.refreshesBefore)
}

// queueStat is what is left in the stage's Redis streams.
type queueStat struct {
	inbox, outbox             int64
	inPending, outPending     int64
	pendingParts, backlogPart []string
	stuck                     []string
}

func (q queueStat) String() string {
	return fmt.Sprintf("inbox %d (pending %d), outbox %d (pending %d); partitions with pending entries %v, with entries %v; stuck %v",
		q.inbox, q.inPending, q.outbox, q.outPending, q.pendingParts, q.backlogPart, q.stuck)
}

// queueState reads the length and pending count of every partition's
// streams, to tell a message stuck in a stream from one never queued.
func (s *stage) queueState() (queueStat, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: s.e.redis.addr()})
	defer rdb.Close()
	var q queueStat
	for p := range s.cfg.partitions {
		for _, kind := range []string{"in", "out"} {
			key := fmt.Sprintf("%s{p%d}:%s", s.vars["REDIS_PREFIX"], p, kind)
			n, err := rdb.XLen(ctx, key).Result()
			if err != nil {
				return q, err
			}
			var pending int64
			if pi, err := rdb.XPending(ctx, key, "cnsbot").Result(); err == nil {
				pending = pi.Count
			}
			if kind == "in" {
				q.inbox, q.inPending = q.inbox+n, q.inPending+pending
			} else {
				q.outbox, q.outPending = q.outbox+n, q.outPending+pending
			}
			if pending > 0 {
				q.pendingParts = append(q.pendingParts, fmt.Sprintf("%s%d:%d", kind, p, pending))
				// Name what is stuck: an event's key, or a message's id.
				entries, _ := rdb.XRange(ctx, key, "-", "+").Result()
				for _, e := range entries {
					if k, ok := e.Values["k"].(string); ok {
						q.stuck = append(q.stuck, "event "+k)
					} else if o, ok := e.Values["o"].(string); ok {
						var m struct {
							ID string `json:"id"`
						}
						_ = json.Unmarshal([]byte(o), &m)
						q.stuck = append(q.stuck, "message "+m.ID)
					}
				}
			}
			if n > 0 {
				q.backlogPart = append(q.backlogPart, fmt.Sprintf("%s%d:%d", kind, p, n))
			}
		}
	}
	return q, nil
}

// deadEvents returns the keys of the events the service gave up as dead.
func (s *stage) deadEvents() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := store.Open(ctx, s.dbURL, "", nil)
	if err != nil {
		s.t.Errorf("open database: %v", err)
		return nil
	}
	defer db.Close()
	rows, err := db.DeadEvents(ctx, 100)
	if err != nil {
		s.t.Errorf("dead events: %v", err)
		return nil
	}
	var keys []string
	for _, r := range rows {
		e := r.Error
		if len(e) > 100 {
			e = e[:100] + "…"
		}
		keys = append(keys, r.EventKey+" ("+e+")")
	}
	return keys
}

// remind runs s.passes reminder passes at once, as replicas would, and
// checks that together they queued one reminder per leader.
func (s *stage) remind(ctx context.Context) (queued int, kind string) {
	n := max(s.passes, 1)
	type res struct {
		queued int
		kind   string
		err    error
	}
	results := make(chan res, n)
	for range n {
		go func() {
			q, k, err := remindPass(ctx, s.e, s.cliVars())
			results <- res{q, k, err}
		}()
	}
	var per []int
	for range n {
		r := <-results
		if r.err != nil {
			s.t.Errorf("reminder pass: %v", r.err)
		}
		queued += r.queued
		per = append(per, r.queued)
		if r.kind != "" {
			kind = r.kind
		}
	}
	if queued != len(s.leaders) {
		s.t.Errorf("%d reminder pass(es) queued %v reminders, want %d in all (one per leader)", n, per, len(s.leaders))
	}
	if n > 1 {
		s.note("%d reminder passes at once queued %v reminders", n, per)
	}
	return queued, kind
}

// reminderWait is how long to wait for the reminders at the fake: at night
// in Vietnam the sender holds them in the database instead, so there is
// nothing to wait for.
func (s *stage) reminderWait() time.Duration {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return 30 * time.Second
	}
	if h := time.Now().In(loc).Hour(); (h >= 22 || h < 6) && s.vars["PUSH_QUIET_HOURS"] != "off" {
		s.note("quiet hours in Vietnam: reminders are held for the morning and counted in the database")
		return 2 * time.Second
	}
	return 30 * time.Second
}
