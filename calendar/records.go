package calendar

import (
	"slices"
	"strconv"
	"time"

	"github.com/camau-cns/cnsbot"
)

// Responsible is a person who must submit the report of one unit (a team,
// a commune, the province) at one level of the chain.
type Responsible struct {
	PersonID int64
	Name     string
	// ZaloUserID is empty for someone who never wrote to the OA: they can
	// only be reached through their team's group.
	ZaloUserID string
	Lang       string
	// Reporter is what submits: the team for the team level (TeamID set,
	// UnitID its hamlet), else the unit the person is an officer of.
	TeamID       *int64
	UnitID       int64
	ReporterName string
	// ParentUnitID is the unit above UnitID (the commune of a team's
	// hamlet), 0 at the top: the next level up looks there for who is late.
	ParentUnitID int64
	// GroupID is the team's linked Zalo group, the fallback when a private
	// message is refused.
	GroupID string
}

// ReporterKey identifies the reporting unit: "team:12" or "unit:5". One
// submission covers everyone responsible for the same reporter.
func (r Responsible) ReporterKey() string {
	if r.TeamID != nil {
		return "team:" + strconv.FormatInt(*r.TeamID, 10)
	}
	return "unit:" + strconv.FormatInt(r.UnitID, 10)
}

// Submission records that a reporter's report for a deadline is in.
type Submission struct {
	DeadlineKey string
	UnitID      int64
	TeamID      *int64
	PersonID    int64
	SubmittedAt time.Time
}

// ReporterKey is Responsible.ReporterKey for the submission's reporter.
func (s Submission) ReporterKey() string {
	return Responsible{TeamID: s.TeamID, UnitID: s.UnitID}.ReporterKey()
}

// Reminder delivery states. A row is planned when a scheduler claims it
// and queued once its message is on the outbox; the sender's outcome then
// makes it sent, fallback (posted to the team's group) or undeliverable.
// dropped_late is a reminder that was due while no scheduler ran and could
// no longer be useful when one did.
const (
	StatePlanned       = "planned"
	StateQueued        = "queued"
	StateSent          = "sent"
	StateUndeliverable = "undeliverable"
	StateFallback      = "fallback"
	StateDroppedLate   = "dropped_late"
)

// Reasons a reminder is recorded as dropped. They are stored, and the
// dashboard words them in the reader's language; ReasonSuperseded is no
// failure at all (the person got the later reminder instead), so the
// dashboard does not list it among the problems.
const (
	ReasonSuperseded     = "superseded by a later reminder"
	ReasonDeadlinePassed = "the deadline passed before it was sent"
	ReasonOverduePassed  = "the overdue notice window passed"
)

// ReminderRecord is the stored state of one reminder.
type ReminderRecord struct {
	DeadlineKey string    `json:"deadline"`
	PersonID    int64     `json:"person_id"`
	Offset      string    `json:"offset"`
	MessageID   string    `json:"message_id"`
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// OffsetEscalate labels the notice that tells the next level up who is
// late, in the place of a number of days.
const OffsetEscalate = "escalate"

// ReminderID is the message ID of the one message sent for a (deadline,
// person, offset): the same triple always yields the same ID, which the
// delivery log and the reminder rows share.
func ReminderID(deadlineKey string, personID int64, offset string) string {
	return "reminder:" + deadlineKey + ":" + strconv.FormatInt(personID, 10) + ":" + offset
}

// Figures are a reporter's numbers for one quarter, compiled from the
// visit reports.
type Figures struct {
	Quarter string `json:"quarter"`
	// Teams counted (1 for a team).
	Teams int `json:"teams"`
	// Households is the households of the teams' hamlets: the base of the
	// 80% target.
	Households int `json:"households"`
	// ListedHamlets counts the hamlets among them whose households are
	// their household list's (cnsbot import households) rather than the
	// units import's count, so that the figures can say which base they use.
	ListedHamlets int `json:"listed_hamlets,omitempty"`
	// GuidedInQuarter counts distinct households visited in the quarter,
	// GuidedToDate those visited at any time before the quarter's end.
	// In a hamlet with a list, they count the confirmed households of the
	// list that visits named (store/listedcounts.go has the rule).
	GuidedInQuarter int `json:"guided_in_quarter"`
	GuidedToDate    int `json:"guided_to_date"`
	// Unmatched counts the households typed in visits, by the quarter's
	// end, in hamlets with a list that match no listed household ("chưa
	// khớp"): they do not count as guided until the leader resolves them.
	Unmatched int `json:"unmatched,omitempty"`
	// People is the number of people guided in the quarter per area
	// (cnsbot.Area*): a visit adds its people to each area it covered.
	People map[string]int `json:"people"`
	// Members are the approved members and leaders; ActiveMembers those who
	// reported a visit in the quarter.
	Members       int `json:"members"`
	ActiveMembers int `json:"active_members"`
	Visits        int `json:"visits"`
	Minutes       int `json:"minutes"`
}

// Percent is GuidedToDate against Households, 0 when the count is unknown.
func (f Figures) Percent() float64 {
	if f.Households <= 0 {
		return 0
	}
	return 100 * float64(f.GuidedToDate) / float64(f.Households)
}

// Hours is Minutes in hours.
func (f Figures) Hours() float64 { return float64(f.Minutes) / 60 }

// Areas returns the areas of People in display order: cnsbot.Areas first,
// then any other stored value, sorted.
func (f Figures) Areas() []string {
	var out, extra []string
	for _, a := range cnsbot.Areas {
		if _, ok := f.People[a]; ok {
			out = append(out, a)
		}
	}
	for a := range f.People {
		if !slices.Contains(cnsbot.Areas, a) {
			extra = append(extra, a)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}
