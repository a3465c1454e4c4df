package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// sessionCookie holds a signed reference to a server-side session, never
// a token.
const sessionCookie = "cnsbot_admin"

// sessionTTL is how long a dashboard sign-in lasts.
const sessionTTL = 12 * time.Hour

// Officers finds the officer an officer token signs in; *store.DB has it.
// Both return an EUNAUTHORIZED error for an unknown or revoked token.
type Officers interface {
	OfficerByToken(ctx context.Context, token string) (store.Officer, error)
	OfficerByTokenID(ctx context.Context, id int64) (store.Officer, error)
}

// Sessions keeps the dashboard's sessions on the server, so that one ends
// at once everywhere: on sign-out, when its officer token is revoked or
// expires, or when an administrator ends them all. *store.DB has it.
// SessionBySecret returns an EUNAUTHORIZED error for an unknown, ended or
// expired session.
type Sessions interface {
	CreateSession(ctx context.Context, admin bool, tokenID int64, expires time.Time) (string, error)
	SessionBySecret(ctx context.Context, secret string, now time.Time) (store.DashboardSession, error)
	EndSession(ctx context.Context, secret string) error
	EndAllSessions(ctx context.Context) (int64, error)
}

// SignInLimit counts failed sign-ins per client (*store.FailureLimit, in
// Redis so that replicas share the count). Blocked and Failed return how
// long the client must wait before trying again, 0 when it may.
type SignInLimit interface {
	Blocked(ctx context.Context, client string) (time.Duration, error)
	Failed(ctx context.Context, client string) (time.Duration, error)
}

// principal is who signed in: the administrator, or an officer limited to
// their communes.
type principal struct {
	Admin   bool
	Officer store.Officer
}

// Name is how the page names who is signed in.
func (p principal) Name() string {
	if p.Admin {
		return ""
	}
	return p.Officer.Name
}

// all reports whether the principal sees every commune.
func (p principal) all() bool { return p.Admin || p.Officer.Province }

// sees reports whether the principal may see a commune.
func (p principal) sees(communeID int64) bool { return p.all() || p.Officer.Sees(communeID) }

// scopes returns the communes a list must cover: the one asked for when
// the principal may see it, every commune (0) for those who see all, and
// otherwise the officer's own.
func (p principal) scopes(asked int64) ([]int64, error) {
	switch {
	case asked != 0 && !p.sees(asked):
		return nil, errForbidden
	case asked != 0:
		return []int64{asked}, nil
	case p.all():
		return []int64{0}, nil
	default:
		return p.Officer.CommuneIDs, nil
	}
}

// auth checks tokens and sessions. The admin token is kept as its
// SHA-256, and tokens are compared as hashes of equal length in constant
// time, so neither the length nor the content leaks through timing.
type auth struct {
	adminHash []byte
	key       []byte
	officers  Officers
	// sessions is nil only in tests of the token check: no session opens.
	sessions Sessions
	// limit is nil when failures are not counted (tests of the check).
	limit SignInLimit
	log   *slog.Logger
}

func newAuth(adminToken string, officers Officers) *auth {
	a := &auth{officers: officers, log: slog.New(slog.DiscardHandler)}
	if adminToken != "" {
		sum := sha256.Sum256([]byte(adminToken))
		a.adminHash = sum[:]
		// Sessions are signed with a key derived from the admin token:
		// replicas agree on it, and changing the token ends every session.
		m := hmac.New(sha256.New, []byte(adminToken))
		m.Write([]byte("cnsbot dashboard session v1"))
		a.key = m.Sum(nil)
	} else {
		// Without an admin token only officers sign in; their sessions
		// last until this process stops.
		a.key = make([]byte, 32)
		_, _ = rand.Read(a.key)
	}
	return a
}

// check returns who a token signs in, or an EUNAUTHORIZED error.
func (a *auth) check(ctx context.Context, token string) (principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return principal{}, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "no token")
	}
	sum := sha256.Sum256([]byte(token))
	if a.adminHash != nil && subtle.ConstantTimeCompare(sum[:], a.adminHash) == 1 {
		return principal{Admin: true}, nil
	}
	if a.officers == nil {
		return principal{}, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "invalid token")
	}
	o, err := a.officers.OfficerByToken(ctx, token)
	if err != nil {
		return principal{}, err
	}
	return principal{Officer: o}, nil
}

