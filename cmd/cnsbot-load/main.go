// Command cnsbot-load measures how fast cnsbot answers Zalo webhook events,
// beside a "floor": a minimal net/http handler that does only the I/O no
// implementation can avoid (verify the signature, one Redis round trip to
// de-duplicate and enqueue, a session GET and SET, one reply POST).
//
// Both targets reply through an in-process fake Zalo (bot/zalotest) that
// records when each user got each message. The tool sends signed
// user_send_text events at a set concurrency, each user writing a message
// drawn from a corpus of real-looking first messages (testdata, or -texts;
// -text for one text), re-sends a fraction of them
// (same body and msg_id) to test de-duplication, waits for the answers,
// and prints acknowledged and answered events per second, latency
// percentiles, lost and duplicated answers, and the service's peak memory.
//
//	go run ./cmd/cnsbot-load                  # both targets, 20000 events
//	go run ./cmd/cnsbot-load -n 5000 -json    # one JSON object on stdout
//	go run ./cmd/cnsbot-load -only floor
//	go run ./cmd/cnsbot-load -target http://127.0.0.1:8080 -fake-addr 127.0.0.1:18080
//
// Exit status: 0 when every check passed, 1 when a check failed (lost or
// duplicated answers, -min-ratio, -max-ack-p99, -max-rss), 2 when the
// measurement could not be made.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a check failed
	exitError  = 2 // the measurement could not be made
)

// options are the command line.
type options struct {
	load       loadConfig
	only       string
	target     string
	bin        string
	redisURL   string
	db         string
	partitions int
	sendRate   int
	fakeAddr   string
	token      string
	minRatio   float64
	maxAckP99  time.Duration
	maxRSS     float64
	ready      time.Duration
	jsonOut    bool
	verbose    bool
	env        []string
	scenario   string
	priority   priorityConfig
}

