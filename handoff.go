package cnsbot

import "time"

// Handoff states. A handoff is open from the resident's request until a
// person closes it, the resident cancels it, or the pause after the last
// answer runs out.
const (
	HandoffOpen   = "open"
	HandoffClosed = "closed"
)

// Why a handoff was closed.
const (
	HandoffDone      = "done"      // the person who answered typed "xong CODE"
	HandoffCancelled = "cancelled" // the resident typed "hủy"
	HandoffExpired   = "expired"   // the pause after the last answer ran out
)

// Handoff is a resident's request to talk with a person ("gặp người hỗ
// trợ"): the hamlet's team and the commune's officers are told, one of
// them answers from the chat with "trả lời CODE …", and the bot keeps quiet
// for the resident meanwhile. Rows from before December 2026 have no Code
// and no Status: they only record that someone asked.
type Handoff struct {
	ID     int64  `json:"id" gorm:"primaryKey"`
	UserID string `json:"-" gorm:"size:64;index;not null"`
	Reason string `json:"reason" gorm:"size:200"`
	// Code is short and typeable on a phone (HandoffCodeLen characters of
	// HelpCodeAlphabet), unique among open handoffs.
	Code      string `json:"code" gorm:"size:8"`
	Status    string `json:"status" gorm:"size:16"`
	HamletID  int64  `json:"hamlet_id"`
	CommuneID int64  `json:"commune_id"`
	TeamID    *int64 `json:"team_id,omitempty"`
	// Lang is the resident's language, for what is relayed to them.
	Lang string `json:"lang,omitempty" gorm:"size:8"`
	// Recent is what the resident wrote just before asking, one message a
	// line, for whoever answers.
	Recent       string     `json:"recent,omitempty" gorm:"size:2000"`
	AnsweredBy   *int64     `json:"answered_by,omitempty"`
	AnsweredAt   *time.Time `json:"answered_at,omitempty"`
	LastAnswerAt *time.Time `json:"last_answer_at,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	ClosedBy     *int64     `json:"closed_by,omitempty"`
	CloseReason  string     `json:"close_reason,omitempty" gorm:"size:16"`
	EscalatedAt  *time.Time `json:"escalated_at,omitempty"`
	// SourceEvent makes recording idempotent when an event is processed again.
	SourceEvent string    `json:"-" gorm:"size:128"`
	CreatedAt   time.Time `json:"created_at"`
}

// HandoffMessage is one message of a handoff's conversation: what the
// resident wrote while the bot kept quiet (PersonID nil), or a person's
// answer relayed to them.
type HandoffMessage struct {
	ID        int64  `json:"id" gorm:"primaryKey"`
	HandoffID int64  `json:"handoff_id" gorm:"index;not null"`
	PersonID  *int64 `json:"person_id,omitempty"`
	Text      string `json:"text" gorm:"size:2000"`
	// SourceEvent makes keeping a message idempotent.
	SourceEvent string    `json:"-" gorm:"size:128"`
	CreatedAt   time.Time `json:"created_at"`
}
