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

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/web"
)

// WebConfig is the part of the configuration that the simulator and the
// dashboard read; Config embeds it.
type WebConfig struct {
	// Simulator is "true" to serve the chat simulator at "/" and send every
	// reply to an in-process fake Zalo, "false" never to; unset, the
	// simulator runs when no Zalo app is configured (ZALO_APP_ID empty).
	Simulator string `env:"SIMULATOR"`
	// Demo seeds the demo dataset in Postgres too; in the embedded SQLite
	// database the simulator seeds it anyway.
	Demo bool `env:"DEMO"`
}

// simulatorOn decides whether the simulator runs.
func simulatorOn(cfg Config, wc WebConfig) (bool, error) {
	if strings.TrimSpace(wc.Simulator) == "" {
		return cfg.ZaloAppID == "", nil
	}
	on, err := strconv.ParseBool(strings.TrimSpace(wc.Simulator))
	if err != nil {
		return false, fmt.Errorf("SIMULATOR must be true or false, got %q", wc.Simulator)
	}
	return on, nil
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
// prepareWeb adjusts the configuration before the server is built, Attach
// connects them to the built server, Mount adds their routes.
type webApp struct {
	log   *slog.Logger
	wc    WebConfig
	clock *demoClock
	// sim is set when the simulator runs; fake is then the in-process
	// Zalo the bot sends to, served on fakeSrv.
	sim            bool
	fake           *zalotest.Server
	fakeSrv        *http.Server
	generatedToken string
	dashboard      *web.Dashboard
	simulator      *web.Simulator
	closeOnce      sync.Once
}

// prepareWeb decides whether the simulator runs and returns the
// configuration the server must be built with. With the simulator on, it
// starts a fake Zalo (bot/zalotest) on a loopback port under /_zalo, points
// ZALO_API_BASE and ZALO_OAUTH_BASE at it with its tokens, and makes up the
// app id, OA secret key and admin token that are not set. The fake has its
// own loopback listener rather than a route of the main server so that it
// works whatever HTTP_ADDR is (port 0, one interface) and nobody outside the
// machine can post fake replies or mint tokens.
func prepareWeb(cfg Config, wc WebConfig, log *slog.Logger) (Config, *webApp, error) {
	w := &webApp{log: log, wc: wc, clock: &demoClock{}}
	on, err := simulatorOn(cfg, wc)
	if err != nil || !on {
		return cfg, w, err
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
		return cfg, nil, fmt.Errorf("simulator: listen for the fake Zalo: %w", err)
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

// Now is the server's clock; the lead's wiring passes it to the engine,
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

// Attach connects the dashboard and the simulator to a built server: it
// creates the dashboard's table when migrations run, seeds the demo dataset
// (embedded database with the simulator on, or DEMO=true), and makes the
// fake Zalo accept the token pair the server has stored.
func (w *webApp) Attach(ctx context.Context, s *server) error {
	if s.cfg.Migrate {
		if err := s.db.MigrateDashboard(ctx); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
	}
	if (w.sim && s.db.Dialect() == store.DialectSQLite) || w.wc.Demo {
		has, err := s.db.HasDemo(ctx)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if !has {
			if err := s.db.SeedDemo(ctx, w.clock.Now().In(vietnam)); err != nil {
				return fmt.Errorf("demo data: %w", err)
			}
			s.log.Info("demo data created: two communes, five hamlets and their teams, all marked demo")
		}
	}
	var err error
	// Failed sign-ins are counted in Redis, so that every replica sees them.
	signIns := store.NewFailureLimit(s.rdb, s.cfg.RedisPrefix, web.SignInFailures, web.SignInPeriod)
	w.dashboard, err = web.NewDashboard(web.DashboardConfig{Store: s.db, Texts: s.texts, Location: vietnam, SignInLimit: signIns,
		AdminToken: s.cfg.AdminToken, Export: exporter(s.db, s.texts), Now: w.clock.Now, Log: s.log.With("component", "dashboard")})
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	if !w.sim {
		return nil
	}
	// A token pair stored by an earlier run wins over the configured one
	// (bot.Tokens reads the store first): the fake must accept it.
	if tok, err := s.db.LoadToken(ctx); err == nil {
		w.fake.SetTokens(tok.Access, tok.Refresh, tok.ExpiresAt)
	} else if cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		return fmt.Errorf("simulator: %w", err)
	}
	passes := reminder.New(s.db, s.queue, s.texts, reminder.Options{Location: vietnam, Log: s.log.With("component", "simulator")})
	cfg := web.SimConfig{
		AppID: s.cfg.ZaloAppID, SecretKey: s.cfg.ZaloOASecretKey, OAID: w.fake.OAID(),
		Personas: simPersonas(), Texts: s.texts, Location: vietnam,
		Schedule: s.db.Schedule,
		RunReminders: func(ctx context.Context, now time.Time) error {
			_, err := passes.Pass(ctx, now, false)
			return err
		},
		Names: func(ctx context.Context, id string) string {
			if p, _, err := s.db.PersonByZalo(ctx, id); err == nil {
				return p.FullName
			}
			if t, err := s.db.TeamByGroup(ctx, id); err == nil {
				return t.Name
			}
			return ""
		},
		AdminToken: w.generatedToken,
		Log:        s.log.With("component", "simulator"),
	}
	// The clock's controls only where the demo dataset is: a reminder pass
	// at a moved time claims reminders, and a claimed reminder is never
	// sent again, also to real leaders after the simulator is turned off.
	demo, err := s.db.HasDemo(ctx)
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	if demo {
		cfg.Clock = w.clock
	}
	if w.simulator, err = web.NewSimulator(cfg); err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	sim := w.simulator
	w.fake.OnMessage(func(m zalotest.Sent) { sim.Capture(replyOf(m)) })
	return nil
}

// Mount adds the dashboard's routes, the simulator's when it runs, and
// the embedded assets.
func (w *webApp) Mount(r gin.IRouter) {
	web.RegisterStatic(r)
	if w.dashboard != nil {
		w.dashboard.Register(r)
	}
	if w.simulator != nil {
		w.simulator.Register(r)
	}
}

// simPersonas are the demo dataset's personas as the simulator shows them:
// the group's messages are written by the member or the leader.
func simPersonas() []web.Persona {
	var out []web.Persona
	for _, p := range store.DemoPersonas() {
		wp := web.Persona{Key: p.Key, Name: p.Name, Role: "web.sim.role." + p.Key, ZaloUserID: p.ZaloUserID,
			GroupID: p.GroupID, Phone: p.Phone, Address: p.Address, City: p.City}
		if p.Key == store.DemoGroup {
			wp.Speakers = []string{store.DemoMember, store.DemoLeader}
		}
		out = append(out, wp)
	}
	return out
}

// replyOf turns what the fake Zalo recorded into the simulator's reply.
func replyOf(m zalotest.Sent) web.Reply {
	r := web.Reply{UserID: m.UserID, GroupID: m.GroupID, Kind: m.Kind, Text: m.Text, Subtitle: m.Subtitle,
		ImageURL: m.ImageURL, Time: m.Time}
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
		if format == "csv" {
			return report.WriteCSV(w, r, texts, lang)
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