// defaultSecretKey is the OA secret key the tool signs with and gives the
// service; it is a test value, not a credential.
const defaultSecretKey = "cnsbot-load-oa-secret-key"

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("cnsbot-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.load.Events, "n", 20000, "events to send to each target")
	fs.IntVar(&o.load.Senders, "c", 16, "concurrent senders")
	fs.IntVar(&o.load.Users, "users", 0, "distinct users (0 = n: every event from a new user); one user's events are sent in sequence")
	fs.Float64Var(&o.load.Redeliver, "redeliver", 0.05, "fraction of events sent twice (same body and msg_id)")
	var text, textsFile string
	fs.StringVar(&text, "text", "", "text of every event (instead of the corpus)")
	fs.StringVar(&textsFile, "texts", "", "corpus file, one message a line, each user writing one drawn at random (default: the embedded "+defaultCorpusName+")")
	fs.DurationVar(&o.load.Duration, "duration", 5*time.Minute, "cap on each target's send phase")
	fs.DurationVar(&o.load.Drain, "drain", 30*time.Second, "how long to wait for answers after sending")
	fs.DurationVar(&o.load.Settle, "settle", time.Second, "extra wait after the last expected answer, to catch duplicates")
	fs.DurationVar(&o.load.Timeout, "timeout", 10*time.Second, "timeout of one webhook request")
	fs.StringVar(&o.load.AppID, "app-id", zalotest.DefaultAppID, "Zalo app id to sign with (and to give the service)")
	fs.StringVar(&o.load.SecretKey, "secret", defaultSecretKey, "OA secret key to sign with (and to give the service)")
	fs.StringVar(&o.only, "only", "", `run one target only: "floor" or "cnsbot"`)
	fs.StringVar(&o.target, "target", "", "drive an already running server at this loopback URL instead of starting cnsbot")
	fs.StringVar(&o.bin, "bin", "", "cnsbot binary to run (empty: go build ./cmd/cnsbot into a temporary directory)")
	fs.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis for the floor and the service (each run uses its own key prefix, deleted afterwards)")
	fs.StringVar(&o.db, "db", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		`service database: a Postgres URL (a fresh schema is created in it and dropped), "sqlite" (embedded), or "url:<DSN>" to use a DSN as it is`)
	fs.IntVar(&o.partitions, "partitions", 16, "inbox partitions of the service (INBOX_PARTITIONS) and workers of the floor")
	fs.IntVar(&o.sendRate, "send-rate", 100000, "service's outbound rate limit (SEND_RATE), high so that it is not the bottleneck")
	fs.StringVar(&o.fakeAddr, "fake-addr", "", "listen address of the fake Zalo for the cnsbot target (default: a free loopback port)")
	fs.StringVar(&o.token, "access-token", "cnsbot-load-access-token", "access token the fake Zalo accepts, with -target")
	fs.Float64Var(&o.minRatio, "min-ratio", 0, "fail unless cnsbot answers at least this fraction of the floor's events/s (0: off)")
	fs.DurationVar(&o.maxAckP99, "max-ack-p99", 0, "fail if cnsbot's acknowledgement p99 is above this (0: off)")
	fs.Float64Var(&o.maxRSS, "max-rss", 0, "fail if cnsbot's peak resident memory in MB is above this (0: off)")
	fs.DurationVar(&o.ready, "ready-timeout", 60*time.Second, "how long to wait for the service's /readyz")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object instead of the table")
	fs.BoolVar(&o.verbose, "v", false, "copy the service's log to stderr")
	fs.StringVar(&o.scenario, "scenario", "", `"priority": instead of the throughput run, how long new residents wait for an answer during a burst of pushes while one user floods (in process; -send-rate defaults to 50)`)
	fs.IntVar(&o.priority.Pushes, "pushes", 20000, "priority: pushes queued at once, each to another resident")
	fs.IntVar(&o.priority.Residents, "residents", 10, "priority: new residents who write during the burst")
	fs.DurationVar(&o.priority.Every, "every", 2*time.Second, "priority: between two residents' first messages")
	fs.IntVar(&o.priority.Flood, "flood", 300, "priority: messages from the one user who floods")
	fs.IntVar(&o.priority.FloodRate, "flood-rate", 30, "priority: the flooding user's messages per second")
	fs.DurationVar(&o.priority.Cap, "cap", 450*time.Second, "priority: how long to wait for the residents' answers")
	fs.IntVar(&o.priority.UserRate, "user-rate", 20, "priority: USER_RATE, one person's messages a minute handled in full (0: no limit)")
	fs.IntVar(&o.priority.UserBurst, "user-burst", 20, "priority: USER_BURST")
	fs.Func("env", "extra KEY=VALUE for the service's environment (repeatable)", func(s string) error {
		if !strings.Contains(s, "=") {
			return fmt.Errorf("want KEY=VALUE, got %q", s)
		}
		o.env = append(o.env, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	switch o.scenario {
	case "":
	case "priority":
		rateSet := false
		fs.Visit(func(f *flag.Flag) { rateSet = rateSet || f.Name == "send-rate" })
		if !rateSet {
			o.sendRate = 50
		}
		o.priority.Text = text
		if text == "" {
			o.priority.Text = "menu"
		}
	default:
		return o, fmt.Errorf(`-scenario must be "priority" or empty, got %q`, o.scenario)
	}
	switch {
	case text != "" && textsFile != "":
		return o, errors.New("-text and -texts: give one or the other")
	case text != "":
		o.load.Texts, o.load.TextsName = []string{text}, strconv.Quote(text)
	case textsFile != "":
		texts, err := readCorpus(textsFile)
		if err != nil {
			return o, fmt.Errorf("-texts: %w", err)
		}
		o.load.Texts, o.load.TextsName = texts, textsFile
	default:
		o.load.Texts, o.load.TextsName = parseCorpus(defaultCorpus), defaultCorpusName
	}
	if o.load.Users == 0 {
		o.load.Users = o.load.Events
	}
	o.load.Quiet = 500 * time.Millisecond
	if err := o.load.validate(); err != nil {
		return o, err
	}
	switch o.only {
	case "", "floor", "cnsbot":
	default:
		return o, fmt.Errorf(`-only must be "floor" or "cnsbot", got %q`, o.only)
	}
	if o.partitions < 1 {
		return o, errors.New("-partitions must be at least 1")
	}
	if o.db != "sqlite" {
		if err := loopbackURL(strings.TrimPrefix(o.db, "url:"), "5432"); err != nil {
			return o, fmt.Errorf("-db: %w", err)
		}
	}
	if o.target != "" {
		if err := loopbackURL(o.target, "80"); err != nil {
			return o, fmt.Errorf("-target: %w", err)
		}
	}
	return o, nil
}

// loopbackURL refuses a URL whose host is not on this machine.
func loopbackURL(raw, defaultPort string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("want a URL with a host, got %q", raw)
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	return requireLoopback(net.JoinHostPort(u.Hostname(), port))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "cnsbot-load:", err)
		return exitError
	}
	if o.scenario == "priority" {
		return runPriorityCmd(ctx, o, stdout, stderr)
	}
	rep, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "cnsbot-load:", err)
		return exitError
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "cnsbot-load:", err)
			return exitError
		}
	} else {
		printTable(stdout, rep)
	}
	if !rep.OK {
		return exitFailed
	}
	return exitOK
}

