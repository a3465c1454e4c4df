package bot_test

import (
	"net/http"
	"testing"
)

// TestWebhookReceiptsRoutedByUser posts receipts as Zalo sends them (the OA
// as sender.id, the user as recipient.id, msg_ids an array for seen): each
// lands on its user's route, none on the OA's, and two users' receipts of
// the same millisecond are two events.
func TestWebhookReceiptsRoutedByUser(t *testing.T) {
	const oa = "1646843870823903717"
	users := []string{"5510185758261927916", "2233445566778899001"}
	s := newWhServer(t, whConfig())
	for _, u := range users {
		seen := []byte(`{"event_name":"user_seen_message","app_id":"` + whApp + `","sender":{"id":"` + oa + `"},` +
			`"recipient":{"id":"` + u + `"},"message":{"msg_ids":["a1b2c3d4e5f6a7b8c9d0","0f1e2d3c4b5a69788796"]},"timestamp":"1717061866000"}`)
		received := []byte(`{"event_name":"user_received_message","app_id":"` + whApp + `","sender":{"id":"` + oa + `"},` +
			`"recipient":{"id":"` + u + `"},"message":{"msg_id":"a1b2c3d4e5f6a7b8c9d0"},"timestamp":"1717061866000"}`)
		checkAnswer(t, s.postSigned(seen), http.StatusOK)
		checkAnswer(t, s.postSigned(received), http.StatusOK)
	}
	if len(s.q.items) != 4 {
		t.Fatalf("queued: got %d events, want 4 (one per user and receipt)", len(s.q.items))
	}
	for i, it := range s.q.items {
		want := "u:" + users[i/2]
		if it.route != want {
			t.Errorf("receipt %d routed %q, want %q (never the OA's route)", i, it.route, want)
		}
	}
	if n := s.unknown("user_seen_message") + s.unknown("user_received_message"); n != 0 {
		t.Errorf("receipts counted as not understood: %v", n)
	}
}
