package bot_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
)

// logLines returns the webhook's log lines with the given message.
func (s *whServer) logLines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.log.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func (s *whServer) unknown(label string) float64 {
	return whCount(s.m.Unknown.WithLabelValues(label))
}

const unknownMsg = "zalo event not fully understood; its shape, without values"

// TestWebhookUnknownName counts an unknown event name under its own label
// and logs its shape once per window, with no value from the payload.
func TestWebhookUnknownName(t *testing.T) {
	s := newWhServer(t, whConfig())
	for i := 0; i < 3; i++ {
		body := []byte(`{"event_name":"user_send_hologram","app_id":"` + whApp + `","sender":{"id":"5510185758261927916"},` +
			`"recipient":{"id":"1646843870823903717"},"message":{"msg_id":"holo` + strconv.Itoa(i) + `","text":"Nguyễn Văn A 0912345678",` +
			`"hologram":{"depth":3,"lit":true,"f414c8f76fa586fbdfb4":null}},"timestamp":"1717061872000"}`)
		checkAnswer(t, s.postSigned(body), http.StatusOK)
	}
	if n := s.unknown("user_send_hologram"); n != 3 {
		t.Errorf("unknown{event=user_send_hologram}: got %v, want 3", n)
	}
	lines := s.logLines(t, unknownMsg)
	if len(lines) != 1 {
		t.Fatalf("log lines: got %d, want 1 (rate-limited):\n%s", len(lines), s.log)
	}
	want := `{"app_id":string,"event_name":string,"message":{"hologram":{"depth":number,"?":null,"lit":bool},"msg_id":string,"text":string},` +
		`"recipient":{"id":string},"sender":{"id":string},"timestamp":string}`
	if got := lines[0]["shape"]; got != want {
		t.Errorf("shape:\n got %v\nwant %v", got, want)
	}
	if lines[0]["unknown_name"] != true || lines[0]["event"] != "user_send_hologram" {
		t.Errorf("log line: got %v, want event user_send_hologram with unknown_name", lines[0])
	}
	logged, _ := json.Marshal(lines)
	for _, secret := range []string{"Nguyễn", "0912345678", "5510185758261927916", "holo0", "f414c8f76fa586fbdfb4", whApp} {
		if strings.Contains(string(logged), secret) {
			t.Errorf("log carries a value from the payload (%q):\n%s", secret, logged)
		}
	}
}

// TestWebhookUnknownFields counts a known event with fields the service
// does not know, and names their paths; a redelivery is not counted again.
func TestWebhookUnknownFields(t *testing.T) {
	s := newWhServer(t, whConfig())
	body := []byte(`{"event_name":"user_send_text","app_id":"` + whApp + `","sender":{"id":"5510185758261927916","display_name":"Lan"},` +
		`"recipient":{"id":"1646843870823903717"},"message":{"text":"menu","msg_id":"uf1","quote_msg_id":"q1",` +
		`"attachments":[{"type":"image","payload":{"url":"https://p.zdn.vn/a.jpg","width":640}}]},"timestamp":"1717061872000","lang":"vi"}`)
	checkAnswer(t, s.postSigned(body), http.StatusOK)
	checkAnswer(t, s.postSigned(body), http.StatusOK)
	if n := s.unknown("user_send_text"); n != 1 {
		t.Errorf("unknown{event=user_send_text}: got %v, want 1 (the redelivery is not counted)", n)
	}
	lines := s.logLines(t, unknownMsg)
	if len(lines) != 1 {
		t.Fatalf("log lines: got %d, want 1:\n%s", len(lines), s.log)
	}
	want := "lang,message.attachments.payload.width,message.quote_msg_id,sender.display_name"
	if got := lines[0]["unknown_fields"]; got != want {
		t.Errorf("unknown_fields: got %v, want %v", got, want)
	}
	if lines[0]["unknown_name"] != false {
		t.Errorf("unknown_name: got %v, want false", lines[0]["unknown_name"])
	}
	if logged, _ := json.Marshal(lines); strings.Contains(string(logged), "Lan") || strings.Contains(string(logged), "p.zdn.vn") {
		t.Errorf("log carries a value from the payload:\n%s", logged)
	}
}

// TestWebhookUnknownExamplesClean: every example of an event the service
// documents is fully understood (the metric would be noise otherwise).
func TestWebhookUnknownExamplesClean(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := newWhServer(t, whConfig())
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "unknown_") {
			continue // payloads of events whose fields nobody published
		}
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Name string `json:"event_name"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, s.postSigned(body), http.StatusOK)
		if n := s.unknown(ev.Name); n != 0 {
			t.Errorf("%s: counted as not understood (%v):\n%s", file, n, s.log)
		}
	}
}

// TestWebhookUnknownLabelsBounded: names that are not plain event names,
// and unknown names past the bound, share the label "other".
func TestWebhookUnknownLabelsBounded(t *testing.T) {
	s := newWhServer(t, whConfig())
	post := func(name string) {
		body, _ := json.Marshal(map[string]any{"event_name": name, "app_id": whApp, "timestamp": "1717061872000"})
		checkAnswer(t, s.postSigned(body), http.StatusOK)
	}
	post("Nguyễn Văn A")
	post("5510185758261927916")
	if n := s.unknown("other"); n != 2 {
		t.Errorf("unknown{event=other}: got %v, want 2", n)
	}
	for i := 0; i < 60; i++ {
		post("new_event_" + strconv.Itoa(i))
	}
	if n := s.unknown("new_event_0"); n != 1 {
		t.Errorf("unknown{event=new_event_0}: got %v, want 1", n)
	}
	if n := s.unknown("other"); n != 2+10 {
		t.Errorf("unknown{event=other} past the bound: got %v, want 12", n)
	}
	if logged, _ := json.Marshal(s.logLines(t, unknownMsg)); strings.Contains(string(logged), "Nguy") {
		t.Errorf("log carries the name of an event that is no event name:\n%s", logged)
	}
}

// TestWebhookUnknownLogAgain: after the window, the next one is logged.
func TestWebhookUnknownLogAgain(t *testing.T) {
	cfg := whConfig()
	cfg.UnknownLogEvery = time.Millisecond
	s := newWhServer(t, cfg)
	for i := 0; i < 2; i++ {
		body := []byte(`{"event_name":"user_send_hologram","app_id":"` + whApp + `","timestamp":"171706187200` + strconv.Itoa(i) + `"}`)
		checkAnswer(t, s.postSigned(body), http.StatusOK)
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(s.logLines(t, unknownMsg)); got != 2 {
		t.Errorf("log lines: got %d, want 2", got)
	}
}

func TestShape(t *testing.T) {
	tests := map[string]string{
		`{"a":[1,2],"b":[],"c":{"d":"x"}}`:      `{"a":[number],"b":[],"c":{"d":string}}`,
		`[{"k":true}]`:                          `[{"k":bool}]`,
		`"only a string"`:                       `string`,
		`{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}`: `{"a":{"b":{"c":{"d":{"e":{…}}}}}}`,
		`not json`:                              `invalid`,
	}
	for in, want := range tests {
		if got := bot.Shape([]byte(in)); got != want {
			t.Errorf("Shape(%s): got %v, want %v", in, got, want)
		}
	}
}
