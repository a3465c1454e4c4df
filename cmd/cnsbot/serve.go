package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/reports"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// vietnam is the time zone of every schedule and quiet hour.
var vietnam = mustLoadLocation("Asia/Ho_Chi_Minh")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("load time zone %s: %v", name, err))
	}
	return loc
}

// server is the wired service: everything serve starts and stops.
type server struct {
	cfg      Config
	log      *slog.Logger
	db       *store.DB
	rdb      redis.UniversalClient
	queue    *store.Queue
	tokens   *bot.Tokens
	sender   *bot.Sender
	engine   *flows.Engine
	texts    *locales.Bundle
	team     team.Deps
	resident resident.Deps
	// now is the service's clock; the simulator can move it for demos.
	now     func() time.Time
	handler http.Handler
	// metrics is /metrics with its token check; served on METRICS_ADDR.
	metrics http.Handler
	close   func()
	// web is the simulator and the dashboard; its clock is now.
	web *webApp
	// jobs queues what the scheduled jobs send (webApp.Pusher).
	jobs reminder.Pusher
}

// newServer connects to the database and Redis and wires the pipeline:
// webhook → queue → engine → queue outbox → sender.
func newServer(ctx context.Context, cfg Config, log *slog.Logger) (*server, error) {
	s := &server{cfg: cfg, log: log}
	var closers []func()
	s.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*server, error) { s.close(); return nil, err }

	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return fail(fmt.Errorf("open database: %w", err))
	}
	closers = append(closers, func() { db.Close() })
	s.db = db
	if cfg.Migrate {
		if err := db.Migrate(ctx); err != nil {
			return fail(fmt.Errorf("migrate: %w", err))
		}
	}
	if err := useTokenKey(ctx, cfg.PrivacyConfig, db, log); err != nil {
		return fail(err)
	}
	// The simulator (and so the whole configuration) depends on what the
	// database holds: prepareWeb runs once it is open and migrated.
	cfg, web, err := prepareWeb(ctx, cfg, db, log)
	closers = append(closers, web.Close)
	if err != nil {
		return fail(err)
	}
	s.cfg, s.now, s.web = cfg, web.Now, web
	rdb, closeRedis, err := store.ConnectRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return fail(fmt.Errorf("connect redis: %w", err))
	}
	closers = append(closers, func() { closeRedis() })
	s.rdb = rdb

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bm := bot.NewMetrics(reg)
	qm := store.NewQueueMetrics(reg)

	hostname, _ := os.Hostname()
	s.queue, err = store.NewQueue(ctx, rdb, store.QueueOptions{
		Prefix:     cfg.RedisPrefix,
		Partitions: cfg.Partitions,
		ReplicaID:  fmt.Sprintf("%s-%d", hostname, os.Getpid()),
		Log:        log,
		Metrics:    qm,
		OnDead:     db.RecordDeadEvent,
		// The engine exists before the queue runs.
		Apology: func(ctx context.Context, payload []byte, cause error) (cnsbot.Outgoing, bool) {
			return s.engine.Apology(ctx, payload, cause)
		},
	})
	if err != nil {
		return fail(fmt.Errorf("queue: %w", err))
	}
	s.jobs = web.Pusher(s.queue)

	hc := bot.NewHTTPClient(10 * time.Second)
	s.tokens = bot.NewTokens(bot.TokenConfig{
		AppID:     cfg.ZaloAppID,
		AppSecret: cfg.ZaloAppSecret,
		OAuthBase: cfg.ZaloOAuthBase,
		Initial:   cnsbot.Token{Access: cfg.ZaloAccessToken, Refresh: cfg.ZaloRefreshToken},
	}, web.TokenStore(db), store.NewLocks(rdb, cfg.RedisPrefix), hc, log, bm)
	client := bot.NewClient(cfg.ZaloAPIBase, s.tokens, hc, bm)
	// The ids of the bot's own messages tell their echoes from a human
	// agent's, whatever Zalo puts in admin_id.
	ownSends := store.NewSentIDs(rdb, cfg.RedisPrefix, 0)
	client.RememberSends(ownSends, log)
	kept := store.NewKeptCopies(db, rdb, cfg.RedisPrefix)
	s.sender = bot.NewSender(client, store.NewLimiter(rdb, cfg.RedisPrefix, cfg.SendRate), kept,
		senderConfig(cfg, s.now), log, bm)

	texts, err := locales.New()
	if err != nil {
		return fail(fmt.Errorf("load locales: %w", err))
	}
	s.texts = texts
	s.engine = flows.NewEngine(s.queue, texts, flows.Options{
		PauseFor: cfg.HandoffPause, Log: log, Handoffs: db, Directory: db, Now: s.now, KindOf: bot.Kind,
		Inbound:  flows.NewPersonLimit(cfg.UserRate, cfg.UserBurst),
		OwnSends: ownSends,
	})
	// Report commands come first: "báo cáo quý 3" is not a visit report.
	rem := reminder.New(db, s.jobs, texts, reminder.Options{Location: vietnam, Log: log})
	if err := reports.Register(s.engine, reports.Deps{
		Reminders: rem, Copies: kept, Texts: texts, Location: vietnam, PublicURL: cfg.PublicURL, Log: log,
	}); err != nil {
		return fail(fmt.Errorf("register report commands: %w", err))
	}
	// Team flows come before the resident's, so that a photo sent during a
	// visit report goes to the report.
	// One Zalo user's lookups of help requests by code, counted in Redis
	// across the team's and the residents' commands.
	lookups := store.NewLookupLimiter(rdb, cfg.RedisPrefix, cfg.CodeLookupsPerMinute, cfg.CodeLookupsPerHour)
	s.team = team.Deps{Roster: db, Teams: db, Places: db, Visits: db, HelpDesk: db, Week: db, Lookups: lookups,
		Texts: texts, Residents: resident.NewNotices(texts, s.queue, log), Location: vietnam, Log: log,
		Once: store.NewLocks(rdb, cfg.RedisPrefix),
		// Five tries at an enrol code, then one every two minutes.
		Attempts:         store.NewAttempts(rdb, cfg.RedisPrefix, "enrol-code", 5, 10*time.Minute),
		DoubtSharedPhone: cfg.EnrolDoubtSharedPhone}
	if err := team.Register(s.engine, s.team); err != nil {
		return fail(fmt.Errorf("register team flows: %w", err))
	}
	s.resident = resident.Deps{Places: db, HelpDesk: db, Texts: texts, Sessions: s.queue, Log: log, Lookups: lookups,
		Feedback: db, Privacy: kept, RequestRetention: time.Duration(cfg.RetentionRequests)}
	if err := resident.Register(s.engine, s.resident); err != nil {
		return fail(fmt.Errorf("register resident flows: %w", err))
	}
	if err := s.engine.Check(); err != nil {
		return fail(fmt.Errorf("check flows: %w", err))
	}
	if err := web.Attach(ctx, s); err != nil {
		return fail(err)
	}

	if !cfg.webhookReady() {
		log.Warn("ZALO_APP_ID or ZALO_OA_SECRET_KEY is not set: the webhook answers 503 until both are configured")
	}
	s.handler = s.routes(reg, bm)
	return s, nil
}

