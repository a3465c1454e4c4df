package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	json "github.com/goccy/go-json"

	"github.com/camau-cns/cnsbot"
)

// WebhookPath is where Zalo posts events.
const WebhookPath = "/webhooks/zalo"

// DefaultMaxBody is the largest webhook body accepted when WebhookConfig.MaxBody is 0.
const DefaultMaxBody = 1 << 20

// maxFutureSkew is how far ahead of our clock an event's timestamp may be
// when the replay check is on: Zalo's clock and ours are not the same clock.
const maxFutureSkew = 5 * time.Minute

// WebhookConfig configures the Zalo webhook.
type WebhookConfig struct {
	// AppID and SecretKey (the OA secret key, not the app secret) verify
	// the signature. Without either the webhook answers 503 to every event.
	AppID     string
	SecretKey string
	// MaxBody caps the request body in bytes; 0 means DefaultMaxBody (1 MiB).
	MaxBody int64
	// MaxAge, when not zero, refuses events whose timestamp is older than
	// MaxAge, or more than a few minutes in the future, with 403. The
	// signature does not expire, so without it a captured request could be
	// replayed once the de-duplication key is gone. Zalo re-sends a failed
	// delivery for up to about 12 hours and those re-sends carry the original
	// timestamp, so MaxAge must be longer than that and shorter than the
	// de-duplication TTL (48 h): 24 h is a good value.
	MaxAge time.Duration
	// VerifierFile is the name of Zalo's domain verification file (for
	// example "zalo_verifierABC123.html"); when set, GET /<VerifierFile>
	// serves VerifierContent as HTML.
	VerifierFile    string
	VerifierContent string
	// StoreTimeout bounds the enqueue; 0 means DefaultStoreTimeout.
	StoreTimeout time.Duration
	// UnknownLogEvery is how often, per event name, the shape of an event
	// with an unknown name or fields is logged; 0 means DefaultUnknownLogEvery.
	UnknownLogEvery time.Duration
}

// DefaultStoreTimeout leaves room within Zalo's 2-second answer limit.
const DefaultStoreTimeout = 1500 * time.Millisecond

// Enqueuer durably stores an event before the webhook acknowledges it.
// Enqueue reports accepted=false for a key it has already stored (a
// redelivery), which is answered 200 like a new event. An error means the
// event was not stored; the webhook answers 503 so that Zalo re-sends it.
type Enqueuer interface {
	Enqueue(ctx context.Context, key, route string, payload []byte) (accepted bool, err error)
}

// Webhook receives Zalo's events: it verifies, parses and enqueues them, and
// answers as soon as the event is stored. It never waits on Zalo.
type Webhook struct {
	cfg     WebhookConfig
	q       Enqueuer
	log     *slog.Logger
	m       *Metrics
	counts  map[int]answerCounter // webhook answers by status, resolved once
	unknown *unknownWatch

	unconfigured sync.Once
}

// answerCounter is the one method of a prometheus.Counter the webhook uses.
type answerCounter interface{ Inc() }

// codeStale is the error code of an authentic event that is too old (or too far in
// the future) to be accepted under WebhookConfig.MaxAge.
const codeStale = "stale"

// Answers, by status. Bodies are fixed so that nothing internal leaks and
// answering costs no encoding.
var (
	webhookOK      = []byte(`{"ok":true}`)
	webhookAnswers = map[int][]byte{
		http.StatusBadRequest:            []byte(`{"error":"invalid event"}`),
		http.StatusUnauthorized:          []byte(`{"error":"invalid signature"}`),
		http.StatusForbidden:             []byte(`{"error":"event too old"}`),
		http.StatusRequestEntityTooLarge: []byte(`{"error":"body too large"}`),
		http.StatusInternalServerError:   []byte(`{"error":"internal error"}`),
		http.StatusServiceUnavailable:    []byte(`{"error":"unavailable, retry later"}`),
	}
)

