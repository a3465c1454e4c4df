// Package zalotest is an in-process fake of Zalo's OA OpenAPI and OAuth
// server. It speaks the wire format described in shared/zalo-oa.md (HTTP 200
// with an "error" field in the body, the access_token header, single-use
// refresh tokens, PKCE authorisation) so that tests, the simulator and the
// load test exercise the real client code instead of mocks.
//
// A Server records every message it accepts and lets a test inject Zalo's
// failures: error codes, HTTP 5xx, slow answers, expired tokens, users who
// do not follow the OA. All methods are safe for concurrent use.
package zalotest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Defaults of a new Server. Tests read them through AppID, AppSecret and
// Tokens rather than relying on the values.
const (
	DefaultAppID     = "4318201209281734957"
	DefaultAppSecret = "zalotest-app-secret"
	DefaultOAID      = "1646843870823903717"
	// DefaultAccessTTL is how long Zalo's access tokens live (about 25 h).
	DefaultAccessTTL = 90000 * time.Second
	// MaxText is the longest text Zalo accepts in one message, in characters.
	MaxText = 2000
	// MaxButtons is the most buttons a list template may carry.
	MaxButtons = 5
)

// Message kinds recorded in Sent.Kind.
const (
	KindText        = "text"
	KindList        = "list"
	KindRequestInfo = "request_info"
	KindImage       = "image"
)

// Request kinds seen by a fault function, in Request.Kind, besides the
// message kinds above.
const (
	KindUserDetail = "user_detail"
	KindRefresh    = "refresh_token"
	KindAuthCode   = "authorization_code"
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

// Sent is one message the fake accepted.
type Sent struct {
	// MessageID is the id the fake answered with.
	MessageID string
	// UserID or GroupID is the recipient.
	UserID  string
	GroupID string
	// Kind is KindText, KindList, KindRequestInfo or KindImage.
	Kind string
	// Text is the message text, or the first element's title of a template.
	Text     string
	Subtitle string
	ImageURL string
	Buttons  []Button
	// AccessToken is the token the request carried.
	AccessToken string
	// Body is the request body as received.
	Body json.RawMessage
	Time time.Time
}

// Button is one list-template button as it arrived on the wire.
type Button struct {
	Title string
	Type  string // oa.query.show, oa.query.hide, oa.open.url, oa.open.phone, oa.open.sms
	// Payload is the string payload of oa.query.* buttons.
	Payload string
	URL     string // oa.open.url
	Phone   string // oa.open.phone, oa.open.sms
	Content string // oa.open.sms
}

// Request describes an incoming request to a fault function.
type Request struct {
	Method string
	Path   string
	// Kind is a message kind (KindText, …) or KindUserDetail, KindRefresh,
	// KindAuthCode; empty when the body could not be read.
	Kind    string
	UserID  string
	GroupID string
	Text    string
	// Time is the fake's clock when the request arrived.
	Time time.Time
}

// Fault is what a fault function wants done with a request. The zero Fault
// lets the request through.
type Fault struct {
	// Delay holds the answer back. If the client gives up meanwhile, the
	// request is dropped unprocessed (nothing recorded).
	Delay time.Duration
	// Status is an HTTP status to answer with instead of 200.
	Status int
	// Error is a Zalo error code to answer with (HTTP 200 unless Status is set).
	Error int
}

// UserDetail is what GET /v3.0/oa/user/detail answers for a user.
type UserDetail struct {
	DisplayName string
	Avatar      string
	// NotFollower makes the user an ex-follower: messages to them fail with -213.
	NotFollower bool
	// Shared is the info the user shared through a request_user_info form.
	Shared map[string]any
	// Raw, when set, replaces the whole "data" object of the answer, to test
	// tolerance of odd shapes (numbers as strings, and so on).
	Raw json.RawMessage
}

// Option configures a Server.
type Option func(*Server)

// WithLogger logs every request at debug level. Without it the fake logs
// nothing, which is what a load test wants.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithApp sets the app id and app secret the OAuth endpoint expects.
func WithApp(appID, secret string) Option {
	return func(s *Server) { s.appID, s.appSecret = appID, secret }
}

// WithClock makes the fake read time from now (token expiry, message times,
// Request.Time for faults).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithoutRecording keeps only counts, not the messages themselves, for long
// load tests. Messages, MessagesTo and WaitFor then see nothing; Count and
// OnMessage still work.
func WithoutRecording() Option { return func(s *Server) { s.noRecord = true } }

// Server is the fake Zalo. Create it with New, serve it with Start or mount
// Handler in another server.
type Server struct {
	appID, appSecret string
	log              *slog.Logger
	now              func() time.Time
	noRecord         bool
	handler          http.Handler
	done             chan struct{}
	closeOnce        sync.Once

	mu          sync.Mutex
	ts          *httptest.Server
	seq         uint64
	access      string
	accessExp   time.Time
	accessTTL   time.Duration
	refresh     string
	used        map[string]bool // spent refresh tokens and codes
	keepOld     bool
	oldAccess   map[string]time.Time
	shape       TokenShape
	refreshes   int
	exchanges   int
	failNext    []int
	fault       func(Request) Fault
	users       map[string]UserDetail
	codes       map[string]string // authorisation code -> PKCE challenge
	sent        []Sent
	count       int
	changed     chan struct{}
	onMessage   func(Sent)
	requests    int
	rejected    map[int]int
	lastRefresh url.Values
}

// New returns a Server with a fresh token pair (see Tokens). It does not
// listen until Start is called.
func New(opts ...Option) *Server {
	s := &Server{
		appID:     DefaultAppID,
		appSecret: DefaultAppSecret,
		now:       time.Now,
		done:      make(chan struct{}),
		accessTTL: DefaultAccessTTL,
		used:      map[string]bool{},
		oldAccess: map[string]time.Time{},
		users:     map[string]UserDetail{},
		codes:     map[string]string{},
		changed:   make(chan struct{}),
		rejected:  map[int]int{},
	}
	for _, o := range opts {
		o(s)
	}
	s.newPairLocked()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3.0/oa/message/cs", s.handleCS)
	mux.HandleFunc("POST /v3.0/oa/group/message", s.handleGroup)
	mux.HandleFunc("GET /v3.0/oa/user/detail", s.handleUserDetail)
	mux.HandleFunc("POST /v4/oa/access_token", s.handleAccessToken)
	mux.HandleFunc("GET /v4/oa/permission", s.handlePermission)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Zalo answers unknown endpoints with a body error too.
		s.answer(w, r, 404, -404, "Endpoint not found", nil)
	})
	s.handler = mux
	return s
}

