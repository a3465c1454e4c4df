package zalotest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// post sends body to path with the given access token and returns Zalo's
// error code and the HTTP status.
func post(t *testing.T, z *zalotest.Server, path, token, body string) (code, status int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, z.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("access_token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Error int `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("answer %q: %v", raw, err)
		}
	}
	return env.Error, resp.StatusCode
}

func TestMessageValidation(t *testing.T) {
	z := zalotest.Start(t)
	access, _, _ := z.Tokens()
	long := strings.Repeat("ă", zalotest.MaxText+1)
	btn := `{"title":"B","type":"oa.query.hide","payload":"#b"}`
	list := func(n int) string {
		bs := make([]string, n)
		for i := range bs {
			bs[i] = btn
		}
		return `{"recipient":{"user_id":"1"},"message":{"attachment":{"type":"template","payload":{"template_type":"list","elements":[{"title":"T"}],"buttons":[` + strings.Join(bs, ",") + `]}}}}`
	}
	tests := []struct {
		name, path, token, body string
		want                    int
	}{
		{"text", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1"},"message":{"text":"chào"}}`, 0},
		{"wrong token", "/v3.0/oa/message/cs", "nope", `{"recipient":{"user_id":"1"},"message":{"text":"chào"}}`, -216},
		{"text too long", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1"},"message":{"text":"` + long + `"}}`, -201},
		{"text 2000", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1"},"message":{"text":"` + long[len("ă"):] + `"}}`, 0},
		{"empty text", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1"},"message":{"text":""}}`, -201},
		{"group id to cs", "/v3.0/oa/message/cs", access, `{"recipient":{"group_id":"1"},"message":{"text":"x"}}`, -201},
		{"extra recipient field", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1","phone":"84"},"message":{"text":"x"}}`, -201},
		{"numeric user id", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":1},"message":{"text":"x"}}`, -201},
		{"not json", "/v3.0/oa/message/cs", access, `{`, -201},
		{"list 5 buttons", "/v3.0/oa/message/cs", access, list(5), 0},
		{"list 6 buttons", "/v3.0/oa/message/cs", access, list(6), -201},
		{"bad button type", "/v3.0/oa/message/cs", access, strings.Replace(list(1), "oa.query.hide", "postback", 1), -201},
		{"request info", "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1"},"message":{"attachment":{"type":"template","payload":{"template_type":"request_user_info","elements":[{"title":"T","subtitle":"S","image_url":"https://x/y.png"}]}}}}`, 0},
		{"group text", "/v3.0/oa/group/message", access, `{"recipient":{"group_id":"g"},"message":{"text":"x"}}`, 0},
		{"group list", "/v3.0/oa/group/message", access, strings.Replace(list(1), `"user_id"`, `"group_id"`, 1), -201},
		{"user id to group", "/v3.0/oa/group/message", access, `{"recipient":{"user_id":"1"},"message":{"text":"x"}}`, -201},
	}
	accepted := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, status := post(t, z, tt.path, tt.token, tt.body)
			if status != http.StatusOK || got != tt.want {
				t.Errorf("got error %d (HTTP %d), want %d (HTTP 200)", got, status, tt.want)
			}
		})
		if tt.want == 0 {
			accepted++
		}
	}
	if got := z.Count(); got != accepted {
		t.Errorf("got %d messages recorded, want %d", got, accepted)
	}
	if got := len(z.MessagesTo("g")); got != 1 {
		t.Errorf("got %d messages to the group, want 1", got)
	}
}

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

func TestFaults(t *testing.T) {
	z := zalotest.Start(t)
	access, _, _ := z.Tokens()
	body := `{"recipient":{"user_id":"u1"},"message":{"text":"x"}}`

	z.FailNext(1, -32)
	z.FailNext(1, 503)
	if code, _ := post(t, z, "/v3.0/oa/message/cs", access, body); code != -32 {
		t.Errorf("got %d, want -32", code)
	}
	if _, status := post(t, z, "/v3.0/oa/message/cs", access, body); status != 503 {
		t.Errorf("got HTTP %d, want 503", status)
	}
	z.SetFault(zalotest.FailUsers(-230, "u1"))
	if code, _ := post(t, z, "/v3.0/oa/message/cs", access, body); code != -230 {
		t.Errorf("got %d, want -230", code)
	}
	z.SetFault(nil)
	z.Unfollow("u1")
	if code, _ := post(t, z, "/v3.0/oa/message/cs", access, body); code != -213 {
		t.Errorf("got %d, want -213", code)
	}
	z.ExpireToken()
	if code, _ := post(t, z, "/v3.0/oa/message/cs", access, body); code != -216 {
		t.Errorf("expired token: got %d, want -216", code)
	}
	if z.Count() != 0 {
		t.Errorf("got %d messages recorded, want 0", z.Count())
	}
}

func TestNight(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	now := time.Date(2025, 3, 1, 23, 0, 0, 0, loc)
	z := zalotest.Start(t, zalotest.WithClock(func() time.Time { return now }))
	z.SetFault(zalotest.Night(loc))
	access, _, _ := z.Tokens()
	if code, _ := post(t, z, "/v3.0/oa/message/cs", access, `{"recipient":{"user_id":"1"},"message":{"text":"x"}}`); code != -234 {
		t.Errorf("got %d, want -234", code)
	}
	if code, _ := post(t, z, "/v3.0/oa/group/message", access, `{"recipient":{"group_id":"1"},"message":{"text":"x"}}`); code != 0 {
		t.Errorf("group at night: got %d, want 0", code)
	}
}

func TestDelayReleasedByClose(t *testing.T) {
	z := zalotest.New()
	z.Start()
	z.SetFault(func(zalotest.Request) zalotest.Fault { return zalotest.Fault{Delay: time.Hour} })
	access, _, _ := z.Tokens()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest(http.MethodPost, z.URL()+"/v3.0/oa/message/cs", strings.NewReader(`{}`))
		req.Header.Set("access_token", access)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	z.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release a delayed request")
	}
}

func TestWaitForConcurrent(t *testing.T) {
	z := zalotest.Start(t)
	access, _, _ := z.Tokens()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, z.URL()+"/v3.0/oa/message/cs",
				strings.NewReader(`{"recipient":{"user_id":"1"},"message":{"text":"x"}}`))
			req.Header.Set("access_token", access)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := z.WaitFor(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, m := range got {
		if seen[m.MessageID] {
			t.Errorf("message id %s given twice", m.MessageID)
		}
		seen[m.MessageID] = true
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
