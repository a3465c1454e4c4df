package zalotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

func refresh(t *testing.T, z *zalotest.Server, rt string) map[string]any {
	t.Helper()
	form := url.Values{"refresh_token": {rt}, "app_id": {z.AppID()}, "grant_type": {"refresh_token"}}
	req, _ := http.NewRequest(http.MethodPost, z.URL()+"/v4/oa/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", z.AppSecret())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRefreshIsSingleUse(t *testing.T) {
	z := zalotest.Start(t)
	oldAccess, rt, _ := z.Tokens()
	got := refresh(t, z, rt)
	if got["access_token"] == nil || got["refresh_token"] == rt || got["expires_in"] != "90000" {
		t.Fatalf("got %v, want a new pair with expires_in \"90000\"", got)
	}
	if again := refresh(t, z, rt); again["error"] != float64(-14020) {
		t.Errorf("re-used refresh token: got %v, want error -14020", again)
	}
	if code, _ := post(t, z, "/v3.0/oa/message/cs", oldAccess, `{"recipient":{"user_id":"1"},"message":{"text":"x"}}`); code != -216 {
		t.Errorf("old access token: got %d, want -216", code)
	}
	if code, _ := post(t, z, "/v3.0/oa/message/cs", got["access_token"].(string), `{"recipient":{"user_id":"1"},"message":{"text":"x"}}`); code != 0 {
		t.Errorf("new access token: got %d, want 0", code)
	}
	if z.Refreshes() != 1 {
		t.Errorf("got %d refreshes, want 1", z.Refreshes())
	}
}

func TestPermissionRedirect(t *testing.T) {
	z := zalotest.Start(t)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"app_id": {z.AppID()}, "redirect_uri": {"https://bot.example/cb"}, "code_challenge": {"abc"}, "state": {"s1"}}
	resp, err := hc.Get(z.URL() + "/v4/oa/permission?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("got %d %v, want a 302", resp.StatusCode, err)
	}
	if loc.Host != "bot.example" || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" || loc.Query().Get("oa_id") != z.OAID() {
		t.Errorf("got redirect %s, want code, state and oa_id on bot.example", loc)
	}
}
