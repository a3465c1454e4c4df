package store

import "time"

// Delivery states.
const (
	// StateSent: Zalo accepted the message.
	StateSent = "sent"
	// StateUndeliverable: Zalo refused it for good (blocked, outside the
	// messaging window, unknown user…) and there was no fallback.
	StateUndeliverable = "undeliverable"
	// StateFallback: Zalo refused the private message and it was posted to
	// the fallback group instead.
	StateFallback = "fallback"
	// StateHeld: Zalo's quiet hours (-234); the message waits for NotBefore.
	StateHeld = "held"
	// StateReleased: a held message was put back on the outbox; the next
	// attempt records its final state.
	StateReleased = "released"
)

// OAToken is the single row that holds the OA's token pair.
type OAToken struct {
	// ID is always tokenRowID: there is one OA per deployment.
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	Access    string    `gorm:"type:text;not null"`
	Refresh   string    `gorm:"type:text;not null"`
	ExpiresAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// Delivery is the log of one outgoing message, keyed by the message's ID so
// that recording the same outcome twice changes nothing.
type Delivery struct {
	ID        int64  `gorm:"primaryKey"`
	MessageID string `gorm:"size:255;not null;uniqueIndex:uniq_deliveries_message_id"`
	// Recipient is the route the message was addressed to ("u:…", "g:…").
	Recipient string `gorm:"size:128;not null"`
	Purpose   string `gorm:"size:32;not null;default:''"`
	Ref       string `gorm:"size:255;not null;default:''"`
	State     string `gorm:"size:16;not null;index:idx_deliveries_state_not_before,priority:1"`
	// ZaloCode is Zalo's error code for a refused message, 0 otherwise.
	ZaloCode int    `gorm:"not null;default:0"`
	Reason   string `gorm:"type:text;not null;default:''"`
	// Payload is the message (cnsbot.Outgoing as JSON), kept while it may
	// have to be sent again (held, undeliverable, fallback) and cleared once
	// it is sent. It is the only place the message text is stored.
	Payload       string     `gorm:"type:text;not null;default:''"`
	ZaloMessageID string     `gorm:"size:128;not null;default:''"`
	NotBefore     *time.Time `gorm:"index:idx_deliveries_state_not_before,priority:2"`
	CreatedAt     time.Time  `gorm:"not null"`
	UpdatedAt     time.Time  `gorm:"not null"`
}

// DeadEvent is an event that failed every processing attempt. It is kept
// whole so that it can be inspected and replayed.
type DeadEvent struct {
	ID        int64     `gorm:"primaryKey"`
	EventKey  string    `gorm:"size:255;not null;index:idx_dead_events_event_key"`
	Payload   string    `gorm:"type:text;not null"`
	Error     string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null;index:idx_dead_events_created_at"`
}
