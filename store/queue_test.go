package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// redises gives each test both a real Redis and an in-process one.
func redises() map[string]func(t *testing.T) (*redis.Client, string) {
	return map[string]func(t *testing.T) (*redis.Client, string){
		"redis":     func(t *testing.T) (*redis.Client, string) { return storetest.Redis(t) },
		"miniredis": func(t *testing.T) (*redis.Client, string) { return storetest.MiniRedis(t), "t:" },
	}
}

func newQueue(t *testing.T, rdb redis.UniversalClient, opts store.QueueOptions) *store.Queue {
	t.Helper()
	q, err := store.NewQueue(context.Background(), rdb, opts)
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	q.SetRetry(10 * time.Millisecond)
	q.SetBlock(200 * time.Millisecond)
	return q
}

// runQueue runs q in the background until the test ends or stop is called;
// stop waits for Run to return.
func runQueue(t *testing.T, q *store.Queue, handle func(context.Context, []byte) error,
	deliver func(context.Context, cnsbot.Outgoing) error) (stop func()) {
	t.Helper()
	if deliver == nil {
		deliver = func(context.Context, cnsbot.Outgoing) error { return nil }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, handle, deliver) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10s after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ev is the payload the tests enqueue.
type ev struct {
	Route string `json:"route"`
	Seq   int    `json:"seq"`
}

func (e ev) key() string { return fmt.Sprintf("%s#%d", e.Route, e.Seq) }

func enqueue(t *testing.T, q *store.Queue, e ev) bool {
	t.Helper()
	b, _ := json.Marshal(e)
	ok, err := q.Enqueue(context.Background(), e.key(), e.Route, b)
	if err != nil {
		t.Errorf("enqueue %s: %v", e.key(), err)
	}
	return ok
}

// recorder remembers handled events per route.
type recorder struct {
	mu     sync.Mutex
	routes map[string][]int
	n      atomic.Int64
}

func newRecorder() *recorder { return &recorder{routes: map[string][]int{}} }

func (r *recorder) handle(_ context.Context, payload []byte) error {
	var e ev
	if err := json.Unmarshal(payload, &e); err != nil {
		return err
	}
	r.mu.Lock()
	r.routes[e.Route] = append(r.routes[e.Route], e.Seq)
	r.mu.Unlock()
	r.n.Add(1)
	return nil
}

func (r *recorder) seqs(route string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.routes[route])
}

func TestEnqueueDeduplicates(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			reg := prometheus.NewRegistry()
			q := newQueue(t, rdb, store.QueueOptions{Prefix: prefix, Metrics: store.NewQueueMetrics(reg)})
			e := ev{Route: "u:1", Seq: 1}
			if !enqueue(t, q, e) {
				t.Fatal("got the first enqueue refused, want accepted")
			}
			if enqueue(t, q, e) {
				t.Fatal("got a duplicate accepted, want refused")
			}
			in, _, err := q.Backlog(context.Background())
			if err != nil || in != 1 {
				t.Fatalf("got backlog %d, %v; want 1", in, err)
			}
			rec := newRecorder()
			runQueue(t, q, rec.handle, nil)
			eventually(t, 5*time.Second, "the event", func() bool { return rec.n.Load() == 1 })
			eventually(t, 5*time.Second, "an empty inbox", func() bool {
				in, _, _ := q.Backlog(context.Background())
				return in == 0
			})
			// Still a duplicate after it was processed.
			if enqueue(t, q, e) {
				t.Error("got a processed event accepted again, want refused")
			}
			time.Sleep(100 * time.Millisecond)
			if got := rec.n.Load(); got != 1 {
				t.Errorf("got %d events handled, want 1", got)
			}
			metrics := gather(t, reg)
			if got := metrics["cnsbot_queue_partitions_owned"]; got != store.DefaultPartitions {
				t.Errorf("got %v partitions owned, want %d", got, store.DefaultPartitions)
			}
			if got := metrics["cnsbot_queue_latency_seconds"]; got != 1 {
				t.Errorf("got %v latency samples, want 1", got)
			}
		})
	}
}

