package faults

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/faults/loadgen"
)

// TestWebhookRefusesReplays runs the built service with WEBHOOK_MAX_AGE and
// sends it authentic (correctly signed) events stamped at various ages: a
// captured request replayed after the age limit is refused with 403 and
// never answered; a fresh event, and Zalo's own re-send of it, are answered
// once; WEBHOOK_MAX_AGE=0 turns the check off.
func TestWebhookRefusesReplays(t *testing.T) {
	oa := zaloevent.OA{AppID: appID, OAID: zalotest.DefaultOAID, SecretKey: secretKey}
	hc := &http.Client{Timeout: 5 * time.Second}
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name   string
		maxAge string
		at     time.Time
		want   int
		answer bool
	}{
		{"fresh", "2m", now, http.StatusOK, true},
		{"just under the limit", "2m", now.Add(-100 * time.Second), http.StatusOK, true},
		{"replayed after the limit", "2m", now.Add(-3 * time.Minute), http.StatusForbidden, false},
		{"a day old", "2m", now.Add(-24 * time.Hour), http.StatusForbidden, false},
		{"from the future", "2m", now.Add(10 * time.Minute), http.StatusForbidden, false},
		{"a day old, check off", "0", now.Add(-24 * time.Hour), http.StatusOK, true},
	}
	services := map[string]*stage{}
	for _, maxAge := range []string{"2m", "0"} {
		s := prepareStage(t, "replay-"+map[string]string{"2m": "on", "0": "off"}[maxAge], map[string]string{"WEBHOOK_MAX_AGE": maxAge})
		s.svcs = append(s.svcs, startService(t, s.e, s.name, s.vars))
		services[maxAge] = s
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := services[tt.maxAge]
			user := strconv.Itoa(7_000_000_000_000_000 + i)
			body, sig := oa.Sign(oa.Text(user, "replay-msg-"+tt.name, "menu", tt.at))
			got, _ := loadgen.Post(ctx, hc, s.svcs[0].webhook(), body, sig)
			if got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
			if tt.answer {
				waitCount(s.rec, user, 1, 10*time.Second)
				n := s.rec.Count(user)
				// Zalo's own re-send of the same request: acknowledged, not answered again.
				if again, _ := loadgen.Post(ctx, hc, s.svcs[0].webhook(), body, sig); again != http.StatusOK {
					t.Errorf("re-send: status %d, want 200", again)
				}
				time.Sleep(time.Second)
				if n == 0 || s.rec.Count(user) != n {
					t.Errorf("messages to the user: %d after the event, %d after its re-send; want some, then no more", n, s.rec.Count(user))
				}
				return
			}
			time.Sleep(1500 * time.Millisecond)
			if n := s.rec.Count(user); n != 0 {
				t.Errorf("a refused event was answered with %d message(s)", n)
			}
		})
	}
}

// waitCount waits until user received at least n messages, or timeout.
func waitCount(rec *loadgen.Recorder, user string, n int, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); rec.Count(user) < n && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}
