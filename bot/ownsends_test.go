package bot_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// memSentLog is an in-memory bot.SentLog.
type memSentLog struct {
	mu  sync.Mutex
	ids map[string]string // message id -> recipient
	err error
}

func (l *memSentLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
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
	// The ids are written in the background.
	for deadline := time.Now().Add(5 * time.Second); l.count() < len(sent) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a stray write for the group would land by now
	l.mu.Lock()
	defer l.mu.Unlock()
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
	buf := &lockedBuffer{}
	l := &memSentLog{err: errors.New("redis down")}
	s.client.RememberSends(l, slog.New(slog.NewTextHandler(buf, nil)))
	for i := 0; i < 3; i++ {
		if _, err := s.client.SendText(context.Background(), cnsbot.Recipient{UserID: "u1"}, "chào"); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(buf.String(), "cannot record the id") && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the other two writes fail by now
	if n := strings.Count(buf.String(), "cannot record the id"); n != 1 {
		t.Errorf("warnings: got %d, want 1:\n%s", n, buf.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger on another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
