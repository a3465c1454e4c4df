package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Transcript is how the service answers a user's sequence of events: the
// messages of the first event (a new user: the welcome, then the answer)
// and of each later one. The answers of later events repeat with the
// pattern's period, which Learn checks.
type Transcript struct {
	steps  [][]Msg
	period int
}

// Welcome is the first message of a new user's first answer; it must never
// appear again in a conversation that was not reset.
func (tr Transcript) Welcome() Msg { return tr.steps[0][0] }

// Step returns the messages that answer a user's i-th event (from 0).
func (tr Transcript) Step(i int) []Msg {
	if i < len(tr.steps) {
		return tr.steps[i]
	}
	return tr.steps[1+(i-1)%tr.period]
}

// Expected returns every message n events of one user are answered with.
func (tr Transcript) Expected(n int) []Msg {
	var out []Msg
	for i := range n {
		out = append(out, tr.Step(i)...)
	}
	return out
}

// String shows the transcript's shape for logs.
func (tr Transcript) String() string {
	var parts []string
	for i, st := range tr.steps {
		var ms []string
		for _, m := range st {
			ms = append(ms, m.short())
		}
		parts = append(parts, fmt.Sprintf("#%d[%s]", i, strings.Join(ms, ", ")))
	}
	return strings.Join(parts, " ")
}

// Learn writes as the generator's warm-up user, one event at a time, and
// records how the service answers each: 1 + 2×len(Pattern) events, so that
// the period of the answers can be checked. quiet is how long no new
// message must arrive before an answer counts as complete.
func (g *Generator) Learn(ctx context.Context, rec *Recorder, quiet time.Duration) (Transcript, error) {
	user := g.WarmUser()
	period := len(g.cfg.Pattern)
	var steps [][]Msg
	for i := range 1 + 2*period {
		before := rec.Count(user)
		ev := &event{msgID: g.runID + fmt.Sprintf("warm%04d", i), text: g.cfg.Pattern[i%period]}
		if acked, _ := g.deliver(ctx, user, ev); !acked {
			return Transcript{}, fmt.Errorf("learn: event %d was not acknowledged within %s", i, g.cfg.GiveUp)
		}
		if err := waitQuiet(ctx, rec, user, before, quiet); err != nil {
			return Transcript{}, fmt.Errorf("learn: event %d (%q): %w", i, ev.text, err)
		}
		steps = append(steps, rec.Messages(user)[before:])
	}
	tr := Transcript{steps: steps[:1+period], period: period}
	welcome := steps[0][0].key()
	for i := 1; i < len(steps); i++ {
		for _, m := range steps[i] {
			if m.key() == welcome {
				return Transcript{}, fmt.Errorf("learn: the first message of a new user (%s) also answers event %d: a reset could not be told apart", m.short(), i)
			}
		}
		if j := i + period; j < len(steps) && !sameKeys(steps[i], steps[j]) {
			return Transcript{}, fmt.Errorf("learn: events %d and %d say the same but are answered differently: %s", i, j, tr)
		}
	}
	for i := 1; i <= period; i++ {
		if j := i%period + 1; j != i && sameKeys(steps[i], steps[j]) {
			return Transcript{}, fmt.Errorf("learn: events %d and %d are answered alike, so their order could not be checked: %s", i, j, tr)
		}
	}
	return tr, nil
}

