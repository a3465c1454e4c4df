package bot_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
)

// A text longer than bot.MaxText is cut to at most MaxText bytes on a rune
// boundary, whatever the letters' widths; shorter texts are kept whole.
func TestParseEventCutsLongText(t *testing.T) {
	for _, tt := range []struct {
		name, unit string
		n          int
	}{
		{"ascii", "a", 900 << 10},
		{"two-byte letters", "ư", 300 << 10},
		{"three-byte letters", "ệ", 300 << 10},
		{"four-byte emoji", "😀", 300 << 10},
		{"a letter across the cap", "ệ", bot.MaxText + 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Repeat(tt.unit, tt.n/len(tt.unit))
			ev := parseText(t, text, `{"name":`+quote(text)+`,"phone":"84912345678","address":`+quote(text)+`}`)
			for field, got := range map[string]string{"text": ev.Text, "info.name": ev.Info.Name, "info.address": ev.Info.Address} {
				if len(got) > bot.MaxText {
					t.Errorf("%s: %d bytes, want at most %d", field, len(got), bot.MaxText)
				}
				if !utf8.ValidString(got) {
					t.Errorf("%s: cut inside a letter: ends with %q", field, got[max(0, len(got)-4):])
				}
				if !strings.HasPrefix(text, got) || len(got) < bot.MaxText-utf8.UTFMax {
					t.Errorf("%s: got %d bytes, want the first %d bytes of the text", field, len(got), bot.MaxText)
				}
			}
		})
	}
	short := strings.Repeat("ệ", bot.MaxText/3)
	if ev := parseText(t, short, `{"name":"Lê Thị Ệ"}`); ev.Text != short || ev.Info.Name != "Lê Thị Ệ" {
		t.Errorf("a text within the cap was changed: %d bytes, want %d", len(ev.Text), len(short))
	}
}

func parseText(t *testing.T, text, info string) cnsbot.Event {
	t.Helper()
	body := `{"event_name":"user_send_text","sender":{"id":"5510185758261927916"},"message":{"msg_id":"m1","text":` +
		quote(text) + `},"info":` + info + `,"timestamp":"1717061839659"}`
	ev, err := bot.ParseEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// An id longer than bot.MaxID, in any field the service reads, is refused
// as invalid; Zalo's longest ids (20 digits, 32 hex characters) pass.
func TestParseEventRefusesLongIDs(t *testing.T) {
	long := strings.Repeat("9", bot.MaxID+1)
	for _, body := range []string{
		`{"event_name":"user_send_text","sender":{"id":"` + long + `"},"message":{"msg_id":"m1","text":"a"},"timestamp":"1000"}`,
		`{"event_name":"user_send_text","sender":{"id":` + long + `},"message":{"msg_id":"m1","text":"a"},"timestamp":"1000"}`,
		`{"event_name":"user_send_text","sender":{"id":"1"},"message":{"msg_id":"` + long + `","text":"a"},"timestamp":"1000"}`,
		`{"event_name":"user_send_text","sender":{"id":"1"},"recipient":{"id":"` + long + `"},"message":{"msg_id":"m1"},"timestamp":"1000"}`,
		`{"event_name":"user_send_group_text","sender":{"id":"1"},"recipient":{"id":"2","group_id":"` + long + `"},"timestamp":"1000"}`,
		`{"event_name":"user_send_group_text","sender":{"id":"1"},"group_id":"` + long + `","timestamp":"1000"}`,
		`{"event_name":"follow","follower":{"id":"` + long + `"},"timestamp":"1000"}`,
		`{"event_name":"follow","user_id":"` + long + `","timestamp":"1000"}`,
		`{"event_name":"oa_send_text","sender":{"id":"1","admin_id":"` + long + `"},"recipient":{"id":"2"},"timestamp":"1000"}`,
		`{"event_name":"follow","app_id":"` + long + `","follower":{"id":"1"},"timestamp":"1000"}`,
		`{"event_name":"user_send_` + strings.Repeat("x", bot.MaxID) + `","sender":{"id":"1"},"timestamp":"1000"}`,
	} {
		ev, err := bot.ParseEvent([]byte(body))
		if got := cnsbot.ErrorCode(err); got != cnsbot.EINVALID {
			t.Errorf("ParseEvent(%.90s…) = %+v, %v; want an %s error", body, ev.Route, err, cnsbot.EINVALID)
		}
	}
	zalo := `{"event_name":"user_send_group_text","app_id":"50554360515256678",` +
		`"sender":{"id":"18446744073709551615"},"recipient":{"id":"1646843870823903717","group_id":"f414c8f76fa586fbdfb4f414c8f76fa5"},` +
		`"message":{"msg_id":"e2a641af6661713b2874e2a641af6661","text":"a"},"timestamp":"1000"}`
	if _, err := bot.ParseEvent([]byte(zalo)); err != nil {
		t.Errorf("an event with ids as long as Zalo's: %v, want it accepted", err)
	}
}

// Through the webhook: a signed event with an overlong id is answered 400
// and never stored; a signed 900 kB text is stored cut to MaxText.
func TestWebhookHostileEvent(t *testing.T) {
	s := newWhServer(t, whConfig())
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	long := strings.Repeat("1", bot.MaxID+1)
	body := []byte(`{"event_name":"user_send_text","app_id":"` + whApp + `","sender":{"id":"` + long + `"},` +
		`"message":{"msg_id":"m1","text":"a"},"timestamp":"` + ts + `"}`)
	checkAnswer(t, s.postSigned(body), http.StatusBadRequest)
	if len(s.q.items) != 0 {
		t.Fatalf("an event with a %d-byte id was stored", len(long))
	}

	text := strings.Repeat("tôi quên mật khẩu ", 900<<10/len("tôi quên mật khẩu "))
	body = []byte(`{"event_name":"user_send_text","app_id":"` + whApp + `","sender":{"id":"1"},` +
		`"message":{"msg_id":"m2","text":` + quote(text) + `},"timestamp":"` + ts + `"}`)
	checkAnswer(t, s.postSigned(body), http.StatusOK)
	if len(s.q.items) != 1 {
		t.Fatalf("%d events stored, want 1", len(s.q.items))
	}
	var ev cnsbot.Event
	if err := json.Unmarshal(s.q.items[0].payload, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Text) > bot.MaxText || !strings.HasPrefix(text, ev.Text) {
		t.Errorf("stored text is %d bytes, want the first %d at most", len(ev.Text), bot.MaxText)
	}
	if n := len(s.q.items[0].payload); n > 2*bot.MaxText {
		t.Errorf("queue entry is %d bytes for a %d-byte text, want it bounded by the cut", n, len(text))
	}
}

// The refusal of an overlong event name is logged without the name in full.
func TestWebhookLogsNoOverlongName(t *testing.T) {
	s := newWhServer(t, whConfig())
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	name := "user_send_" + strings.Repeat("x", 100<<10)
	body := []byte(`{"event_name":"` + name + `","app_id":"` + whApp + `","sender":{"id":"1"},"timestamp":"` + ts + `"}`)
	checkAnswer(t, s.postSigned(body), http.StatusBadRequest)
	if n := s.log.Len(); n > 2<<10 {
		t.Errorf("the refusal wrote %d bytes of log for a %d-byte event name", n, len(name))
	}
}
