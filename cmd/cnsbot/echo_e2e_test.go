package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// TestEndToEndEchoesAndReceipts posts Zalo's echoes and receipts in their
// wire format through the webhook. The echo of the bot's own reply, even
// with sender.admin_id set (Zalo may or may not set it on API sends), does
// not pause the bot; a human agent's message, whose msg_id the service
// never sent, does. Read receipts, with the OA as sender, change nothing.
func TestEndToEndEchoesAndReceipts(t *testing.T) {
	z := zalotest.Start(t)
	r := start(t, testConfig(t, z), true)
	const user = "5510185758261927916"
	const admin = "7311123400998877665"
	say := func(msgID, text string) {
		t.Helper()
		body, sig := e2eZalo.Sign(e2eZalo.Text(user, msgID, text, time.Now()))
		if got := post(t, r.url, body, sig); got != http.StatusOK {
			t.Fatalf("post %s: status %d", msgID, got)
		}
	}

	say("m-echo-1", "menu")
	reply := waitMessages(t, z, user, 1)[0]

	// Zalo echoes the reply (with admin_id) and reports it delivered and seen.
	echo, sig := e2eZalo.Sign(e2eZalo.Echo(user, admin, reply.MessageID, reply.Text, time.Now()))
	if got := post(t, r.url, echo, sig); got != http.StatusOK {
		t.Fatalf("echo: status %d", got)
	}
	seen, sig := e2eZalo.Sign(e2eZalo.Seen(user, []string{reply.MessageID}, time.Now()))
	if got := post(t, r.url, seen, sig); got != http.StatusOK {
		t.Fatalf("seen: status %d", got)
	}
	say("m-echo-2", "menu")
	waitMessages(t, z, user, 2)

	// A human agent writes from the OA chat tool: the bot keeps quiet.
	agent, sig := e2eZalo.Sign(e2eZalo.Echo(user, admin, "a0b1c2d3e4f5a6b7c8d9", "Chào chị, em là cán bộ xã", time.Now()))
	if got := post(t, r.url, agent, sig); got != http.StatusOK {
		t.Fatalf("agent echo: status %d", got)
	}
	say("m-echo-3", "menu")
	time.Sleep(3 * time.Second)
	if n := len(z.MessagesTo(user)); n != 2 {
		t.Errorf("after a human agent wrote, the bot sent %d messages in all, want 2 (paused)", n)
	}
}
