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
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/flows"
	flowsannounce "github.com/camau-cns/cnsbot/flows/announce"
	"github.com/camau-cns/cnsbot/flows/handoff"
	"github.com/camau-cns/cnsbot/flows/reports"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/web"
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
	cfg    Config
	log    *slog.Logger
	db     *store.DB
	rdb    redis.UniversalClient
	queue  *store.Queue
	tokens *bot.Tokens
	sender *bot.Sender
	engine *flows.Engine
	// reminders are the deadline reminder passes: River runs them, the
	// report commands record submissions, the simulator runs one at will.
	reminders *reminder.Reminders
	retention *reminder.Retention
	team      team.Deps
	resident  resident.Deps
	// guides serves the guides' current versions to the chat.
	guides  *store.GuideLibrary
	handoff handoff.Deps
	// now is the service's clock; the simulator can move it for demos.
	now     func() time.Time
	handler http.Handler
	// metrics is /metrics with its token check; served on METRICS_ADDR.
	metrics http.Handler
	closers []func()
	// web is the simulator and the dashboard; its clock is now.
	web *webApp
	// jobs queues what the scheduled jobs send (webApp.Pusher).
	jobs reminder.Pusher
	// heldDue wakes releaseHeld when held messages became due early (an
	// OA setup fault cleared).
	heldDue chan struct{}
	// announcements plans and sends officers' announcements.
	announcements *announce.Service
}

// close releases what newServer opened, the last first.
func (s *server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// newServer wires the service, top to bottom. The database comes first
// because what it holds decides whether the simulator runs, and the
// simulator changes the configuration (a fake Zalo and its settings); the
// rest is the pipeline webhook → queue → engine → queue outbox → sender,
// the flows on the engine, and the scheduled jobs.
func newServer(ctx context.Context, cfg Config, log *slog.Logger) (_ *server, err error) {
	s := &server{log: log, heldDue: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.db, err = openStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.db.Close() })
	if err := useTokenKey(ctx, cfg.PrivacyConfig, s.db, log); err != nil {
		return nil, err
	}
	if err := seedDemo(ctx, cfg, s.db, log); err != nil {
		return nil, err
	}
	if err := seedGuides(ctx, s.db, log); err != nil {
		return nil, err
	}
	s.guides = store.NewGuideLibrary(s.db, 0)
	cfg, s.web, err = startSimulator(ctx, cfg, s.db, log)
	s.closers = append(s.closers, s.web.Close)
	if err != nil {
		return nil, err
	}
	s.cfg, s.now = cfg, s.web.Now
	s.web.guides = s.guides
	rdb, closeRedis, err := store.ConnectRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return nil, fmt.Errorf("connect redis: %w", err)
	}
	s.closers = append(s.closers, func() { closeRedis() })
	s.rdb = rdb

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bm := bot.NewMetrics(reg)
	if s.queue, err = newQueue(ctx, cfg, rdb, s.db, store.NewQueueMetrics(reg), s.apology, log); err != nil {
		return nil, err
	}
	s.jobs = s.web.Pusher(s.queue)
	kept := store.NewKeptCopies(s.db, rdb, cfg.RedisPrefix)
	texts, err := locales.New()
	if err != nil {
		return nil, fmt.Errorf("load locales: %w", err)
	}
	tokens, sender, ownSends := zaloSender(cfg, s.web, s.db, rdb, kept, texts, s.now, log, bm,
		senderHooks{setupCleared: s.setupCleared, undelivered: s.undelivered(texts)})
	s.tokens, s.sender = tokens, sender
	s.engine = flows.NewEngine(s.queue, texts, flows.Options{
		PauseFor: cfg.HandoffPause, Log: log, Handoffs: s.db, Directory: s.db, Now: s.now, KindOf: bot.Kind,
		Inbound:  flows.NewPersonLimit(cfg.UserRate, cfg.UserBurst),
		OwnSends: ownSends,
	})
	s.reminders = reminder.New(s.db, s.jobs, texts, reminder.Options{Location: vietnam, Log: log.With("component", "reminders")})
	s.announcements = announce.New(s.db, s.queue, s.jobs, kept, texts, announce.Options{Log: log})
	s.retention = retention(cfg.PrivacyConfig, s.db, s.queue)
	if err := s.registerFlows(texts, kept); err != nil {
		return nil, err
	}
	s.web.announcements = s.announcements
	if err := s.web.Attach(cfg, s.db, rdb, texts, s.reminders, s.zaloAlerts); err != nil {
		return nil, err
	}
	if !cfg.webhookReady() {
		log.Warn("ZALO_APP_ID or ZALO_OA_SECRET_KEY is not set: the webhook answers 503 until both are configured")
	}
	s.handler = s.routes(reg, bm)
	return s, nil
}

