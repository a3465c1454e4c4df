package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// redisProxy stands between the service and a real Redis so that a test can
// make Redis fail the way a network or a server does: refuse connections,
// or accept them and never answer.
type redisProxy struct {
	t      *testing.T
	target string
	ln     net.Listener
	addr   string

	mu    sync.Mutex
	mode  string // "up", "refuse", "stall"
	conns []net.Conn
	done  chan struct{}
	wg    sync.WaitGroup
}

func newRedisProxy(t *testing.T, target string) *redisProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisProxy{t: t, target: target, ln: ln, addr: ln.Addr().String(), mode: "up", done: make(chan struct{})}
	p.wg.Go(func() { p.accept(ln) })
	t.Cleanup(p.close)
	return p
}

func (p *redisProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		if mode == "stall" {
			// Accepted, read and never answered, like a server that hangs.
			p.wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, up)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(up, c) })
		p.wg.Go(func() { p.pipe(c, up) })
	}
}

// pipe copies src to dst while the proxy is up; once it stalls, what is
// read is dropped, so requests on an open connection are never answered.
func (p *redisProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			mode := p.mode
			p.mu.Unlock()
			if mode == "up" {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if dst != nil {
				p.mu.Lock()
				stalled := p.mode == "stall"
				p.mu.Unlock()
				if !stalled {
					_ = dst.Close()
				}
			}
			return
		}
	}
}

// refuse closes the listener and every connection: the port answers
// "connection refused" from now on, as when Redis is down.
func (p *redisProxy) refuse() {
	p.mu.Lock()
	p.mode = "refuse"
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
}

// stall keeps every connection open and accepts new ones, but nothing is
// answered any more.
func (p *redisProxy) stall() {
	p.mu.Lock()
	p.mode = "stall"
	p.mu.Unlock()
}

func (p *redisProxy) close() {
	p.mu.Lock()
	p.mode = "refuse"
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

const (
	outageApp    = "50554360515256678"
	outageSecret = "oa-secret-key"
)

// outageEvent is a signed user_send_text event with its own msg_id.
func outageEvent(i int) (body []byte, sig string) {
	oa := zaloevent.OA{AppID: outageApp, OAID: "1646843870823903717", SecretKey: outageSecret}
	return oa.Sign(oa.Text(fmt.Sprintf("55101857582619%05d", i), fmt.Sprintf("outage%08d", i), "xin chào", time.Now()))
}

// TestWebhookAnswersWithinBudgetDuringRedisOutage sends 40 events over 5
// seconds to the real webhook while its Redis is down, and wants every one
// answered 503 within the budget that leaves room in Zalo's 2 seconds.
// Redis fails two ways: refusing connections (the server is stopped), and
// accepting them without ever answering (the server or the network hangs).
func TestWebhookAnswersWithinBudgetDuringRedisOutage(t *testing.T) {
	const (
		requests = 40
		over     = 5 * time.Second
		budget   = 1600 * time.Millisecond
	)
	for _, fault := range []string{"refuse", "stall"} {
		t.Run(fault, func(t *testing.T) {
			real, prefix := storetest.Redis(t)
			proxy := newRedisProxy(t, real.Options().Addr)
			ctx := context.Background()
			rdb, closeRedis, err := store.ConnectRedis(ctx, "redis://"+proxy.addr+"/0", slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			// The proxy closes first: the client's Close waits for commands
			// still queued, which a stalled Redis would hold for 30 s.
			defer func() { proxy.close(); _ = closeRedis() }()
			q, err := store.NewQueue(ctx, rdb, store.QueueOptions{Prefix: prefix, Partitions: 4})
			if err != nil {
				t.Fatal(err)
			}
			gin.SetMode(gin.TestMode)
			r := gin.New()
			bot.NewWebhook(bot.WebhookConfig{AppID: outageApp, SecretKey: outageSecret}, q, nil, nil).Register(r)
			srv := httptest.NewServer(r)
			defer srv.Close()

			post := func(i int) (int, time.Duration, error) {
				body, sig := outageEvent(i)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+bot.WebhookPath, strings.NewReader(string(body)))
				req.Header.Set(bot.SignatureHeader, sig)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := srv.Client().Do(req)
				took := time.Since(start)
				if err != nil {
					return 0, took, err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				return resp.StatusCode, took, nil
			}
			// Warm up: connections pooled, scripts loaded, as in service.
			for i := range 8 {
				if code, _, err := post(i); err != nil || code != http.StatusOK {
					t.Fatalf("before the outage: got %d, %v, want 200", code, err)
				}
			}

			switch fault {
			case "refuse":
				proxy.refuse()
			case "stall":
				proxy.stall()
			}

			type answer struct {
				code int
				took time.Duration
				err  error
			}
			answers := make([]answer, requests)
			var wg sync.WaitGroup
			for i := range requests {
				wg.Go(func() {
					code, took, err := post(1000 + i)
					answers[i] = answer{code, took, err}
				})
				time.Sleep(over / requests)
			}
			wg.Wait()

			var slow, worst time.Duration
			late := 0
			var took []time.Duration
			for _, a := range answers {
				took = append(took, a.took.Round(time.Millisecond))
			}
			t.Logf("answer times: %v", took)
			for i, a := range answers {
				if a.err != nil {
					t.Errorf("request %d: %v", i, a.err)
					continue
				}
				if a.code != http.StatusServiceUnavailable {
					t.Errorf("request %d: got %d, want 503", i, a.code)
				}
				if a.took > budget {
					late++
					slow = a.took
				}
				worst = max(worst, a.took)
			}
			t.Logf("%s: slowest answer %v; %d of %d over %v", fault, worst.Round(time.Millisecond), late, requests, budget)
			if late > 0 {
				t.Errorf("%d of %d answers took longer than %v (one took %v), want none", late, requests, budget, slow.Round(time.Millisecond))
			}
		})
	}
}
