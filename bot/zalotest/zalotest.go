// Package zalotest is an in-process fake of Zalo's OA OpenAPI and OAuth
// server. It speaks the wire format described in shared/zalo-oa.md (HTTP 200
// with an "error" field in the body, the access_token header, single-use
// refresh tokens, PKCE authorisation) so that tests, the simulator and the
// load test exercise the real client code instead of mocks.
//
// A Server records every message it accepts and lets a test inject Zalo's
// failures: error codes, HTTP 5xx, slow answers, expired tokens, users who
// do not follow the OA. All methods are safe for concurrent use.
//
// One file per endpoint: messages.go (consultation and group messages, and
// what was sent), tokens.go (OAuth: refresh, authorisation code, PKCE),
// profile.go (user detail), faults.go (how every request is begun and
// answered, and the failures a test injects). The package does not import
// testing: the production binary serves this fake in its simulator.
package zalotest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
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
	refuse      map[string]int // message kind -> code
	uploads     map[string]Upload
	setupFault  int
	deadRefresh DeadRefresh
	oa          OA
	mode        Mode
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
		refuse:    map[string]int{},
		uploads:   map[string]Upload{},
	}
	for _, o := range opts {
		o(s)
	}
	s.newPairLocked()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3.0/oa/message/cs", s.handleCS)
	mux.HandleFunc("POST /v2.0/oa/upload/image", s.handleUploadImage)
	mux.HandleFunc("POST /v3.0/oa/group/message", s.handleGroup)
	mux.HandleFunc("POST /v3.0/oa/message/transaction", s.handleTransaction)
	mux.HandleFunc("GET /v3.0/oa/user/detail", s.handleUserDetail)
	mux.HandleFunc("GET /v2.0/oa/getoa", s.handleGetOA)
	mux.HandleFunc("POST /v4/oa/access_token", s.handleAccessToken)
	mux.HandleFunc("GET /v4/oa/permission", s.handlePermission)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Zalo answers unknown endpoints with a body error too.
		s.answer(w, r, 404, -404, "Endpoint not found", nil)
	})
	s.handler = mux
	return s
}

// Cleaner is what Start needs of a test: *testing.T and *testing.B are
// Cleaners. Asking for this rather than testing.TB keeps the testing
// package out of the production binary, whose simulator serves this fake.
type Cleaner interface {
	Cleanup(func())
}

// Start serves the fake on a local port and registers t.Cleanup to close
// it: the usual way to get one in a test.
func Start(t Cleaner, opts ...Option) *Server {
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

// Reset forgets the recorded messages and counts (not tokens or faults).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent, s.count, s.requests, s.refreshes, s.exchanges = nil, 0, 0, 0, 0
	clear(s.rejected)
}
