package bot_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

func TestConcurrentCallersRefreshOnce(t *testing.T) {
	tests := []struct {
		name     string
		replicas int
		callers  int
	}{
		{"two callers, one process", 1, 2},
		{"two replicas", 2, 1},
		{"many callers on three replicas", 3, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newZalo(t)
			var clients []*bot.Client
			for range tt.replicas {
				clients = append(clients, bot.NewClient(s.z.URL(), s.newTokens(bot.TokenConfig{}), nil, nil))
			}
			// Every replica has the token cached before it goes stale.
			for _, c := range clients {
				if _, err := c.SendText(context.Background(), cnsbot.Recipient{UserID: "warm"}, "x"); err != nil {
					t.Fatal(err)
				}
			}
			s.z.ExpireToken()
			var wg sync.WaitGroup
			errs := make(chan error, tt.replicas*tt.callers)
			for _, c := range clients {
				for range tt.callers {
					wg.Go(func() {
						_, err := c.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "x")
						errs <- err
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("send: %v", err)
				}
			}
			if n := s.z.Refreshes(); n != 1 {
				t.Errorf("got %d refreshes, want 1", n)
			}
			if n := len(s.z.MessagesTo("u1")); n != tt.replicas*tt.callers {
				t.Errorf("got %d messages, want %d", n, tt.replicas*tt.callers)
			}
			if _, saves := s.store.get(); saves != 1 {
				t.Errorf("got %d saves, want 1", saves)
			}
		})
	}
}

func TestRefreshSavesBeforeUse(t *testing.T) {
	s := newZalo(t)
	var sentBeforeSave int
	z := s.z
	s.store.set(func(st *memTokenStore) { st.saveErr = nil })
	saving := &savingStore{memTokenStore: s.store, onSave: func() { sentBeforeSave = z.Count() }}
	tokens := bot.NewTokens(bot.TokenConfig{AppID: z.AppID(), AppSecret: z.AppSecret(), OAuthBase: z.URL()}, saving, s.lock, nil, nil, nil)
	c := bot.NewClient(z.URL(), tokens, nil, nil)
	z.ExpireToken()
	if _, err := c.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "x"); err != nil {
		t.Fatal(err)
	}
	if sentBeforeSave != 0 || z.Count() != 1 {
		t.Errorf("got %d messages before the save and %d after, want 0 and 1", sentBeforeSave, z.Count())
	}
}

// savingStore calls onSave when a pair is saved.
type savingStore struct {
	*memTokenStore
	onSave func()
}

func (s *savingStore) SaveToken(ctx context.Context, t cnsbot.Token) error {
	s.onSave()
	return s.memTokenStore.SaveToken(ctx, t)
}

func TestRefreshTokenReused(t *testing.T) {
	s := newZalo(t)
	_, spent, _ := s.z.Tokens()
	// Someone refreshes behind the store's back: the stored refresh token is spent.
	other := bot.NewTokens(bot.TokenConfig{AppID: s.z.AppID(), AppSecret: s.z.AppSecret(), OAuthBase: s.z.URL()},
		&memTokenStore{tok: cnsbot.Token{Access: "x", Refresh: spent}, has: true}, nil, nil, nil, nil)
	if _, err := other.Refresh(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.store.get()
	_, err := s.tokens.Refresh(context.Background(), stored.Access)
	if bot.Code(err) != -14020 {
		t.Fatalf("got %v, want error -14020", err)
	}
	if bot.Classify(err) != bot.ClassRetry {
		t.Errorf("got class %v, want retry (messages wait for re-authorisation)", bot.Classify(err))
	}
	if got := counterValue(t, s.m.TokenRefreshes.WithLabelValues("error")); got != 1 {
		t.Errorf("got %v failed refreshes counted, want 1", got)
	}
	if st, _ := s.store.get(); st.Refresh != spent {
		t.Errorf("stored pair changed after a failed refresh")
	}
}

func TestTokenAnswerShapes(t *testing.T) {
	tests := []struct {
		name  string
		shape zalotest.TokenShape
		want  time.Duration
	}{
		{"top level, string expires_in", zalotest.ShapeTopLevel, 90000 * time.Second},
		{"top level, number expires_in", zalotest.ShapeTopLevelNumber, 90000 * time.Second},
		{"under data", zalotest.ShapeData, 90000 * time.Second},
		{"no expires_in", zalotest.ShapeNoExpiry, 3600 * time.Second},
	}
	now := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newZalo(t)
			s.z.SetTokenShape(tt.shape)
			tokens := s.newTokens(bot.TokenConfig{Now: func() time.Time { return now }})
			stored, _ := s.store.get()
			got, err := tokens.Refresh(context.Background(), stored.Access)
			if err != nil {
				t.Fatal(err)
			}
			access, refresh, _ := s.z.Tokens()
			st, _ := s.store.get()
			if got != access || st.Access != access || st.Refresh != refresh {
				t.Errorf("got %q, stored %q/%q, want the new pair", got, st.Access, st.Refresh)
			}
			if want := now.Add(tt.want); !st.ExpiresAt.Equal(want) {
				t.Errorf("got expiry %v, want %v", st.ExpiresAt, want)
			}
			if !st.UpdatedAt.Equal(now) {
				t.Errorf("got updated %v, want %v", st.UpdatedAt, now)
			}
		})
	}
}

