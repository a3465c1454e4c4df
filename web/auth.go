package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// sessionCookie holds a signed session, never a token.
const sessionCookie = "cnsbot_admin"

// sessionTTL is how long a dashboard sign-in lasts.
const sessionTTL = 12 * time.Hour

// Officers finds the officer an officer token signs in; *store.DB has it.
// Both return an EUNAUTHORIZED error for an unknown or revoked token.
type Officers interface {
	OfficerByToken(ctx context.Context, token string) (store.Officer, error)
	OfficerByTokenID(ctx context.Context, id int64) (store.Officer, error)
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
}

func newAuth(adminToken string, officers Officers) *auth {
	a := &auth{officers: officers}
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

// session is the signed content of the session cookie.
type session struct {
	Admin   bool  `json:"a,omitempty"`
	TokenID int64 `json:"t,omitempty"`
	Expires int64 `json:"e"`
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

// open verifies a sealed session and returns who it signs in. An
// officer's session ends as soon as the token is revoked.
func (a *auth) open(ctx context.Context, v string, now time.Time) (principal, error) {
	payload, mac, ok := strings.Cut(v, ".")
	if !ok {
		return principal{}, errBadSession
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return principal{}, errBadSession
	}
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(payload))
	if !hmac.Equal(got, m.Sum(nil)) {
		return principal{}, errBadSession
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return principal{}, errBadSession
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil || now.Unix() >= s.Expires {
		return principal{}, errBadSession
	}
	if s.Admin {
		if a.adminHash == nil {
			return principal{}, errBadSession
		}
		return principal{Admin: true}, nil
	}
	if a.officers == nil || s.TokenID == 0 {
		return principal{}, errBadSession
	}
	o, err := a.officers.OfficerByTokenID(ctx, s.TokenID)
	if err != nil {
		return principal{}, err
	}
	return principal{Officer: o}, nil
}

// setSession signs p in with a cookie.
func (a *auth) setSession(c *gin.Context, p principal, now time.Time) {
	s := session{Admin: p.Admin, TokenID: p.Officer.TokenID, Expires: now.Add(sessionTTL).Unix()}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: a.seal(s), Path: "/admin",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(c.Request)})
}

func clearSession(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(c.Request)})
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
func (a *auth) requireBearer(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := a.check(c.Request.Context(), bearer(c.Request))
		if err != nil {
			if cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				log.Warn("admin api: token check failed", "err", err)
				c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable, retry later"})
				return
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
