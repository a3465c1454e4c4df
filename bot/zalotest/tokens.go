package zalotest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TokenShape selects how the OAuth endpoint lays out a successful answer.
// Zalo's current integrations read the fields at the top level; older code
// reads them under "data"; expires_in comes as a string or a number, and
// some answers lack it.
type TokenShape int

// Token answer shapes.
const (
	ShapeTopLevel       TokenShape = iota // {"access_token":…,"refresh_token":…,"expires_in":"90000"}
	ShapeTopLevelNumber                   // expires_in as a number
	ShapeData                             // {"error":0,"data":{…}}
	ShapeNoExpiry                         // top level without expires_in
)

// Tokens returns the currently valid access and refresh tokens and the
// access token's expiry.
func (s *Server) Tokens() (access, refresh string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.access, s.refresh, s.accessExp
}

// SetTokens replaces the valid pair, e.g. to match tokens a test stored.
func (s *Server) SetTokens(access, refresh string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access, s.refresh, s.accessExp = access, refresh, expires
}

// SetAccessTTL sets the lifetime of access tokens issued from now on.
func (s *Server) SetAccessTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessTTL = d
}

// SetTokenShape selects the layout of successful OAuth answers.
func (s *Server) SetTokenShape(shape TokenShape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = shape
}

// KeepOldAccessTokens makes a refresh leave the previous access token valid
// until its own expiry. By default a refresh invalidates it at once, the
// stricter of the two behaviours seen (unsure which Zalo does).
func (s *Server) KeepOldAccessTokens(keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepOld = keep
}

// ExpireToken makes the current access token invalid: the next API call
// carrying it is answered -216. The refresh token stays valid.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessExp = s.now().Add(-time.Second)
	clear(s.oldAccess)
}

// Refreshes counts successful refresh_token grants.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// Exchanges counts successful authorization_code grants.
func (s *Server) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// LastRefreshForm returns the form of the last access_token request.
func (s *Server) LastRefreshForm() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRefresh
}

// newPairLocked issues a new access/refresh pair, spending the old refresh token.
func (s *Server) newPairLocked() {
	s.seq++
	if s.refresh != "" {
		s.used[s.refresh] = true
	}
	if s.keepOld && s.access != "" {
		s.oldAccess[s.access] = s.accessExp
	}
	s.access = fmt.Sprintf("zat%d-%s", s.seq, randHex(12))
	s.refresh = fmt.Sprintf("zrt%d-%s", s.seq, randHex(12))
	s.accessExp = s.now().Add(s.accessTTL)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkToken reports whether the request carries a valid access token.
func (s *Server) checkToken(r *http.Request) (string, bool) {
	tok := r.Header.Get("access_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if tok != "" && tok == s.access && now.Before(s.accessExp) {
		return tok, true
	}
	if exp, ok := s.oldAccess[tok]; ok && tok != "" && now.Before(exp) {
		return tok, true
	}
	return tok, false
}

// handlePermission is the admin's authorisation page: it approves at once
// and redirects with a code bound to the PKCE challenge.
func (s *Server) handlePermission(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("app_id") != s.appID || err != nil || redirect.Scheme == "" || q.Get("code_challenge") == "" {
		http.Error(w, "invalid authorisation request", http.StatusBadRequest)
		return
	}
	code := s.Authorize(q.Get("code_challenge"))
	v := redirect.Query()
	v.Set("code", code)
	v.Set("oa_id", DefaultOAID)
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// Authorize plays the admin approving the app: it returns the code that
// the redirect to redirectURI would carry for the given PKCE challenge.
func (s *Server) Authorize(challenge string) string {
	code := "code-" + randHex(16)
	s.mu.Lock()
	s.codes[code] = challenge
	s.mu.Unlock()
	return code
}

func (s *Server) oauthFail(w http.ResponseWriter, code int) {
	s.mu.Lock()
	s.rejected[code]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":             code,
		"error_name":        errorMessage(code),
		"error_reason":      errorMessage(code),
		"error_description": errorMessage(code),
		"ref_doc":           "https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new",
	})
}

func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	parseErr := r.ParseForm()
	grant := r.PostForm.Get("grant_type")
	kind := KindRefresh
	if grant == "authorization_code" {
		kind = KindAuthCode
	}
	s.mu.Lock()
	s.lastRefresh = r.PostForm
	s.mu.Unlock()
	if !s.begin(w, r, Request{Kind: kind}, false) {
		return
	}
	if parseErr != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.oauthFail(w, -14003)
		return
	}
	if r.PostForm.Get("app_id") != s.appID {
		s.oauthFail(w, -14002)
		return
	}
	if r.Header.Get("secret_key") != s.appSecret {
		s.oauthFail(w, -14001)
		return
	}
	s.mu.Lock()
	switch grant {
	case "refresh_token":
		if dead := s.deadRefresh; dead != RefreshAlive {
			s.mu.Unlock()
			s.answerDead(w, dead)
			return
		}
		rt := r.PostForm.Get("refresh_token")
		if rt == "" || rt != s.refresh || s.used[rt] {
			s.mu.Unlock()
			s.oauthFail(w, -14020)
			return
		}
		s.newPairLocked()
		s.refreshes++
	case "authorization_code":
		code, verifier := r.PostForm.Get("code"), r.PostForm.Get("code_verifier")
		challenge, ok := s.codes[code]
		sum := sha256.Sum256([]byte(verifier))
		if !ok || s.used[code] || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			s.mu.Unlock()
			s.oauthFail(w, -14019)
			return
		}
		s.used[code] = true
		s.newPairLocked()
		s.exchanges++
	default:
		s.mu.Unlock()
		s.oauthFail(w, -14003)
		return
	}
	access, refresh, ttl, shape := s.access, s.refresh, s.accessTTL, s.shape
	s.mu.Unlock()

	secs := int64(ttl / time.Second)
	pair := map[string]any{"access_token": access, "refresh_token": refresh}
	var body any = pair
	switch shape {
	case ShapeTopLevel:
		pair["expires_in"] = strconv.FormatInt(secs, 10)
	case ShapeTopLevelNumber:
		pair["expires_in"] = secs
	case ShapeData:
		pair["expires_in"] = strconv.FormatInt(secs, 10)
		body = map[string]any{"error": 0, "message": "Success", "data": pair}
	case ShapeNoExpiry:
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(body)
}

// answerDead answers a refresh_token grant in one form of "dead".
func (s *Server) answerDead(w http.ResponseWriter, f DeadRefresh) {
	switch f {
	case RefreshCode14014:
		s.oauthFail(w, -14014)
	case RefreshCode14020:
		s.oauthFail(w, -14020)
	case RefreshStringError:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "invalid_grant", "error_description": "refresh token is invalid"})
	default:
		w.WriteHeader(http.StatusOK)
	}
}