func TestEnqueueInvalid(t *testing.T) {
	q := newQueue(t, storetest.MiniRedis(t), store.QueueOptions{})
	for _, c := range []struct{ key, route string }{{"", "u:1"}, {"k", ""}} {
		if _, err := q.Enqueue(context.Background(), c.key, c.route, []byte("{}")); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Errorf("Enqueue(%q, %q): got %v, want EINVALID", c.key, c.route, err)
		}
	}
}

// TestOrderPerRoute enqueues the events of many routes concurrently while
// the queue runs, and checks that each route's events are handled once, in
// the order they were enqueued.
func TestOrderPerRoute(t *testing.T) {
	const routes, perRoute = 50, 40
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			q := newQueue(t, rdb, store.QueueOptions{Prefix: prefix})
			rec := newRecorder()
			runQueue(t, q, rec.handle, nil)
			var wg sync.WaitGroup
			for r := range routes {
				wg.Go(func() {
					for s := range perRoute {
						enqueue(t, q, ev{Route: fmt.Sprintf("u:%d", r), Seq: s})
					}
				})
			}
			wg.Wait()
			eventually(t, 20*time.Second, "every event", func() bool { return rec.n.Load() >= routes*perRoute })
			want := make([]int, perRoute)
			for i := range want {
				want[i] = i
			}
			for r := range routes {
				if got := rec.seqs(fmt.Sprintf("u:%d", r)); !slices.Equal(got, want) {
					t.Errorf("route u:%d: got %v, want %v", r, got, want)
				}
			}
		})
	}
}

// TestCrashRecovery stops a replica in the middle of an event, without the
// event being acknowledged; a new replica processes it, then the next one.
func TestCrashRecovery(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			opts := store.QueueOptions{Prefix: prefix, Partitions: 4, Lease: time.Second}
			a := newQueue(t, rdb, opts)
			started, release := make(chan struct{}), make(chan struct{})
			stopA := runQueue(t, a, func(ctx context.Context, payload []byte) error {
				close(started)
				<-release
				return errors.New("process died")
			}, nil)
			enqueue(t, a, ev{Route: "u:7", Seq: 1})
			enqueue(t, a, ev{Route: "u:7", Seq: 2})
			<-started
			go func() { time.Sleep(100 * time.Millisecond); close(release) }()
			stopA()

			p := a.Partition("u:7")
			pending, err := rdb.XPending(context.Background(), a.InboxKey(p), "cnsbot").Result()
			// The first was read (the second maybe too); none was acknowledged.
			if err != nil || pending.Count < 1 {
				t.Fatalf("got %+v, %v pending after the crash, want at least 1 entry", pending, err)
			}
			if n := rdb.XLen(context.Background(), a.InboxKey(p)).Val(); n != 2 {
				t.Fatalf("got %d entries in the inbox after the crash, want 2", n)
			}

			b := newQueue(t, rdb, opts)
			rec := newRecorder()
			runQueue(t, b, rec.handle, nil)
			eventually(t, 10*time.Second, "both events", func() bool { return rec.n.Load() == 2 })
			if got := rec.seqs("u:7"); !slices.Equal(got, []int{1, 2}) {
				t.Errorf("got %v, want [1 2]", got)
			}
		})
	}
}

// TestHungReplicaLosesLease cuts a replica off from Redis while its handler
// hangs: it must give the partition up, and another replica takes it over
// and handles the event the first one never finished.
func TestHungReplicaLosesLease(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	opts := store.QueueOptions{Prefix: prefix, Partitions: 2, Lease: 600 * time.Millisecond}

	aClient := redis.NewClient(rdb.Options())
	a := newQueue(t, aClient, opts)
	started := make(chan struct{})
	var once sync.Once
	var aCancelled atomic.Bool
	runQueue(t, a, func(ctx context.Context, payload []byte) error {
		once.Do(func() { close(started) })
		<-ctx.Done() // hangs until the lease is lost
		aCancelled.Store(true)
		return ctx.Err()
	}, nil)
	enqueue(t, a, ev{Route: "g:9", Seq: 1})
	<-started
	_ = aClient.Close() // the replica can no longer reach Redis

	b := newQueue(t, rdb, opts)
	rec := newRecorder()
	runQueue(t, b, rec.handle, nil)
	eventually(t, 10*time.Second, "the takeover", func() bool { return rec.n.Load() == 1 })
	if !aCancelled.Load() {
		t.Error("the cut-off replica's handler was not cancelled before the takeover")
	}
}

