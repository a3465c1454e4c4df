package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot/store/storetest"
)

// testLoad is a small, quick load.
func testLoad(events, users int) loadConfig {
	return loadConfig{
		Events: events, Senders: 8, Users: users, Redeliver: 0.2, Texts: []string{"menu"},
		Duration: 20 * time.Second, Drain: 5 * time.Second, Settle: 100 * time.Millisecond,
		Timeout: 5 * time.Second, AppID: "4318201209281734957", SecretKey: "test-secret",
		Quiet: 50 * time.Millisecond, Seed: 42,
	}
}

func TestFloor(t *testing.T) {
	redises := []struct {
		name string
		open func(t *testing.T) (redis.UniversalClient, string)
	}{
		{"miniredis", func(t *testing.T) (redis.UniversalClient, string) {
			return widePool(t, storetest.MiniRedis(t)), "load:"
		}},
		{"redis", func(t *testing.T) (redis.UniversalClient, string) {
			rdb, prefix := storetest.Redis(t)
			return widePool(t, rdb), prefix
		}},
	}
	loads := []struct {
		name         string
		events, user int
	}{
		{"every event a new user", 200, 200},
		{"ten events per user in sequence", 200, 20},
	}
	for _, rc := range redises {
		for _, lc := range loads {
			if rc.name == "redis" && lc.user < lc.events {
				// Ordering per user is the floor's logic, covered on
				// miniredis; the real Redis case checks the commands only.
				continue
			}
			t.Run(rc.name+"/"+lc.name, func(t *testing.T) {
				rdb, prefix := rc.open(t)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				cfg := testLoad(lc.events, lc.user)
				r, err := runFloor(ctx, rdb, prefix, cfg, 16, io.Discard)
				if err != nil {
					t.Fatalf("runFloor: %v", err)
				}
				checkSane(t, r, cfg)
			})
		}
	}
}

