package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestRepliesOvertakePushes queues a burst of pushes and then an event
// whose handler replies: the reply goes out long before the burst is
// through, because it neither queues behind the pushes nor competes with
// them for send permits. Every push still goes out, once, in order per
// recipient.
func TestRepliesOvertakePushes(t *testing.T) {
	const rate, pushes = 100, 300 // 3 s of pushes
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			q := newQueue(t, rdb, store.QueueOptions{Prefix: prefix, Partitions: 1})
			lim := store.NewLimiter(rdb, prefix, rate)
			var mu sync.Mutex
			sent := map[string]time.Time{}
			var order []string
			deliver := func(ctx context.Context, m cnsbot.Outgoing) error {
				wait := lim.Wait
				if store.IsPush(m) {
					wait = lim.WaitPush
				}
				if err := wait(ctx); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if _, dup := sent[m.ID]; dup {
					t.Errorf("message %s sent twice", m.ID)
				}
				sent[m.ID] = time.Now()
				order = append(order, m.ID)
				return nil
			}
			handle := func(ctx context.Context, payload []byte) error {
				var e ev
				_ = json.Unmarshal(payload, &e)
				s, err := q.Load(ctx, e.Route)
				if err != nil {
					return err
				}
				to := cnsbot.Recipient{UserID: e.Route[2:]}
				return q.Commit(ctx, s, []cnsbot.Outgoing{
					{ID: fmt.Sprintf("reply%d", e.Seq), To: to, Text: "first", Purpose: "reply"},
					{ID: fmt.Sprintf("reply%d-2", e.Seq), To: to, Text: "second", Purpose: "reply"},
					// A notice to someone else that the same event made.
					{ID: fmt.Sprintf("notice%d", e.Seq), To: cnsbot.Recipient{UserID: "team"}, Text: "n", Purpose: "notify"},
				})
			}
			var burst []cnsbot.Outgoing
			for i := range pushes {
				// Two pushes to each recipient, to check their order.
				burst = append(burst, cnsbot.Outgoing{ID: fmt.Sprintf("push%d", i),
					To: cnsbot.Recipient{UserID: fmt.Sprintf("r%d", i/2)}, Text: "x", Purpose: "reminder"})
			}
			if err := q.Push(ctx, burst...); err != nil {
				t.Fatal(err)
			}
			runQueue(t, q, handle, deliver)
			eventually(t, 5*time.Second, "the burst to start", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(sent) >= rate // the limiter's burst allowance, then the rate
			})
			at := time.Now()
			enqueue(t, q, ev{Route: "u:new", Seq: 1})
			eventually(t, 2*time.Second, "the reply", func() bool {
				mu.Lock()
				defer mu.Unlock()
				_, ok := sent["reply1-2"]
				return ok
			})
			mu.Lock()
			took, pending := sent["reply1-2"].Sub(at), pushes-len(sent)+2
			if sent["reply1"].After(sent["reply1-2"]) {
				t.Errorf("the person's replies went out of order")
			}
			mu.Unlock()
			// Two permits at 100/s, and the batching pause: far below the
			// burst's remaining seconds.
			if took > 500*time.Millisecond || pending < rate/2 {
				t.Errorf("the reply took %v with %d pushes still waiting, want under 500ms with most of the burst waiting", took, pending)
			}
			eventually(t, 10*time.Second, "every push and the notice", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(sent) == pushes+3
			})
			mu.Lock()
			defer mu.Unlock()
			for i := 0; i < pushes; i += 2 {
				a, b := fmt.Sprintf("push%d", i), fmt.Sprintf("push%d", i+1)
				if slices.Index(order, a) > slices.Index(order, b) {
					t.Fatalf("%s went before %s: one recipient's pushes out of order", b, a)
				}
			}
		})
	}
}

// TestLimiterRepliesFirst saturates the shared limit with pushes on one
// replica and sends replies on another: each reply waits about one permit's
// interval, not behind the pushes, and the pushes still get the rest.
func TestLimiterRepliesFirst(t *testing.T) {
	const rate = 20 // a permit every 50 ms
	rdb, prefix := storetest.Redis(t)
	a, b := store.NewLimiter(rdb, prefix, rate), store.NewLimiter(rdb, prefix, rate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pushed atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for b.WaitPush(ctx) == nil {
				pushed.Add(1)
			}
		})
	}
	// Let the pushes use up the burst allowance, so that every permit is
	// contended.
	for pushed.Load() < rate {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	var worst time.Duration
	const replies = 10
	for range replies {
		t0 := time.Now()
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(t0))
		time.Sleep(100 * time.Millisecond) // a person's pace, leaving permits to the pushes
	}
	elapsed := time.Since(start)
	pushedDuring := pushed.Load() - rate
	cancel()
	wg.Wait()
	// A fair share among 21 senders would be a wait of about a second.
	if worst > 250*time.Millisecond {
		t.Errorf("a reply waited %v behind pushes, want about one interval (50ms)", worst)
	}
	// The pushes used most of what the replies left (rate × time − replies).
	if want := float64(rate)*elapsed.Seconds()*0.6 - replies; float64(pushedDuring) < want {
		t.Errorf("pushes got %d permits in %v, want at least %.0f: replies must not starve them", pushedDuring, elapsed, want)
	}
}