// Report is the whole outcome, as -json prints it.
type Report struct {
	Config reportConfig `json:"config"`
	Floor  *Result      `json:"floor,omitempty"`
	Cnsbot *Result      `json:"cnsbot,omitempty"`
	// Ratio is cnsbot's answered events/s over the floor's.
	Ratio    *float64 `json:"ratio,omitempty"`
	OK       bool     `json:"ok"`
	Failures []string `json:"failures"`
}

type reportConfig struct {
	Events    int     `json:"events"`
	Senders   int     `json:"senders"`
	Users     int     `json:"users"`
	Redeliver float64 `json:"redeliver"`
	// Text is the one text of every event, quoted, or the corpus file the
	// texts were drawn from; Texts is how many distinct texts there were.
	Text       string `json:"text"`
	Texts      int    `json:"texts"`
	Partitions int    `json:"partitions"`
	Database   string `json:"database"`
	Target     string `json:"target,omitempty"`
	Started    string `json:"started"`
}

// measure runs the targets one after the other (never together: they would
// compete for the same cores) and checks the results.
func measure(ctx context.Context, o options, progress io.Writer) (*Report, error) {
	rep := &Report{Config: reportConfig{
		Events: o.load.Events, Senders: o.load.Senders, Users: o.load.Users, Redeliver: o.load.Redeliver,
		Text: o.load.TextsName, Texts: len(o.load.Texts), Partitions: o.partitions, Database: dbKind(o.db), Target: o.target,
		Started: time.Now().UTC().Format(time.RFC3339),
	}, Failures: []string{}}

	work, err := os.MkdirTemp("", "cnsbot-load-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(work)

	wantFloor, wantService := o.only != "cnsbot", o.only != "floor"
	bin := o.bin
	if wantService && o.target == "" && bin == "" {
		// Built first so that compiling does not overlap a measurement.
		if bin, err = buildService(ctx, work, progress); err != nil {
			return nil, err
		}
	}
	var rdb *redis.Client
	if wantFloor || o.target == "" {
		opt, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		if err := requireLoopback(opt.Addr); err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		opt.PoolSize = max(opt.PoolSize, 4*o.partitions)
		rdb = redis.NewClient(opt)
		defer rdb.Close()
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = rdb.Ping(pctx).Err()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
		}
	}
	prefix := "cnsbot-load-" + strconv.FormatInt(time.Now().UnixNano(), 36)

	if wantFloor {
		fmt.Fprintln(progress, "floor: starting")
		r, err := runFloor(ctx, rdb, prefix+"-floor:", o.load, o.partitions, progress)
		if err != nil {
			return nil, err
		}
		rep.Floor = &r
	}
	if wantService {
		var r Result
		if o.target != "" {
			r, err = runExternal(ctx, o, progress)
		} else {
			r, err = runService(ctx, o, bin, rdb, prefix+":", work, progress)
		}
		if err != nil {
			return nil, err
		}
		rep.Cnsbot = &r
	}
	check(rep, o)
	return rep, nil
}

func dbKind(db string) string {
	switch {
	case db == "sqlite":
		return "sqlite"
	case strings.HasPrefix(db, "url:"):
		return "postgres (given DSN)"
	default:
		return "postgres"
	}
}

