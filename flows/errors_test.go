package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
)

// TestApologyFitsTheCode gives the person whose event died the sentence of
// its error's code, in their language, and the general one for an error
// without a code.
func TestApologyFitsTheCode(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	sessions.Put(cnsbot.Session{Key: "u:en", Lang: "en"})
	e := flows.NewEngine(sessions, texts, flows.Options{})
	for _, lang := range []string{"vi", "en"} {
		p, _ := json.Marshal(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k-" + lang,
			Route: "u:" + lang, UserID: lang, Time: time.Now()})
		internal := texts.T(lang, "common.error.internal", nil)
		for _, code := range []string{cnsbot.EINVALID, cnsbot.ENOTFOUND, cnsbot.ECONFLICT, cnsbot.EFORBIDDEN,
			cnsbot.EUNAVAILABLE, cnsbot.ETOOLARGE} {
			cause := fmt.Errorf("save request: %w", cnsbot.Errorf(code, "detail for the operator"))
			m, ok := e.Apology(context.Background(), p, cause)
			want := texts.T(lang, "common.error."+code, nil)
			if !ok || m.Text != want || want == internal {
				t.Errorf("%s, %s: got %q, %v; want %q", lang, code, m.Text, ok, want)
			}
		}
		for _, cause := range []error{errors.New("nil map"), nil} {
			if m, _ := e.Apology(context.Background(), p, cause); m.Text != internal {
				t.Errorf("%s, %v: got %q, want %q", lang, cause, m.Text, internal)
			}
		}
	}
}

// TestCodedErrorIsAnswered follows a handler's coded error from Handle,
// which fails the event with its code (so the queue retries it and records
// it as dead, as before), to the answer the person then gets: the sentence
// of that code, not the general apology and not silence.
func TestCodedErrorIsAnswered(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	e := flows.NewEngine(sessions, texts, flows.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.Command(flows.Command{Name: "take", Match: flows.Prefix("nhan"), Run: func(c *flows.Ctx, _ string) (bool, error) {
		return false, fmt.Errorf("take request: %w", cnsbot.Errorf(cnsbot.ENOTFOUND, "request 7"))
	}})
	ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k1", Route: "u:r1", UserID: "r1",
		Text: "nhận 7", Time: time.Now()}
	err = e.Handle(context.Background(), ev)
	if cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Fatalf("Handle: got %v, want an ENOTFOUND error", err)
	}
	if s := sessions.Get("u:r1"); s.LastEvent == ev.Key {
		t.Errorf("the failed event was committed as applied")
	}
	p, _ := json.Marshal(ev)
	m, ok := e.Apology(context.Background(), p, err)
	if want := texts.T("vi", "common.error.not_found", nil); !ok || m.Text != want || m.To.UserID != "r1" {
		t.Errorf("got %+v, %v; want %q to r1", m, ok, want)
	}
}

// brokenDirectory cannot reach the roster.
type brokenDirectory struct{}

func (brokenDirectory) PersonByZalo(context.Context, string) (cnsbot.Person, []cnsbot.Role, error) {
	return cnsbot.Person{}, nil, errors.New("connection reset by peer")
}

// TestHasRoleReturnsRosterError checks that a roster that cannot be read
// is an error, not a "no": a command that returns it fails the event
// (retried, then answered), where it used to answer as to someone without
// the role.
func TestHasRoleReturnsRosterError(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	e := flows.NewEngine(sessions, texts, flows.Options{Directory: brokenDirectory{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.Command(flows.Command{Name: "members", Match: flows.Prefix("thanh vien"), Run: func(c *flows.Ctx, _ string) (bool, error) {
		ok, err := c.HasRole(cnsbot.RoleMember)
		if err != nil {
			return false, err
		}
		if !ok {
			c.Reply("t.group")
		}
		return true, nil
	}})
	err = e.Handle(context.Background(), cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k1",
		Route: "u:m1", UserID: "m1", Text: "thành viên", Time: time.Now()})
	if err == nil {
		t.Fatalf("Handle with an unreachable roster: got no error, want the lookup's")
	}
	if s := sessions.Get("u:m1"); s.LastEvent != "" || len(sessions.Outbox()) != 0 {
		t.Errorf("got session %+v and outbox %v, want nothing committed", s, sessions.Outbox())
	}
}

// TestQueuedEventWithoutKind handles an event that an older replica's
// webhook queued before Event.Kind existed: Options.KindOf classifies it,
// so a rolling upgrade leaves no one unanswered, and its apology goes out
// as well.
func TestQueuedEventWithoutKind(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"name":"user_send_text","key":"old-1","route":"u:r1","user_id":"r1","text":"menu","time":"2026-12-07T10:00:00Z"}`)
	for _, classify := range []bool{true, false} {
		sessions := flowstest.NewSessions()
		opts := flows.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if classify {
			opts.KindOf = func(name string) string {
				if name == "user_send_text" {
					return cnsbot.KindText
				}
				return cnsbot.KindOther
			}
		}
		e := flows.NewEngine(sessions, texts, opts)
		if err := e.HandleEvent(context.Background(), payload); err != nil {
			t.Fatal(err)
		}
		_, sorry := e.Apology(context.Background(), payload, errors.New("nil map"))
		if answered := len(sessions.Outbox()) > 0; answered != classify || sorry != classify {
			t.Errorf("with KindOf %v: answered %v, apology %v; want both %v", classify, answered, sorry, classify)
		}
	}
}
