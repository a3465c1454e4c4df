package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/web"
)

// strongToken passes web.CheckTokenStrength.
const strongToken = "0b6f3c9e1a7d4f2b8c5e0a9d3f6b1c7e"

// TestConfigRefusesWeakAccessSettings starts the service with a weak
// admin token, and other wrong access settings: each stops it with a
// message that names the setting and never shows the token.
func TestConfigRefusesWeakAccessSettings(t *testing.T) {
	for _, c := range []struct {
		name, key, value, want string
	}{
		{"short admin token", "ADMIN_TOKEN", "admin-e2e", "ADMIN_TOKEN is too weak: it is 9 characters long"},
		{"placeholder admin token", "ADMIN_TOKEN", "changeme-changeme-changeme-changeme", "ADMIN_TOKEN is too weak"},
		{"repeated admin token", "ADMIN_TOKEN", strings.Repeat("ab12", 10), "ADMIN_TOKEN is too weak"},
		{"short metrics token", "METRICS_TOKEN", "metrics", "METRICS_TOKEN is too weak"},
		{"metrics on the public port", "METRICS_ADDR", ":8080", "METRICS_ADDR must differ from HTTP_ADDR"},
		{"a proxy that is no address", "TRUSTED_PROXIES", "10.0.0.1, proxy.local", `TRUSTED_PROXIES: "proxy.local"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("HTTP_ADDR", ":8080")
			t.Setenv("DATA_DIR", t.TempDir())
			t.Setenv(c.key, c.value)
			if _, err := LoadConfig(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadConfig: got %v, want %q", err, c.want)
			}
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve"}, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("serve: got %v, want it refused with %q", err, c.want)
			}
			if strings.Contains(err.Error(), c.value) && c.key != "METRICS_ADDR" && c.key != "TRUSTED_PROXIES" {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	t.Setenv("ADMIN_TOKEN", strongToken)
	t.Setenv("METRICS_TOKEN", strongToken+"x")
	t.Setenv("TRUSTED_PROXIES", "10.0.0.1, 10.1.0.0/16")
	if _, err := LoadConfig(); err != nil {
		t.Fatalf("strong tokens: %v", err)
	}
}

// TestGeneratedAdminTokenIsStrong checks that the token the simulator
// makes up when ADMIN_TOKEN is unset (randomHex(16)) passes the check.
func TestGeneratedAdminTokenIsStrong(t *testing.T) {
	for range 5000 {
		tok := randomHex(16)
		if err := web.CheckTokenStrength(tok); err != nil {
			t.Fatalf("generated %q: %v", tok, err)
		}
	}
}

// TestMetricsNeverOpenOnPublicPort asks /metrics on the public handler
// without a metrics setting, with METRICS_TOKEN and with METRICS_ADDR.
func TestMetricsNeverOpenOnPublicPort(t *testing.T) {
	get := func(t *testing.T, url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	t.Run("no setting", func(t *testing.T) {
		z := zalotest.New()
		t.Cleanup(z.Close)
		r := start(t, testConfig(t, z), false)
		if code, body := get(t, r.url+"/metrics", ""); code == http.StatusOK || strings.Contains(body, "go_goroutines") {
			t.Errorf("GET /metrics: status %d, want it not served", code)
		}
	})
	t.Run("token", func(t *testing.T) {
		z := zalotest.New()
		t.Cleanup(z.Close)
		cfg := testConfig(t, z)
		cfg.MetricsToken = strongToken
		r := start(t, cfg, false)
		for _, tok := range []string{"", "wrong", strongToken[:len(strongToken)-1]} {
			if code, _ := get(t, r.url+"/metrics", tok); code != http.StatusUnauthorized {
				t.Errorf("GET /metrics with %q: status %d, want 401", tok, code)
			}
		}
		if code, body := get(t, r.url+"/metrics", strongToken); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
			t.Errorf("GET /metrics with the token: status %d", code)
		}
	})
	t.Run("own address", func(t *testing.T) {
		z := zalotest.New()
		t.Cleanup(z.Close)
		cfg := testConfig(t, z)
		cfg.MetricsAddr = "127.0.0.1:0"
		r := start(t, cfg, false)
		if code, _ := get(t, r.url+"/metrics", ""); code == http.StatusOK {
			t.Errorf("GET /metrics on the public port: status %d, want it not served", code)
		}
		stop, err := serveMetrics("127.0.0.1:0", r.metrics, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		stop()
		ms := httptest.NewServer(r.metrics)
		t.Cleanup(ms.Close)
		if code, body := get(t, ms.URL+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
			t.Errorf("GET /metrics on METRICS_ADDR: status %d", code)
		}
	})
}

// TestOfficerTokenCommand creates, lists and revokes a token from the
// command line.
func TestOfficerTokenCommand(t *testing.T) {
	cfg := calendarConfig(t)
	db := calendarDB(t, cfg)
	defer db.Close()
	ctx := context.Background()
	if err := db.SeedDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	officer, _, err := db.PersonByPhone(ctx, "+84900009001")
	if err != nil {
		t.Fatal(err)
	}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := officerTokenCmd(ctx, append(args, "--lang", "en"), &out, cfg, slog.New(slog.DiscardHandler))
		return out.String(), err
	}
	for _, bad := range [][]string{{}, {"create"}, {"create", "x"}, {"revoke"}, {"list", "3"}, {"burn", "1"}} {
		if _, err := cmd(bad...); err == nil || !strings.Contains(err.Error(), "Usage: cnsbot officer-token") {
			t.Errorf("%q: got %v, want the usage", bad, err)
		}
	}
	if _, err := cmd("create", "1", "--days", "400"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
		t.Errorf("a 400-day token: got %v, want EINVALID", err)
	}
	out, err := cmd("create", strconv.FormatInt(officer.ID, 10), "--days", "30")
	if err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`cno_[A-Za-z0-9_-]{43}`).FindString(out)
	if token == "" || !strings.Contains(out, time.Now().AddDate(0, 0, 30).In(vietnam).Format("02/01/2006")) {
		t.Fatalf("create printed %q, want the token and its expiry in 30 days", out)
	}
	o, err := db.OfficerByToken(ctx, token)
	if err != nil {
		t.Fatalf("the printed token: %v", err)
	}
	out, err = cmd("list")
	if err != nil || !strings.Contains(out, officer.FullName) || !strings.Contains(out, "active") || strings.Contains(out, token) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := cmd("revoke", strconv.FormatInt(o.TokenID, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OfficerByToken(ctx, token); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
		t.Errorf("the revoked token: got %v, want EUNAUTHORIZED", err)
	}
	out, err = cmd("list", "--json")
	if err != nil || !strings.Contains(out, `"state": "revoked"`) {
		t.Errorf("list --json after revoking: %v\n%s", err, out)
	}
}