// check fills the report's verdict.
func check(rep *Report, o options) {
	for _, r := range []*Result{rep.Floor, rep.Cnsbot} {
		if r == nil {
			continue
		}
		if !r.Observed {
			continue
		}
		if r.Lost > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d acknowledged event(s) never answered", r.Target, r.Lost))
		}
		if r.DuplicateUsers > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d user(s) got %d message(s) more than their events explain",
				r.Target, r.DuplicateUsers, r.DuplicateMessages))
		}
	}
	if f, c := rep.Floor, rep.Cnsbot; f != nil && c != nil && f.Observed && c.Observed && f.AnsweredPerSec > 0 {
		ratio := c.AnsweredPerSec / f.AnsweredPerSec
		rep.Ratio = &ratio
	}
	if o.minRatio > 0 {
		switch {
		case rep.Ratio == nil:
			rep.Failures = append(rep.Failures, fmt.Sprintf("-min-ratio %.2f: no ratio (both targets must run and be answered)", o.minRatio))
		case *rep.Ratio < o.minRatio:
			rep.Failures = append(rep.Failures, fmt.Sprintf("cnsbot answered %.2f of the floor's events/s, want at least %.2f", *rep.Ratio, o.minRatio))
		}
	}
	if c := rep.Cnsbot; c != nil {
		if o.maxAckP99 > 0 && c.AckLatency.P99 > o.maxAckP99 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("cnsbot acknowledgement p99 %s, want at most %s", c.AckLatency.P99.Round(time.Microsecond), o.maxAckP99))
		}
		if o.maxRSS > 0 && c.Process != nil && c.Process.PeakRSSMB > o.maxRSS {
			rep.Failures = append(rep.Failures, fmt.Sprintf("cnsbot peak RSS %.1f MB, want at most %.0f MB", c.Process.PeakRSSMB, o.maxRSS))
		}
	}
	rep.OK = len(rep.Failures) == 0
}

// runFloor measures the floor against a fresh fake Zalo, with its keys
// under prefix (deleted afterwards).
func runFloor(ctx context.Context, rdb redis.UniversalClient, prefix string, lc loadConfig, partitions int, progress io.Writer) (Result, error) {
	fake, err := startFake("")
	if err != nil {
		return Result{}, err
	}
	defer fake.close()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteKeys(cctx, rdb, prefix); err != nil {
			fmt.Fprintln(progress, "floor: cleanup:", err)
		}
	}()
	access, _, _ := fake.zalo.Tokens()
	fl, err := startFloor(floorConfig{
		Redis: rdb, Prefix: prefix, AppID: lc.AppID, SecretKey: lc.SecretKey,
		Partitions: partitions, APIBase: fake.url, Token: access,
	})
	if err != nil {
		return Result{}, err
	}
	defer fl.close()
	d, err := newDriver(lc, fl.url, fake.rec)
	if err != nil {
		return Result{}, err
	}
	cpu0, cpuErr := redisCPU(ctx, rdb)
	r, err := d.run(ctx, "floor", true, progress)
	if cpu1, err := redisCPU(ctx, rdb); err == nil && cpuErr == nil {
		r.RedisCPUSeconds = cpu1 - cpu0
	}
	return r, err
}

