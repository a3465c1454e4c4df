package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestDeadEventApologyKnowsItsCause fails an event with a coded error on
// every attempt: it is recorded as dead for the operator with that error,
// and the apology is built from the same error (so the words can fit its
// code) and sent once.
func TestDeadEventApologyKnowsItsCause(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	var mu sync.Mutex
	var recorded, apologised []string
	q := newQueue(t, rdb, store.QueueOptions{
		Partitions: 1, Attempts: 2,
		OnDead: func(_ context.Context, key string, _ []byte, cause error) error {
			mu.Lock()
			defer mu.Unlock()
			recorded = append(recorded, key+" "+cnsbot.ErrorCode(cause))
			return nil
		},
		Apology: func(_ context.Context, _ []byte, cause error) (cnsbot.Outgoing, bool) {
			mu.Lock()
			defer mu.Unlock()
			apologised = append(apologised, cnsbot.ErrorCode(cause))
			return cnsbot.Outgoing{ID: "sorry", To: cnsbot.Recipient{UserID: "1"}, Kind: cnsbot.MsgText,
				Text: "common.error." + cnsbot.ErrorCode(cause), Purpose: "reply"}, true
		},
	})
	var sent atomic.Int32
	var text atomic.Value
	runQueue(t, q, func(context.Context, []byte) error {
		return fmt.Errorf("save request: %w", cnsbot.Errorf(cnsbot.EINVALID, "no such hamlet"))
	}, func(_ context.Context, m cnsbot.Outgoing) error {
		sent.Add(1)
		text.Store(m.Text)
		return nil
	})
	enqueue(t, q, ev{Route: "u:1", Seq: 1})
	eventually(t, 10*time.Second, "the apology sent", func() bool { return sent.Load() == 1 })
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 1 || recorded[0] != "u:1#1 invalid" {
		t.Errorf("recorded %v, want the event once with its EINVALID cause", recorded)
	}
	if len(apologised) != 1 || apologised[0] != cnsbot.EINVALID || sent.Load() != 1 || text.Load() != "common.error.invalid" {
		t.Errorf("apologies built %v, sent %d (%v); want one, for EINVALID", apologised, sent.Load(), text.Load())
	}
}
