package faults

import (
	"testing"
	"time"
)

// TestTwoReplicas spreads the load over two cnsbot processes sharing
// PostgreSQL and Redis, requests alternating between them as behind a
// round-robin front. During the load both run a reminder pass at once, the
// access token expires, and one replica is killed and restarted. Every
// answer must come once and in order per user (the transcript check),
// the token be refreshed once, and each leader reminded once.
func TestTwoReplicas(t *testing.T) {
	start := time.Now()
	s := newStage(t, "two-replicas", stageOptions{replicas: 2})
	s.passes = 2
	atStart := s.z.Refreshes()
	if atStart != 1 {
		t.Errorf("token refreshes while two replicas started: got %d, want 1 (the environment's pair has no known expiry; one replica refreshes, the other reads the stored pair)", atStart)
	}
	r := s.run(func(s *stage) {
		expireToken(s)
		sleep(s.cfg.load / 3)
		t0 := time.Now()
		s.svcs[1].kill()
		// Noted once the process is gone: until then it may still be
		// handing messages to Zalo (a copy accepted 1 ms after the signal
		// was once counted as a duplicate).
		s.gen.Killed(time.Now())
		s.svcs[1].start()
		s.note("replica 2 killed with SIGKILL and restarted: ready again after %.1fs; its partitions wait for their leases to run out", time.Since(t0).Seconds())
	})
	expired := s.z.Refreshes() - s.refreshesBefore
	if expired != 1 {
		t.Errorf("token refreshes after the expiry with two replicas: got %d, want 1", expired)
	}
	s.report(r, time.Since(start), expired, "")
}