// widePool returns a client of the same Redis with room for the floor's
// blocking reads (one connection per partition) beside the senders' and
// workers' commands, as the tool gives itself; a default pool of 10 per
// core starves and makes the test slow.
func widePool(t *testing.T, rdb *redis.Client) *redis.Client {
	t.Helper()
	opt := *rdb.Options()
	opt.PoolSize = 64
	c := redis.NewClient(&opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// againWant is the warm-up's count of messages for a later event: only
// measured when users write more than once.
func againWant(cfg loadConfig) int {
	if cfg.Users < cfg.Events {
		return 1
	}
	return 0
}

// checkSane asserts a clean run: everything sent, acknowledged and answered
// exactly once.
func checkSane(t *testing.T, r Result, cfg loadConfig) {
	t.Helper()
	ints := []struct {
		name      string
		got, want int
	}{
		{"sent", r.Sent, cfg.Events},
		{"acked", r.Acked, cfg.Events},
		{"answered", r.Answered, cfg.Events},
		{"lost", r.Lost, 0},
		{"duplicate users", r.DuplicateUsers, 0},
		{"duplicate messages", r.DuplicateMessages, 0},
		{"stray", r.Stray, 0},
		{"messages first", int(r.MessagesFirst), 1},
		{"messages again", int(r.MessagesAgain), againWant(cfg)},
		{"non-2xx kinds", len(r.Non2xx), 0},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	// With seed 42 and a 0.2 fraction, some events must have been re-sent,
	// or de-duplication went untested.
	if r.Redelivered == 0 {
		t.Errorf("redelivered: got 0, want some")
	}
	if !r.Observed {
		t.Errorf("observed: got false, want true")
	}
	if r.AckPerSec <= 0 || r.AnsweredPerSec <= 0 {
		t.Errorf("rates: got ack %.1f/s, answered %.1f/s, want both > 0", r.AckPerSec, r.AnsweredPerSec)
	}
	for name, l := range map[string]Latency{"ack": r.AckLatency, "reply": r.ReplyLatency} {
		if l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s latency: got p50 %v, p99 %v, max %v, want 0 < p50 <= p99 <= max", name, l.P50, l.P99, l.Max)
		}
	}
}

func TestFloorRefusesBadSignature(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	fake, err := startFake("")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.close()
	fl, err := startFloor(floorConfig{Redis: rdb, Prefix: "x:", AppID: "app", SecretKey: "right", Partitions: 2, APIBase: fake.url, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.close()
	cfg := testLoad(1, 1)
	cfg.AppID, cfg.SecretKey = "app", "wrong"
	d, err := newDriver(cfg, fl.url, fake.rec)
	if err != nil {
		t.Fatal(err)
	}
	body, sig := d.sign("1", "m1", "menu")
	if status, _ := d.post(context.Background(), body, sig); status != http.StatusUnauthorized {
		t.Errorf("status with a wrong secret: got %d, want %d", status, http.StatusUnauthorized)
	}
}

// TestTally feeds made-up arrivals to tally: a report that cannot show a
// loss or a duplicate would pass every run.
func TestTally(t *testing.T) {
	tests := []struct {
		name          string
		users, events int
		first, again  int
		unacked       []int       // event indexes without a 2xx
		got           map[int]int // messages per user index
		lost, dupU    int
		dupM          int
		answered      int
	}{
		{name: "all answered once", users: 3, events: 3, first: 1, again: 1,
			got: map[int]int{0: 1, 1: 1, 2: 1}, answered: 3},
		{name: "one lost", users: 3, events: 3, first: 1, again: 1,
			got: map[int]int{0: 1, 2: 1}, lost: 1, answered: 2},
		{name: "one duplicated", users: 3, events: 3, first: 1, again: 1,
			got: map[int]int{0: 1, 1: 2, 2: 1}, dupU: 1, dupM: 1, answered: 3},
		{name: "welcome and menu for a new user", users: 2, events: 2, first: 2, again: 1,
			got: map[int]int{0: 2, 1: 2}, answered: 2},
		{name: "two events per user, second lost", users: 2, events: 4, first: 2, again: 1,
			got: map[int]int{0: 3, 1: 2}, lost: 1, answered: 3},
		{name: "two events per user, third message too many", users: 2, events: 4, first: 2, again: 1,
			got: map[int]int{0: 3, 1: 4}, dupU: 1, dupM: 1, answered: 4},
		{name: "an unacknowledged event is not lost", users: 2, events: 2, first: 1, again: 1,
			unacked: []int{1}, got: map[int]int{0: 1}, answered: 1},
		{name: "an unacknowledged event may still be answered", users: 2, events: 2, first: 1, again: 1,
			unacked: []int{1}, got: map[int]int{0: 1, 1: 1}, answered: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testLoad(tc.events, tc.users)
			rec := newRecorder()
			d, err := newDriver(cfg, "http://127.0.0.1:1", rec)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for i := range d.events {
				d.events[i].attempts, d.events[i].acked, d.events[i].sentAt = 1, true, start
			}
			for _, i := range tc.unacked {
				d.events[i].acked = false
			}
			for u, n := range tc.got {
				for k := range n {
					rec.byUser[d.users[u]] = append(rec.byUser[d.users[u]], start.Add(time.Duration(k+1)*time.Millisecond))
				}
			}
			rec.byUser["somebody else"] = []time.Time{start}
			d.counts[0] = msgCount{first: tc.first, again: tc.again}
			r := d.tally("t", start, nil, time.Second, true)
			ints := []struct {
				name      string
				got, want int
			}{
				{"lost", r.Lost, tc.lost},
				{"duplicate users", r.DuplicateUsers, tc.dupU},
				{"duplicate messages", r.DuplicateMessages, tc.dupM},
				{"answered", r.Answered, tc.answered},
				{"acked", r.Acked, tc.events - len(tc.unacked)},
				{"stray", r.Stray, 1},
			}
			for _, c := range ints {
				if c.got != c.want {
					t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		in            []time.Duration
		p50, p99, max time.Duration
	}{
		{nil, 0, 0, 0},
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond},
		{ms(hundred...), 50 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		got := summarize(tc.in)
		if got.P50 != tc.p50 || got.P99 != tc.p99 || got.Max != tc.max {
			t.Errorf("summarize(%d values): got %v/%v/%v, want %v/%v/%v", len(tc.in), got.P50, got.P99, got.Max, tc.p50, tc.p99, tc.max)
		}
	}
}

func TestScanGauge(t *testing.T) {
	const metrics = "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 42\ngo_goroutines_extra 7\n"
	if n, ok := scanGauge(strings.NewReader(metrics), "go_goroutines"); !ok || n != 42 {
		t.Errorf("scanGauge: got %d, %v, want 42, true", n, ok)
	}
	if _, ok := scanGauge(strings.NewReader("other 1\n"), "go_goroutines"); ok {
		t.Errorf("scanGauge without the metric: got ok, want not found")
	}
}

func TestJSONField(t *testing.T) {
	line := `{"time":"t","level":"ERROR","msg":"deliver \"x\"","err":"boom"}`
	for _, tc := range []struct{ name, want string }{{"msg", `deliver "x"`}, {"err", "boom"}, {"none", ""}} {
		if got := jsonField(line, tc.name); got != tc.want {
			t.Errorf("jsonField(%q): got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-n", "100"}, io.Discard)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if o.load.Users != 100 || o.load.Senders != 16 || o.partitions != 16 {
		t.Errorf("defaults: got users %d, senders %d, partitions %d, want 100, 16, 16", o.load.Users, o.load.Senders, o.partitions)
	}
	bad := [][]string{
		{"-target", "http://example.com:8080"},
		{"-redis", "x", "-db", "postgres://postgres@10.0.0.1/test"},
		{"-only", "both"},
		{"-n", "10", "-users", "11"},
		{"-redeliver", "2"},
	}
	for _, args := range bad {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): got no error, want one", args)
		}
	}
}
