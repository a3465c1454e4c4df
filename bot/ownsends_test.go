package bot_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/camau-cns/cnsbot"
)

// memSentLog is an in-memory bot.SentLog.
type memSentLog struct {
	mu  sync.Mutex
	ids map[string]string // message id -> recipient
	err error
}

func (l *memSentLog) RememberSent(_ context.Context, to cnsbot.Recipient, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.ids == nil {
		l.ids = map[string]string{}
	}
	l.ids[id] = to.String()
	return nil
}

// TestClientRemembersOwnSends: every message id Zalo returns for a send to
// a user is recorded, for each part of a split text and for lists; group
// posts are not (their echoes never pause anyone).
func TestClientRemembersOwnSends(t *testing.T) {
	s := newZalo(t)
	l := &memSentLog{}
	s.client.RememberSends(l, nil)
	ctx := context.Background()
	user := cnsbot.Recipient{UserID: "5510185758261927916"}
	if _, err := s.client.SendText(ctx, user, strings.Repeat("Xin chào bà con. ", 200)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.Send(ctx, cnsbot.Outgoing{To: user, Kind: cnsbot.MsgList, Text: "Bạn cần gì?",
		Buttons: []cnsbot.Button{{Title: "VNeID", Payload: "#vneid"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.SendText(ctx, cnsbot.Recipient{GroupID: "g1"}, "Tổ họp lúc 8 giờ"); err != nil {
		t.Fatal(err)
	}
	sent := s.z.MessagesTo(user.UserID)
	if len(sent) < 3 {
		t.Fatalf("fake got %d messages, want a split text and a list", len(sent))
	}
	for _, m := range sent {
		if l.ids[m.MessageID] != "u:"+user.UserID {
			t.Errorf("message %s to the user not remembered (have %v)", m.MessageID, l.ids)
		}
	}
	if len(l.ids) != len(sent) {
		t.Errorf("remembered %d ids, want %d (none for the group)", len(l.ids), len(sent))
	}
}

// TestClientSendsWhenRememberFails: a store that cannot record an id does
// not fail the send (the message went out), and says so in the log, once.
func TestClientSendsWhenRememberFails(t *testing.T) {
	s := newZalo(t)
	var buf bytes.Buffer
	s.client.RememberSends(&memSentLog{err: errors.New("redis down")}, slog.New(slog.NewTextHandler(&buf, nil)))
	for i := 0; i < 3; i++ {
		if _, err := s.client.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "chào"); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if n := strings.Count(buf.String(), "cannot record the id"); n != 1 {
		t.Errorf("warnings: got %d, want 1:\n%s", n, buf.String())
	}
}

// TestClientGroupTextHasNoMention: whatever the flows put into a group
// message, Zalo receives no mention syntax.
func TestClientGroupTextHasNoMention(t *testing.T) {
	s := newZalo(t)
	ctx := context.Background()
	if _, err := s.client.SendText(ctx, cnsbot.Recipient{GroupID: "g1"}, "Việc cần giúp: [@5510185758261927916] và [@g1]"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.SendList(ctx, cnsbot.Recipient{GroupID: "g1"}, "Yêu cầu của [@g1]", "", []cnsbot.Button{{Title: "[@u2]", Payload: "#x"}}); err != nil {
		t.Fatal(err)
	}
	// A private message is left as typed: nobody else can be mentioned there.
	if _, err := s.client.SendText(ctx, cnsbot.Recipient{UserID: "u1"}, "[@u1]"); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.z.MessagesTo("g1") {
		if strings.Contains(m.Text, "[@") {
			t.Errorf("group message keeps a mention: %q", m.Text)
		}
	}
	if got := s.z.MessagesTo("g1")[0].Text; got != "Việc cần giúp: (@5510185758261927916) và (@g1)" {
		t.Errorf("group text: got %q", got)
	}
	if got := s.z.MessagesTo("u1")[0].Text; got != "[@u1]" {
		t.Errorf("private text: got %q, want it unchanged", got)
	}
}