// Start serves the fake on a local port and registers t.Cleanup to close
// it: the usual way to get one in a test.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// Handler returns the fake as an http.Handler, for mounting in-process
// (the simulator). Both the OpenAPI and the OAuth paths are served by it.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on a local port. Calling it twice does nothing.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		s.ts = httptest.NewServer(s.handler)
	}
}

// URL is the base URL of the started fake, for both API and OAuth bases.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Close releases requests held by a Delay and stops the listener.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// AppID returns the app id the OAuth endpoint expects.
func (s *Server) AppID() string { return s.appID }

// AppSecret returns the app secret the OAuth endpoint expects in secret_key.
func (s *Server) AppSecret() string { return s.appSecret }

// OAID returns the Official Account's id, as the authorisation redirect carries it.
func (s *Server) OAID() string { return DefaultOAID }

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

// FailNext makes the next n OpenAPI requests (messages and user detail, not
// OAuth) fail with code: a negative code is a Zalo error in an HTTP 200
// answer, a positive one an HTTP status (e.g. 503).
func (s *Server) FailNext(n int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, code)
	}
}

// SetFault installs f, consulted for every request (OAuth too) after
// FailNext is used up; nil removes it.
func (s *Server) SetFault(f func(Request) Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// SetUserDetail sets what the fake knows of a user. Users it does not know
// are followers with a made-up display name.
func (s *Server) SetUserDetail(userID string, d UserDetail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[userID] = d
}

// Unfollow marks users as not following the OA: messages to them fail -213.
func (s *Server) Unfollow(userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range userIDs {
		d := s.users[id]
		d.NotFollower = true
		s.users[id] = d
	}
}

// OnMessage calls f (outside the fake's lock) for every accepted message,
// e.g. to time replies in a load test. nil removes it.
func (s *Server) OnMessage(f func(Sent)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = f
}

// Messages returns a copy of every accepted message, in order.
func (s *Server) Messages() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// MessagesTo returns the accepted messages whose recipient (user or group) is id.
func (s *Server) MessagesTo(id string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, m := range s.sent {
		if m.UserID == id || m.GroupID == id {
			out = append(out, m)
		}
	}
	return out
}

// Count returns how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Requests returns how many requests reached the fake.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Rejected returns how many requests were answered with each Zalo error code.
func (s *Server) Rejected() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.rejected))
	for k, v := range s.rejected {
		out[k] = v
	}
	return out
}

