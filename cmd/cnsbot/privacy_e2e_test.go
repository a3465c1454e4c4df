package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/store"
)

// Through the webhook, on Postgres and Redis: the notice before the name,
// the consent stored; "xóa thông tin của tôi" then clears the request and
// the session; unfollow is recorded and a follow clears it.
func TestPrivacyEndToEnd(t *testing.T) {
	z := zalotest.Start(t)
	cfg := testConfig(t, z)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedLogWorld(t, db)
	r := start(t, cfg, true)
	defer r.stop()

	const user = "5510185758261900001"
	n := 0
	send := func(name, text string) {
		t.Helper()
		n++
		body, sig := signedEvent(name, user, "m-priv-"+strconv.Itoa(n), text)
		if got := post(t, r.url, body, sig); got != http.StatusOK {
			t.Fatalf("%s %q: status %d", name, text, got)
		}
	}
	say := func(text string) string {
		t.Helper()
		before := len(z.MessagesTo(user))
		send("user_send_text", text)
		waitMessages(t, z, user, before+1)
		time.Sleep(150 * time.Millisecond)
		var b strings.Builder
		for _, m := range z.MessagesTo(user)[before:] {
			b.WriteString(m.Text + "\n")
			for _, btn := range m.Buttons {
				b.WriteString(btn.Payload + "\n")
			}
		}
		return b.String()
	}
	if got := say("nhờ tổ đến nhà"); !strings.Contains(got, "xóa thông tin của tôi") || !strings.Contains(got, "#dongy") {
		t.Fatalf("first answer %q, want the notice", got)
	}
	say("đồng ý")
	say("cô")
	if ok, err := db.HasConsent(ctx, user, resident.ConsentVersion); err != nil || !ok {
		t.Fatalf("consent stored: %v, %v", ok, err)
	}
	for _, in := range []string{"Nguyễn Thị Lan", "0912 345 678", "tan loc", "ap 1", "cài VNeID", "sang", "#gui"} {
		say(in)
	}
	req, err := db.OpenHelpRequestFor(ctx, user)
	if err != nil || req.Phone != "+84912345678" {
		t.Fatalf("request %+v, %v", req, err)
	}
	if got := say("xóa thông tin của tôi"); !strings.Contains(got, "#xoa") {
		t.Fatalf("delete asks: %q", got)
	}
	if got := say("#xoa"); !strings.Contains(got, "đã xóa hết") {
		t.Fatalf("delete done: %q", got)
	}
	after, err := db.HelpRequestByCode(ctx, req.Code)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != "" || after.Phone != "" || after.ResidentUserID != "" || after.Status != cnsbot.HelpCancelled {
		t.Errorf("request after deletion %+v", after)
	}
	s, err := r.queue.Load(ctx, "u:"+user)
	if err != nil || len(s.Data) != 0 || len(s.Notes) != 0 || s.Flow != "" {
		t.Errorf("session after deletion %+v, %v", s, err)
	}
	if ok, _ := db.HasConsent(ctx, user, resident.ConsentVersion); ok {
		t.Error("consent kept after deletion")
	}
	erasures, err := db.Erasures(ctx, 5)
	if err != nil || len(erasures) == 0 || erasures[0].Reason != store.ReasonAsked {
		t.Errorf("erasures %+v, %v", erasures, err)
	}

	send("unfollow", "")
	// 30 s, as the other end-to-end waits: CI runs every package at once.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ids, err := db.UnfollowedSessions(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 1 && ids[0] == user {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unfollow not recorded: %v", ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := len(z.MessagesTo(user))
	body, sig := signedEvent("follow", user, "", "")
	if got := post(t, r.url, body, sig); got != http.StatusOK {
		t.Fatalf("follow: status %d", got)
	}
	waitMessages(t, z, user, before+1)
	if ids, _ := db.UnfollowedSessions(ctx, 10); len(ids) != 0 {
		t.Errorf("after a follow the unfollow is still recorded: %v", ids)
	}
}
