// Package announce is the officers' announcements (tuyên truyền): who an
// announcement is for, which channel Zalo allows for each of them at the
// moment it goes out, and sending it on the queue's lowest lane.
//
// It is a package of its own, beside calendar/reminder, because it is a
// new kind of thing: a broadcast an officer starts, not an answer to a
// conversation (flows) nor a record (store). store imports it for its
// types, so it imports neither store nor flows.
//
// # Within Zalo's rules
//
// Zalo takes a consultation message only from someone who wrote to the OA
// in the last 7 days (else -230). The person's chat session is that
// record: it is written by every message they send and expires 7 days
// after the last one (store.Queue's SessionTTL), so Plan asks the sessions
// when each person last wrote. Each person is then reached by the channel
// Zalo allows them now:
//
//  1. a consultation message while their window is open (ChannelDirect);
//  2. else the Zalo group of their hamlet, when the announcement is posted
//     there (ChannelGroup): the household group for residents, the team's
//     group or the household group for team members and leaders;
//  3. else a kept copy (ChannelLater), delivered ahead of the answer the
//     next time they write within store.CopyMaxAge, as reminders' are;
//  4. nobody who said "dừng nhận tin" (ChannelNone, ReasonOptedOut), and
//     nobody without a Zalo account and without a group.
//
// A consultation message Zalo refuses after all (the window closed while
// the announcement waited its turn) is kept as a copy by the sender's
// ordinary refusal rules, because "announce" is one of the purposes whose
// refusals keep copies.
package announce

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Purpose is the Outgoing.Purpose of every announcement message. The queue
// sends it on the bulk lane, after replies and after other pushes.
const Purpose = "announce"

// Audience parts an officer may pick.
const (
	AudienceResidents = "residents" // residents who wrote to the OA from there (a help request names their hamlet)
	AudienceMembers   = "members"   // team members
	AudienceLeaders   = "leaders"   // team leaders
	AudienceGroups    = "groups"    // the hamlets' Zalo groups: household groups and teams' groups
)

// Audiences lists the audience parts in display order.
var Audiences = []string{AudienceResidents, AudienceMembers, AudienceLeaders, AudienceGroups}

// Kinds of recipient.
const (
	KindResident       = "resident"
	KindMember         = "member"
	KindLeader         = "leader"
	KindHouseholdGroup = "household_group"
	KindTeamGroup      = "team_group"
)

// Channels: how a recipient is reached.
const (
	ChannelDirect = "direct" // a consultation message (or the post, for a group)
	ChannelGroup  = "group"  // through their hamlet's group
	ChannelLater  = "later"  // a kept copy, delivered when they next write
	ChannelNone   = "none"   // not at all
)

// Channels lists the channels in the order the preview shows them.
var Channels = []string{ChannelDirect, ChannelGroup, ChannelLater, ChannelNone}

// Reasons for a channel.
const (
	ReasonInWindow      = "in_window"      // wrote to the OA in the last 7 days
	ReasonOutsideWindow = "outside_window" // has not written for 7 days: Zalo would refuse (-230)
	ReasonNoZalo        = "no_zalo"        // on the roster without a linked Zalo account
	ReasonOptedOut      = "opted_out"      // said "dừng nhận tin"
	ReasonGroupPost     = "group_post"     // the group itself
)

// States of an announcement.
const (
	StateScheduled = "scheduled"
	StateSending   = "sending"
	StateSent      = "sent"
)

// Announcement is what an officer wrote, to whom and when. The struct tags
// let the store persist it directly.
type Announcement struct {
	ID int64 `json:"id" gorm:"primaryKey"`
	// CreatedBy names who sent it: "admin", or "officer:<person id>".
	CreatedBy       string `json:"created_by" gorm:"size:64;not null"`
	CreatorPersonID *int64 `json:"creator_person_id,omitempty"`
	CreatorName     string `json:"creator_name" gorm:"size:200;not null;default:''"`
	// CommuneID is the commune it is for; nil is the whole province.
	CommuneID *int64 `json:"commune_id,omitempty" gorm:"index"`
	// HamletIDs are some hamlets of the commune ("3,5"); empty is all.
	HamletIDs string `json:"hamlet_ids" gorm:"size:1000;not null;default:''"`
	// Audience is a comma-separated list of Audience* values.
	Audience string    `json:"audience" gorm:"size:200;not null"`
	Text     string    `json:"text" gorm:"type:text;not null"`
	ImageURL string    `json:"image_url,omitempty" gorm:"size:1000;not null;default:''"`
	LinkURL  string    `json:"link_url,omitempty" gorm:"size:1000;not null;default:''"`
	SendAt   time.Time `json:"send_at" gorm:"not null;index:idx_announcements_state_send_at,priority:2"`
	State    string    `json:"state" gorm:"size:16;not null;index:idx_announcements_state_send_at,priority:1"`
	// ClaimedAt is when a replica began sending it: one whose claim is
	// older than StaleAfter is taken over (the replica died).
	ClaimedAt *time.Time `json:"claimed_at,omitempty"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"-"`
}

// Parts returns the audience parts picked.
func (a Announcement) Parts() []string {
	var out []string
	for _, p := range strings.Split(a.Audience, ",") {
		if p = strings.TrimSpace(p); slices.Contains(Audiences, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Has reports whether the audience includes part.
func (a Announcement) Has(part string) bool { return slices.Contains(a.Parts(), part) }

// Hamlets returns the hamlets picked, none meaning every hamlet in scope.
func (a Announcement) Hamlets() []int64 {
	var out []int64
	for _, s := range strings.Split(a.HamletIDs, ",") {
		if id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// JoinIDs is the stored form of hamlet ids.
func JoinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// Candidate is someone (or a group) the announcement's audience names,
// before a channel is chosen.
type Candidate struct {
	Kind string `json:"kind"`
	// UserID is the person's Zalo id (empty for a roster member without
	// one); GroupID the group's, for a group.
	UserID    string `json:"-"`
	GroupID   string `json:"-"`
	PersonID  int64  `json:"person_id,omitempty"`
	CommuneID int64  `json:"commune_id"`
	HamletID  int64  `json:"hamlet_id"`
	Lang      string `json:"-"`
}

// Route is the candidate's queue route: "u:<id>", "g:<id>", or
// "p:<person id>" for someone without a Zalo account.
func (c Candidate) Route() string {
	switch {
	case c.GroupID != "":
		return "g:" + c.GroupID
	case c.UserID != "":
		return "u:" + c.UserID
	}
	return "p:" + strconv.FormatInt(c.PersonID, 10)
}

// IsGroup reports whether the candidate is a group.
func (c Candidate) IsGroup() bool { return c.Kind == KindHouseholdGroup || c.Kind == KindTeamGroup }

// Target is a candidate with the channel chosen for them.
type Target struct {
	Candidate
	Channel string `json:"channel"`
	Reason  string `json:"reason"`
}

// Seen is what the chat sessions know of a person: when they last wrote
// and in which language they chat.
type Seen struct {
	At   time.Time
	Lang string
}
