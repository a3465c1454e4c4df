package flows_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/locales"
)

// benchEngine is the engine as serve wires it for residents, on the
// in-process stores of flowstest: what one event costs to decide, without
// the I/O around it.
func benchEngine(b *testing.B) (*flows.Engine, *flowstest.Sessions) {
	b.Helper()
	texts, err := locales.New()
	if err != nil {
		b.Fatal(err)
	}
	commune := int64(1)
	pl := flowstest.NewPlaces(
		cnsbot.Unit{ID: 1, Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc"},
		cnsbot.Unit{ID: 11, Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &commune},
	)
	desk := &flowstest.HelpDesk{Places: pl}
	sessions := flowstest.NewSessions()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := flows.NewEngine(sessions, texts, flows.Options{Log: log, Handoffs: &flowstest.Handoffs{}, Directory: desk})
	if err := resident.Register(e, resident.Deps{Places: pl, HelpDesk: desk, Texts: texts, Sessions: sessions, Log: log,
		Privacy: &flowstest.Privacy{Desk: desk}, Feedback: &flowstest.Feedback{}, Lookups: &flowstest.Lookups{}}); err != nil {
		b.Fatal(err)
	}
	return e, sessions
}

// payload is an event as the queue hands it to HandleEvent.
func payload(b *testing.B, user, key, text string) []byte {
	b.Helper()
	p, err := json.Marshal(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: key, Route: "u:" + user, UserID: user,
		Text: text, Time: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkEngineMenu is one flow step: a returning user types "menu"
// (decode, load the session, match the command, render the menu, commit).
func BenchmarkEngineMenu(b *testing.B) {
	e, sessions := benchEngine(b)
	ctx := context.Background()
	const users = 1000
	for u := range users {
		if err := e.HandleEvent(ctx, payload(b, strconv.Itoa(u), "warm-"+strconv.Itoa(u), "menu")); err != nil {
			b.Fatal(err)
		}
	}
	events := make([][]byte, 4096)
	for i := range events {
		events[i] = payload(b, strconv.Itoa(i%users), "ev-"+strconv.Itoa(i), "menu")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Each event needs a key its session has not applied yet.
		p := events[i%len(events)]
		if i >= len(events) {
			b.StopTimer()
			p = payload(b, strconv.Itoa(i%users), "ev-"+strconv.Itoa(i), "menu")
			b.StartTimer()
		}
		if err := e.HandleEvent(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(sessions.Outbox()); n < users+b.N {
		b.Fatalf("%d messages for %d events: some events were not answered", n, users+b.N)
	}
}

// BenchmarkEngineFirstMessage is a new user's first message: the welcome
// and the main menu.
func BenchmarkEngineFirstMessage(b *testing.B) {
	e, _ := benchEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := range b.N {
		b.StopTimer()
		p := payload(b, "new-"+strconv.Itoa(i), "first-"+strconv.Itoa(i), "xin chào")
		b.StartTimer()
		if err := e.HandleEvent(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineFreeText is a returning user typing words the engine must
// match against the menu (folding and typo-tolerant matching).
func BenchmarkEngineFreeText(b *testing.B) {
	e, _ := benchEngine(b)
	ctx := context.Background()
	const users = 1000
	for u := range users {
		if err := e.HandleEvent(ctx, payload(b, strconv.Itoa(u), "warm-"+strconv.Itoa(u), "menu")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := range b.N {
		b.StopTimer()
		p := payload(b, strconv.Itoa(i%users), "ev-"+strconv.Itoa(i), "tôi quên mật khẩu vneid")
		b.StartTimer()
		if err := e.HandleEvent(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
