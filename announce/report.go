package announce

import (
	"slices"
	"strconv"
)

// Outcome is one recipient with what the delivery log says of its message
// (State, ZaloCode, ZaloReason: the row of MessageID) and of its private copy
// (CopyState: the row of "copy:"+MessageID).
type Outcome struct {
	Recipient
	State      string
	ZaloCode   int
	ZaloReason string
	CopyState  string
}

// Statuses in the delivery report.
const (
	StatusDelivered   = "delivered"   // a consultation message, or a kept copy once they wrote
	StatusViaGroup    = "via_group"   // their hamlet's group got it
	StatusKept        = "kept"        // waiting for them to write
	StatusRefused     = "refused"     // Zalo refused it, for a reason writing does not lift
	StatusOptedOut    = "opted_out"   // said "dừng nhận tin"
	StatusUnreachable = "unreachable" // no Zalo account and no group
	StatusPending     = "pending"     // on its way
)

// Statuses lists them in the report's column order.
var Statuses = []string{StatusDelivered, StatusViaGroup, StatusKept, StatusRefused, StatusOptedOut, StatusUnreachable, StatusPending}

// keptCodes are Zalo's refusals after which a copy is kept for the
// person's next message (store's copyCodes).
var keptCodes = []int{-230, -232, -227}

// delivery log states the report reads (store's State* values).
const (
	logSent          = "sent"
	logUndeliverable = "undeliverable"
	logFallback      = "fallback"
	logCopyQueued    = "copy_queued"
)

// Status says what became of o, and for a refusal Zalo's code and reason.
func (o Outcome) Status() (status, why string) {
	copied := o.CopyState == logCopyQueued || o.CopyState == logSent
	refusal := func() (string, string) {
		if o.ZaloReason == ReasonOptedOut {
			return StatusOptedOut, ""
		}
		if slices.Contains(keptCodes, o.ZaloCode) {
			if copied {
				return StatusDelivered, ""
			}
			return StatusKept, ""
		}
		return StatusRefused, strconv.Itoa(o.ZaloCode) + " " + o.ZaloReason
	}
	switch o.Channel {
	case ChannelNone:
		if o.Recipient.Reason == ReasonOptedOut {
			return StatusOptedOut, ""
		}
		return StatusUnreachable, o.Recipient.Reason
	case ChannelGroup:
		switch o.State {
		case logSent:
			return StatusViaGroup, ""
		case logUndeliverable:
			return StatusRefused, strconv.Itoa(o.ZaloCode) + " " + o.ZaloReason
		}
		return StatusPending, ""
	case ChannelLater:
		switch {
		case copied:
			return StatusDelivered, ""
		case o.State == logUndeliverable:
			return refusal()
		case o.State == "":
			return StatusPending, ""
		}
		return StatusKept, ""
	}
	switch o.State {
	case logSent:
		return StatusDelivered, ""
	case logFallback:
		return StatusViaGroup, ""
	case logUndeliverable:
		return refusal()
	}
	return StatusPending, ""
}

// Line is the report of one hamlet: people per status, Zalo's refusals
// by code and reason, and the groups posted to.
type Line struct {
	CommuneID int64          `json:"commune_id"`
	HamletID  int64          `json:"hamlet_id"`
	Counts    map[string]int `json:"counts"`
	Refusals  map[string]int `json:"refusals,omitempty"`
	// Groups posted, refused and waiting.
	GroupsPosted  int `json:"groups_posted"`
	GroupsRefused int `json:"groups_refused"`
	GroupsPending int `json:"groups_pending"`
}

// Report groups outcomes by commune and hamlet, in the order met, and
// returns the lines with a total line (HamletID and CommuneID 0) last.
func Report(outcomes []Outcome) []Line {
	var lines []*Line
	index := map[[2]int64]*Line{}
	total := newLine(0, 0)
	for _, o := range outcomes {
		k := [2]int64{o.CommuneID, o.HamletID}
		l := index[k]
		if l == nil {
			l = newLine(o.CommuneID, o.HamletID)
			index[k] = l
			lines = append(lines, l)
		}
		for _, l := range []*Line{l, total} {
			if o.Kind == KindHouseholdGroup || o.Kind == KindTeamGroup {
				switch o.State {
				case logSent:
					l.GroupsPosted++
				case logUndeliverable:
					l.GroupsRefused++
				default:
					l.GroupsPending++
				}
				continue
			}
			st, why := o.Status()
			l.Counts[st]++
			if st == StatusRefused {
				l.Refusals[why]++
			}
		}
	}
	out := make([]Line, 0, len(lines)+1)
	for _, l := range lines {
		out = append(out, *l)
	}
	return append(out, *total)
}

func newLine(commune, hamlet int64) *Line {
	l := &Line{CommuneID: commune, HamletID: hamlet, Counts: map[string]int{}, Refusals: map[string]int{}}
	for _, s := range Statuses {
		l.Counts[s] = 0
	}
	return l
}