// TestPoisonEventDoesNotBlockPartition gives up an event whose handler
// always fails while the database cannot record it either (a read-only
// SQLite file): the event is parked in Redis, its sender gets one apology,
// the partition goes on with the next event, and the parked event is
// recorded once the database writes again.
func TestPoisonEventDoesNotBlockPartition(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			var readOnly atomic.Bool
			readOnly.Store(true)
			var mu sync.Mutex
			var recorded []string
			q := newQueue(t, rdb, store.QueueOptions{
				Prefix: prefix, Partitions: 1,
				OnDead: func(_ context.Context, key string, payload []byte, cause error) error {
					if readOnly.Load() {
						return errors.New("attempt to write a readonly database (8)")
					}
					mu.Lock()
					defer mu.Unlock()
					recorded = append(recorded, key)
					if cause == nil {
						t.Errorf("recorded %s without its cause", key)
					}
					return nil
				},
				Apology: func(_ context.Context, payload []byte, _ error) (cnsbot.Outgoing, bool) {
					var e ev
					_ = json.Unmarshal(payload, &e)
					return cnsbot.Outgoing{ID: e.key() + "/sorry", To: cnsbot.Recipient{UserID: e.Route[2:]},
						Text: "sorry", Purpose: "reply"}, true
				},
			})
			q.SetDeadRetry(200 * time.Millisecond)
			var apologies, poisoned atomic.Int32
			rec := newRecorder()
			runQueue(t, q, func(ctx context.Context, payload []byte) error {
				var e ev
				_ = json.Unmarshal(payload, &e)
				if e.Route == "u:poison" {
					poisoned.Add(1)
					if e.Seq == 2 {
						panic("nil map")
					}
					return errors.New("handler bug")
				}
				return rec.handle(ctx, payload)
			}, func(_ context.Context, m cnsbot.Outgoing) error {
				if m.To.UserID == "poison" && m.Text == "sorry" {
					apologies.Add(1)
				}
				return nil
			})
			enqueue(t, q, ev{Route: "u:poison", Seq: 1})
			enqueue(t, q, ev{Route: "u:poison", Seq: 2})
			// Once the poison is being handled, the next events are read
			// in a batch of their own, which must not wait for it forever.
			eventually(t, 5*time.Second, "the poison handled", func() bool { return poisoned.Load() > 0 })
			enqueue(t, q, ev{Route: "u:other", Seq: 1})
			enqueue(t, q, ev{Route: "u:poison", Seq: 3})
			eventually(t, 10*time.Second, "the other person's event", func() bool { return len(rec.seqs("u:other")) == 1 })
			eventually(t, 10*time.Second, "three parked events", func() bool {
				n, _ := rdb.XLen(ctx, q.DeadKey(0)).Result()
				return n == 3
			})
			eventually(t, 5*time.Second, "the apologies", func() bool { return apologies.Load() == 3 })
			readOnly.Store(false)
			eventually(t, 5*time.Second, "the parked events recorded", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(recorded) == 3
			})
			eventually(t, 5*time.Second, "the dead stream emptied", func() bool {
				n, err := rdb.XLen(ctx, q.DeadKey(0)).Result()
				return err == nil && n == 0
			})
			if in, _, _ := q.Backlog(ctx); in != 0 {
				t.Errorf("got inbox backlog %d, want 0", in)
			}
			time.Sleep(300 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(recorded)
			if !slices.Equal(recorded, []string{"u:poison#1", "u:poison#2", "u:poison#3"}) {
				t.Errorf("recorded %v, want each poison event once", recorded)
			}
			if n := apologies.Load(); n != 3 {
				t.Errorf("sent %d apologies, want one per dead event (3)", n)
			}
		})
	}
}

// TestOutageIsNotPoison fails an event's handling the way an unreachable
// store does for longer than the attempts would last: it is retried until
// the store returns, not given up as dead, and nobody is apologised to.
func TestOutageIsNotPoison(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	var dead atomic.Int32
	q := newQueue(t, rdb, store.QueueOptions{
		Partitions: 1, Attempts: 2,
		OnDead: func(context.Context, string, []byte, error) error { dead.Add(1); return nil },
		Apology: func(context.Context, []byte, error) (cnsbot.Outgoing, bool) {
			dead.Add(1)
			return cnsbot.Outgoing{}, false
		},
	})
	until := time.Now().Add(time.Second)
	var calls atomic.Int32
	rec := newRecorder()
	runQueue(t, q, func(ctx context.Context, payload []byte) error {
		calls.Add(1)
		if time.Now().Before(until) {
			return fmt.Errorf("load session: %w", redis.ErrClosed)
		}
		return rec.handle(ctx, payload)
	}, nil)
	enqueue(t, q, ev{Route: "u:1", Seq: 1})
	eventually(t, 10*time.Second, "the event handled", func() bool { return rec.n.Load() == 1 })
	if dead.Load() != 0 || calls.Load() <= 2 {
		t.Errorf("got %d dead and %d calls, want none dead after more calls than attempts", dead.Load(), calls.Load())
	}
}