// Reset forgets the recorded messages and counts (not tokens or faults).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent, s.count, s.requests, s.refreshes, s.exchanges = nil, 0, 0, 0, 0
	clear(s.rejected)
}

// WaitFor waits until at least n messages were accepted and returns them,
// or returns ctx's error with what arrived so far.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Sent, error) {
	for {
		s.mu.Lock()
		if s.count >= n {
			out := append([]Sent(nil), s.sent...)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("wait for %d messages: %w", n, ctx.Err())
		}
	}
}

// FailUsers returns a fault function answering code to messages sent to
// any of the users or groups, e.g. -230 for users outside the window.
func FailUsers(code int, ids ...string) func(Request) Fault {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return func(r Request) Fault {
		if r.Kind == KindUserDetail || r.Kind == KindRefresh || r.Kind == KindAuthCode {
			return Fault{}
		}
		if set[r.UserID] || set[r.GroupID] {
			return Fault{Error: code}
		}
		return Fault{}
	}
}

// Night returns a fault function answering -234 to private messages sent
// between 22:00 and 06:00 in loc, by the fake's clock.
func Night(loc *time.Location) func(Request) Fault {
	return func(r Request) Fault {
		if r.UserID == "" || r.Kind == KindUserDetail {
			return Fault{}
		}
		h := r.Time.In(loc).Hour()
		if h >= 22 || h < 6 {
			return Fault{Error: -234}
		}
		return Fault{}
	}
}

// errorMessages are Zalo's messages for the codes the fake answers with.
var errorMessages = map[int]string{
	-32:    "Request exceeds the rate limit",
	-201:   "Parameters are invalid",
	-211:   "Out of quota",
	-213:   "User has not followed OA",
	-216:   "Access token is invalid",
	-217:   "User has blocked invitations from the OA",
	-218:   "Out of quota for this message type",
	-220:   "Access token has expired",
	-227:   "User has been inactive for more than 45 days",
	-230:   "User has not interacted with the OA in the last 7 days",
	-232:   "User has not interacted with the OA recently",
	-234:   "Sending messages at night is not allowed",
	-237:   "Group is disabled",
	-244:   "User is restricted from receiving this type of message",
	-403:   "OA is not a member of the group",
	-404:   "Endpoint not found",
	-14001: "Invalid app_id",
	-14002: "Invalid secret_key",
	-14003: "Invalid grant_type",
	-14019: "Invalid code or code_verifier",
	-14020: "Invalid refresh token",
}

func errorMessage(code int) string {
	if m, ok := errorMessages[code]; ok {
		return m
	}
	return "Error " + strconv.Itoa(code)
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

// begin counts the request and applies FailNext (OpenAPI only) and the
// fault function. It reports whether the caller should go on.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, req Request, openAPI bool) bool {
	req.Method, req.Path = r.Method, r.URL.Path
	s.mu.Lock()
	s.requests++
	req.Time = s.now()
	var f Fault
	if openAPI && len(s.failNext) > 0 {
		code := s.failNext[0]
		s.failNext = s.failNext[1:]
		if code > 0 {
			f.Status = code
		} else {
			f.Error = code
		}
	} else if s.fault != nil {
		fn := s.fault
		s.mu.Unlock()
		f = fn(req)
		s.mu.Lock()
	}
	log := s.log
	s.mu.Unlock()
	if log != nil {
		log.Debug("zalotest request", "method", req.Method, "path", req.Path, "kind", req.Kind,
			"fault_status", f.Status, "fault_error", f.Error, "delay", f.Delay)
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		}
	}
	if f.Status != 0 || f.Error != 0 {
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		code := f.Error
		if code == 0 {
			// A 5xx from a proxy in front of Zalo carries no Zalo body.
			w.WriteHeader(status)
			_, _ = io.WriteString(w, http.StatusText(status))
			return false
		}
		s.answer(w, r, status, code, errorMessage(code), nil)
		return false
	}
	return true
}