// TestTwoReplicas runs two queues over the same Redis: they share the
// partitions, and every event is handled exactly once, in order per route.
func TestTwoReplicas(t *testing.T) {
	const routes, perRoute = 64, 20
	rdb, prefix := storetest.Redis(t)
	opts := store.QueueOptions{Prefix: prefix, Lease: time.Second}
	var mu sync.Mutex
	handled := map[string][]int{}
	by := map[string]int{}
	handler := func(name string) func(context.Context, []byte) error {
		return func(_ context.Context, payload []byte) error {
			var e ev
			if err := json.Unmarshal(payload, &e); err != nil {
				return err
			}
			mu.Lock()
			handled[e.Route] = append(handled[e.Route], e.Seq)
			by[name]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			return nil
		}
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return by["a"] + by["b"]
	}
	a := newQueue(t, rdb, opts)
	b := newQueue(t, rdb, opts)
	runQueue(t, a, handler("a"), nil)
	// b joins later: a first takes every partition, then hands half over.
	time.Sleep(300 * time.Millisecond)
	runQueue(t, b, handler("b"), nil)

	var wg sync.WaitGroup
	for r := range routes {
		wg.Go(func() {
			for s := range perRoute {
				enqueue(t, a, ev{Route: fmt.Sprintf("u:%d", r), Seq: s})
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	eventually(t, 20*time.Second, "every event", func() bool { return count() >= routes*perRoute })
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if got := by["a"] + by["b"]; got != routes*perRoute {
		t.Errorf("got %d events handled, want %d", got, routes*perRoute)
	}
	if by["a"] == 0 || by["b"] == 0 {
		t.Errorf("got a=%d b=%d events, want both replicas to work", by["a"], by["b"])
	}
	want := make([]int, perRoute)
	for i := range want {
		want[i] = i
	}
	for r := range routes {
		route := fmt.Sprintf("u:%d", r)
		if got := handled[route]; !slices.Equal(got, want) {
			t.Errorf("route %s: got %v, want %v", route, got, want)
		}
	}
}

// TestLeaseTakeover stops one replica; the other takes its partitions over.
func TestLeaseTakeover(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	opts := store.QueueOptions{Prefix: prefix, Partitions: 4, Lease: 600 * time.Millisecond}
	a := newQueue(t, rdb, opts)
	recA := newRecorder()
	stopA := runQueue(t, a, recA.handle, nil)
	for r := range 8 {
		enqueue(t, a, ev{Route: fmt.Sprintf("u:%d", r), Seq: 1})
	}
	eventually(t, 5*time.Second, "replica a", func() bool { return recA.n.Load() == 8 })

	b := newQueue(t, rdb, opts)
	recB := newRecorder()
	runQueue(t, b, recB.handle, nil)
	stopA()
	for r := range 8 {
		enqueue(t, a, ev{Route: fmt.Sprintf("u:%d", r), Seq: 2})
	}
	eventually(t, 5*time.Second, "replica b", func() bool { return recB.n.Load() == 8 })
	if got := recA.n.Load(); got != 8 {
		t.Errorf("got %d events on the stopped replica, want 8", got)
	}
}

func TestCommit(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rdb, prefix := connect(t)
			q := newQueue(t, rdb, store.QueueOptions{Prefix: prefix})
			s, err := q.Load(ctx, "u:5")
			if err != nil {
				t.Fatal(err)
			}
			if s.Key != "u:5" || s.Version != 0 {
				t.Fatalf("got %+v, want a new session of u:5", s)
			}
			s.Flow, s.Data, s.LastEvent = "signup", map[string]string{"name": "An"}, "e1"
			if err := q.Commit(ctx, s, nil); err != nil {
				t.Fatal(err)
			}
			// The same stale copy again: someone committed since.
			err = q.Commit(ctx, s, []cnsbot.Outgoing{{ID: "x", To: cnsbot.Recipient{UserID: "5"}}})
			if cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
				t.Fatalf("got %v, want ECONFLICT", err)
			}
			got, err := q.Load(ctx, "u:5")
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 1 || got.Flow != "signup" || got.Data["name"] != "An" || got.LastEvent != "e1" ||
				time.Since(got.UpdatedAt) > time.Minute {
				t.Errorf("got %+v, want version 1 of the committed session", got)
			}
			if _, out, _ := q.Backlog(ctx); out != 0 {
				t.Errorf("got %d messages queued by a conflicting commit, want 0", out)
			}
			if err := q.Commit(ctx, got, nil); err != nil {
				t.Errorf("commit at the current version: %v", err)
			}
			ttl := rdb.PTTL(ctx, prefix+fmt.Sprintf("{p%d}:s:u:5", q.Partition("u:5"))).Val()
			if ttl <= 0 || ttl > store.DefaultSessionTTL {
				t.Errorf("got session ttl %v, want (0, %v]", ttl, store.DefaultSessionTTL)
			}
		})
	}
}

