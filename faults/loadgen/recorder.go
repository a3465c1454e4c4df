package loadgen

import (
	"strings"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// Msg is one message the fake Zalo accepted, reduced to what the service
// decides: the kind, the text (or a template's title) and the buttons'
// payloads. Two answers to the same event in the same state are equal.
type Msg struct {
	Kind    string
	Text    string
	Buttons string
	Time    time.Time
}

// key is what two messages are compared on.
func (m Msg) key() string { return m.Kind + "\x00" + m.Text + "\x00" + m.Buttons }

// loose is a message's kind and text, without its buttons.
func (m Msg) loose() string { return m.Kind + "\x00" + m.Text }

// short names a message in a report without printing a user's text.
func (m Msg) short() string {
	t := []rune(m.Text)
	if len(t) > 24 {
		t = append(t[:24], '…')
	}
	return m.Kind + ":" + strings.ReplaceAll(string(t), "\n", " ")
}

// Recorder keeps what the fake Zalo accepted, per recipient, in the order
// the fake accepted it. Attach it with Attach before the service sends.
type Recorder struct {
	mu     sync.Mutex
	byUser map[string][]Msg
	groups map[string]int
	total  int
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{byUser: map[string][]Msg{}, groups: map[string]int{}}
}

// Attach makes z report every accepted message to r. The fake calls it
// before it answers, so one recipient's messages, which the service sends
// one at a time, are recorded in the order they were sent.
func (r *Recorder) Attach(z *zalotest.Server) { z.OnMessage(r.Record) }

// Record adds one accepted message.
func (r *Recorder) Record(s zalotest.Sent) {
	var b strings.Builder
	for i, btn := range s.Buttons {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(btn.Payload)
	}
	m := Msg{Kind: s.Kind, Text: s.Text, Buttons: b.String(), Time: s.Time}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	if s.UserID == "" {
		r.groups[s.GroupID]++
		return
	}
	r.byUser[s.UserID] = append(r.byUser[s.UserID], m)
}

// Messages returns a copy of the messages user received, in order.
func (r *Recorder) Messages(user string) []Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Msg(nil), r.byUser[user]...)
}

// Count returns how many messages user received.
func (r *Recorder) Count(user string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byUser[user])
}

// GroupCount returns how many messages went to group.
func (r *Recorder) GroupCount(group string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.groups[group]
}

// Total returns how many messages the fake accepted.
func (r *Recorder) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Users returns every user that received something.
func (r *Recorder) Users() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.byUser))
	for u := range r.byUser {
		out = append(out, u)
	}
	return out
}
