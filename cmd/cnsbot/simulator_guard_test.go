package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// The attack of issue 11 item 3: with DATABASE_URL set and ZALO_APP_ID
// unset, the simulator switched itself on against a database with real
// people, published a generated admin token on "/", refreshed the real OA
// token pair through its fake Zalo and marked real escalations delivered.

// realDatabase is a deployment's Postgres as the attacker found it: a
// province, a commune and a hamlet with their team and leader, and the
// OA's token pair, stored and due for a refresh. Zalo's endpoints point at
// a local stand-in so that nothing leaves the machine.
func realDatabase(t *testing.T) (Config, *store.DB) {
	t.Helper()
	ctx := context.Background()
	cfg := postgresConfig(t)
	z := zalotest.New()
	t.Cleanup(z.Close)
	cfg.ZaloAPIBase, cfg.ZaloOAuthBase = z.URL(), z.URL()
	db := openDatabase(t, cfg)
	now := time.Now()
	unit := func(kind, name string, parent *int64) cnsbot.Unit {
		u := cnsbot.Unit{Kind: kind, Name: name, Folded: strings.ToLower(name), ParentID: parent, Households: 120}
		if err := store.Insert(context.Background(), db, &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	province := unit(cnsbot.UnitProvince, "Tinh That", nil)
	commune := unit(cnsbot.UnitCommune, "Xa That", &province.ID)
	hamlet := unit(cnsbot.UnitHamlet, "Ap That", &commune.ID)
	team := cnsbot.Team{HamletID: hamlet.ID, Name: "To Ap That", Code: "THAT01", CreatedAt: now, UpdatedAt: now}
	if err := store.Insert(context.Background(), db, &team); err != nil {
		t.Fatal(err)
	}
	zalo := "1234567890123456789"
	leader := cnsbot.Person{FullName: "Nguoi That", Phone: "+84913000001", ZaloUserID: &zalo, Lang: "vi"}
	if err := store.Insert(context.Background(), db, &leader); err != nil {
		t.Fatal(err)
	}
	if err := store.Insert(context.Background(), db, &cnsbot.Role{PersonID: leader.ID, Role: cnsbot.RoleLeader, UnitID: hamlet.ID, TeamID: &team.ID, Approved: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveToken(ctx, cnsbot.Token{Access: "real-access", Refresh: "real-refresh", ExpiresAt: now.Add(20 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return cfg, db
}

// openDatabase opens and migrates cfg's database, as newServer does.
func openDatabase(t *testing.T, cfg Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg.DatabaseURL, cfg.DataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// tokenRow reads the stored token pair as it is in the table.
func tokenRow(t *testing.T, db *store.DB) store.OAToken {
	t.Helper()
	var row store.OAToken
	storetest.Scan(t, db, "SELECT id, access, refresh, expires_at, updated_at FROM oa_tokens", nil,
		&row.ID, &row.Access, &row.Refresh, &row.ExpiresAt, &row.UpdatedAt)
	return row
}

func TestSimulatorNotOnWithDatabaseURL(t *testing.T) {
	cfg, db := realDatabase(t)
	before := tokenRow(t, db)

	r := startWeb(t, cfg, WebConfig{})
	if r.web.sim || r.web.generatedToken != "" || r.cfg.AdminToken != "" {
		t.Fatalf("DATABASE_URL without ZALO_APP_ID: got simulator %v, generated admin token %v; want neither",
			r.web.sim, r.web.generatedToken != "")
	}
	resp, err := http.Get(r.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || strings.Contains(string(page), "persona-") {
		t.Errorf("GET /: status %d, want no simulator page", resp.StatusCode)
	}
	resp, err = http.Post(r.url+"/webhooks/zalo", "application/json", strings.NewReader(`{"event_name":"user_send_text"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("webhook without a Zalo app: status %d, want 503", resp.StatusCode)
	}
	// The workers had the time to refresh the pair, which was due.
	time.Sleep(time.Second)
	r.stop()
	if after := tokenRow(t, db); after != before {
		t.Errorf("the stored token pair changed: %q/%q → %q/%q", before.Access, before.Refresh, after.Access, after.Refresh)
	}
}

func TestSimulatorRefusedOnRealDatabase(t *testing.T) {
	cfg, db := realDatabase(t)
	before := tokenRow(t, db)
	cfg.WebConfig = WebConfig{Simulator: "true"}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var logs syncBuffer
	err := serve(ctx, cfg, newLogger(&logs, slog.LevelInfo))
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve with SIMULATOR=true on a database with real people: got %v, want a refusal at once", err)
	}
	for _, want := range []string{"SIMULATOR=true refused", "not the demo dataset's (people: 1, places: 3)", "unset SIMULATOR", "DEMO=true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q: want it to say %q", err, want)
		}
	}
	if after := tokenRow(t, db); after != before {
		t.Errorf("the stored token pair changed: %q/%q → %q/%q", before.Access, before.Refresh, after.Access, after.Refresh)
	}

	// An empty database that was not created with the demo dataset is
	// refused too: nothing says it will stay empty.
	empty := postgresConfig(t)
	empty.WebConfig = WebConfig{Simulator: "true"}
	err = serve(ctx, empty, newLogger(&logs, slog.LevelInfo))
	if err == nil || !strings.Contains(err.Error(), "not created as a demo database") {
		t.Errorf("SIMULATOR=true on an empty database: got %v, want a refusal", err)
	}
}

func TestSimulatorOnMarkedDemoDatabase(t *testing.T) {
	ctx := context.Background()
	cfg := postgresConfig(t)
	// Created with DEMO=true: the dataset and the mark.
	first := startWeb(t, cfg, WebConfig{Simulator: "false", Demo: true})
	first.stop()
	db := openDatabase(t, cfg)
	if err := db.SaveToken(ctx, cnsbot.Token{Access: "stored-access", Refresh: "stored-refresh", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before := tokenRow(t, db)

	r := startWeb(t, cfg, WebConfig{Simulator: "true"})
	if !r.web.sim {
		t.Fatal("SIMULATOR=true on a database created as a demo: the simulator is off")
	}
	if st := call(t, http.MethodGet, r.url+"/sim/api/clock", "", nil, nil); st != http.StatusOK {
		t.Errorf("clock controls: status %d, want 200", st)
	}
	stale, err := r.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := r.tokens.Refresh(ctx, stale)
	if err != nil || fresh == stale {
		t.Fatalf("refresh through the fake Zalo: got %v, %v; want a new token", fresh == stale, err)
	}
	if after := tokenRow(t, db); after != before {
		t.Errorf("the simulator's refresh wrote the token table: %q/%q → %q/%q", before.Access, before.Refresh, after.Access, after.Refresh)
	}
}

// TestSimulatorJobsStopOnRealPeople: people imported into the demo
// database while the simulator runs are not sent escalations or reminders
// through the fake Zalo, nor are their requests marked as escalated.
func TestSimulatorJobsStopOnRealPeople(t *testing.T) {
	for _, real := range []bool{false, true} {
		name := map[bool]string{false: "demo only", true: "real people imported"}[real]
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			r := startSim(t, embeddedConfig(t), &logs, func(s *server) {
				if !real {
					return
				}
				u := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xa That", Folded: "xa that"}
				if err := store.Insert(context.Background(), s.db, &u); err != nil {
					t.Fatal(err)
				}
			})
			ctx := context.Background()
			// The demo's request open for 75 hours in Ấp Tân Hòa.
			escalated := func() bool {
				var n int
				storetest.Scan(t, r.db, "SELECT COUNT(*) FROM help_requests WHERE source_event = $1 AND escalated_at IS NOT NULL",
					[]any{"demo-help-htdm2a"}, &n)
				return n == 1
			}
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) && !escalated() && !strings.Contains(logs.String(), "not the demo dataset") {
				time.Sleep(50 * time.Millisecond)
			}
			if got := escalated(); got != !real {
				t.Fatalf("the stale demo request escalated: %v, want %v", got, !real)
			}
			if !real {
				return
			}
			if n := len(r.web.fake.MessagesTo("8100000000000000121")); n != 0 {
				t.Errorf("the fake Zalo got %d messages for the leader of Ấp Tân Hòa, want none", n)
			}
			if st := call(t, http.MethodPost, r.url+"/sim/api/clock", "", map[string]string{"to": "7d"}, nil); st != http.StatusOK {
				t.Fatalf("jump: status %d", st)
			}
			if st := call(t, http.MethodPost, r.url+"/sim/api/reminders", "", map[string]string{}, nil); st == http.StatusOK {
				t.Errorf("reminder pass with real places in the database: status %d, want a refusal", st)
			}
			// A reminder the River pass claimed stays planned, for a later
			// pass on the real Zalo; none is recorded as queued or sent.
			var sent int64
			storetest.Scan(t, r.db, "SELECT COUNT(*) FROM reminder_deliveries WHERE state IN ($1, $2, $3)",
				[]any{calendar.StateQueued, calendar.StateSent, calendar.StateFallback}, &sent)
			if sent != 0 {
				t.Errorf("%d reminders recorded as queued or sent, want none", sent)
			}
			if n := len(r.web.fake.MessagesTo("8100000000000000003")); n != 0 {
				t.Errorf("the fake Zalo got %d messages for the demo leader, want none", n)
			}
			// The jobs' pusher refuses too (the River pass and the held
			// messages push through it).
			if err := r.jobs.Push(ctx, cnsbot.Outgoing{ID: "x", To: cnsbot.Recipient{UserID: "8100000000000000003"}, Kind: cnsbot.MsgText, Text: "x"}); err == nil {
				t.Error("the jobs' pusher queued a message with real places in the database")
			}
		})
	}
}

// startSim is startWeb with the log kept and a hook between wiring and the
// workers' start.
func startSim(t *testing.T, cfg Config, logs *syncBuffer, before func(*server)) *webServer {
	t.Helper()
	s, err := newServer(context.Background(), cfg, newLogger(logs, slog.LevelInfo))
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	before(s)
	ts := httptest.NewServer(s.handler)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.runWorkers(wctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ts.Close()
			cancel()
			<-done
			s.close()
		})
	}
	t.Cleanup(stop)
	return &webServer{server: s, web: s.web, url: ts.URL, stop: stop}
}
