package bot

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot"
)

// TokenStore keeps the OA's token pair where every replica can read it.
// LoadToken returns an ENOTFOUND *cnsbot.Error when none is stored.
type TokenStore interface {
	LoadToken(ctx context.Context) (cnsbot.Token, error)
	SaveToken(ctx context.Context, t cnsbot.Token) error
}

// Locker hands out named locks shared by the replicas. TryLock does not
// wait: ok is false when someone else holds the lock.
type Locker interface {
	TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// TokenConfig configures Tokens.
type TokenConfig struct {
	// AppID and AppSecret are the Zalo app's (not the OA secret key).
	AppID, AppSecret string
	// OAuthBase is e.g. "https://oauth.zaloapp.com".
	OAuthBase string
	// Initial is the pair from the environment, used only while none is stored.
	Initial cnsbot.Token
	// RefreshAhead is how long before expiry the refresher renews the token
	// (default 1h; never more than half the token's lifetime).
	RefreshAhead time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

const (
	// TokenLockName is the lock that one replica at a time holds to refresh.
	TokenLockName = "zalo-token-refresh"
	// tokenLockTTL outlives one refresh call (oauthTimeout) and the save.
	tokenLockTTL = 45 * time.Second
	oauthTimeout = 20 * time.Second
	// lockWait is how long a replica waits for another one's refresh.
	lockWait = 25 * time.Second
	lockPoll = 200 * time.Millisecond
	// reloadEvery bounds store reads while the cached token is near expiry.
	reloadEvery = 30 * time.Second
	// saveRetryEvery spaces the attempts to save a pair that failed to save.
	saveRetryEvery = 5 * time.Second
	// defaultExpiresIn is assumed when an answer has no expires_in.
	defaultExpiresIn = 3600 * time.Second
)

// errNoToken means there is no pair at all: an admin must authorise the OA.
var errNoToken = cnsbot.Errorf(cnsbot.EUNAVAILABLE, "no Zalo token: the OA must be authorised")

// errReauth marks an OAuth answer that means the refresh token is dead
// without saying so with a code: a string "error", or an empty HTTP 200
// body (both seen in public integrations). NeedsReauth also knows the codes.
var errReauth = cnsbot.Errorf(cnsbot.EUNAVAILABLE, "zalo refused the refresh token: an admin must re-authorise the OA")

// reauthLogEvery spaces the error log lines of a dead refresh token: loud
// enough to be seen, not a line per retry.
const reauthLogEvery = time.Hour

// Tokens keeps the OA's access token fresh. It implements TokenProvider.
//
// Zalo's refresh tokens are single-use, so a refresh is done by one replica
// at a time (the TokenLockName lock), after checking that nobody refreshed
// meanwhile, and the new pair is saved before it is used: a crash after
// the refresh but before the save would lock the OA out until an admin
// re-authorises it.
type Tokens struct {
	cfg   TokenConfig
	store TokenStore
	lock  Locker
	hc    *http.Client
	log   *slog.Logger
	m     *Metrics
	now   func() time.Time

	// refreshMu makes the callers of one process wait for a single refresh.
	refreshMu sync.Mutex

	mu       sync.Mutex // guards the fields below
	cur      cnsbot.Token
	loadedAt time.Time
	// unsaved is set when Zalo issued cur but saving it failed: cur is then
	// newer than the store and is saved again at every occasion.
	unsaved bool
	// reauthSince is when Zalo first refused the refresh token as dead
	// (zero while it is not); reauthLogged when that was last logged.
	reauthSince, reauthLogged time.Time
	reauthWhy                 string
}

// Health reports whether a person must re-authorise the OA (the refresh
// token is dead), since when and Zalo's reason, for /readyz and the
// dashboard.
func (t *Tokens) Health() (reauthorise bool, since time.Time, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.reauthSince.IsZero(), t.reauthSince, t.reauthWhy
}

// deadRefresh records that Zalo refused the refresh token as dead: an
// error log line at most every reauthLogEvery, the alert gauge, Health.
func (t *Tokens) deadRefresh(err error) {
	now := t.now()
	t.mu.Lock()
	first := t.reauthSince.IsZero()
	if first {
		t.reauthSince = now
	}
	t.reauthWhy = redact(err)
	logNow := first || now.Sub(t.reauthLogged) >= reauthLogEvery
	if logNow {
		t.reauthLogged = now
	}
	since := t.reauthSince
	t.mu.Unlock()
	if t.m != nil {
		t.m.Alerts.WithLabelValues(AlertReauthorise).Set(1)
	}
	if logNow {
		t.log.Error("zalo refused the refresh token: an admin must re-authorise the OA (dashboard → Zalo, or cnsbot zalo check)",
			"code", Code(err), "reason", Reason(err), "since", since)
	} else {
		t.log.Debug("refresh token still refused", "code", Code(err))
	}
}

// alive clears the re-authorisation alert after a pair was issued.
func (t *Tokens) alive() {
	t.mu.Lock()
	was := !t.reauthSince.IsZero()
	t.reauthSince, t.reauthLogged, t.reauthWhy = time.Time{}, time.Time{}, ""
	t.mu.Unlock()
	if t.m != nil {
		t.m.Alerts.WithLabelValues(AlertReauthorise).Set(0)
	}
	if was {
		t.log.Info("zalo token pair issued again: re-authorisation alert cleared")
	}
}

// NewTokens returns a token keeper. lock may be nil for a single process
// (tests); hc nil means a client with a 30 s timeout; log and m may be nil.
func NewTokens(cfg TokenConfig, store TokenStore, lock Locker, hc *http.Client, log *slog.Logger, m *Metrics) *Tokens {
	if cfg.RefreshAhead <= 0 {
		cfg.RefreshAhead = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.OAuthBase = strings.TrimRight(cfg.OAuthBase, "/")
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tokens{cfg: cfg, store: store, lock: lock, hc: hc, log: log, m: m, now: cfg.Now}
}

// Token returns the access token, from memory while it is far from expiry,
// else from the store; an expired token is refreshed first.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	now := t.now()
	t.mu.Lock()
	cur, loadedAt, unsaved := t.cur, t.loadedAt, t.unsaved
	t.mu.Unlock()
	if cur.Access != "" && !expired(cur, now) {
		if unsaved {
			if now.Sub(loadedAt) >= saveRetryEvery {
				_, _ = t.current(ctx) // saves it, or tries again later
			}
			return cur.Access, nil
		}
		if !t.due(cur, now) || now.Sub(loadedAt) < reloadEvery {
			return cur.Access, nil
		}
	}
	st, err := t.current(ctx)
	if err != nil {
		if cur.Access != "" && !expired(cur, now) {
			// The store is down but the cached token still works.
			t.log.Warn("token store unavailable, using the cached access token", "err", err)
			return cur.Access, nil
		}
		return "", err
	}
	if st.Access == "" || expired(st, now) {
		return t.Refresh(ctx, st.Access)
	}
	return st.Access, nil
}

// Refresh returns an access token newer than stale, the one Zalo refused.
// If the stored token already differs from stale, another caller or
// replica refreshed and that token is used; otherwise this call takes the
// lock, checks again and refreshes.
func (t *Tokens) Refresh(ctx context.Context, stale string) (string, error) {
	t.refreshMu.Lock()
	defer t.refreshMu.Unlock()

	now := t.now()
	t.mu.Lock()
	cur := t.cur
	t.mu.Unlock()
	if newer(cur, stale, now) {
		return cur.Access, nil
	}
	deadline := now.Add(lockWait)
	for {
		st, err := t.current(ctx)
		if err != nil && !errors.Is(err, errNoToken) {
			return "", fmt.Errorf("refresh token: %w", err)
		}
		if newer(st, stale, t.now()) {
			return st.Access, nil
		}
		ok, release := true, func() {}
		if t.lock != nil {
			var lerr error
			release, ok, lerr = t.lock.TryLock(ctx, TokenLockName, tokenLockTTL)
			if lerr != nil {
				t.metric("error")
				return "", fmt.Errorf("refresh token: take lock: %w", lerr)
			}
		}
		if ok {
			tok, err := t.refreshLocked(ctx, stale)
			release()
			return tok, err
		}
		if t.now().After(deadline) {
			return "", cnsbot.Errorf(cnsbot.EUNAVAILABLE, "token refresh by another replica is taking too long")
		}
		if err := sleep(ctx, lockPoll); err != nil {
			return "", fmt.Errorf("refresh token: %w", err)
		}
	}
}

// refreshLocked refreshes while holding the lock.
func (t *Tokens) refreshLocked(ctx context.Context, stale string) (string, error) {
	// Double-check: the holder before us may have just saved a new pair.
	st, err := t.current(ctx)
	if err != nil {
		t.metric("error")
		return "", fmt.Errorf("refresh token: %w", err)
	}
	if newer(st, stale, t.now()) {
		return st.Access, nil
	}
	if st.Refresh == "" {
		t.metric("error")
		return "", errNoToken
	}
	fresh, err := t.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {st.Refresh}})
	if err != nil {
		t.metric("error")
		if NeedsReauth(err) {
			// Refused as used: maybe a replica refreshed without the lock
			// (its lock expired). Read once more before giving up.
			if again, lerr := t.current(ctx); lerr == nil && again.Refresh != st.Refresh && again.Access != "" {
				return again.Access, nil
			}
			t.deadRefresh(err)
		} else {
			t.log.Warn("token refresh failed", "code", Code(err), "reason", Reason(err))
		}
		return "", fmt.Errorf("refresh token: %w", err)
	}
	if err := t.keep(ctx, fresh); err != nil {
		t.metric("error")
		return "", err
	}
	t.metric("ok")
	t.log.Info("access token refreshed", "expires_at", fresh.ExpiresAt)
	return fresh.Access, nil
}

