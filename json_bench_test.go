package cnsbot_test

import (
	stdjson "encoding/json"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/camau-cns/cnsbot"
)

// These benchmarks are the README's reason for goccy/go-json on the hot
// path: the same outbox entry and inbox event decoded and encoded by each
// library (go test -run '^$' -bench JSON -benchmem .).

var benchOutgoing = []byte(`{"id":"ev:abc:0","to":{"user_id":"1234567890123456789"},"kind":"list",` +
	`"text":"Bấm một nút trong danh sách. Không thấy việc anh chị cần thì bấm “Thêm…” để xem tiếp.",` +
	`"buttons":[{"title":"Cài VNeID","payload":"#vneid"},{"title":"Cài CaMau-G","payload":"#camaug"},` +
	`{"title":"Quên mật khẩu","payload":"#quen"},{"title":"Nhờ người đến","payload":"#nho"},` +
	`{"title":"Thêm…","payload":"#more"}],"purpose":"reply","lang":"vi"}`)

func benchEvent(b *testing.B) []byte {
	p, err := stdjson.Marshal(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k", Route: "u:1",
		UserID: "1", Text: "cai vneid ko dc", Time: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// decoders are the two libraries' Unmarshal.
var decoders = []struct {
	name string
	dec  func([]byte, any) error
}{{"encoding-json", stdjson.Unmarshal}, {"goccy", gojson.Unmarshal}}

// benchDecode decodes p into a new T with each library; ok checks the result.
func benchDecode[T any](b *testing.B, p []byte, ok func(*T) bool) {
	for _, lib := range decoders {
		b.Run(lib.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var v T
				if err := lib.dec(p, &v); err != nil || !ok(&v) {
					b.Fatal(err, v)
				}
			}
		})
	}
}

func BenchmarkJSONDecodeOutgoing(b *testing.B) {
	benchDecode(b, benchOutgoing, func(o *cnsbot.Outgoing) bool { return len(o.Buttons) == 5 })
}

func BenchmarkJSONDecodeEvent(b *testing.B) {
	benchDecode(b, benchEvent(b), func(ev *cnsbot.Event) bool { return ev.Text != "" })
}

func BenchmarkJSONEncodeOutgoing(b *testing.B) {
	var o cnsbot.Outgoing
	if err := stdjson.Unmarshal(benchOutgoing, &o); err != nil {
		b.Fatal(err)
	}
	for _, lib := range []struct {
		name string
		enc  func(any) ([]byte, error)
	}{{"encoding-json", stdjson.Marshal}, {"goccy", gojson.Marshal}} {
		b.Run(lib.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := lib.enc(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Both libraries read our entries the same way: what goccy decodes is what
// encoding/json decodes, so entries queued before the switch still read.
func TestJSONLibrariesAgree(t *testing.T) {
	var a, b cnsbot.Outgoing
	if err := stdjson.Unmarshal(benchOutgoing, &a); err != nil {
		t.Fatal(err)
	}
	if err := gojson.Unmarshal(benchOutgoing, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := stdjson.Marshal(a)
	jb, _ := gojson.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("encoding/json: %s\ngoccy: %s", ja, jb)
	}
}