func TestTokenRequestForm(t *testing.T) {
	s := newZalo(t)
	_, rt, _ := s.z.Tokens()
	stored, _ := s.store.get()
	if _, err := s.tokens.Refresh(context.Background(), stored.Access); err != nil {
		t.Fatal(err)
	}
	form := s.z.LastRefreshForm()
	want := url.Values{"app_id": {s.z.AppID()}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if form.Encode() != want.Encode() {
		t.Errorf("got form %v, want %v", form, want)
	}
}

func TestTokenWrongSecret(t *testing.T) {
	s := newZalo(t)
	tokens := bot.NewTokens(bot.TokenConfig{AppID: s.z.AppID(), AppSecret: "wrong", OAuthBase: s.z.URL()}, s.store, nil, nil, nil, nil)
	stored, _ := s.store.get()
	if _, err := tokens.Refresh(context.Background(), stored.Access); bot.Code(err) != -14001 {
		t.Errorf("got %v, want error -14001", err)
	}
}

func TestInitialTokenUsedOnlyWhenNoneStored(t *testing.T) {
	z := zalotest.Start(t)
	access, refresh, _ := z.Tokens()
	base := bot.TokenConfig{AppID: z.AppID(), AppSecret: z.AppSecret(), OAuthBase: z.URL()}

	empty := &memTokenStore{}
	cfg := base
	cfg.Initial = cnsbot.Token{Access: access, Refresh: refresh}
	tokens := bot.NewTokens(cfg, empty, nil, nil, nil, nil)
	if got, err := tokens.Token(context.Background()); err != nil || got != access {
		t.Errorf("empty store: got %q, %v, want the initial token", got, err)
	}

	stored := &memTokenStore{tok: cnsbot.Token{Access: "stored", Refresh: "r", ExpiresAt: time.Now().Add(time.Hour)}, has: true}
	tokens = bot.NewTokens(cfg, stored, nil, nil, nil, nil)
	if got, err := tokens.Token(context.Background()); err != nil || got != "stored" {
		t.Errorf("stored pair: got %q, %v, want the stored token", got, err)
	}

	// Only a refresh token in the environment: the first Token refreshes and stores.
	cfg.Initial = cnsbot.Token{Refresh: refresh}
	tokens = bot.NewTokens(cfg, empty, nil, nil, nil, nil)
	got, err := tokens.Token(context.Background())
	newAccess, _, _ := z.Tokens()
	if err != nil || got != newAccess {
		t.Errorf("refresh token only: got %q, %v, want a refreshed token", got, err)
	}
	if st, saves := empty.get(); saves != 1 || st.Access != newAccess {
		t.Errorf("got %d saves of %q, want the new pair saved once", saves, st.Access)
	}

	none := bot.NewTokens(base, &memTokenStore{}, nil, nil, nil, nil)
	if _, err := none.Token(context.Background()); cnsbot.ErrorCode(err) != cnsbot.EUNAVAILABLE {
		t.Errorf("no token anywhere: got %v, want EUNAVAILABLE", err)
	}
}

func TestExpiredStoredTokenIsRefreshed(t *testing.T) {
	s := newZalo(t)
	s.store.set(func(st *memTokenStore) { st.tok.ExpiresAt = time.Now().Add(-time.Minute) })
	got, err := s.tokens.Token(context.Background())
	access, _, _ := s.z.Tokens()
	if err != nil || got != access || s.z.Refreshes() != 1 {
		t.Errorf("got %q, %v after %d refreshes, want the new token after 1", got, err, s.z.Refreshes())
	}
}

func TestUnsavedPairIsKeptAndSavedLater(t *testing.T) {
	s := newZalo(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	tokens := s.newTokens(bot.TokenConfig{Now: clock})
	s.store.set(func(st *memTokenStore) { st.saveErr = errors.New("database down") })
	stored, _ := s.store.get()
	if _, err := tokens.Refresh(context.Background(), stored.Access); err == nil {
		t.Fatal("got no error, want the save failure reported")
	}
	access, refresh, _ := s.z.Tokens()
	// The new pair is not lost: the client goes on with it.
	if got, err := tokens.Token(context.Background()); err != nil || got != access {
		t.Errorf("got %q, %v, want the unsaved new token", got, err)
	}
	s.store.set(func(st *memTokenStore) { st.saveErr = nil })
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	if got, err := tokens.Token(context.Background()); err != nil || got != access {
		t.Errorf("got %q, %v, want the kept token", got, err)
	}
	if st, _ := s.store.get(); st.Access != access || st.Refresh != refresh {
		t.Errorf("stored %q/%q, want the kept pair saved", st.Access, st.Refresh)
	}
	if n := s.z.Refreshes(); n != 1 {
		t.Errorf("got %d refreshes, want 1", n)
	}
}

func TestRefreshWaitsForLockHolder(t *testing.T) {
	s := newZalo(t)
	stored, _ := s.store.get()
	unlock, ok, _ := s.lock.TryLock(context.Background(), bot.TokenLockName, time.Minute)
	if !ok {
		t.Fatal("lock not taken")
	}
	// Another replica holds the lock and saves a new pair a little later.
	go func() {
		time.Sleep(300 * time.Millisecond)
		s.store.set(func(st *memTokenStore) {
			st.tok = cnsbot.Token{Access: "by-other", Refresh: "r2", ExpiresAt: time.Now().Add(time.Hour)}
		})
		unlock()
	}()
	got, err := s.tokens.Refresh(context.Background(), stored.Access)
	if err != nil || got != "by-other" {
		t.Errorf("got %q, %v, want the other replica's token", got, err)
	}
	if s.z.Refreshes() != 0 {
		t.Errorf("got %d refreshes, want 0", s.z.Refreshes())
	}
}

func TestRefreshLockError(t *testing.T) {
	s := newZalo(t)
	s.lock.err = errors.New("redis down")
	stored, _ := s.store.get()
	if _, err := s.tokens.Refresh(context.Background(), stored.Access); err == nil || s.z.Refreshes() != 0 {
		t.Errorf("got %v after %d refreshes, want an error and no refresh", err, s.z.Refreshes())
	}
}

func TestRefresherRenewsAhead(t *testing.T) {
	s := newZalo(t)
	s.z.SetAccessTTL(2 * time.Second)
	stored, _ := s.store.get()
	if _, err := s.tokens.Refresh(context.Background(), stored.Access); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.tokens.RunRefresher(ctx)
	}()
	// RefreshAhead (1 h) is capped at half the 2 s lifetime: one more
	// refresh about a second later, not a loop.
	time.Sleep(1700 * time.Millisecond)
	cancel()
	<-done
	if n := s.z.Refreshes(); n != 2 {
		t.Errorf("got %d refreshes, want 2", n)
	}
	access, _, _ := s.z.Tokens()
	if st, _ := s.store.get(); st.Access != access {
		t.Errorf("stored token is not the newest")
	}
}

func TestRefresherRenewsTokenOfUnknownExpiry(t *testing.T) {
	z := zalotest.Start(t)
	access, refresh, _ := z.Tokens()
	st := &memTokenStore{}
	tokens := bot.NewTokens(bot.TokenConfig{AppID: z.AppID(), AppSecret: z.AppSecret(), OAuthBase: z.URL(),
		Initial: cnsbot.Token{Access: access, Refresh: refresh}}, st, nil, nil, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tokens.RunRefresher(ctx)
	}()
	// Wait for the save, not the refresh: the fake counts the refresh
	// before its answer reaches the refresher.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, saves := st.get(); saves > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got, saves := st.get(); z.Refreshes() != 1 || saves != 1 || got.ExpiresAt.IsZero() {
		t.Errorf("got %d refreshes and %d saves, want 1 and 1 with an expiry", z.Refreshes(), saves)
	}
}

