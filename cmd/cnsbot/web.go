package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/web"
)

// WebConfig is the part of the configuration that the simulator and the
// dashboard read; Config embeds it.
type WebConfig struct {
	// Simulator is "true" to serve the chat simulator at "/" and send every
	// reply to an in-process fake Zalo, "false" never to; unset, the
	// simulator runs for the newcomer's `go run ./cmd/cnsbot`: the embedded
	// database and no Zalo app (DATABASE_URL and ZALO_APP_ID empty). Either
	// way it runs only on a demo database (demoOnly).
	Simulator string `env:"SIMULATOR"`
	// Demo seeds the demo dataset in Postgres too; in the embedded SQLite
	// database the simulator seeds it anyway.
	Demo bool `env:"DEMO"`
}

// simulatorWanted reads SIMULATOR: explicit is true when the operator
// asked for the simulator by name, and serve then refuses to start rather
// than quietly run without it. Unset, the simulator is wanted only with
// neither a database nor a Zalo app configured: a DATABASE_URL is a
// deployment, whose database may hold real people even while its Zalo app
// is not set up yet.
func simulatorWanted(cfg Config, wc WebConfig) (want, explicit bool, err error) {
	v := strings.TrimSpace(wc.Simulator)
	if v == "" {
		return cfg.DatabaseURL == "" && cfg.ZaloAppID == "", false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, fmt.Errorf("SIMULATOR must be true or false, got %q", wc.Simulator)
	}
	return on, on, nil
}

// demoOnly says why the simulator must not run on a database in state st,
// or nil when it may. The simulator's fake Zalo answers every send with
// success: on a database with real people their reminders, escalations and
// notices would be recorded as delivered and never reach them.
func demoOnly(st store.DemoState) error {
	if st.RealPeople > 0 || st.RealUnits > 0 {
		return fmt.Errorf("the database holds people or places that are not the demo dataset's (people: %d, places: %d)", st.RealPeople, st.RealUnits)
	}
	if !st.Marked {
		return errors.New("the database was not created as a demo database")
	}
	return nil
}

// errSimulatorRefused is what serve says when SIMULATOR=true meets a
// database that is not a demo one: why, and what to do instead.
func errSimulatorRefused(why error) error {
	return fmt.Errorf("SIMULATOR=true refused: %w; the simulator sends every message to a fake Zalo, so real people's "+
		"reminders and escalations would count as delivered and never reach them. To serve real people, unset SIMULATOR "+
		"and set ZALO_APP_ID and ZALO_OA_SECRET_KEY. To try the simulator, unset DATABASE_URL (the embedded demo "+
		"database) or point it at a new, empty database and set DEMO=true", why)
}

// demoClock is the clock of the whole server: the real time plus an offset
// that the simulator moves (to show a deadline's reminders) and that is
// zero otherwise.
type demoClock struct{ offset atomic.Int64 }