// session is the signed content of the session cookie: the secret that
// names a server-side session. The signature's key derives from the admin
// token, so changing the token ends every administrator's session even
// before the sessions table is consulted.
type session struct {
	Secret  string `json:"s"`
	Expires int64  `json:"e"`
}

// seal signs a session: base64(json) "." base64(HMAC-SHA256).
func (a *auth) seal(s session) string {
	b, _ := json.Marshal(s)
	payload := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errBadSession = cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "invalid or expired session")

// unseal verifies a cookie's signature and expiry and returns its session.
func (a *auth) unseal(v string, now time.Time) (session, error) {
	payload, mac, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, errBadSession
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return session{}, errBadSession
	}
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(payload))
	if !hmac.Equal(got, m.Sum(nil)) {
		return session{}, errBadSession
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return session{}, errBadSession
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil || now.Unix() >= s.Expires || s.Secret == "" {
		return session{}, errBadSession
	}
	return s, nil
}

// open verifies a session cookie and returns who it signs in. The session
// must still be live on the server, and an officer's token still valid:
// sign-out, revocation and expiry end it at the next request.
func (a *auth) open(ctx context.Context, v string, now time.Time) (principal, error) {
	s, err := a.unseal(v, now)
	if err != nil || a.sessions == nil {
		return principal{}, errBadSession
	}
	row, err := a.sessions.SessionBySecret(ctx, s.Secret, now)
	if err != nil {
		return principal{}, err
	}
	if row.Admin {
		if a.adminHash == nil {
			return principal{}, errBadSession
		}
		return principal{Admin: true}, nil
	}
	if a.officers == nil || row.TokenID == 0 {
		return principal{}, errBadSession
	}
	o, err := a.officers.OfficerByTokenID(ctx, row.TokenID)
	if err != nil {
		return principal{}, err
	}
	return principal{Officer: o}, nil
}

// setSession signs p in: a server-side session and a cookie naming it.
func (a *auth) setSession(c *gin.Context, p principal, now time.Time) error {
	if a.sessions == nil {
		return cnsbot.Errorf(cnsbot.EUNAVAILABLE, "no session store")
	}
	expires := now.Add(sessionTTL)
	secret, err := a.sessions.CreateSession(c.Request.Context(), p.Admin, p.Officer.TokenID, expires)
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: a.seal(session{Secret: secret, Expires: expires.Unix()}), Path: "/admin",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(c.Request)})
	return nil
}

// endSession ends the session the request's cookie names, if any.
func (a *auth) endSession(c *gin.Context) error {
	v, err := c.Cookie(sessionCookie)
	if err != nil || a.sessions == nil {
		return nil
	}
	s, err := a.unseal(v, time.Now())
	if err != nil {
		return nil
	}
	return a.sessions.EndSession(c.Request.Context(), s.Secret)
}

func clearSession(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(c.Request)})
}

// SignInFailures is how many failed sign-ins a client may make before
// it must wait; SignInPeriod is the time over which they are given back
// (one every 90 seconds).
const (
	SignInFailures = 10
	SignInPeriod   = 15 * time.Minute
)

// MinTokenLength is the shortest administrator token the service starts
// with: 32 characters, what `openssl rand -hex 16` prints.
const MinTokenLength = 32

// weakTokenWords are placeholders that turn up in copied configurations.
var weakTokenWords = []string{"changeme", "change-me", "change_me", "password", "example", "replace"}

