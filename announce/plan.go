package announce

import (
	"context"
	"fmt"
	"time"
)

// Window is how recently someone must have written to the OA for a
// consultation message: Zalo's 7 days, less a margin for the time the
// announcement waits its turn on the bulk lane (10,000 messages take
// 200 s at 50 a second).
const Window = 7*24*time.Hour - time.Hour

// Plan is an announcement's recipients with their channels, and the
// counts the officer sees before sending.
type Plan struct {
	Targets []Target `json:"-"`
	// Counts are people (not groups) per channel; Reasons per channel and
	// reason.
	Counts  map[string]int            `json:"counts"`
	Reasons map[string]map[string]int `json:"reasons"`
	// Groups is how many groups the announcement is posted to.
	Groups int `json:"groups"`
}

// People is the number of people planned.
func (p Plan) People() int {
	n := 0
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// Plan resolves a's audience and chooses each person's channel at now.
// It writes nothing: the preview and the send both call it, the send at
// the moment it goes out, since windows open and close meanwhile.
func (s *Service) Plan(ctx context.Context, a Announcement, now time.Time) (Plan, error) {
	cands, err := s.st.Candidates(ctx, a)
	if err != nil {
		return Plan{}, fmt.Errorf("plan announcement: %w", err)
	}
	var users []string
	for _, c := range cands {
		if !c.IsGroup() && c.UserID != "" {
			users = append(users, c.UserID)
		}
	}
	out, err := s.st.OptedOut(ctx, users)
	if err != nil {
		return Plan{}, fmt.Errorf("plan announcement: %w", err)
	}
	seen, err := s.win.LastSeen(ctx, users)
	if err != nil {
		return Plan{}, fmt.Errorf("plan announcement: %w", err)
	}
	return choose(cands, out, seen, now), nil
}

// choose picks each candidate's channel (see the package comment). A
// person named twice (a resident who is also a member) is planned once,
// under the first kind the store listed.
func choose(cands []Candidate, optedOut map[string]bool, seen map[string]Seen, now time.Time) Plan {
	households := map[int64]bool{} // hamlets whose household group gets the post
	teams := map[int64]bool{}      // hamlets whose team's group gets it
	for _, c := range cands {
		switch c.Kind {
		case KindHouseholdGroup:
			households[c.HamletID] = true
		case KindTeamGroup:
			teams[c.HamletID] = true
		}
	}
	p := Plan{Counts: map[string]int{}, Reasons: map[string]map[string]int{}}
	for _, ch := range Channels {
		p.Counts[ch] = 0
		p.Reasons[ch] = map[string]int{}
	}
	done := map[string]bool{}
	for _, c := range cands {
		if done[c.Route()] {
			continue
		}
		done[c.Route()] = true
		t := Target{Candidate: c}
		grouped := households[c.HamletID] || (c.Kind != KindResident && teams[c.HamletID])
		switch {
		case c.IsGroup():
			t.Channel, t.Reason = ChannelDirect, ReasonGroupPost
		case c.UserID == "" && grouped:
			t.Channel, t.Reason = ChannelGroup, ReasonNoZalo
		case c.UserID == "":
			t.Channel, t.Reason = ChannelNone, ReasonNoZalo
		case optedOut[c.UserID]:
			t.Channel, t.Reason = ChannelNone, ReasonOptedOut
		case inWindow(seen[c.UserID], now):
			t.Channel, t.Reason = ChannelDirect, ReasonInWindow
		case grouped:
			t.Channel, t.Reason = ChannelGroup, ReasonOutsideWindow
		default:
			t.Channel, t.Reason = ChannelLater, ReasonOutsideWindow
		}
		if s, ok := seen[c.UserID]; ok && t.Lang == "" {
			t.Lang = s.Lang
		}
		p.Targets = append(p.Targets, t)
		if c.IsGroup() {
			p.Groups++
			continue
		}
		p.Counts[t.Channel]++
		p.Reasons[t.Channel][t.Reason]++
	}
	return p
}

func inWindow(s Seen, now time.Time) bool {
	return !s.At.IsZero() && now.Sub(s.At) < Window
}
