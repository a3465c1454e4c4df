package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

func TestRetentionSettings(t *testing.T) {
	t.Setenv("RETENTION_REQUESTS", "")
	t.Setenv("RETENTION_DEAD_EVENTS", "")
	t.Setenv("TOKEN_KEY", "")
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(cfg.RetentionRequests); got < 364*24*time.Hour || got > 366*24*time.Hour {
		t.Errorf("default RETENTION_REQUESTS %v, want a year", got)
	}
	if got := time.Duration(cfg.RetentionDeadEvents); got != 30*24*time.Hour {
		t.Errorf("default RETENTION_DEAD_EVENTS %v, want 30 days", got)
	}
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"6mo", 6 * month, true},
		{"90d", 90 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"1h", 0, false},
		{"twelve months", 0, false},
	} {
		t.Setenv("RETENTION_REQUESTS", tc.in)
		cfg, err := LoadConfig()
		if (err == nil) != tc.ok || (tc.ok && time.Duration(cfg.RetentionRequests) != tc.want) {
			t.Errorf("RETENTION_REQUESTS=%s: %v, %v; want %v ok=%v", tc.in, time.Duration(cfg.RetentionRequests), err, tc.want, tc.ok)
		}
	}
	t.Setenv("RETENTION_REQUESTS", "")
	t.Setenv("TOKEN_KEY", "c2hvcnQ=")
	if _, err := LoadConfig(); err == nil || !strings.Contains(err.Error(), "TOKEN_KEY") {
		t.Errorf("a 5-byte TOKEN_KEY: %v, want a configuration error naming it", err)
	}
}

const (
	keyA = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	keyB = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

// The embedded default runs without TOKEN_KEY and says so; with a key a
// pair stored in plain text is encrypted at start; the wrong key, or a
// key removed, refuses to start with a clear message.
func TestServeTokenKey(t *testing.T) {
	ctx := context.Background()
	cfg := embeddedConfig(t)
	start := func(key string) (string, error) {
		var logs bytes.Buffer
		c := cfg
		c.TokenKey = key
		s, err := newServer(ctx, c, newLogger(&logs, slog.LevelInfo))
		if err == nil {
			s.close()
		}
		return logs.String(), err
	}
	logs, err := start("")
	if err != nil || !strings.Contains(logs, "TOKEN_KEY is not set") {
		t.Fatalf("without a key: %v; logs %s; want a start with a warning", err, logs)
	}
	db, err := store.Open(ctx, "", cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SaveToken(ctx, cnsbot.Token{Access: "plain-access", Refresh: "plain-refresh", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := start(keyA); err != nil {
		t.Fatalf("with a key: %v", err)
	}
	var raw store.OAToken
	storetest.Scan(t, db, "SELECT access, refresh FROM oa_tokens", nil, &raw.Access, &raw.Refresh)
	if strings.Contains(raw.Access+raw.Refresh, "plain") {
		t.Errorf("after a start with a key the row holds %q %q, want it encrypted", raw.Access, raw.Refresh)
	}
	for what, key := range map[string]string{"wrong key": keyB, "no key": ""} {
		if _, err := start(key); !errors.Is(err, store.ErrTokenKey) || !strings.Contains(err.Error(), "TOKEN_KEY") {
			t.Errorf("%s: %v, want a refusal naming TOKEN_KEY", what, err)
		}
	}
}