// readyWriteEvery is how often /readyz writes to the database to prove it
// can; between writes it answers from the last one.
const readyWriteEvery = 5 * time.Second

func (s *server) routes(reg *prometheus.Registry, bm *bot.Metrics) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	// Only the proxies named in TRUSTED_PROXIES may say who the client is
	// (validated with the configuration): the sign-in limit counts per client.
	_ = r.SetTrustedProxies(s.cfg.trustedProxies())
	bot.NewWebhook(bot.WebhookConfig{
		AppID:           s.cfg.ZaloAppID,
		SecretKey:       s.cfg.ZaloOASecretKey,
		MaxAge:          s.cfg.WebhookMaxAge,
		VerifierFile:    s.cfg.ZaloVerifierFile,
		VerifierContent: s.cfg.ZaloVerifierContent,
	}, s.queue, s.log, bm).Register(r)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	// Ready means able to work, not only to answer: a database that answers
	// pings but refuses writes stops reminders and retries events forever.
	writes := store.NewWriteProbe(s.db, readyWriteEvery, s.log)
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		status := gin.H{"database": "ok", "redis": "ok"}
		code := http.StatusOK
		if err := s.db.Ping(ctx); err != nil {
			status["database"], code = "down", http.StatusServiceUnavailable
		} else if err := writes.Check(ctx); err != nil {
			status["database"], code = "cannot write", http.StatusServiceUnavailable
		}
		if err := s.rdb.Ping(ctx).Err(); err != nil {
			status["redis"], code = "down", http.StatusServiceUnavailable
		}
		c.JSON(code, status)
	})
	s.mountMetrics(r, reg)
	s.web.Mount(r)
	return r
}