// keep saves a pair Zalo just issued, then caches it. The old refresh
// token is already spent, so a pair that cannot be saved is still kept in
// memory (and saved again later) rather than lost; the error is returned
// so that the failure is counted.
func (t *Tokens) keep(ctx context.Context, fresh cnsbot.Token) error {
	var err error
	for _, wait := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond, 0} {
		if err = t.store.SaveToken(ctx, fresh); err == nil || wait == 0 || sleep(ctx, wait) != nil {
			break
		}
	}
	t.mu.Lock()
	t.cur, t.loadedAt, t.unsaved = fresh, t.now(), err != nil
	t.mu.Unlock()
	t.alive()
	if err != nil {
		t.log.Error("new token pair not saved; kept in memory and saved again later", "err", err)
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}

// current returns the newest pair known: an unsaved one in memory (saved
// now if possible), else the stored one, else the initial one.
func (t *Tokens) current(ctx context.Context) (cnsbot.Token, error) {
	t.mu.Lock()
	cur, unsaved := t.cur, t.unsaved
	t.mu.Unlock()
	if unsaved {
		if err := t.store.SaveToken(ctx, cur); err != nil {
			t.mu.Lock()
			t.loadedAt = t.now()
			t.mu.Unlock()
			return cur, nil
		}
		t.mu.Lock()
		if t.cur == cur {
			t.unsaved = false
		}
		t.mu.Unlock()
		t.log.Info("token pair saved after an earlier failure")
		return cur, nil
	}
	st, err := t.store.LoadToken(ctx)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		st, err = t.cfg.Initial, nil
		if st.Access == "" && st.Refresh == "" {
			return st, errNoToken
		}
	}
	if err != nil {
		return st, fmt.Errorf("load token: %w", err)
	}
	t.mu.Lock()
	if !t.unsaved {
		t.cur, t.loadedAt = st, t.now()
	}
	t.mu.Unlock()
	return st, nil
}