// runService starts cnsbot as a child process wired to a fresh fake Zalo,
// a fresh database and its own Redis key prefix, measures it and stops it.
func runService(ctx context.Context, o options, bin string, rdb redis.UniversalClient, prefix, work string, progress io.Writer) (res Result, err error) {
	fake, err := startFake(o.fakeAddr)
	if err != nil {
		return Result{}, err
	}
	defer fake.close()
	access, refresh, _ := fake.zalo.Tokens()
	addr, err := freeAddr()
	if err != nil {
		return Result{}, err
	}
	vars := map[string]string{
		"HTTP_ADDR":          addr,
		"ZALO_APP_ID":        o.load.AppID,
		"ZALO_OA_SECRET_KEY": o.load.SecretKey,
		"ZALO_APP_SECRET":    fake.zalo.AppSecret(),
		"ZALO_ACCESS_TOKEN":  access,
		"ZALO_REFRESH_TOKEN": refresh,
		"ZALO_API_BASE":      fake.url,
		"ZALO_OAUTH_BASE":    fake.url,
		"REDIS_URL":          o.redisURL,
		"REDIS_PREFIX":       prefix,
		"DATA_DIR":           filepath.Join(work, "data"),
		"INBOX_PARTITIONS":   strconv.Itoa(o.partitions),
		"SEND_RATE":          strconv.Itoa(o.sendRate),
		"LOG_LEVEL":          "warn",
		"METRICS_TOKEN":      metricsToken(),
	}
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	cleanups = append(cleanups, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteKeys(cctx, rdb, prefix); err != nil {
			fmt.Fprintln(progress, "cnsbot: cleanup:", err)
		}
	})
	switch {
	case o.db == "sqlite":
	case strings.HasPrefix(o.db, "url:"):
		vars["DATABASE_URL"] = strings.TrimPrefix(o.db, "url:")
	default:
		dsn, drop, err := pgSchema(ctx, o.db)
		if err != nil {
			return Result{}, fmt.Errorf("-db: %w", err)
		}
		cleanups = append(cleanups, func() {
			if err := drop(); err != nil {
				fmt.Fprintln(progress, "cnsbot: cleanup:", err)
			}
		})
		vars["DATABASE_URL"] = dsn
	}

	var tee io.Writer
	if o.verbose {
		tee = progress
	}
	fmt.Fprintf(progress, "cnsbot: starting %s on %s\n", bin, addr)
	c, err := startChild(bin, childEnv(vars, o.env), addr, filepath.Join(work, "cnsbot.log"), tee)
	if err != nil {
		return Result{}, err
	}
	// Registered after the database and Redis cleanups, so it runs first:
	// the service stops before its schema and keys go.
	cleanups = append(cleanups, func() { c.stop(5 * time.Second) })
	if err := c.waitReady(ctx, o.ready); err != nil {
		return Result{}, err
	}
	sampler := startSampler(c.base+"/metrics", vars["METRICS_TOKEN"], 500*time.Millisecond)
	d, err := newDriver(o.load, c.base+"/webhooks/zalo", fake.rec)
	if err != nil {
		sampler.finish()
		return Result{}, err
	}
	cpu0, cpuErr := redisCPU(ctx, rdb)
	res, err = d.run(ctx, "cnsbot", true, progress)
	if cpu1, err := redisCPU(ctx, rdb); err == nil && cpuErr == nil {
		res.RedisCPUSeconds = cpu1 - cpu0
	}
	gMax, gEnd := sampler.finish()
	if err != nil {
		return Result{}, fmt.Errorf("%w; last service log lines:\n%s", err, c.logTail(10))
	}
	ps := &ProcessStats{GoroutinesMax: gMax, GoroutinesEnd: gEnd}
	if rss, err := peakRSS(c.cmd.Process.Pid); err == nil {
		ps.PeakRSSMB = float64(rss) / (1 << 20)
	} else {
		fmt.Fprintln(progress, "cnsbot:", err)
	}
	code, took := c.stop(30 * time.Second)
	ps.ExitCode, ps.StopSeconds = code, took.Seconds()
	if st := c.cmd.ProcessState; st != nil {
		ps.CPUSeconds = (st.UserTime() + st.SystemTime()).Seconds()
	}
	c.logLevels(ps)
	res.Process = ps
	return res, nil
}

// runExternal drives a server the caller started. Its answers are seen only
// if it was configured to reply through this run's fake Zalo.
func runExternal(ctx context.Context, o options, progress io.Writer) (Result, error) {
	fake, err := startFake(o.fakeAddr)
	if err != nil {
		return Result{}, err
	}
	defer fake.close()
	fake.zalo.SetTokens(o.token, "", time.Now().Add(zalotest.DefaultAccessTTL))
	fmt.Fprintf(progress, "cnsbot: warning: answers from %s are counted only if it runs with\n"+
		"  ZALO_API_BASE=%s ZALO_ACCESS_TOKEN=%s ZALO_APP_ID=%s ZALO_OA_SECRET_KEY=%s\n",
		o.target, fake.url, o.token, o.load.AppID, o.load.SecretKey)
	if o.fakeAddr == "" {
		fmt.Fprintln(progress, "  (the fake's port is random: pass -fake-addr to make it the same every run)")
	}
	webhook := strings.TrimRight(o.target, "/")
	if u, _ := url.Parse(o.target); u != nil && (u.Path == "" || u.Path == "/") {
		webhook += "/webhooks/zalo"
	}
	d, err := newDriver(o.load, webhook, fake.rec)
	if err != nil {
		return Result{}, err
	}
	return d.run(ctx, "cnsbot", false, progress)
}
