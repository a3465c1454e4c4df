package bot_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot/bot"
)

func benchBody(b *testing.B) []byte {
	b.Helper()
	body, err := os.ReadFile("testdata/events/user_send_text.json")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkVerify(b *testing.B) {
	body := benchBody(b)
	sig := "mac=" + bot.Sign(whApp, body, "1717061839659", whSecret)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !bot.Verify(whApp, whSecret, body, "1717061839659", sig) {
			b.Fatal("signature refused")
		}
	}
}

func BenchmarkParseEvent(b *testing.B) {
	body := benchBody(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := bot.ParseEvent(body); err != nil {
			b.Fatal(err)
		}
	}
}

// countQueue is an Enqueuer that only counts, so that the benchmark measures
// the handler and not a store.
type countQueue struct{ n atomic.Int64 }

func (q *countQueue) Enqueue(context.Context, string, string, []byte) (bool, error) {
	q.n.Add(1)
	return true, nil
}

// BenchmarkWebhook measures the whole handler through gin: read, decode,
// verify, build, marshal, enqueue and answer one signed event, each with a
// new msg_id.
func BenchmarkWebhook(b *testing.B) {
	engine := gin.New()
	q := &countQueue{}
	bot.NewWebhook(bot.WebhookConfig{AppID: whApp, SecretKey: whSecret, MaxAge: 24 * time.Hour}, q, nil, nil).Register(engine)

	const n = 1024
	bodies := make([][]byte, n)
	sigs := make([]string, n)
	ts := time.Now()
	for i := range bodies {
		bodies[i] = whEvent("user_send_text", "bench"+strconv.Itoa(i), ts)
		sigs[i] = "mac=" + bot.Sign(whApp, bodies[i], strconv.FormatInt(ts.UnixMilli(), 10), whSecret)
	}
	rd := bytes.NewReader(nil)
	req := httptest.NewRequest(http.MethodPost, bot.WebhookPath, rd)
	rec := &benchWriter{header: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(bodies[0])))
	i := 0
	for b.Loop() {
		body := bodies[i%n]
		rd.Reset(body)
		req.Body = readCloser{rd}
		req.ContentLength = int64(len(body))
		req.Header.Set(bot.SignatureHeader, sigs[i%n])
		clear(rec.header)
		rec.code = 0
		engine.ServeHTTP(rec, req)
		if rec.code != http.StatusOK {
			b.Fatalf("status %v", rec.code)
		}
		i++
	}
}

// benchWriter is a reusable http.ResponseWriter that keeps only the status.
type benchWriter struct {
	header http.Header
	code   int
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}

func (w *benchWriter) WriteHeader(code int) { w.code = code }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
