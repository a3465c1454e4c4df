package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	whApp    = "50554360515256678"
	whSecret = "oa-secret-key"
)

// memQueue is an in-process Enqueuer that de-duplicates by key, like the
// Redis queue does.
type memQueue struct {
	mu    sync.Mutex
	err   error
	calls int
	keys  map[string]bool
	items []memItem
}

type memItem struct {
	key, route string
	payload    []byte
}

func (q *memQueue) Enqueue(_ context.Context, key, route string, payload []byte) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.err != nil {
		return false, q.err
	}
	if q.keys == nil {
		q.keys = map[string]bool{}
	}
	if q.keys[key] {
		return false, nil
	}
	q.keys[key] = true
	q.items = append(q.items, memItem{key, route, append([]byte(nil), payload...)})
	return true, nil
}

// whServer is a gin engine with a webhook, its queue, metrics and log.
type whServer struct {
	engine *gin.Engine
	q      *memQueue
	m      *bot.Metrics
	log    *bytes.Buffer
}

func newWhServer(t *testing.T, cfg bot.WebhookConfig) *whServer {
	t.Helper()
	s := &whServer{engine: gin.New(), q: &memQueue{}, m: bot.NewMetrics(nil), log: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bot.NewWebhook(cfg, s.q, log, s.m).Register(s.engine)
	return s
}

func whConfig() bot.WebhookConfig { return bot.WebhookConfig{AppID: whApp, SecretKey: whSecret} }

// post sends body with the given signature header ("" for none).
func (s *whServer) post(body []byte, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, bot.WebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(bot.SignatureHeader, signature)
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	return rec
}

// postSigned signs body with its own timestamp field and posts it.
func (s *whServer) postSigned(body []byte) *httptest.ResponseRecorder {
	return s.post(body, "mac="+bot.Sign(whApp, body, whTimestamp(body), whSecret))
}

// whTimestamp returns the body's timestamp field as Zalo signs it.
func whTimestamp(body []byte) string {
	var v struct {
		Timestamp json.RawMessage `json:"timestamp"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	if s, err := strconv.Unquote(string(v.Timestamp)); err == nil {
		return s
	}
	return string(v.Timestamp)
}

func whEvent(name, msgID string, ts time.Time) []byte {
	return []byte(`{"event_name":"` + name + `","app_id":"` + whApp + `","sender":{"id":"5510185758261927916"},` +
		`"recipient":{"id":"1646843870823903717"},"message":{"text":"Xin chào","msg_id":"` + msgID + `"},` +
		`"timestamp":"` + strconv.FormatInt(ts.UnixMilli(), 10) + `"}`)
}

func (s *whServer) answers(status int) float64 {
	return whCount(s.m.WebhookAnswers.WithLabelValues(strconv.Itoa(status)))
}

func (s *whServer) events(name, outcome string) float64 {
	return whCount(s.m.Events.WithLabelValues(name, outcome))
}

func whCount(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status: got %v, want %v (body %s)", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type: got %v, want application/json", ct)
	}
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer is not JSON: %q", rec.Body)
	}
	if status == http.StatusOK && v["ok"] != true {
		t.Errorf("answer: got %s, want ok", rec.Body)
	}
	if status != http.StatusOK && v["error"] == nil {
		t.Errorf("answer: got %s, want an error", rec.Body)
	}
}

func TestWebhookAccepts(t *testing.T) {
	s := newWhServer(t, whConfig())
	body := whEvent("user_send_text", "m-accept", time.Now())
	checkAnswer(t, s.postSigned(body), http.StatusOK)

	if len(s.q.items) != 1 {
		t.Fatalf("queued: got %v, want 1", len(s.q.items))
	}
	it := s.q.items[0]
	want, err := bot.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if it.key != want.Key || it.route != want.Route {
		t.Errorf("queued key, route: got %v, %v, want %v, %v", it.key, it.route, want.Key, want.Route)
	}
	var got cnsbot.Event
	if err := json.Unmarshal(it.payload, &got); err != nil {
		t.Fatalf("payload: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("payload\n got %+v\nwant %+v", got, want)
	}
	if n := s.answers(200); n != 1 {
		t.Errorf("200 answers: got %v, want 1", n)
	}
	if n := s.events("user_send_text", "accepted"); n != 1 {
		t.Errorf("accepted events: got %v, want 1", n)
	}
	for _, secret := range []string{"Xin chào", whSecret, bot.Sign(whApp, body, whTimestamp(body), whSecret)} {
		if strings.Contains(s.log.String(), secret) {
			t.Errorf("log contains %q: %s", secret, s.log)
		}
	}
}

func TestWebhookDuplicate(t *testing.T) {
	s := newWhServer(t, whConfig())
	body := whEvent("user_send_text", "m-dup", time.Now())
	checkAnswer(t, s.postSigned(body), http.StatusOK)
	checkAnswer(t, s.postSigned(body), http.StatusOK)
	if s.q.calls != 2 {
		t.Errorf("Enqueue calls: got %v, want 2", s.q.calls)
	}
	if len(s.q.items) != 1 {
		t.Errorf("queued: got %v, want 1", len(s.q.items))
	}
	if n := s.events("user_send_text", "duplicate"); n != 1 {
		t.Errorf("duplicate events: got %v, want 1", n)
	}
	if n := s.answers(200); n != 2 {
		t.Errorf("200 answers: got %v, want 2", n)
	}
}

func TestWebhookUnknownEventAcknowledged(t *testing.T) {
	s := newWhServer(t, whConfig())
	body := []byte(`{"event_name":"change_hologram_status","app_id":"` + whApp + `","template_id":"1","timestamp":"1717061872000"}`)
	checkAnswer(t, s.postSigned(body), http.StatusOK)
	if len(s.q.items) != 1 || s.q.items[0].route != bot.RouteOA {
		t.Fatalf("queued: got %+v, want one item routed %v", s.q.items, bot.RouteOA)
	}
	if n := s.events("other", "accepted"); n != 1 {
		t.Errorf("events labelled other: got %v, want 1", n)
	}
}

func TestWebhookRefuses(t *testing.T) {
	now := time.Now()
	good := whEvent("user_send_text", "m-refuse", now)
	goodSig := "mac=" + bot.Sign(whApp, good, whTimestamp(good), whSecret)
	tampered := bytes.Replace(good, []byte("Xin chào"), []byte("Xin chao"), 1)
	noTS := []byte(`{"event_name":"user_send_text","sender":{"id":"1"}}`)
	noName := []byte(`{"sender":{"id":"1"},"timestamp":"1717061839659"}`)
	big := append(append([]byte(`{"event_name":"user_send_text","timestamp":"1","pad":"`), bytes.Repeat([]byte("a"), 1<<20)...), `"}`...)

	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
	}{
		{"missing signature", good, "", http.StatusUnauthorized},
		{"wrong signature", good, "mac=" + strings.Repeat("ab", 32), http.StatusUnauthorized},
		{"signature for another app", good, "mac=" + bot.Sign("1", good, whTimestamp(good), whSecret), http.StatusUnauthorized},
		{"tampered body", tampered, goodSig, http.StatusUnauthorized},
		{"not JSON", []byte("event_name=user_send_text"), goodSig, http.StatusBadRequest},
		{"malformed JSON", good[:len(good)-1], goodSig, http.StatusBadRequest},
		{"empty body", nil, goodSig, http.StatusBadRequest},
		{"missing timestamp (signed)", noTS, "mac=" + bot.Sign(whApp, noTS, "", whSecret), http.StatusBadRequest},
		{"missing event_name (signed)", noName, "mac=" + bot.Sign(whApp, noName, "1717061839659", whSecret), http.StatusBadRequest},
		{"missing event_name (unsigned)", noName, "", http.StatusUnauthorized},
		{"over 1 MiB", big, "mac=" + bot.Sign(whApp, big, "1", whSecret), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newWhServer(t, whConfig())
			checkAnswer(t, s.post(tt.body, tt.sig), tt.status)
			if s.q.calls != 0 {
				t.Errorf("Enqueue calls: got %v, want 0", s.q.calls)
			}
			if n := s.answers(tt.status); n != 1 {
				t.Errorf("answers counted for %v: got %v, want 1", tt.status, n)
			}
			if strings.Contains(s.log.String(), "Xin ch") {
				t.Errorf("log contains message text: %s", s.log)
			}
		})
	}
}

// TestWebhookTooLargeWithoutLength checks the limit on a body whose length
// is not announced (chunked), which only the reader can enforce.
func TestWebhookTooLargeWithoutLength(t *testing.T) {
	s := newWhServer(t, whConfig())
	body := bytes.Repeat([]byte(" "), bot.DefaultMaxBody+1)
	req := httptest.NewRequest(http.MethodPost, bot.WebhookPath, io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	checkAnswer(t, rec, http.StatusRequestEntityTooLarge)
}

func TestWebhookMaxBodyConfigurable(t *testing.T) {
	cfg := whConfig()
	cfg.MaxBody = 100
	s := newWhServer(t, cfg)
	body := whEvent("user_send_text", "m-size", time.Now())
	checkAnswer(t, s.postSigned(body), http.StatusRequestEntityTooLarge)
}

func TestWebhookNotConfigured(t *testing.T) {
	for _, cfg := range []bot.WebhookConfig{{}, {AppID: whApp}, {SecretKey: whSecret}} {
		s := newWhServer(t, cfg)
		body := whEvent("user_send_text", "m-unconf", time.Now())
		checkAnswer(t, s.post(body, "mac="+bot.Sign(cfg.AppID, body, whTimestamp(body), cfg.SecretKey)), http.StatusServiceUnavailable)
		checkAnswer(t, s.post(body, ""), http.StatusServiceUnavailable)
		if s.q.calls != 0 {
			t.Errorf("Enqueue calls: got %v, want 0", s.q.calls)
		}
		if n := strings.Count(s.log.String(), "not configured"); n != 1 {
			t.Errorf("log lines saying why: got %v, want 1\n%s", n, s.log)
		}
	}
}

func TestWebhookEnqueueError(t *testing.T) {
	s := newWhServer(t, whConfig())
	s.q.err = errors.New("redis: connection refused")
	checkAnswer(t, s.postSigned(whEvent("user_send_text", "m-err", time.Now())), http.StatusServiceUnavailable)
	if strings.Contains(s.log.String(), "Xin ch") {
		t.Errorf("log contains message text: %s", s.log)
	}
	if !strings.Contains(s.log.String(), "connection refused") {
		t.Errorf("log does not say why: %s", s.log)
	}
}

func TestWebhookReplay(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		maxAge time.Duration
		ts     time.Time
		status int
	}{
		{"fresh", time.Hour, now.Add(-time.Minute), http.StatusOK},
		{"too old", time.Hour, now.Add(-2 * time.Hour), http.StatusForbidden},
		{"slightly ahead", time.Hour, now.Add(time.Minute), http.StatusOK},
		{"far in the future", time.Hour, now.Add(time.Hour), http.StatusForbidden},
		{"check off", 0, now.Add(-30 * 24 * time.Hour), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := whConfig()
			cfg.MaxAge = tt.maxAge
			s := newWhServer(t, cfg)
			checkAnswer(t, s.postSigned(whEvent("user_send_text", "m-"+tt.name, tt.ts)), tt.status)
			wantCalls := 0
			if tt.status == http.StatusOK {
				wantCalls = 1
			}
			if s.q.calls != wantCalls {
				t.Errorf("Enqueue calls: got %v, want %v", s.q.calls, wantCalls)
			}
		})
	}
}

func TestWebhookVerifierFile(t *testing.T) {
	cfg := whConfig()
	cfg.VerifierFile = "zalo_verifierAbC123.html"
	cfg.VerifierContent = `<html><head><meta property="zalo-platform-site-verification" content="AbC123" /></head></html>`
	s := newWhServer(t, cfg)

	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/zalo_verifierAbC123.html", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %v, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type: got %v, want text/html", ct)
	}
	if got := rec.Body.String(); got != cfg.VerifierContent {
		t.Errorf("body: got %q, want %q", got, cfg.VerifierContent)
	}

	// Without a file name no route is added.
	s = newWhServer(t, whConfig())
	rec = httptest.NewRecorder()
	s.engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/zalo_verifierAbC123.html", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("status without a verifier file: got %v, want 404", rec.Code)
	}
}

// TestWebhookExamples posts every example payload, signed: each is accepted.
func TestWebhookExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := newWhServer(t, whConfig())
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rec := s.postSigned(body)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %v, want 200 (%s)", file, rec.Code, rec.Body)
		}
	}
	if len(s.q.items) != len(files) {
		t.Errorf("queued: got %v, want %v (one per example)", len(s.q.items), len(files))
	}
}

// TestWebhookFuzzCorpus runs the handler over the fuzz seed corpus, signed
// and unsigned: no input makes it panic or answer anything but 200, 400 or 401.
func TestWebhookFuzzCorpus(t *testing.T) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseEvent", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) == 0 {
		t.Fatal("no fuzz seeds")
	}
	s := newWhServer(t, whConfig())
	for _, path := range seeds {
		body, err := readFuzzSeed(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, variant := range [][]byte{body, body[:len(body)/2], append([]byte("\x00"), body...)} {
			for _, signed := range []bool{true, false} {
				var rec *httptest.ResponseRecorder
				if signed {
					rec = s.postSigned(variant)
				} else {
					rec = s.post(variant, "mac=00")
				}
				switch rec.Code {
				case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized:
				default:
					t.Errorf("%s: status %v", path, rec.Code)
				}
			}
		}
	}
}