// newQueue is the Redis queue of events and replies; events that fail for
// good are recorded in the database and answered with apology.
func newQueue(ctx context.Context, cfg Config, rdb redis.UniversalClient, db *store.DB, qm *store.QueueMetrics,
	apology func(context.Context, []byte, error) (cnsbot.Outgoing, bool), log *slog.Logger) (*store.Queue, error) {
	hostname, _ := os.Hostname()
	q, err := store.NewQueue(ctx, rdb, store.QueueOptions{
		Prefix:     cfg.RedisPrefix,
		Partitions: cfg.Partitions,
		ReplicaID:  fmt.Sprintf("%s-%d", hostname, os.Getpid()),
		Log:        log,
		Metrics:    qm,
		OnDead:     db.RecordDeadEvent,
		Apology:    apology,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return q, nil
}

// apology is the engine's answer to an event given up as dead; the queue
// asks for it only once it runs, after the engine exists.
func (s *server) apology(ctx context.Context, payload []byte, cause error) (cnsbot.Outgoing, bool) {
	return s.engine.Apology(ctx, payload, cause)
}

// senderHooks are what the sender tells the rest of the service.
type senderHooks struct {
	// setupCleared: Zalo takes the OA's messages again after a setup fault.
	setupCleared func(context.Context)
	// undelivered: a message was recorded as undeliverable.
	undelivered func(context.Context, cnsbot.Outgoing, int, string)
}

// zaloSender is the OA's token pair (refreshed under a lock shared by the
// replicas) and the sender that delivers replies at the shared rate,
// recording refusals in kept.
func zaloSender(cfg Config, wa *webApp, db *store.DB, rdb redis.UniversalClient, kept *store.KeptCopies,
	texts *locales.Bundle, now func() time.Time, log *slog.Logger, bm *bot.Metrics,
	hooks senderHooks) (*bot.Tokens, *bot.Sender, *store.SentIDs) {
	hc := bot.NewHTTPClient(10 * time.Second)
	tokens := bot.NewTokens(bot.TokenConfig{
		AppID:     cfg.ZaloAppID,
		AppSecret: cfg.ZaloAppSecret,
		OAuthBase: cfg.ZaloOAuthBase,
		Initial:   cnsbot.Token{Access: cfg.ZaloAccessToken, Refresh: cfg.ZaloRefreshToken},
	}, wa.TokenStore(db), store.NewLocks(rdb, cfg.RedisPrefix), hc, log, bm)
	client := bot.NewClient(cfg.ZaloAPIBase, tokens, hc, bm)
	// The ids of the bot's own messages tell their echoes from a human
	// agent's, whatever Zalo puts in admin_id.
	ownSends := store.NewSentIDs(rdb, cfg.RedisPrefix, 0)
	client.RememberSends(ownSends, log)
	sc := senderConfig(cfg, now)
	sc.Texts, sc.Capabilities, sc.InfoImageURL = texts, wa.CapabilityStore(db), cfg.infoImageURL()
	if sc.InfoImageURL == "" && wa.sim && cfg.ZaloInfoImageURL != "off" {
		// The simulator's fake Zalo wants a picture like Zalo does; the
		// browser showing the simulator loads it from this server.
		sc.InfoImageURL = localURL(cfg.HTTPAddr) + bot.InfoImagePath
	}
	sc.CommandPayloads = commandPayloads
	pics := guidePictures{db: db, base: cfg.PublicURL}
	if pics.base == "" && wa.sim {
		pics.base = localURL(cfg.HTTPAddr)
	}
	sc.Pictures = pics
	sc.OnUndeliverable = hooks.undelivered
	sc.TransactionReminders = cfg.ReminderChannel == "transaction"
	sc.OnSetupCleared = hooks.setupCleared
	sc.OptedOut = db.IsOptedOut
	sender := bot.NewSender(client, store.NewLimiter(rdb, cfg.RedisPrefix, cfg.SendRate), kept, sc, log, bm)
	return tokens, sender, ownSends
}

// registerFlows puts the flows on the engine in the order they are tried,
// and checks that every text they use exists.
func (s *server) registerFlows(texts *locales.Bundle, kept *store.KeptCopies) error {
	cfg, db, log := s.cfg, s.db, s.log
	// Report commands come first: "báo cáo quý 3" is not a visit report.
	if err := reports.Register(s.engine, reports.Deps{
		Reminders: s.reminders, Copies: kept, Texts: texts, Location: vietnam, PublicURL: cfg.PublicURL, Log: log,
	}); err != nil {
		return fmt.Errorf("register report commands: %w", err)
	}
	// Handoffs come before the team's flows, whose group handler would
	// take "#xong CODE" for a help request's.
	spans, err := handoff.ParseSpans(cfg.HandoffWorkingHours)
	if err != nil {
		return fmt.Errorf("HANDOFF_WORKING_HOURS: %w", err)
	}
	s.handoff = handoff.Deps{Store: db, People: db, Texts: texts, PauseFor: cfg.HandoffPause,
		EscalateAfter: cfg.HandoffEscalateAfter, Hours: handoff.WorkingHours{Location: vietnam, Spans: spans}, Log: log}
	if err := handoff.Register(s.engine, s.handoff); err != nil {
		return fmt.Errorf("register handoffs: %w", err)
	}
	// Team flows come before the resident's, so that a photo sent during a
	// visit report goes to the report.
	// One Zalo user's lookups of help requests by code, counted in Redis
	// across the team's and the residents' commands.
	lookups := store.NewLookupLimiter(s.rdb, cfg.RedisPrefix, cfg.CodeLookupsPerMinute, cfg.CodeLookupsPerHour)
	s.team = team.Deps{Roster: db, Teams: db, Places: db, Visits: db, HelpDesk: db, Week: db, Households: db, Positions: db, NearestFor: cfg.NearestFirstFor, Lookups: lookups,
		Texts: texts, Residents: resident.NewNotices(texts, s.queue, log), Location: vietnam, Log: log,
		Once: store.NewLocks(s.rdb, cfg.RedisPrefix),
		// Five tries at an enrol code, then one every two minutes.
		Attempts:         store.NewAttempts(s.rdb, cfg.RedisPrefix, "enrol-code", 5, 10*time.Minute),
		DoubtSharedPhone: cfg.EnrolDoubtSharedPhone}
	// Household groups before the team's group handler: a team command
	// typed among residents ("#tiendo") must not show a team's figures.
	if err := flowsannounce.Register(s.engine, flowsannounce.Deps{OptOuts: db, Hamlets: db, Log: log}); err != nil {
		return fmt.Errorf("register announcement commands: %w", err)
	}
	if err := team.Register(s.engine, s.team); err != nil {
		return fmt.Errorf("register team flows: %w", err)
	}
	s.resident = resident.Deps{Places: db, HelpDesk: db, Texts: texts, Sessions: s.queue, Log: log, Lookups: lookups,
		Feedback: db, Privacy: kept, RequestRetention: time.Duration(cfg.RetentionRequests), Guides: s.guides, Use: db}
	if err := resident.Register(s.engine, s.resident); err != nil {
		return fmt.Errorf("register resident flows: %w", err)
	}
	if err := s.engine.Check(); err != nil {
		return fmt.Errorf("check flows: %w", err)
	}
	return nil
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
		// Zalo's problems that need a person are shown, not made a 503:
		// an unready replica would stop taking webhooks too.
		if z := s.zaloHealth(); z != "" {
			status["zalo"] = z
		}
		c.JSON(code, status)
	})
	r.GET(bot.InfoImagePath, gin.WrapF(bot.ServeInfoImage))
	r.GET(guideImagePath+":sha", serveGuideImage(s.db))
	s.mountMetrics(r, reg)
	s.web.Mount(r)
	return r
}