// answer writes Zalo's envelope.
func (s *Server) answer(w http.ResponseWriter, _ *http.Request, status, code int, msg string, data any) {
	if code != 0 {
		s.mu.Lock()
		s.rejected[code]++
		s.mu.Unlock()
	}
	body := map[string]any{"error": code, "message": msg}
	if data != nil {
		body["data"] = data
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int) {
	s.answer(w, r, http.StatusOK, code, errorMessage(code), nil)
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

// wire types of the message endpoints. Unknown fields are kept in maps so
// that the fake can refuse shapes Zalo would not understand.
type wireMessage struct {
	Recipient map[string]json.RawMessage `json:"recipient"`
	Message   *struct {
		Text       *string `json:"text"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				TemplateType string `json:"template_type"`
				Elements     []struct {
					Title     string `json:"title"`
					Subtitle  string `json:"subtitle"`
					ImageURL  string `json:"image_url"`
					MediaType string `json:"media_type"`
					URL       string `json:"url"`
				} `json:"elements"`
				Buttons []struct {
					Title   string          `json:"title"`
					Type    string          `json:"type"`
					Payload json.RawMessage `json:"payload"`
				} `json:"buttons"`
			} `json:"payload"`
		} `json:"attachment"`
	} `json:"message"`
}

// parse reads and validates a message body. It returns the recorded form
// and whether Zalo would accept it.
func parseMessage(body []byte, group bool) (Sent, bool) {
	var m wireMessage
	if err := json.Unmarshal(body, &m); err != nil || m.Message == nil {
		return Sent{}, false
	}
	var out Sent
	idKey := "user_id"
	if group {
		idKey = "group_id"
	}
	for k, v := range m.Recipient {
		switch {
		case k == idKey:
			var id string
			if json.Unmarshal(v, &id) != nil || id == "" {
				return Sent{}, false
			}
			if group {
				out.GroupID = id
			} else {
				out.UserID = id
			}
		case k == "message_id" && !group:
			// A reply quoting a user's message: allowed.
		default:
			return Sent{}, false
		}
	}
	if out.UserID == "" && out.GroupID == "" {
		return Sent{}, false
	}
	msg := m.Message
	switch {
	case msg.Text != nil && msg.Attachment == nil:
		n := utf8.RuneCountInString(*msg.Text)
		if n == 0 || n > MaxText || !utf8.ValidString(*msg.Text) {
			return Sent{}, false
		}
		out.Kind, out.Text = KindText, *msg.Text
	case msg.Attachment != nil && msg.Text == nil:
		a := msg.Attachment
		if a.Type != "template" {
			return Sent{}, false
		}
		p := a.Payload
		switch p.TemplateType {
		case "list":
			if group || len(p.Elements) == 0 || len(p.Elements) > 5 || len(p.Buttons) > MaxButtons {
				return Sent{}, false
			}
			for _, e := range p.Elements {
				if e.Title == "" {
					return Sent{}, false
				}
			}
			out.Kind, out.Text = KindList, p.Elements[0].Title
			out.Subtitle, out.ImageURL = p.Elements[0].Subtitle, p.Elements[0].ImageURL
			for _, b := range p.Buttons {
				btn, ok := parseButton(b.Title, b.Type, b.Payload)
				if !ok {
					return Sent{}, false
				}
				out.Buttons = append(out.Buttons, btn)
			}
		case "request_user_info":
			if group || len(p.Elements) != 1 || p.Elements[0].Title == "" || len(p.Buttons) > 0 {
				return Sent{}, false
			}
			out.Kind, out.Text = KindRequestInfo, p.Elements[0].Title
			out.Subtitle, out.ImageURL = p.Elements[0].Subtitle, p.Elements[0].ImageURL
		case "media":
			if len(p.Elements) != 1 || p.Elements[0].MediaType != "image" || p.Elements[0].URL == "" {
				return Sent{}, false
			}
			out.Kind, out.ImageURL = KindImage, p.Elements[0].URL
		default:
			return Sent{}, false
		}
	default:
		return Sent{}, false
	}
	return out, true
}

func parseButton(title, typ string, payload json.RawMessage) (Button, bool) {
	b := Button{Title: title, Type: typ}
	if title == "" {
		return b, false
	}
	switch typ {
	case "oa.query.show", "oa.query.hide":
		if json.Unmarshal(payload, &b.Payload) != nil || b.Payload == "" {
			return b, false
		}
	case "oa.open.url":
		var p struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(payload, &p) != nil || !strings.HasPrefix(p.URL, "http") {
			return b, false
		}
		b.URL = p.URL
	case "oa.open.phone", "oa.open.sms":
		var p struct {
			PhoneCode string `json:"phone_code"`
			Content   string `json:"content"`
		}
		if json.Unmarshal(payload, &p) != nil || p.PhoneCode == "" {
			return b, false
		}
		for _, c := range p.PhoneCode {
			if c < '0' || c > '9' {
				return b, false
			}
		}
		if typ == "oa.open.sms" && p.Content == "" {
			return b, false
		}
		b.Phone, b.Content = p.PhoneCode, p.Content
	default:
		return b, false
	}
	return b, true
}

func (s *Server) handleCS(w http.ResponseWriter, r *http.Request)    { s.handleMessage(w, r, false) }
func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request) { s.handleMessage(w, r, true) }

func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request, group bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	sent, valid := parseMessage(body, group)
	if !s.begin(w, r, Request{Kind: sent.Kind, UserID: sent.UserID, GroupID: sent.GroupID, Text: sent.Text}, true) {
		return
	}
	tok, ok := s.checkToken(r)
	if !ok {
		s.fail(w, r, -216)
		return
	}
	if !valid || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.fail(w, r, -201)
		return
	}
	s.mu.Lock()
	if !group && s.users[sent.UserID].NotFollower {
		s.mu.Unlock()
		s.fail(w, r, -213)
		return
	}
	s.seq++
	sent.MessageID = fmt.Sprintf("%016x%s", s.seq, randHex(8))
	sent.AccessToken = tok
	sent.Body = body
	sent.Time = s.now()
	s.count++
	if !s.noRecord {
		s.sent = append(s.sent, sent)
	}
	close(s.changed)
	s.changed = make(chan struct{})
	on := s.onMessage
	s.mu.Unlock()
	if on != nil {
		on(sent)
	}
	data := map[string]any{"message_id": sent.MessageID}
	if sent.UserID != "" {
		data["user_id"] = sent.UserID
	}
	s.answer(w, r, http.StatusOK, 0, "Success", data)
}

func (s *Server) handleUserDetail(w http.ResponseWriter, r *http.Request) {
	var q struct {
		UserID string `json:"user_id"`
	}
	decodeErr := json.Unmarshal([]byte(r.URL.Query().Get("data")), &q)
	if !s.begin(w, r, Request{Kind: KindUserDetail, UserID: q.UserID}, true) {
		return
	}
	if _, ok := s.checkToken(r); !ok {
		s.fail(w, r, -216)
		return
	}
	if decodeErr != nil || q.UserID == "" {
		s.fail(w, r, -201)
		return
	}
	s.mu.Lock()
	d, known := s.users[q.UserID]
	s.mu.Unlock()
	if d.Raw != nil {
		s.answer(w, r, http.StatusOK, 0, "Success", d.Raw)
		return
	}
	if !known {
		d.DisplayName = "User " + lastN(q.UserID, 4)
	}
	data := map[string]any{
		"user_id":          q.UserID,
		"user_id_by_app":   q.UserID + "1",
		"display_name":     d.DisplayName,
		"avatar":           d.Avatar,
		"user_is_follower": !d.NotFollower,
	}
	if d.Shared != nil {
		data["shared_info"] = d.Shared
	}
	s.answer(w, r, http.StatusOK, 0, "Success", data)
}

func lastN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
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
		s.oauthFail(w, -14001)
		return
	}
	if r.Header.Get("secret_key") != s.appSecret {
		s.oauthFail(w, -14002)
		return
	}
	s.mu.Lock()
	switch grant {
	case "refresh_token":
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