func TestAuthorisationWithPKCE(t *testing.T) {
	s := newZalo(t)
	authURL, verifier := s.tokens.AuthURL("https://bot.example/zalo/callback", "st4te")
	if len(verifier) < 43 {
		t.Errorf("got a verifier of %d characters, want at least 43", len(verifier))
	}
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasSuffix(u.Path, "/v4/oa/permission") || u.Query().Get("code_challenge") != bot.Challenge(verifier) {
		t.Fatalf("got %s, want the permission page with the challenge", authURL)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	code := back.Query().Get("code")
	if back.Query().Get("state") != "st4te" || code == "" {
		t.Fatalf("got redirect %s, want code and state", back)
	}

	if err := s.tokens.Exchange(context.Background(), code, "wrong-verifier"); bot.Code(err) != -14019 {
		t.Errorf("wrong verifier: got %v, want -14019", err)
	}
	if err := s.tokens.Exchange(context.Background(), code, verifier); err != nil {
		t.Fatal(err)
	}
	access, refresh, _ := s.z.Tokens()
	if st, _ := s.store.get(); st.Access != access || st.Refresh != refresh || s.z.Exchanges() != 1 {
		t.Errorf("stored %q, want the exchanged pair", st.Access)
	}
	if got, _ := s.tokens.Token(context.Background()); got != access {
		t.Errorf("got token %q, want the exchanged one", got)
	}
	if err := s.tokens.Exchange(context.Background(), code, verifier); err == nil {
		t.Error("a code was accepted twice")
	}
}

func TestChallenge(t *testing.T) {
	// RFC 7636 appendix B.
	if got := bot.Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("got %s, want E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", got)
	}
}