// runWorkers processes the queue, refreshes the token and releases held
// messages until ctx ends; it returns when all in-flight work is finished.
func (s *server) runWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.db.WatchRoster(ctx, store.RosterPoll) })
	wg.Go(func() {
		if err := s.queue.Run(ctx, s.engine.HandleEvent, s.sender.Deliver); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("queue stopped", "err", err)
		}
	})
	if s.cfg.ZaloAppSecret != "" {
		wg.Go(func() { s.tokens.RunRefresher(ctx) })
	}
	wg.Go(func() { s.releaseHeld(ctx) })
	wg.Go(func() { s.every(ctx, time.Hour, "nudges", s.web.Guard(s.pushNudges)) })
	wg.Go(func() { s.every(ctx, 10*time.Minute, "help request escalation", s.web.Guard(s.escalateStale)) })
	wg.Go(func() {
		if err := runReminders(ctx, s.cfg, s.db, s.jobs, s.queue, s.texts, s.now, s.log); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("reminders stopped", "err", err)
		}
	})
	wg.Wait()
}

// every runs f now and then at each interval until ctx ends.
func (s *server) every(ctx context.Context, interval time.Duration, what string, f func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := f(ctx); err != nil && ctx.Err() == nil {
			s.log.Error(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pushNudges sends the weekly nudge to members with no activity.
func (s *server) pushNudges(ctx context.Context) error {
	out, err := team.Nudges(ctx, s.team, s.now())
	if err != nil {
		return err
	}
	return s.queue.Push(ctx, out...)
}

// escalateStale tells team leaders and commune officers about help
// requests nobody took within 48 hours.
func (s *server) escalateStale(ctx context.Context) error {
	out, err := resident.EscalateStale(ctx, s.resident, s.now())
	if err != nil {
		return err
	}
	return s.queue.Push(ctx, out...)
}

// releaseHeld moves messages held for the night (or for any stored
// not-before time) back into the outbox once they are due.
func (s *server) releaseHeld(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		due, err := s.db.DueHeld(ctx, s.now(), 500)
		if err != nil && ctx.Err() == nil {
			s.log.Error("load held messages", "err", err)
		}
		for _, m := range due {
			if err := s.jobs.Push(ctx, m); err != nil {
				s.log.Error("release held message", "id", m.ID, "err", err)
				break
			}
			if err := s.db.MarkReleased(ctx, m.ID); err != nil {
				s.log.Error("mark held message released", "id", m.ID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	tuneGC()
	s, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.close()

	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(s.web.Shutdown)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	workersDone := make(chan struct{})
	go func() { s.runWorkers(workCtx); close(workersDone) }()

	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, s.metrics, log)
		if err != nil {
			stopWork()
			<-workersDone
			return err
		}
		defer stopMetrics()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("cnsbot serving", "addr", cfg.HTTPAddr, "version", version,
		"database", s.db.Dialect(), "redis", cfg.RedisURL != "")

	select {
	case err := <-errc:
		stopWork()
		<-workersDone
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight work")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	stopWork()
	select {
	case <-workersDone:
	case <-shutdownCtx.Done():
		log.Error("workers did not finish before the shutdown timeout")
	}
	return nil
}

func migrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.Info("migrations applied", "database", db.Dialect())
	return nil
}

// servePprof serves the runtime profiles on their own listener, apart from
// the public router, for operators who measure the service.
// The service's live heap is a few tens of megabytes while its budget is
// 150 MB, so the default GOGC=100 spends CPU on collections that memory
// could save: under the load test, GOGC=300 took 3-5% off the process's
// CPU on a 2-core machine. Unless the operator set them, GC runs at 200% growth,
// with a soft limit that makes it collect harder before the heap nears the
// budget.
const (
	defaultGCPercent   = 200
	defaultMemoryLimit = 120 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Info("pprof serving", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof stopped", "err", err)
	}
}

// senderConfig is the sender's clock and quiet hours; LoadConfig has
// checked PUSH_QUIET_HOURS already.
func senderConfig(cfg Config, now func() time.Time) bot.SenderConfig {
	sc := bot.SenderConfig{Location: vietnam, Now: now}
	start, end, off, err := cfg.quietHours()
	switch {
	case off:
		sc.NoQuiet = true
	case err == nil:
		sc.QuietStart, sc.QuietEnd = start, end
	}
	return sc
}