// Now returns the real time moved by the offset.
func (c *demoClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// SetOffset moves the clock d away from the real time; 0 brings it back.
func (c *demoClock) SetOffset(d time.Duration) { c.offset.Store(int64(d)) }

// webApp is the simulator and the dashboard, wired around the server:
// startSimulator decides whether the simulator runs (and so the
// configuration), Attach builds the dashboard and the simulator's chat,
// Mount adds their routes.
type webApp struct {
	log   *slog.Logger
	db    *store.DB
	clock *demoClock
	// sim is set when the simulator runs; fake is then the in-process
	// Zalo the bot sends to, served on fakeSrv.
	sim  bool
	fake *zalotest.Server
	// guides is the chat's guide library, refreshed when an officer
	// publishes from the dashboard.
	guides         *store.GuideLibrary
	fakeSrv        *http.Server
	generatedToken string
	dashboard      *web.Dashboard
	simulator      *web.Simulator
	// announcements plans officers' announcements for the dashboard's
	// preview; set before Attach.
	announcements *announce.Service
	closeOnce     sync.Once
}

// seedDemo creates the demo dataset where it belongs: in the embedded
// database when the simulator is wanted and the database holds nothing
// else (a roster imported into it is real), and in any database with
// DEMO=true. db is open and migrated.
func seedDemo(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) error {
	want, _, err := simulatorWanted(cfg, cfg.WebConfig)
	if err != nil || (!want && !cfg.Demo) {
		return err
	}
	st, err := db.DemoState(ctx)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	empty := st.RealPeople == 0 && st.RealUnits == 0
	if st.Demo || !(cfg.Demo || (want && db.Dialect() == store.DialectSQLite && empty)) {
		return nil
	}
	if err := db.SeedDemo(ctx, time.Now().In(vietnam)); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	log.Info("demo data created: two communes, five hamlets and their teams, all marked demo")
	return nil
}

// startSimulator decides whether the simulator runs and returns the
// configuration the server must be built with; db is open, migrated and
// seeded (seedDemo). The simulator runs only on a demo database
// (demoOnly): asked for with SIMULATOR=true on any other, startSimulator
// refuses; wanted by default, it stays off and says why.
//
// With the simulator on, it starts a fake Zalo (bot/zalotest) on a loopback
// port under /_zalo, points ZALO_API_BASE and ZALO_OAUTH_BASE at it with its
// tokens, and makes up the app id, OA secret key and admin token that are
// not set. The fake has its own loopback listener rather than a route of
// the main server so that it works whatever HTTP_ADDR is (port 0, one
// interface) and nobody outside the machine can post fake replies or mint
// tokens.
func startSimulator(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) (Config, *webApp, error) {
	w := &webApp{log: log, db: db, clock: &demoClock{}}
	want, explicit, err := simulatorWanted(cfg, cfg.WebConfig)
	if err != nil || !want {
		return cfg, w, err
	}
	st, err := db.DemoState(ctx)
	if err != nil {
		return cfg, w, fmt.Errorf("demo data: %w", err)
	}
	if why := demoOnly(st); why != nil {
		if explicit {
			return cfg, w, errSimulatorRefused(why)
		}
		log.Warn("simulator off: "+why.Error()+"; set ZALO_APP_ID and ZALO_OA_SECRET_KEY to serve real people",
			"real_people", st.RealPeople, "real_places", st.RealUnits, "demo_mark", st.Marked)
		return cfg, w, nil
	}
	w.sim = true
	if cfg.ZaloAppID == "" {
		cfg.ZaloAppID = randomDigits(19)
	}
	if cfg.ZaloOASecretKey == "" {
		cfg.ZaloOASecretKey = randomHex(24)
	}
	appSecret := randomHex(24)
	w.fake = zalotest.New(zalotest.WithApp(cfg.ZaloAppID, appSecret))
	for _, p := range store.DemoPersonas() {
		if p.ZaloUserID != "" {
			w.fake.SetUserDetail(p.ZaloUserID, zalotest.UserDetail{DisplayName: p.Name})
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return cfg, w, fmt.Errorf("simulator: listen for the fake Zalo: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/_zalo/", http.StripPrefix("/_zalo", w.fake.Handler()))
	w.fakeSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := w.fakeSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator: fake Zalo stopped", "err", err)
		}
	}()
	base := "http://" + ln.Addr().String() + "/_zalo"
	cfg.ZaloAPIBase, cfg.ZaloOAuthBase = base, base
	access, refresh, _ := w.fake.Tokens()
	cfg.ZaloAccessToken, cfg.ZaloRefreshToken, cfg.ZaloAppSecret = access, refresh, appSecret
	if cfg.AdminToken == "" {
		cfg.AdminToken = randomHex(16)
		w.generatedToken = cfg.AdminToken
	}
	log.Warn("simulator on: replies go to an in-process fake Zalo, not to real users; the chat page is at / "+
		"(set SIMULATOR=false to turn it off)", "fake_zalo", base, "admin_token_generated", w.generatedToken != "")
	return cfg, w, nil
}

// guidesPublished makes this replica's guide library look again at once
// after an officer published (the others see it within their poll).
func (w *webApp) guidesPublished() {
	if w.guides != nil {
		w.guides.Refresh()
	}
}

// Now is the server's clock; newServer passes it to the engine,
// the sender, the reminder runner and the held-message pump.
func (w *webApp) Now() time.Time { return w.clock.Now() }

// Shutdown ends the simulator's long polls; serve registers it with
// http.Server.RegisterOnShutdown so that a shutdown does not wait for them.
func (w *webApp) Shutdown() {
	if w.simulator != nil {
		w.simulator.Shutdown()
	}
}

// Close stops the fake Zalo.
func (w *webApp) Close() {
	w.closeOnce.Do(func() {
		if w.fakeSrv != nil {
			_ = w.fakeSrv.Close()
		}
		if w.fake != nil {
			w.fake.Close()
		}
	})
}

// announceConfig is the dashboard's announcements page, when the server
// plans announcements.
func (w *webApp) announceConfig(db *store.DB) web.Announcements {
	if w.announcements == nil {
		return web.Announcements{}
	}
	return web.Announcements{Planner: w.announcements, Store: db}
}

// Attach builds the dashboard and, when the simulator runs, its chat;
// rem is the server's reminder passes, which the simulator can run at its
// moved clock.
func (w *webApp) Attach(cfg Config, db *store.DB, rdb redis.UniversalClient, texts *locales.Bundle, rem *reminder.Reminders,
	alerts func() web.ZaloAlerts) error {
	var err error
	// Failed sign-ins are counted in Redis, so that every replica sees them.
	signIns := store.NewFailureLimit(rdb, cfg.RedisPrefix, web.SignInFailures, web.SignInPeriod)
	w.dashboard, err = web.NewDashboard(web.DashboardConfig{Store: db, Texts: texts, Location: vietnam, SignInLimit: signIns,
		AdminToken: cfg.AdminToken, Export: exporter(db, texts), Now: w.clock.Now, Log: w.log.With("component", "dashboard"),
		EnrolCodeTTL: cfg.EnrolCodeTTL, ZaloAlerts: alerts, Guides: db, OnGuidePublished: w.guidesPublished,
		Announcements: w.announceConfig(db)})
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	if !w.sim {
		return nil
	}
	sc := web.SimConfig{
		AppID: cfg.ZaloAppID, SecretKey: cfg.ZaloOASecretKey, OAID: w.fake.OAID(),
		Personas: simPersonas(), Texts: texts, Location: vietnam,
		Schedule: db.Schedule,
		// The demo clock's controls are safe because the simulator runs on
		// a demo database only: a reminder pass at a moved time claims
		// reminders, and a claimed reminder is never sent again.
		Clock: w.clock,
		RunReminders: func(ctx context.Context, now time.Time) error {
			if err := w.demoStill(ctx); err != nil {
				return err
			}
			_, err := rem.Pass(ctx, now, false)
			return err
		},
		Names: func(ctx context.Context, id string) string {
			if p, _, err := db.PersonByZalo(ctx, id); err == nil {
				return p.FullName
			}
			if t, err := db.TeamByGroup(ctx, id); err == nil {
				return t.Name
			}
			return ""
		},
		AdminToken: w.generatedToken,
		Log:        w.log.With("component", "simulator"),
	}
	if w.simulator, err = web.NewSimulator(sc); err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	sim := w.simulator
	w.fake.OnMessage(func(m zalotest.Sent) { sim.Capture(replyOf(m)) })
	return nil
}

// Defence in depth: startSimulator lets the simulator run on a demo database
// only, but people can be imported into it while it runs. The parts below
// keep the fake Zalo away from anything real whatever the database holds.

// TokenStore is where the server keeps the OA's token pair: db, or with the
// simulator on a store in memory, so that the fake Zalo's pair never
// overwrites a real OA's pair in the database.
func (w *webApp) TokenStore(db bot.TokenStore) bot.TokenStore {
	if w.sim {
		return &bot.MemoryTokens{}
	}
	return db
}

// CapabilityStore is where the sender keeps what the OA's Zalo accepts:
// db, or with the simulator memory, so that what the fake Zalo accepts never
// stands for a real OA's.
func (w *webApp) CapabilityStore(db bot.CapabilityStore) bot.CapabilityStore {
	if w.sim {
		return &bot.MemoryCapabilities{}
	}
	return db
}

// demoStill returns an error when the simulator runs and the database is no
// longer a demo one.
func (w *webApp) demoStill(ctx context.Context) error {
	if !w.sim {
		return nil
	}
	st, err := w.db.DemoState(ctx)
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	if why := demoOnly(st); why != nil {
		return fmt.Errorf("simulator: %w: scheduled messages are not sent to its fake Zalo; restart without SIMULATOR", why)
	}
	return nil
}

// Guard wraps a scheduled job that records what it sends (escalations,
// nudges): with the simulator on, a pass runs only while the database is a
// demo one, so that nothing real is marked as done through the fake Zalo.
func (w *webApp) Guard(job func(context.Context) error) func(context.Context) error {
	if !w.sim {
		return job
	}
	return func(ctx context.Context) error {
		if err := w.demoStill(ctx); err != nil {
			return err
		}
		return job(ctx)
	}
}

// Pusher is what the scheduled jobs queue their messages on: p, or with
// the simulator on, p behind demoStill. A reminder pass whose push fails
// leaves its reminders planned, and a later pass on the real Zalo sends
// them.
func (w *webApp) Pusher(p reminder.Pusher) reminder.Pusher {
	if !w.sim {
		return p
	}
	return guardedPusher{p: p, w: w}
}

type guardedPusher struct {
	p reminder.Pusher
	w *webApp
}

func (g guardedPusher) Push(ctx context.Context, out ...cnsbot.Outgoing) error {
	if err := g.w.demoStill(ctx); err != nil {
		return err
	}
	return g.p.Push(ctx, out...)
}

// Mount adds the dashboard's routes, the simulator's when it runs, and
// the embedded assets; Attach has built them.
func (w *webApp) Mount(r gin.IRouter) {
	web.RegisterStatic(r)
	w.dashboard.Register(r)
	if w.simulator != nil {
		w.simulator.Register(r)
		fake := w.fake
		r.GET(simUploadPath+":id", func(c *gin.Context) {
			up, ok := fake.Uploaded(c.Param("id"))
			if !ok {
				c.Status(http.StatusNotFound)
				return
			}
			c.Data(http.StatusOK, up.ContentType, up.Data)
		})
	}
}

// simUploadPath serves the pictures uploaded to the simulator's fake Zalo,
// as Zalo shows an uploaded picture in the chat.
const simUploadPath = "/_sim/uploads/"

// simPersonas are the demo dataset's personas as the simulator shows them:
// the group's messages are written by the member or the leader.
func simPersonas() []web.Persona {
	var out []web.Persona
	for _, p := range store.DemoPersonas() {
		wp := web.Persona{Key: p.Key, Name: p.Name, Role: "web.sim.role." + p.Key, ZaloUserID: p.ZaloUserID,
			GroupID: p.GroupID, Phone: p.Phone, Address: p.Address, City: p.City}
		switch p.Key {
		case store.DemoGroup:
			wp.Speakers = []string{store.DemoMember, store.DemoLeader}
		case store.DemoHouseholds:
			wp.Speakers = []string{store.DemoResident, store.DemoMember}
		}
		out = append(out, wp)
	}
	return out
}

// replyOf turns what the fake Zalo recorded into the simulator's reply.
func replyOf(m zalotest.Sent) web.Reply {
	r := web.Reply{UserID: m.UserID, GroupID: m.GroupID, Kind: m.Kind, Text: m.Text, Subtitle: m.Subtitle,
		ImageURL: m.ImageURL, Time: m.Time}
	if m.AttachmentID != "" {
		// A picture uploaded to the fake Zalo: the browser gets it here.
		r.ImageURL = simUploadPath + m.AttachmentID
	}
	for _, b := range m.Buttons {
		r.Buttons = append(r.Buttons, web.ReplyButton{Title: b.Title, Payload: b.Payload, URL: b.URL, Phone: b.Phone})
	}
	return r
}

// exporter writes the quarterly report with the report package.
func exporter(db *store.DB, texts report.Texts) web.Exporter {
	return func(ctx context.Context, w io.Writer, quarter, commune, format, lang string) error {
		r, err := report.Build(ctx, db, quarter, commune, vietnam)
		if err != nil {
			return err
		}
		switch format {
		case web.ExportCSV:
			return report.WriteCSV(w, r, texts, lang)
		case web.ExportCSVVietnamese:
			return report.WriteCSVVietnamese(w, r, texts, lang)
		}
		return report.WriteXLSX(w, r, texts, lang)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomDigits makes an id shaped like Zalo's: n digits, no leading zero.
func randomDigits(n int) string {
	var b strings.Builder
	for i := range n {
		lo := int64(0)
		if i == 0 {
			lo = 1
		}
		d, _ := rand.Int(rand.Reader, big.NewInt(10-lo))
		b.WriteByte(byte('0' + lo + d.Int64()))
	}
	return b.String()
}