// counterValue reads a Prometheus counter.
func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// The production implementations satisfy the interfaces bot defines.
var (
	_ bot.TokenStore  = (*store.DB)(nil)
	_ bot.Locker      = (*store.Locks)(nil)
	_ bot.DeliveryLog = (*store.DB)(nil)
	_ bot.FallbackLog = (*store.DB)(nil)
	_ bot.Limiter     = (*store.Limiter)(nil)
)

// TestReplicasRefreshOnceWithStore runs three replicas on the real store:
// the token row in Postgres and the refresh lock in Redis.
func TestReplicasRefreshOnceWithStore(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.PostgresURL(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	z := zalotest.Start(t)
	access, refresh, exp := z.Tokens()
	if err := db.SaveToken(ctx, cnsbot.Token{Access: access, Refresh: refresh, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	locks := store.NewLocks(rdb, prefix)
	var clients []*bot.Client
	for range 3 {
		tokens := bot.NewTokens(bot.TokenConfig{AppID: z.AppID(), AppSecret: z.AppSecret(), OAuthBase: z.URL()},
			db, locks, nil, nil, nil)
		clients = append(clients, bot.NewClient(z.URL(), tokens, nil, nil))
	}
	z.ExpireToken()
	var wg sync.WaitGroup
	for _, c := range clients {
		for range 4 {
			wg.Go(func() {
				if _, err := c.SendText(ctx, cnsbot.Recipient{UserID: "u1"}, "x"); err != nil {
					t.Errorf("send: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if n := z.Refreshes(); n != 1 {
		t.Errorf("got %d refreshes, want 1", n)
	}
	newAccess, newRefresh, _ := z.Tokens()
	st, err := db.LoadToken(ctx)
	if err != nil || st.Access != newAccess || st.Refresh != newRefresh {
		t.Errorf("stored %q, %v, want the new pair", st.Access, err)
	}
	if n := z.Count(); n != 12 {
		t.Errorf("got %d messages, want 12", n)
	}
}

func TestMemoryTokens(t *testing.T) {
	ctx := context.Background()
	var m bot.MemoryTokens
	if _, err := m.LoadToken(ctx); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Fatalf("empty store: got %v, want ENOTFOUND", err)
	}
	want := cnsbot.Token{Access: "a", Refresh: "r"}
	if err := m.SaveToken(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := m.LoadToken(ctx); err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
}

// gaugeValue reads a Prometheus gauge.
func gaugeValue(t *testing.T, g interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