// TestCommitDeliversInOrder commits sessions with messages and checks that
// Run delivers them, in commit order per conversation, retrying failures.
func TestCommitDeliversInOrder(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rdb, prefix := connect(t)
			q := newQueue(t, rdb, store.QueueOptions{Prefix: prefix})
			const routes, commits = 10, 10
			var mu sync.Mutex
			got := map[string][]string{}
			var failures atomic.Int32
			var n atomic.Int32
			runQueue(t, q, func(context.Context, []byte) error { return nil }, func(_ context.Context, m cnsbot.Outgoing) error {
				// Every 7th first attempt fails: the message must be retried
				// before the next one of its conversation.
				if strings.HasSuffix(m.ID, "3.1") && failures.Add(1)%2 == 1 {
					return errors.New("zalo -32")
				}
				mu.Lock()
				got[m.To.String()] = append(got[m.To.String()], m.ID)
				mu.Unlock()
				n.Add(1)
				return nil
			})
			var wg sync.WaitGroup
			for r := range routes {
				wg.Go(func() {
					route := fmt.Sprintf("u:%d", r)
					for c := range commits {
						s, err := q.Load(ctx, route)
						if err != nil {
							t.Error(err)
							return
						}
						to := cnsbot.Recipient{UserID: fmt.Sprint(r)}
						out := []cnsbot.Outgoing{
							{ID: fmt.Sprintf("%d.%d.0", r, c), To: to, Kind: cnsbot.MsgText, Text: "a"},
							{ID: fmt.Sprintf("%d.%d.1", r, c), To: to, Kind: cnsbot.MsgText, Text: "b"},
						}
						if err := q.Commit(ctx, s, out); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			eventually(t, 10*time.Second, "every message", func() bool { return n.Load() == routes*commits*2 })
			mu.Lock()
			defer mu.Unlock()
			for r := range routes {
				var want []string
				for c := range commits {
					want = append(want, fmt.Sprintf("%d.%d.0", r, c), fmt.Sprintf("%d.%d.1", r, c))
				}
				if route := fmt.Sprintf("u:%d", r); !slices.Equal(got[route], want) {
					t.Errorf("route %s: got %v, want %v", route, got[route], want)
				}
			}
		})
	}
}

func TestPush(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.MiniRedis(t)
	q := newQueue(t, rdb, store.QueueOptions{})
	var mu sync.Mutex
	var got []string
	runQueue(t, q, func(context.Context, []byte) error { return nil }, func(_ context.Context, m cnsbot.Outgoing) error {
		mu.Lock()
		got = append(got, m.ID)
		mu.Unlock()
		return nil
	})
	msgs := []cnsbot.Outgoing{
		{ID: "r1", To: cnsbot.Recipient{UserID: "1"}},
		{ID: "r2", To: cnsbot.Recipient{GroupID: "2"}},
		{ID: "r3", To: cnsbot.Recipient{UserID: "1"}},
	}
	if err := q.Push(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "three messages", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	if i1, i3 := slices.Index(got, "r1"), slices.Index(got, "r3"); i1 > i3 || !slices.Contains(got, "r2") {
		t.Errorf("got %v, want r1 before r3, and r2", got)
	}
}

func TestDeadEvent(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	var mu sync.Mutex
	var deadKeys []string
	var failOnDead atomic.Bool
	failOnDead.Store(true)
	q := newQueue(t, rdb, store.QueueOptions{
		Partitions: 1,
		OnDead: func(_ context.Context, key string, payload []byte, err error) error {
			if failOnDead.Swap(false) {
				return errors.New("database down")
			}
			mu.Lock()
			defer mu.Unlock()
			deadKeys = append(deadKeys, key)
			if err == nil || !strings.Contains(string(payload), `"route":"u:3"`) {
				t.Errorf("got OnDead(%s, %s, %v), want the event and its error", key, payload, err)
			}
			return nil
		},
	})
	var calls atomic.Int32
	rec := newRecorder()
	runQueue(t, q, func(ctx context.Context, payload []byte) error {
		var e ev
		_ = json.Unmarshal(payload, &e)
		if e.Seq == 1 {
			calls.Add(1)
			return errors.New("always fails")
		}
		if e.Seq == 2 {
			panic("handler bug")
		}
		return rec.handle(ctx, payload)
	}, nil)
	enqueue(t, q, ev{Route: "u:3", Seq: 1})
	enqueue(t, q, ev{Route: "u:3", Seq: 2})
	enqueue(t, q, ev{Route: "u:3", Seq: 3})
	eventually(t, 10*time.Second, "the next event", func() bool { return rec.n.Load() == 1 })
	mu.Lock()
	defer mu.Unlock()
	// The first failed every attempt, the second panicked every time.
	if !slices.Equal(deadKeys, []string{"u:3#1", "u:3#2"}) {
		t.Errorf("got dead %v, want [u:3#1 u:3#2]", deadKeys)
	}
	if got := calls.Load(); got != store.DefaultAttempts {
		t.Errorf("got %d attempts, want %d", got, store.DefaultAttempts)
	}
	// The last event is acknowledged just after its handler returned.
	eventually(t, 5*time.Second, "an empty inbox", func() bool {
		in, _, err := q.Backlog(context.Background())
		return err == nil && in == 0
	})
}

// TestShutdownFinishesInFlight cancels Run while a handler runs: Run waits
// for it, and the finished event is acknowledged.
func TestShutdownFinishesInFlight(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	q := newQueue(t, rdb, store.QueueOptions{})
	started := make(chan struct{})
	var finished atomic.Bool
	stop := runQueue(t, q, func(ctx context.Context, payload []byte) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		finished.Store(true)
		return nil
	}, nil)
	enqueue(t, q, ev{Route: "u:1", Seq: 1})
	<-started
	stop()
	if !finished.Load() {
		t.Fatal("Run returned before the handler finished, or cancelled it")
	}
	if in, _, _ := q.Backlog(context.Background()); in != 0 {
		t.Errorf("got backlog %d after a graceful stop, want 0", in)
	}
}

func TestPartitionCountIsFixed(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	newQueue(t, rdb, store.QueueOptions{Partitions: 16})
	_, err := store.NewQueue(context.Background(), rdb, store.QueueOptions{Partitions: 8})
	if err == nil || !strings.Contains(err.Error(), "drained") {
		t.Errorf("got %v, want an error about a drained queue", err)
	}
	if _, err := store.NewQueue(context.Background(), rdb, store.QueueOptions{Prefix: "a{b}:"}); err == nil {
		t.Error("got nil error for a prefix with braces, want one")
	}
}

// gather returns each metric's value (gauges, counters) or sample count
// (histograms), summed over labels.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				out[mf.GetName()] += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