// webhookStatus maps the error vocabulary to the webhook's HTTP statuses, once.
//
// An authentic event that fails the replay check gets 403: it is not a
// signature problem (401 would send an operator hunting for a wrong secret),
// not a malformed body (400), and not a conflict with the de-duplication
// state (409) — the request was understood and is refused by policy.
func webhookStatus(err error) int {
	switch cnsbot.ErrorCode(err) {
	case cnsbot.EINVALID:
		return http.StatusBadRequest
	case cnsbot.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case codeStale:
		return http.StatusForbidden
	case cnsbot.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case cnsbot.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// NewWebhook returns a webhook that stores events in q. log and m may be nil.
func NewWebhook(cfg WebhookConfig, q Enqueuer, log *slog.Logger, m *Metrics) *Webhook {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	w := &Webhook{cfg: cfg, q: q, log: log, m: m, counts: map[int]answerCounter{},
		unknown: newUnknownWatch(m, log, cfg.UnknownLogEvery)}
	w.counts[http.StatusOK] = m.WebhookAnswers.WithLabelValues(strconv.Itoa(http.StatusOK))
	for status := range webhookAnswers {
		w.counts[status] = m.WebhookAnswers.WithLabelValues(strconv.Itoa(status))
	}
	return w
}

// Register adds the webhook's routes: POST WebhookPath and, when configured,
// the domain verification file.
func (w *Webhook) Register(r gin.IRoutes) {
	r.POST(WebhookPath, w.Handle)
	if name := strings.TrimPrefix(w.cfg.VerifierFile, "/"); name != "" {
		content := []byte(w.cfg.VerifierContent)
		r.GET("/"+name, func(c *gin.Context) {
			c.Data(http.StatusOK, "text/html; charset=utf-8", content)
		})
	}
}

// Handle is the gin handler of POST WebhookPath.
func (w *Webhook) Handle(c *gin.Context) {
	start := time.Now()
	defer func() { w.m.WebhookLatency.Observe(time.Since(start).Seconds()) }()
	status := http.StatusOK
	if err := w.receive(c.Request.Context(), c.Writer, c.Request); err != nil {
		status = webhookStatus(err)
	}
	body := webhookOK
	if status != http.StatusOK {
		body = webhookAnswers[status]
	}
	w.counts[status].Inc()
	c.Data(status, "application/json", body)
}

// receive runs the checks in the order that answers each request with the
// most useful status: configuration, size, JSON syntax, signature, event
// content, age; then it stores the event.
func (w *Webhook) receive(ctx context.Context, rw http.ResponseWriter, r *http.Request) error {
	if w.cfg.AppID == "" || w.cfg.SecretKey == "" {
		w.unconfigured.Do(func() {
			w.log.Error("zalo webhook refuses every event with 503: the app id or the OA secret key is not configured (ZALO_APP_ID, ZALO_OA_SECRET_KEY)")
		})
		return cnsbot.Errorf(cnsbot.EUNAVAILABLE, "webhook not configured")
	}

	body, err := readWebhookBody(rw, r, w.cfg.MaxBody)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			w.log.Warn("zalo webhook body too large", "limit", w.cfg.MaxBody, "content_length", r.ContentLength)
			return cnsbot.Errorf(cnsbot.ETOOLARGE, "body over %d bytes", w.cfg.MaxBody)
		}
		return cnsbot.Errorf(cnsbot.EINVALID, "read body: %v", err)
	}

	// The signed timestamp is a field of the body, so the body is decoded
	// before it is verified; it is decoded once and the same decoding builds
	// the event.
	wire, err := decodeEvent(body)
	if err != nil {
		w.log.Warn("zalo webhook body is not JSON", "bytes", len(body))
		return err
	}
	if !Verify(w.cfg.AppID, w.cfg.SecretKey, body, string(wire.Timestamp), r.Header.Get(SignatureHeader)) {
		w.log.Warn("zalo webhook signature refused",
			"has_signature", r.Header.Get(SignatureHeader) != "",
			// A body for another app is the usual cause of a mismatch that
			// is not an attack: say so without logging either signature.
			"app_id_matches", string(wire.AppID) == w.cfg.AppID,
			"remote", r.RemoteAddr)
		return cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "signature mismatch")
	}
	ev, err := wire.event()
	if err != nil {
		// The name may be the very field that is too long.
		w.log.Warn("zalo webhook event refused", "event", clip(wire.EventName, MaxID), "err", err)
		return err
	}
	if w.cfg.MaxAge > 0 {
		age := time.Since(ev.Time)
		if age > w.cfg.MaxAge || age < -maxFutureSkew {
			w.log.Warn("zalo webhook event refused by the replay check", "event", ev.Name, "key", ev.Key, "age", age.Round(time.Second).String())
			return cnsbot.Errorf(codeStale, "event timestamp out of range")
		}
	}

	payload, err := json.Marshal(ev)
	if err != nil {
		w.log.Error("zalo webhook cannot encode event", "event", ev.Name, "key", ev.Key, "err", err)
		return cnsbot.Errorf(cnsbot.EINTERNAL, "encode event: %v", err)
	}
	// Zalo wants its answer within 2 seconds: a store slower than that is
	// as good as down, and a 503 makes Zalo re-send later.
	storeCtx, cancel := context.WithTimeout(ctx, w.cfg.StoreTimeout)
	accepted, err := w.q.Enqueue(storeCtx, ev.Key, ev.Route, payload)
	cancel()
	if err != nil {
		w.log.Error("zalo webhook cannot store event; answering 503 so that Zalo re-sends it", "event", ev.Name, "key", ev.Key, "err", err)
		return cnsbot.Errorf(cnsbot.EUNAVAILABLE, "store event: %v", err)
	}

	// The name as Zalo sent it, not the one the service uses for it, so
	// that the operator sees which of the published variants arrives.
	label := wire.EventName
	if !knownEvent(label) {
		label = "other"
	}
	outcome := "accepted"
	if !accepted {
		outcome = "duplicate"
	}
	w.m.Events.WithLabelValues(label, outcome).Inc()
	if accepted {
		w.unknown.observe(ctx, wire.EventName, body)
	}
	if w.log.Enabled(ctx, slog.LevelDebug) {
		w.log.LogAttrs(ctx, slog.LevelDebug, "zalo event received",
			slog.String("event", ev.Name), slog.String("key", ev.Key),
			slog.String("route", ev.Route), slog.String("outcome", outcome))
	}
	return nil
}

// readWebhookBody reads the whole body, at most limit bytes. It sizes its buffer
// from Content-Length, so a typical event is read with one allocation.
func readWebhookBody(rw http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	size := int64(512)
	if r.ContentLength >= 0 {
		// One byte more than announced lets the final read see EOF
		// without growing the buffer.
		size = r.ContentLength + 1
	}
	buf := make([]byte, 0, size)
	rd := http.MaxBytesReader(rw, r.Body, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
