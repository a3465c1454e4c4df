package zalotest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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
