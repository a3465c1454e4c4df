package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// TestDeadRefreshTokenIsLoud: each form a dead refresh token takes
// (-14014, -14020, a string error, an empty 200 body) means "re-authorise":
// Health says so, the alert gauge is up, and the error is logged once per
// hour however often the refresh is retried. A new authorisation clears it.
func TestDeadRefreshTokenIsLoud(t *testing.T) {
	for _, form := range []zalotest.DeadRefresh{zalotest.RefreshCode14014, zalotest.RefreshCode14020,
		zalotest.RefreshStringError, zalotest.RefreshEmptyBody} {
		t.Run(fmt.Sprint(form), func(t *testing.T) {
			s := newZalo(t)
			now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
			logs := &syncBuffer{}
			tokens := bot.NewTokens(bot.TokenConfig{AppID: s.z.AppID(), AppSecret: s.z.AppSecret(), OAuthBase: s.z.URL(),
				Now: func() time.Time { return now }}, s.store, s.lock, nil,
				slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), s.m)
			s.z.KillRefreshToken(form)
			stored, _ := s.store.get()
			for range 3 {
				_, err := tokens.Refresh(context.Background(), stored.Access)
				if !bot.NeedsReauth(err) {
					t.Fatalf("got %v, want an error that needs re-authorisation", err)
				}
				now = now.Add(10 * time.Minute)
			}
			if need, since, why := tokens.Health(); !need || since.IsZero() || why == "" {
				t.Errorf("Health: got %v, %v, %q, want re-authorise with a time and a reason", need, since, why)
			}
			if n := strings.Count(logs.String(), "re-authorise"); n != 1 {
				t.Errorf("got %d error lines in 30 minutes, want 1", n)
			}
			now = now.Add(time.Hour)
			_, _ = tokens.Refresh(context.Background(), stored.Access)
			if n := strings.Count(logs.String(), "re-authorise"); n != 2 {
				t.Errorf("got %d error lines after an hour, want 2", n)
			}
			if got := gaugeValue(t, s.m.Alerts.WithLabelValues(bot.AlertReauthorise)); got != 1 {
				t.Errorf("alert gauge %v, want 1", got)
			}
			// The admin authorises the OA again.
			s.z.KillRefreshToken(zalotest.RefreshAlive)
			verifier := "v-" + strings.Repeat("x", 43)
			if err := tokens.Exchange(context.Background(), s.z.Authorize(bot.Challenge(verifier)), verifier); err != nil {
				t.Fatal(err)
			}
			if need, _, _ := tokens.Health(); need {
				t.Errorf("still asking to re-authorise after a new authorisation")
			}
			if got := gaugeValue(t, s.m.Alerts.WithLabelValues(bot.AlertReauthorise)); got != 0 {
				t.Errorf("alert gauge %v after re-authorisation, want 0", got)
			}
		})
	}
}