// CheckTokenStrength refuses a token that is short or obviously weak: a
// placeholder, few different characters, a short pattern repeated, or a
// run of consecutive characters. The error says why, never the token.
// A random token of MinTokenLength hex digits passes all but always.
func CheckTokenStrength(token string) error {
	n := utf8.RuneCountInString(token)
	if n < MinTokenLength {
		return fmt.Errorf("is %d characters long; at least %d are needed (make one with: openssl rand -hex 32)", n, MinTokenLength)
	}
	lower := strings.ToLower(token)
	for _, w := range weakTokenWords {
		if strings.Contains(lower, w) {
			return fmt.Errorf("contains the placeholder %q; use a random token (openssl rand -hex 32)", w)
		}
	}
	distinct := map[rune]bool{}
	for _, r := range token {
		distinct[r] = true
	}
	if len(distinct) < 8 {
		return fmt.Errorf("uses only %d different characters; use a random token (openssl rand -hex 32)", len(distinct))
	}
	rs := []rune(token)
	for p := 1; p <= len(rs)/2; p++ {
		if slices.Equal(rs[p:], rs[:len(rs)-p]) {
			return fmt.Errorf("repeats a %d-character pattern; use a random token (openssl rand -hex 32)", p)
		}
	}
	runs := 0
	for i := 1; i < len(rs); i++ {
		if d := rs[i] - rs[i-1]; d == 1 || d == -1 {
			runs++
		}
	}
	if runs >= len(rs)/2 {
		return errors.New("is mostly consecutive characters; use a random token (openssl rand -hex 32)")
	}
	return nil
}

// blocked reports how long the request's client must wait before it may
// try a token again; 0 when it may now. A limiter that cannot answer lets
// the attempt through: the tokens are long enough that an outage of the
// count is no opening, while refusing would lock every officer out.
func (a *auth) blocked(c *gin.Context) time.Duration {
	if a.limit == nil {
		return 0
	}
	wait, err := a.limit.Blocked(c.Request.Context(), c.ClientIP())
	if err != nil {
		a.log.Warn("dashboard sign-in limit unavailable", "err", err)
		return 0
	}
	if wait > 0 {
		a.log.Warn("dashboard sign-in refused: too many failures", "client", a.clientTag(c), "retry_after_s", seconds(wait))
	}
	return wait
}

// failed counts a failed sign-in of the request's client, logs it (by a
// tag of the client's address, never the token) and returns how long the
// client must now wait.
func (a *auth) failed(c *gin.Context, via string) time.Duration {
	var wait time.Duration
	if a.limit != nil {
		var err error
		if wait, err = a.limit.Failed(c.Request.Context(), c.ClientIP()); err != nil {
			a.log.Warn("dashboard sign-in limit unavailable", "err", err)
		}
	}
	a.log.Warn("dashboard sign-in failed", "via", via, "client", a.clientTag(c), "blocked_for_s", seconds(wait))
	return wait
}

// clientTag names a client in the log without its address (personal
// data): a keyed hash that tells the same client from another, stable
// across replicas that share the admin token.
func (a *auth) clientTag(c *gin.Context) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("client " + c.ClientIP()))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// seconds rounds a wait up to whole seconds, for the Retry-After header
// and the log.
func seconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// tooMany answers an API client that must wait.
func tooMany(c *gin.Context, wait time.Duration) {
	c.Header("Retry-After", strconv.Itoa(seconds(wait)))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "too many failed sign-ins, retry later"})
}

// principalKey is where the middleware leaves who signed in.
const principalKey = "cnsbot.principal"

func principalOf(c *gin.Context) principal {
	p, _ := c.Get(principalKey)
	v, _ := p.(principal)
	return v
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// requireBearer lets through API requests with a valid bearer token.
// A client that failed too often is refused before its token is looked
// at, the right one included.
func (a *auth) requireBearer(log *slog.Logger) gin.HandlerFunc {
	if log == nil {
		log = a.log
	}
	return func(c *gin.Context) {
		token := bearer(c.Request)
		if token != "" {
			if wait := a.blocked(c); wait > 0 {
				tooMany(c, wait)
				return
			}
		}
		p, err := a.check(c.Request.Context(), token)
		if err != nil {
			if cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				log.Warn("admin api: token check failed", "err", err)
				c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable, retry later"})
				return
			}
			if token != "" {
				if wait := a.failed(c, "bearer"); wait > 0 {
					tooMany(c, wait)
					return
				}
			}
			c.Header("WWW-Authenticate", `Bearer realm="cnsbot admin"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "a valid bearer token is required"})
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

// adminOnly refuses officers: changes to the calendar, group links and
// tokens are the administrator's.
func adminOnly(c *gin.Context) {
	if !principalOf(c).Admin {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "only the administrator may do this"})
		return
	}
	c.Next()
}
