package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
)

// A private copy is a reminder or notice that Zalo refused to deliver to a
// person because they had not written to the OA for a while, kept to be
// delivered when they next write. The refused message's own delivery row
// stays as it is (officers see who could not be reached); the copy is a
// second message whose ID is CopyPrefix + the original's, and its row in
// deliveries records what became of it: copy_queued when a conversation
// queued it, then sent (or refused) once the sender has tried, or
// copy_skipped when it was no longer worth sending.
const (
	// CopyPrefix starts the message ID of a private copy.
	CopyPrefix = "copy:"
	// StateCopyQueued: the copy is on the person's outbox.
	StateCopyQueued = "copy_queued"
	// StateCopySkipped: the copy will not be sent (it was out of date, or
	// newer copies were sent instead).
	StateCopySkipped = "copy_skipped"
)

// Which refused messages get a private copy.
var (
	// copyPurposes are the pushes worth keeping: a reply belongs to a
	// conversation that has moved on by the time the person writes again.
	// Announcements are also kept unsent (StateKept) for people already
	// outside the window when they go out.
	copyPurposes = []string{"reminder", "notify", "announce"}
	// copyCodes are Zalo's refusals that the person's writing lifts:
	// -230 and -232 (no interaction in the last 7 days) and -227 (inactive
	// for 45 days). Once the person writes, the window is open again and
	// the copy can be delivered. Refusals that writing does not lift are
	// left out: -213 (not a follower: writing does not make one), -217
	// (blocked), -244 (a restricted message type), and the OA's own
	// problems (-201, -403, -237), which would only be refused again.
	copyCodes = []int{-230, -232, -227}
)

// CopyMaxAge is how old a refused message may be and still be delivered
// as a private copy.
const CopyMaxAge = 30 * 24 * time.Hour

// copyRetryAfter is how long a queued copy may go without a word from the
// sender before it counts as lost (the conversation that queued it failed
// to commit) and is offered again.
const copyRetryAfter = 10 * time.Minute

// PendingCopies returns up to limit messages refused to the Zalo user for
// a reason their writing lifts, whose private copy was not yet sent or
// skipped, newest first: reminders, notices and announcements of the last
// CopyMaxAge, and announcements kept unsent (StateKept).
// Each is the original message as it was queued, ID included.
func (db *DB) PendingCopies(ctx context.Context, userID string, limit int) ([]cnsbot.Outgoing, error) {
	if userID == "" || limit <= 0 {
		return nil, nil
	}
	now := time.Now().UTC()
	var rows []Delivery
	err := db.orm.WithContext(ctx).
		Select("message_id", "payload").
		Where("recipient = ? AND ((state IN ? AND zalo_code IN ?) OR state = ?) AND purpose IN ? AND created_at >= ? AND payload <> ''",
			cnsbot.Recipient{UserID: userID}.String(), []string{StateUndeliverable, StateFallback}, copyCodes, StateKept,
			copyPurposes, now.Add(-CopyMaxAge)).
		Where("message_id NOT LIKE ?", CopyPrefix+"%").
		Where(`NOT EXISTS (SELECT 1 FROM deliveries c WHERE c.message_id = ? || deliveries.message_id
			AND NOT (c.state = ? AND c.updated_at < ?))`, CopyPrefix, StateCopyQueued, now.Add(-copyRetryAfter)).
		Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("pending copies: %w", err)
	}
	out := make([]cnsbot.Outgoing, 0, len(rows))
	for _, r := range rows {
		var m cnsbot.Outgoing
		if err := json.Unmarshal([]byte(r.Payload), &m); err != nil {
			return nil, fmt.Errorf("pending copies: decode message %s: %w", r.MessageID, err)
		}
		m.ID = r.MessageID
		out = append(out, m)
	}
	return out, nil
}

// MarkCopyQueued records that the private copy of the refused message id
// is on its way, so that PendingCopies does not return it again. The
// sender's record of the copy (CopyPrefix+id) replaces this one.
func (db *DB) MarkCopyQueued(ctx context.Context, id string) error {
	return db.markCopy(ctx, id, StateCopyQueued, "")
}

// SkipCopy records that the private copy of the refused message id will
// not be sent, and why.
func (db *DB) SkipCopy(ctx context.Context, id, reason string) error {
	return db.markCopy(ctx, id, StateCopySkipped, reason)
}

func (db *DB) markCopy(ctx context.Context, id, state, reason string) error {
	if id == "" || strings.HasPrefix(id, CopyPrefix) {
		return cnsbot.Errorf(cnsbot.EINVALID, "no private copy of message %q", id)
	}
	tx := db.orm.WithContext(ctx)
	var orig Delivery
	if err := takeOne(tx.Select("recipient", "purpose", "ref").Where("message_id = ?", id), &orig, "delivery of message %s", id); err != nil {
		return err
	}
	now := time.Now().UTC()
	row := Delivery{MessageID: CopyPrefix + id, Recipient: orig.Recipient, Purpose: orig.Purpose, Ref: orig.Ref,
		State: state, Reason: reason, CreatedAt: now, UpdatedAt: now}
	// Marking again (a retried event, a lost copy offered anew) refreshes
	// the mark; a copy the sender already recorded keeps its outcome.
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "message_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "reason", "updated_at"}),
		Where: clause.Where{Exprs: []clause.Expression{
			clause.Expr{SQL: "deliveries.state IN ?", Vars: []any{[]string{StateCopyQueued, StateCopySkipped}}},
		}},
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("mark private copy %s: %w", state, err)
	}
	return nil
}

// reportMigrations returns the index that PendingCopies uses on every
// message a person writes: without it the lookup reads every refused
// message. The lead appends it to store's migration list; PendingCopies
// works without it, only slower.
func reportMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026112705_deliveries_recipient",
		Migrate: func(tx *gorm.DB) error {
			return tx.Exec(`CREATE INDEX idx_deliveries_recipient_state ON deliveries (recipient, state)`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec(`DROP INDEX idx_deliveries_recipient_state`).Error
		},
	}}
}