// commandPayloads are the flows' button payloads that are commands valid at
// any step and never a step's choice (see bot.ListAsNumbered): flows'
// cmdMore (the next page) and cmdShare (the share form), which flows does
// not export. Menu, cancel, back and "a person" are not here: some steps
// offer them as choices ("huy", "menu", "nguoi"), which a number selects.
var commandPayloads = []string{"#them", "#chiase", announce.PayloadStop}

// localURL is http://host:port of a listen address, localhost when the
// address names no host.
func localURL(addr string) string {
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return "http://" + addr
}

// zaloHealth describes what about Zalo needs a person, "" when nothing.
func (s *server) zaloHealth() string {
	a := s.zaloAlerts()
	var parts []string
	if !a.Reauthorise.IsZero() {
		_, _, why := s.tokens.Health()
		parts = append(parts, fmt.Sprintf("re-authorise the OA: refresh token refused since %s (%s)", a.Reauthorise.UTC().Format(time.RFC3339), why))
	}
	if a.SetupCode != 0 {
		parts = append(parts, fmt.Sprintf("OA setup fault %d since %s: messages are held", a.SetupCode, a.SetupSince.UTC().Format(time.RFC3339)))
	}
	return strings.Join(parts, "; ")
}

// zaloAlerts is what about the OA needs a person now: /readyz says it, the
// dashboard shows it as a banner.
func (s *server) zaloAlerts() web.ZaloAlerts {
	var a web.ZaloAlerts
	if need, since, _ := s.tokens.Health(); need {
		a.Reauthorise = since
	}
	a.SetupCode, a.SetupSince = s.sender.Health()
	return a
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
	wg.Go(func() { s.every(ctx, 5*time.Minute, "handoff escalation", s.web.Guard(s.escalateHandoffs)) })
	wg.Go(func() { s.every(ctx, announceEvery, "announcements", s.web.Guard(s.dispatchAnnouncements)) })
	wg.Go(func() {
		if err := runReminders(ctx, s.cfg, s.db, s.reminders, s.retention, s.now, s.log); err != nil && !errors.Is(err, context.Canceled) {
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

// announceEvery is how often a replica looks for announcements that are
// due: an officer's "send now" goes out within it.
const announceEvery = 10 * time.Second

// dispatchAnnouncements sends the announcements that are due.
func (s *server) dispatchAnnouncements(ctx context.Context) error {
	_, err := s.announcements.Dispatch(ctx, s.now())
	return err
}

// pushNudges sends the weekly nudge to members with no activity and
// the plan's hours nudge to teams whose week falls short.
func (s *server) pushNudges(ctx context.Context) error {
	out, err := team.Nudges(ctx, s.team, s.now())
	if err != nil {
		return err
	}
	// The plan's hours are the team's: a team short of them by Friday is
	// told in its group (or its leaders are).
	teams, err := team.TeamHoursNudges(ctx, s.team, s.now())
	if err != nil {
		return err
	}
	return s.queue.Push(ctx, append(out, teams...)...)
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

// setupCleared makes the messages held for an OA setup fault due now and
// wakes releaseHeld: once Zalo takes the OA's messages again, what waited
// for it goes at once, not up to a quarter of an hour later.
func (s *server) setupCleared(ctx context.Context) {
	n, err := s.db.ExpediteHeld(ctx, bot.SetupReasons(), s.now())
	if err != nil {
		// They still go at the end of their hold.
		s.log.Error("release messages held for the setup fault", "err", err)
		return
	}
	s.log.Info("setup fault cleared: held messages released", "messages", n)
	select {
	case s.heldDue <- struct{}{}:
	default:
	}
}

// undelivered tells a team member or officer that their answer to a
// resident did not arrive (Zalo refused it for good), instead of letting it
// vanish.
func (s *server) undelivered(texts *locales.Bundle) func(context.Context, cnsbot.Outgoing, int, string) {
	return func(ctx context.Context, m cnsbot.Outgoing, code int, reason string) {
		n, ok := handoff.Undelivered(texts, m)
		if !ok {
			return
		}
		if err := s.queue.Push(ctx, n); err != nil {
			s.log.Error("tell the sender of an undeliverable answer", "code", code, "reason", reason, "err", err)
		}
	}
}

// escalateHandoffs tells team leaders and commune officers about residents
// who asked for a person and got no answer within the working hours set.
func (s *server) escalateHandoffs(ctx context.Context) error {
	out, err := handoff.Escalate(ctx, s.handoff, s.now())
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
		case <-s.heldDue:
		}
	}
}

func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	tuneGC(cfg)
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

// The service's live heap is 15-25 MB under the load test and its budget
// 100 MB of RSS, of which the binary's pages take about 37 MB, so Go's
// default GOGC=100 spends CPU on collections that memory could save: GC
// runs at 200% growth, with a soft limit of 64 MiB that makes it collect
// harder before the process nears the budget. Under the load test (issue
// 19, 8 Dec 2026) that limit took peak RSS from 105-107 MB to 97 MB at the
// same CPU; GOGC=120 alone reached 89 MB but cost 12% more CPU. A heavier
// moment (the province's report) only collects more often: the GC gives
// itself at most half the CPU. The in-process Redis of the embedded mode
// keeps its data in the heap, so there the limit stays at 120 MiB.
const (
	defaultGCPercent    = 200
	defaultMemoryLimit  = 64 << 20
	embeddedMemoryLimit = 120 << 20
)

func tuneGC(cfg Config) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit := int64(defaultMemoryLimit)
		if cfg.RedisURL == "" {
			limit = embeddedMemoryLimit
		}
		debug.SetMemoryLimit(limit)
	}
}

// servePprof serves the runtime profiles on their own listener, apart from
// the public router, for operators who measure the service.
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