// waitQuiet waits until user's count rose above before and then did not
// change for quiet; nothing within 15 s is an error.
func waitQuiet(ctx context.Context, rec *Recorder, user string, before int, quiet time.Duration) error {
	start := time.Now()
	last, changed := before, time.Now()
	for {
		n := rec.Count(user)
		if n != last {
			last, changed = n, time.Now()
		}
		switch {
		case last > before && time.Since(changed) >= quiet:
			return nil
		case last == before && time.Since(start) > 15*time.Second:
			return errors.New("no answer reached the fake zalo within 15 s")
		}
		if !sleep(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func sameKeys(a, b []Msg) bool {
	return slices.EqualFunc(a, b, func(x, y Msg) bool { return x.key() == y.key() })
}

// WaitAnswered waits until every user received at least the messages its
// acknowledged events should produce, or until timeout. It reports how many
// users are still short.
func (g *Generator) WaitAnswered(ctx context.Context, tr Transcript, rec *Recorder, timeout time.Duration) (short int) {
	want := map[string]int{}
	for id, us := range g.sent() {
		want[id] = len(tr.Expected(us.acked))
	}
	deadline := time.Now().Add(timeout)
	for {
		short = 0
		for id, n := range want {
			if rec.Count(id) < n {
				short++
			}
		}
		if short == 0 || time.Now().After(deadline) || !sleep(ctx, 50*time.Millisecond) {
			return short
		}
	}
}

// Verdict is the check of what the fake received against what was sent.
type Verdict struct {
	// Users wrote Events acknowledged events; Answered of them got their
	// whole answer, in its place in the conversation.
	Users, Events, Answered int
	// LostMessages are expected messages that never arrived, on LostUsers
	// users; DuplicateMessages arrived more often than expected.
	LostMessages, LostUsers           int
	DuplicateMessages, DuplicateUsers int
	// Resets counts welcomes beyond a user's first: conversations that
	// started over.
	Resets int
	// Reordered counts users who got exactly the expected messages, but
	// in another order.
	Reordered int
	// Changed counts messages that arrived in place of an expected one
	// with other content, on ChangedUsers users: each event was answered,
	// but not as usual. OK does not count them; a scenario decides.
	Changed, ChangedUsers int
	// GaveUp counts users with an event never acknowledged.
	GaveUp int
	// Stray counts messages to users the run did not write as.
	Stray int
	// Resent counts messages that came twice because the service was
	// killed just after Zalo accepted them: the first copy within
	// ResendWindow before a kill noted with Killed, the second after it,
	// and the conversation exactly as expected without the second. Zalo's
	// send API has no idempotency key, so this window cannot be closed;
	// OK does not count these, and the report shows them.
	Resent int
	// Examples describe the first few problems.
	Examples []string
	// changedEvents counts events not answered as usual on users whose
	// message count is right.
	changedEvents int
}

// OK reports whether every event was answered exactly once, in order,
// allowing answers with changed content (see Changed).
func (v Verdict) OK() bool {
	return v.LostMessages == 0 && v.DuplicateMessages == 0 &&
		v.Resets == 0 && v.Reordered == 0 && v.GaveUp == 0 && v.Stray == 0 &&
		v.Answered+v.changedEvents == v.Events
}

// OKInAnyOrder is OK, except that a user's answers may have come in
// another order (Reordered): every event answered, once, as usual. It is
// what messages held for a while and sent later (an OA setup fault) can
// promise.
func (v Verdict) OKInAnyOrder() bool {
	return v.LostMessages == 0 && v.DuplicateMessages == 0 && v.Resets == 0 && v.GaveUp == 0 && v.Stray == 0 &&
		v.Changed == 0
}

// String summarises the verdict on one line.
func (v Verdict) String() string {
	return fmt.Sprintf("users %d, events %d, answered as usual %d, lost %d msg (%d users), duplicated %d msg (%d users), changed %d msg (%d users), resets %d, reordered %d, gave up %d, stray %d, re-sent across a kill %d",
		v.Users, v.Events, v.Answered, v.LostMessages, v.LostUsers, v.DuplicateMessages, v.DuplicateUsers,
		v.Changed, v.ChangedUsers, v.Resets, v.Reordered, v.GaveUp, v.Stray, v.Resent)
}

// ResendWindow is how long before a kill a message accepted by Zalo may
// still be unrecorded by the service (its outbox acknowledgement not yet
// in Redis), so that the restarted service sends it again. The gap is
// normally well under a millisecond; the margin covers a loaded machine.
const ResendWindow = 250 * time.Millisecond

// InFlightGrace is how long after a kill was noted (once the process is
// gone) the fake may still record a message the dead process had written
// to its connection before it died: the fake's handler reads the request
// when it is scheduled, and it does handle a request whose sender is gone
// (zalotest's TestRecordsRequestOfDeadSender). On a loaded machine that can
// come after the kill is noted; such a first copy, sent again by the next
// owner of its partition at least InFlightGrace later, is the same crash
// window, not a duplicate.
const InFlightGrace = 250 * time.Millisecond

// Killed notes that a service process was killed at t (see
// Verdict.Resent).
func (g *Generator) Killed(t time.Time) {
	g.mu.Lock()
	g.kills = append(g.kills, t)
	g.mu.Unlock()
}

// killList returns the kills noted so far.
func (g *Generator) killList() []time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.kills)
}

// killTimes describes when got's messages arrived relative to the kills,
// for the examples of a failed check.
func (g *Generator) killTimes(got []Msg) string {
	kills := g.killList()
	if len(kills) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("; arrivals from the kill:")
	for _, m := range got {
		fmt.Fprintf(&b, " %s", m.Time.Sub(kills[0]).Round(time.Millisecond))
	}
	return b.String()
}

// CrashResends drops from got each message whose identical copy was
// accepted within ResendWindow before a kill (or within InFlightGrace after
// it, the copy again at least InFlightGrace later) while it came after the
// kill, and returns what is left and how many it dropped.
func (g *Generator) CrashResends(got []Msg) ([]Msg, int) {
	kills := g.killList()
	if len(kills) == 0 {
		return got, 0
	}
	// Each first copy excuses one second copy: the same message may come
	// again later as the answer to another event (a menu, say), and that
	// one is not a re-send.
	used := make([]bool, len(got))
	resend := func(i int) bool {
		m := got[i]
		for _, k := range kills {
			if !m.Time.After(k) {
				continue
			}
			for j, b := range got[:i] {
				if used[j] || b.key() != m.key() {
					continue
				}
				if (!b.Time.After(k) && k.Sub(b.Time) <= ResendWindow) ||
					(b.Time.After(k) && b.Time.Sub(k) <= InFlightGrace && m.Time.Sub(b.Time) >= InFlightGrace) {
					used[j] = true
					return true
				}
			}
		}
		return false
	}
	out := make([]Msg, 0, len(got))
	n := 0
	for i, m := range got {
		if resend(i) {
			n++
			continue
		}
		out = append(out, m)
	}
	return out, n
}

// Check compares what each user received with the transcript of the events
// it sent. Messages to the users in others (people the test expects
// messages for, such as reminded leaders) are not stray.
func (g *Generator) Check(tr Transcript, rec *Recorder, others map[string]bool) Verdict {
	var v Verdict
	known := map[string]bool{g.WarmUser(): true}
	welcome := tr.Welcome().key()
	for id, us := range g.sent() {
		known[id] = true
		if us.acked == 0 && !us.gaveUp {
			continue
		}
		v.Users++
		v.Events += us.acked
		if us.gaveUp {
			v.GaveUp++
		}
		got := rec.Messages(id)
		want := tr.Expected(us.acked)
		if pruned, n := g.CrashResends(got); n > 0 && sameKeys(pruned, want) {
			got = pruned
			v.Resent += n
		}

		// Events answered in place: each step's messages where they belong.
		off, answered := 0, 0
		for i := range us.acked {
			st := tr.Step(i)
			if off+len(st) <= len(got) && sameKeys(got[off:off+len(st)], st) {
				answered++
			}
			off += len(st)
		}
		v.Answered += answered
		if sameKeys(got, want) {
			continue
		}
		resets := -1
		for _, m := range got {
			if m.key() == welcome {
				resets++
			}
		}
		v.Resets += max(resets, 0)
		switch {
		case len(got) == len(want) && sameMultiset(got, want, Msg.key):
			v.Reordered++
		case len(got) == len(want):
			// As many messages as expected, some with other content: the
			// service answered each event, differently (a degraded answer
			// while a dependency was down, say).
			n := 0
			for i := range got {
				if got[i].key() != want[i].key() {
					n++
				}
			}
			v.Changed += n
			v.ChangedUsers++
			v.changedEvents += us.acked - answered
		default:
			lost, dup := multisetDiff(want, got, Msg.loose)
			if lost > 0 {
				v.LostMessages += lost
				v.LostUsers++
			}
			if dup > 0 {
				v.DuplicateMessages += dup
				v.DuplicateUsers++
			}
		}
		if len(v.Examples) < 5 {
			v.Examples = append(v.Examples, fmt.Sprintf("user …%s: %d events, %s%s",
				id[len(id)-6:], us.acked, firstDifference(want, got), g.killTimes(got)))
		}
	}
	for _, u := range rec.Users() {
		if !known[u] && !others[u] {
			v.Stray += rec.Count(u)
		}
	}
	return v
}

// firstDifference describes where got departs from want.
func firstDifference(want, got []Msg) string {
	i := 0
	for i < len(want) && i < len(got) && want[i].key() == got[i].key() {
		i++
	}
	show := func(ms []Msg) string {
		if i >= len(ms) {
			return "nothing"
		}
		m := ms[i]
		return fmt.Sprintf("%s %q buttons %q", m.Kind, m.Text, m.Buttons)
	}
	return fmt.Sprintf("%d of %d messages as expected, then want %s, got %s (%d messages in all)",
		i, len(want), show(want), show(got), len(got))
}

// sameMultiset reports whether a and b hold the same messages by key,
// in any order.
func sameMultiset(a, b []Msg, key func(Msg) string) bool {
	lost, dup := multisetDiff(a, b, key)
	return lost == 0 && dup == 0
}

// multisetDiff counts the messages of want missing from got and the
// messages of got beyond want, by key.
func multisetDiff(want, got []Msg, key func(Msg) string) (lost, dup int) {
	counts := map[string]int{}
	for _, m := range want {
		counts[key(m)]++
	}
	for _, m := range got {
		counts[key(m)]--
	}
	for _, n := range counts {
		if n > 0 {
			lost += n
		} else {
			dup -= n
		}
	}
	return lost, dup
}
