package bot_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/bot"
)

const (
	sigApp    = "50554360515256678"
	sigSecret = "oa-secret-key-for-tests"
	sigTS     = "1717061839659"
)

var sigBody = []byte(`{"event_name":"user_send_text","app_id":"50554360515256678","sender":{"id":"5510185758261927916"},"recipient":{"id":"1646843870823903717"},"message":{"text":"Helo","msg_id":"e2a641af6661713b2874"},"timestamp":"1717061839659"}`)

func TestSignMatchesZaloFormula(t *testing.T) {
	sum := sha256.Sum256([]byte(sigApp + string(sigBody) + sigTS + sigSecret))
	want := hex.EncodeToString(sum[:])
	if got := bot.Sign(sigApp, sigBody, sigTS, sigSecret); got != want {
		t.Errorf("Sign: got %v, want %v", got, want)
	}
}

func TestVerify(t *testing.T) {
	good := bot.Sign(sigApp, sigBody, sigTS, sigSecret)
	tampered := []byte(strings.Replace(string(sigBody), "Helo", "Hélo", 1))
	tests := []struct {
		name      string
		app       string
		secret    string
		body      []byte
		timestamp string
		header    string
		want      bool
	}{
		{"good", sigApp, sigSecret, sigBody, sigTS, "mac=" + good, true},
		{"bare hex", sigApp, sigSecret, sigBody, sigTS, good, true},
		{"upper-case hex", sigApp, sigSecret, sigBody, sigTS, "mac=" + strings.ToUpper(good), true},
		{"upper-case prefix and spaces", sigApp, sigSecret, sigBody, sigTS, " MAC= " + good + " ", true},
		{"missing", sigApp, sigSecret, sigBody, sigTS, "", false},
		{"prefix only", sigApp, sigSecret, sigBody, sigTS, "mac=", false},
		{"wrong", sigApp, sigSecret, sigBody, sigTS, "mac=" + strings.Repeat("0", 64), false},
		{"not hex", sigApp, sigSecret, sigBody, sigTS, "mac=" + strings.Repeat("z", 64), false},
		{"short", sigApp, sigSecret, sigBody, sigTS, "mac=" + good[:62], false},
		{"long", sigApp, sigSecret, sigBody, sigTS, "mac=" + good + "00", false},
		{"tampered body", sigApp, sigSecret, tampered, sigTS, "mac=" + good, false},
		{"wrong timestamp", sigApp, sigSecret, sigBody, "1717061839660", "mac=" + good, false},
		{"wrong app id", "50554360515256679", sigSecret, sigBody, sigTS, "mac=" + good, false},
		{"wrong secret", sigApp, "another-secret", sigBody, sigTS, "mac=" + good, false},
		{"empty secret never verifies", sigApp, "", sigBody, sigTS, "mac=" + bot.Sign(sigApp, sigBody, sigTS, ""), false},
		{"other scheme prefix", sigApp, sigSecret, sigBody, sigTS, "sha256=" + good, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bot.Verify(tt.app, tt.secret, tt.body, tt.timestamp, tt.header); got != tt.want {
				t.Errorf("Verify: got %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzVerify checks that Verify never panics, that a signature made by Sign
// always verifies, and that changing one byte of the body breaks it.
func FuzzVerify(f *testing.F) {
	f.Add(sigApp, sigSecret, sigBody, sigTS, "mac=00", uint(0), byte(1))
	f.Add("", "s", []byte{}, "", "", uint(3), byte(0xff))
	f.Add("a", "b", []byte("c"), "d", "mac="+strings.Repeat("A", 64), uint(7), byte(0x80))
	f.Fuzz(func(t *testing.T, app, secret string, body []byte, ts, header string, pos uint, flip byte) {
		_ = bot.Verify(app, secret, body, ts, header) // must not panic

		if secret == "" {
			return
		}
		sig := bot.Sign(app, body, ts, secret)
		if !bot.Verify(app, secret, body, ts, "mac="+sig) {
			t.Fatalf("a signature made by Sign does not verify")
		}
		if !bot.Verify(app, secret, body, ts, strings.ToUpper(sig)) {
			t.Fatalf("an upper-case bare signature does not verify")
		}
		if len(body) == 0 || flip == 0 {
			return
		}
		changed := append([]byte(nil), body...)
		changed[pos%uint(len(changed))] ^= flip
		if bot.Verify(app, secret, changed, ts, "mac="+sig) {
			t.Fatalf("a body with a flipped byte verifies")
		}
	})
}
