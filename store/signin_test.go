package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
)

// TestFailureLimitSharedAcrossReplicas counts failures of one client on
// two limiters (two replicas): together they allow max, then both refuse
// that client and no other.
func TestFailureLimitSharedAcrossReplicas(t *testing.T) {
	for name, connect := range redises() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			const max, per = 10, 15 * time.Minute
			replicas := []*store.FailureLimit{store.NewFailureLimit(rdb, prefix, max, per), store.NewFailureLimit(rdb, prefix, max, per)}
			for i := range max {
				l := replicas[i%2]
				if wait, err := l.Blocked(ctx, "client-a"); err != nil || wait != 0 {
					t.Fatalf("before failure %d: blocked for %v, %v", i+1, wait, err)
				}
				wait, err := l.Failed(ctx, "client-a")
				if err != nil {
					t.Fatal(err)
				}
				if last := i == max-1; (wait > 0) != last {
					t.Fatalf("after failure %d: wait %v", i+1, wait)
				}
			}
			for _, l := range replicas {
				wait, err := l.Blocked(ctx, "client-a")
				if err != nil {
					t.Fatal(err)
				}
				// One failure comes back every per/max: 90 s.
				if want := per / max; wait < want-2*time.Second || wait > want {
					t.Errorf("blocked for %v, want about %v", wait, want)
				}
			}
			if wait, err := replicas[0].Blocked(ctx, "client-b"); err != nil || wait != 0 {
				t.Errorf("another client: blocked for %v, %v", wait, err)
			}
		})
	}
}