// RunRefresher renews the token ahead of its expiry until ctx ends. A
// failed refresh is retried with exponential backoff (5 s up to 5 min).
func (t *Tokens) RunRefresher(ctx context.Context) {
	failures := 0
	for {
		wait := t.refreshIfDue(ctx, &failures)
		if sleep(ctx, wait) != nil {
			return
		}
	}
}

// refreshIfDue refreshes when the token is due and returns how long to
// wait before looking again.
func (t *Tokens) refreshIfDue(ctx context.Context, failures *int) time.Duration {
	st, err := t.current(ctx)
	t.mu.Lock()
	unsaved := t.unsaved
	t.mu.Unlock()
	if err == nil && unsaved {
		err = errors.New("new token pair not saved yet")
	} else if err == nil {
		now := t.now()
		if !t.due(st, now) && st.Access != "" {
			*failures = 0
			wait := st.ExpiresAt.Add(-t.ahead(st)).Sub(now)
			return min(max(wait, time.Second), 10*time.Minute)
		}
		if _, err = t.Refresh(ctx, st.Access); err == nil {
			*failures = 0
			return 0
		}
	}
	if ctx.Err() != nil {
		return 0
	}
	*failures++
	wait := min(5*time.Second<<min(*failures-1, 6), 5*time.Minute)
	wait += mrand.N(wait/4 + 1)
	t.log.Warn("token refresher will retry", "err_code", Code(err), "reason", Reason(err), "in", wait.Round(time.Second))
	return wait
}

