package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// TestSetupFaultHoldsRepliesAndShowsInReadyz: with the OA not set up for
// the API (the fake's setup-fault mode), a reply is held, not dropped; /readyz stays 200 (the
// webhook must keep taking events) but says what is wrong; once the OA is
// fixed, the held reply goes out with the next one.
func TestSetupFaultHoldsRepliesAndShowsInReadyz(t *testing.T) {
	z := zalotest.Start(t)
	r := start(t, testConfig(t, z), true)
	z.SetMode(zalotest.ModeSetupFault)
	const u = "5510185758261927916"
	body, sig := signedEvent("user_send_text", u, "sf1", "menu")
	if got := post(t, r.url, body, sig); got != http.StatusOK {
		t.Fatalf("webhook: %d", got)
	}
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	var held int
	for time.Now().Before(deadline) && held == 0 {
		due, err := r.db.DueHeld(ctx, time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		held = len(due)
		time.Sleep(50 * time.Millisecond)
	}
	if held != 1 {
		t.Fatalf("got %d held messages, want the reply held", held)
	}
	code, ready := getReadyz(t, r.url)
	if code != http.StatusOK || !strings.Contains(ready["zalo"], fmt.Sprintf("setup fault %d", zalotest.SetupFaultCode)) {
		t.Errorf("readyz: got %d %v, want 200 with the setup fault", code, ready)
	}

	// The OA is fixed. Someone else's reply goes through, and the one
	// held for the fault follows at once, not at the end of its
	// quarter-hour hold (waitMessages gives up long before).
	z.SetMode(zalotest.ModeNormal)
	body, sig = signedEvent("user_send_text", "5510185758261927917", "sf2", "menu")
	if got := post(t, r.url, body, sig); got != http.StatusOK {
		t.Fatalf("webhook: %d", got)
	}
	msgs := waitMessages(t, z, u, 1)
	if !strings.Contains(msgs[0].Text, "?") || len(msgs[0].Buttons) == 0 {
		t.Errorf("got %q, want the held menu", msgs[0].Text)
	}
	if due, err := r.db.DueHeld(ctx, time.Now().Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Errorf("still held after the fault cleared: %d (%v)", len(due), err)
	}
	// The fake records the message before its answer reaches the sender,
	// which clears the fault on that answer: wait for it.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, ready = getReadyz(t, r.url); ready["zalo"] == "" || time.Now().After(end) {
			break
		}
	}
	if ready["zalo"] != "" {
		t.Errorf("readyz still reports %q after a good send", ready["zalo"])
	}
}

// TestDeadRefreshTokenShowsInReadyz: an empty answer to a refresh means a
// person must re-authorise the OA; /readyz says so.
func TestDeadRefreshTokenShowsInReadyz(t *testing.T) {
	z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "dead-refresh-secret"))
	r := start(t, testConfig(t, z), true)
	z.ExpireToken()
	z.KillRefreshToken(zalotest.RefreshStringError)
	body, sig := signedEvent("user_send_text", "5510185758261927916", "dr1", "menu")
	if got := post(t, r.url, body, sig); got != http.StatusOK {
		t.Fatalf("webhook: %d", got)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if _, ready := getReadyz(t, r.url); strings.Contains(ready["zalo"], "re-authorise") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, ready := getReadyz(t, r.url)
	t.Fatalf("readyz %v, want it to ask to re-authorise", ready)
}
