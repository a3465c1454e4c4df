package zalotest_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

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

// TestRecordsRequestOfDeadSender: a request written whole before its
// sender went away is still handled and recorded, as a server does; the
// fault suite allows for it when it tells a copy sent across a kill from a
// duplicate (loadgen.InFlightGrace).
func TestRecordsRequestOfDeadSender(t *testing.T) {
	z := zalotest.Start(t)
	access, _, _ := z.Tokens()
	u, err := url.Parse(z.URL())
	if err != nil {
		t.Fatal(err)
	}
	body := `{"recipient":{"user_id":"u1"},"message":{"text":"x"}}`
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /v3.0/oa/message/cs HTTP/1.1\r\nHost: zalo\r\naccess_token: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		access, len(body), body)
	c.Close() // gone before any answer
	for end := time.Now().Add(5 * time.Second); z.Count() == 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if z.Count() != 1 {
		t.Errorf("recorded %d messages, want the one its sender did not wait for", z.Count())
	}
}