// due reports whether tok should be renewed now: unknown expiry (a token
// from the environment) or within RefreshAhead of expiry.
func (t *Tokens) due(tok cnsbot.Token, now time.Time) bool {
	if tok.ExpiresAt.IsZero() {
		return true
	}
	return !now.Before(tok.ExpiresAt.Add(-t.ahead(tok)))
}

// ahead is RefreshAhead, but at most half the token's lifetime, so that a
// short-lived token (3600 s when Zalo omits expires_in) is not refreshed
// in a loop.
func (t *Tokens) ahead(tok cnsbot.Token) time.Duration {
	a := t.cfg.RefreshAhead
	if !tok.UpdatedAt.IsZero() {
		if life := tok.ExpiresAt.Sub(tok.UpdatedAt); life > 0 && a > life/2 {
			a = life / 2
		}
	}
	return a
}

func expired(tok cnsbot.Token, now time.Time) bool {
	return !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt)
}

// newer reports whether tok is a usable token other than stale.
func newer(tok cnsbot.Token, stale string, now time.Time) bool {
	return tok.Access != "" && tok.Access != stale && !expired(tok, now)
}

// AuthURL returns the page where an admin authorises the app for the OA,
// and the PKCE verifier to keep (server side) for Exchange.
func (t *Tokens) AuthURL(redirectURI, state string) (authURL, verifier string) {
	b := make([]byte, 32)
	_, _ = crand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	q := url.Values{
		"app_id":         {t.cfg.AppID},
		"redirect_uri":   {redirectURI},
		"code_challenge": {Challenge(verifier)},
		"state":          {state},
	}
	return t.cfg.OAuthBase + "/v4/oa/permission?" + q.Encode(), verifier
}

// Challenge is the PKCE code challenge of verifier:
// base64url(SHA-256(verifier)) without padding.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Exchange trades the code of the authorisation redirect for a token pair
// and stores it, replacing any pair stored before.
func (t *Tokens) Exchange(ctx context.Context, code, verifier string) error {
	var release func()
	if t.lock != nil {
		deadline := t.now().Add(lockWait)
		for {
			r, ok, err := t.lock.TryLock(ctx, TokenLockName, tokenLockTTL)
			if err != nil {
				return fmt.Errorf("exchange code: take lock: %w", err)
			}
			if ok {
				release = r
				break
			}
			if t.now().After(deadline) {
				return cnsbot.Errorf(cnsbot.EUNAVAILABLE, "token lock is busy")
			}
			if err := sleep(ctx, lockPoll); err != nil {
				return fmt.Errorf("exchange code: %w", err)
			}
		}
		defer release()
	}
	fresh, err := t.grant(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
	})
	if err != nil {
		return fmt.Errorf("exchange code: %w", err)
	}
	if err := t.keep(ctx, fresh); err != nil {
		return fmt.Errorf("exchange code: %w", err)
	}
	t.log.Info("OA authorised, token pair stored", "expires_at", fresh.ExpiresAt)
	return nil
}

