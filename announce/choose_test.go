package announce

import (
	"testing"
	"time"
)

// TestChoose checks each person's channel: a consultation message inside
// Zalo's window, else the hamlet's group when it gets the post, else a
// kept copy; nobody who opted out; residents count only on household
// groups, team members on their team's group too.
func TestChoose(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	fresh := Seen{At: now.Add(-24 * time.Hour), Lang: "en"}
	edge := Seen{At: now.Add(-Window - time.Minute)}
	cands := []Candidate{
		{Kind: KindResident, UserID: "in", HamletID: 1},
		{Kind: KindResident, UserID: "out-grouped", HamletID: 1},
		{Kind: KindResident, UserID: "out-teamgroup-only", HamletID: 2},
		{Kind: KindMember, UserID: "member-out", HamletID: 2},
		{Kind: KindMember, PersonID: 7, HamletID: 2},
		{Kind: KindMember, PersonID: 8, HamletID: 3},
		{Kind: KindResident, UserID: "stopped", HamletID: 1},
		{Kind: KindLeader, UserID: "twice", HamletID: 3},
		{Kind: KindResident, UserID: "twice", HamletID: 3},
		{Kind: KindHouseholdGroup, GroupID: "hh1", HamletID: 1},
		{Kind: KindTeamGroup, GroupID: "team2", HamletID: 2},
	}
	seen := map[string]Seen{"in": fresh, "out-grouped": edge, "stopped": fresh}
	p := choose(cands, map[string]bool{"stopped": true}, seen, now)
	want := map[string][2]string{
		"u:in":                 {ChannelDirect, ReasonInWindow},
		"u:out-grouped":        {ChannelGroup, ReasonOutsideWindow},
		"u:out-teamgroup-only": {ChannelLater, ReasonOutsideWindow},
		"u:member-out":         {ChannelGroup, ReasonOutsideWindow},
		"p:7":                  {ChannelGroup, ReasonNoZalo},
		"p:8":                  {ChannelNone, ReasonNoZalo},
		"u:stopped":            {ChannelNone, ReasonOptedOut},
		"u:twice":              {ChannelLater, ReasonOutsideWindow},
		"g:hh1":                {ChannelDirect, ReasonGroupPost},
		"g:team2":              {ChannelDirect, ReasonGroupPost},
	}
	if len(p.Targets) != len(want) {
		t.Fatalf("%d targets, want %d: %+v", len(p.Targets), len(want), p.Targets)
	}
	for _, tg := range p.Targets {
		w, ok := want[tg.Route()]
		if !ok || tg.Channel != w[0] || tg.Reason != w[1] {
			t.Errorf("%s: got %s/%s, want %v", tg.Route(), tg.Channel, tg.Reason, w)
		}
		if tg.Route() == "u:twice" && tg.Kind != KindLeader {
			t.Errorf("a leader who is also a resident is planned as %s, want leader", tg.Kind)
		}
		if tg.Route() == "u:in" && tg.Lang != "en" {
			t.Errorf("the session's language was not kept: %q", tg.Lang)
		}
	}
	wantCounts := map[string]int{ChannelDirect: 1, ChannelGroup: 3, ChannelLater: 2, ChannelNone: 2}
	for ch, n := range wantCounts {
		if p.Counts[ch] != n {
			t.Errorf("%s: %d people, want %d (counts %v)", ch, p.Counts[ch], n, p.Counts)
		}
	}
	if p.Groups != 2 || p.People() != 8 {
		t.Errorf("groups %d, people %d; want 2 and 8", p.Groups, p.People())
	}
	if p.Reasons[ChannelNone][ReasonOptedOut] != 1 || p.Reasons[ChannelNone][ReasonNoZalo] != 1 {
		t.Errorf("reasons for none: %v", p.Reasons[ChannelNone])
	}
}

// TestOutcomeStatus checks how the report reads the delivery log.
func TestOutcomeStatus(t *testing.T) {
	for _, c := range []struct {
		o    Outcome
		want string
	}{
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "sent"}, StatusDelivered},
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "undeliverable", ZaloCode: -230}, StatusKept},
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "undeliverable", ZaloCode: -230, CopyState: "copy_queued"}, StatusDelivered},
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "undeliverable", ZaloCode: -213, ZaloReason: "not_follower"}, StatusRefused},
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "undeliverable", ZaloReason: "opted_out"}, StatusOptedOut},
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "held"}, StatusPending},
		{Outcome{Recipient: Recipient{Channel: ChannelDirect}}, StatusPending},
		{Outcome{Recipient: Recipient{Channel: ChannelGroup}, State: "sent"}, StatusViaGroup},
		{Outcome{Recipient: Recipient{Channel: ChannelGroup}, State: "undeliverable", ZaloCode: -403}, StatusRefused},
		{Outcome{Recipient: Recipient{Channel: ChannelLater}, State: "kept"}, StatusKept},
		{Outcome{Recipient: Recipient{Channel: ChannelLater}, State: "kept", CopyState: "copy_queued"}, StatusDelivered},
		{Outcome{Recipient: Recipient{Channel: ChannelLater}, State: "undeliverable", ZaloReason: "opted_out"}, StatusOptedOut},
		{Outcome{Recipient: Recipient{Channel: ChannelNone, Reason: ReasonOptedOut}}, StatusOptedOut},
		{Outcome{Recipient: Recipient{Channel: ChannelNone, Reason: ReasonNoZalo}}, StatusUnreachable},
	} {
		if got, why := c.o.Status(); got != c.want {
			t.Errorf("%+v: got %s (%s), want %s", c.o, got, why, c.want)
		}
	}
	if _, why := (Outcome{Recipient: Recipient{Channel: ChannelDirect}, State: "undeliverable", ZaloCode: -213, ZaloReason: "not_follower"}).Status(); why != "-213 not_follower" {
		t.Errorf("refusal reason %q, want Zalo's code and reason", why)
	}
}
