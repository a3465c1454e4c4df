package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// fakeZalo is the fake Zalo OpenAPI a target replies through, with a
// recorder that keeps, per user, the time of every message it accepted.
type fakeZalo struct {
	zalo *zalotest.Server
	rec  *recorder
	srv  *http.Server
	url  string
}

// startFake serves a fake Zalo on addr (a loopback address; "" picks a free
// port). It keeps counts only, not message bodies, so that a long run does
// not grow the tool's memory with copies of every reply.
func startFake(addr string) (*fakeZalo, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(addr); err != nil {
		return nil, fmt.Errorf("fake zalo address: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the fake zalo: %w", err)
	}
	f := &fakeZalo{
		zalo: zalotest.New(zalotest.WithoutRecording()),
		rec:  newRecorder(),
		url:  "http://" + ln.Addr().String(),
	}
	f.zalo.OnMessage(f.rec.record)
	f.srv = &http.Server{Handler: f.zalo.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Serve fails only if the listener breaks; the run then shows
			// every event as lost, which is the honest outcome.
			f.rec.serveErr(err)
		}
	}()
	return f, nil
}

// close stops the fake; requests it holds back (fault delays) are released.
func (f *fakeZalo) close() {
	f.zalo.Close()
	_ = f.srv.Close()
}

// recorder keeps the arrival times of the messages the fake accepted, per
// recipient user.
type recorder struct {
	mu     sync.Mutex
	byUser map[string][]time.Time
	groups int
	err    error
}

func newRecorder() *recorder { return &recorder{byUser: make(map[string][]time.Time)} }

func (r *recorder) record(m zalotest.Sent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.UserID == "" {
		r.groups++
		return
	}
	r.byUser[m.UserID] = append(r.byUser[m.UserID], m.Time)
}

func (r *recorder) serveErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// count returns how many messages user received.
func (r *recorder) count(user string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byUser[user])
}

// times returns the arrival times of user's messages, earliest first.
func (r *recorder) times(user string) []time.Time {
	r.mu.Lock()
	t := append([]time.Time(nil), r.byUser[user]...)
	r.mu.Unlock()
	// The fake calls OnMessage outside its lock, so two messages of one user
	// sent by concurrent senders could be appended out of order.
	sort.Slice(t, func(i, j int) bool { return t[i].Before(t[j]) })
	return t
}

// users returns every user that received something.
func (r *recorder) users() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.byUser))
	for u := range r.byUser {
		out = append(out, u)
	}
	return out
}

// requireLoopback refuses an address whose host is not a loopback IP or
// "localhost": the tool never sends load anywhere else.
func requireLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%q: %w", hostport, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", hostport)
	}
	return nil
}