// tokenFields are the fields of a token answer, at the top level (current
// integrations) or under "data" (older code).
type tokenFields struct {
	AccessToken  string     `json:"access_token"`
	RefreshToken string     `json:"refresh_token"`
	ExpiresIn    flexString `json:"expires_in"`
}

type tokenAnswer struct {
	tokenFields
	// Error is a number, a numeric string, or (seen for a dead refresh
	// token) a word such as "invalid_grant".
	Error            flexString   `json:"error"`
	ErrorName        string       `json:"error_name"`
	ErrorDescription string       `json:"error_description"`
	Message          string       `json:"message"`
	Data             *tokenFields `json:"data"`
}

// grant posts to the OAuth token endpoint and returns the issued pair.
func (t *Tokens) grant(ctx context.Context, form url.Values) (cnsbot.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	form.Set("app_id", t.cfg.AppID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.OAuthBase+"/v4/oa/access_token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return cnsbot.Token{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("secret_key", t.cfg.AppSecret)
	resp, err := t.hc.Do(req)
	if err != nil {
		return cnsbot.Token{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return cnsbot.Token{}, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK && len(bytes.TrimSpace(raw)) == 0 {
		return cnsbot.Token{}, fmt.Errorf("%w: empty answer", errReauth)
	}
	var a tokenAnswer
	decErr := json.Unmarshal(raw, &a)
	code, codeErr := strconv.Atoi(strings.TrimSpace(string(a.Error)))
	if decErr == nil && a.Error != "" && codeErr != nil {
		return cnsbot.Token{}, fmt.Errorf("%w: error %q", errReauth, string(a.Error))
	}
	if resp.StatusCode != http.StatusOK || decErr != nil || code != 0 {
		ae := &APIError{Code: code, Message: firstNonEmpty(a.ErrorName, a.ErrorDescription, a.Message)}
		if resp.StatusCode != http.StatusOK {
			ae.Status = resp.StatusCode
		} else if decErr != nil {
			ae.Status, ae.Message = http.StatusBadGateway, "answer is not JSON"
		}
		return cnsbot.Token{}, ae
	}
	f := a.tokenFields
	if f.AccessToken == "" && a.Data != nil {
		f = *a.Data
	}
	if f.AccessToken == "" || f.RefreshToken == "" {
		return cnsbot.Token{}, &APIError{Status: http.StatusBadGateway, Message: "token answer without tokens"}
	}
	now := t.now()
	return cnsbot.Token{
		Access:    f.AccessToken,
		Refresh:   f.RefreshToken,
		ExpiresAt: now.Add(parseExpiresIn(string(f.ExpiresIn))),
		UpdatedAt: now,
	}, nil
}

// parseExpiresIn reads seconds given as "90000", 90000 or "90000.0";
// missing or nonsense means defaultExpiresIn.
func parseExpiresIn(s string) time.Duration {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1 && f < 1e9 {
		return time.Duration(f) * time.Second
	}
	return defaultExpiresIn
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (t *Tokens) metric(result string) {
	if t.m != nil {
		t.m.TokenRefreshes.WithLabelValues(result).Inc()
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MemoryTokens is a TokenStore in the process's memory, for one replica
// that must not write the database's pair: the simulator, whose pair comes
// from its fake Zalo, and the load tool.
type MemoryTokens struct {
	mu  sync.Mutex
	tok cnsbot.Token
}

// LoadToken returns the pair saved last, or ENOTFOUND.
func (m *MemoryTokens) LoadToken(context.Context) (cnsbot.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok.Access == "" {
		return cnsbot.Token{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "no OA token stored")
	}
	return m.tok, nil
}

// SaveToken keeps t.
func (m *MemoryTokens) SaveToken(_ context.Context, t cnsbot.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = t
	return nil
}
