package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/camau-cns/cnsbot"
	"gorm.io/gorm/clause"
)

// Delivered records that Zalo accepted m under zaloMsgID. The stored copy of
// the message is dropped: it will not be sent again.
func (db *DB) Delivered(ctx context.Context, m cnsbot.Outgoing, zaloMsgID string) error {
	d := newDelivery(m, StateSent)
	d.ZaloMessageID = zaloMsgID
	if err := db.recordDelivery(ctx, d); err != nil {
		return fmt.Errorf("record delivered: %w", err)
	}
	return nil
}

// DeliveredVia records that Zalo accepted m under zaloMsgID by another
// path (channel, e.g. "transaction") after refusing the one asked for with
// code and reason: the row is sent, its reason "via_<channel>:<reason>".
func (db *DB) DeliveredVia(ctx context.Context, m cnsbot.Outgoing, zaloMsgID, channel string, code int, reason string) error {
	d := newDelivery(m, StateSent)
	d.ZaloMessageID = zaloMsgID
	d.ZaloCode = code
	d.Reason = "via_" + channel + ":" + reason
	if err := db.recordDelivery(ctx, d); err != nil {
		return fmt.Errorf("record delivered via %s: %w", channel, err)
	}
	return nil
}

// Undeliverable records that Zalo refused m for good with code and reason.
func (db *DB) Undeliverable(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error {
	return db.refused(ctx, m, StateUndeliverable, code, reason)
}

// Fallback records that Zalo refused m with code and reason and that it was
// posted to m.FallbackGroup instead.
func (db *DB) Fallback(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error {
	return db.refused(ctx, m, StateFallback, code, reason)
}

func (db *DB) refused(ctx context.Context, m cnsbot.Outgoing, state string, code int, reason string) error {
	d := newDelivery(m, state)
	d.ZaloCode = code
	d.Reason = reason
	if err := withPayload(&d, m); err != nil {
		return fmt.Errorf("record %s: %w", state, err)
	}
	if err := db.recordDelivery(ctx, d); err != nil {
		return fmt.Errorf("record %s: %w", state, err)
	}
	return nil
}

// Held records that m must wait until until (Zalo's quiet hours). DueHeld
// returns it once that time has come.
func (db *DB) Held(ctx context.Context, m cnsbot.Outgoing, until time.Time, reason string) error {
	d := newDelivery(m, StateHeld)
	d.Reason = reason
	u := until.UTC()
	d.NotBefore = &u
	if err := withPayload(&d, m); err != nil {
		return fmt.Errorf("record held: %w", err)
	}
	if err := db.recordDelivery(ctx, d); err != nil {
		return fmt.Errorf("record held: %w", err)
	}
	return nil
}

// DueHeld returns up to limit held messages whose time has come at now,
// oldest first.
func (db *DB) DueHeld(ctx context.Context, now time.Time, limit int) ([]cnsbot.Outgoing, error) {
	var rows []Delivery
	err := db.orm.WithContext(ctx).
		Where("state = ? AND not_before <= ?", StateHeld, now.UTC()).
		Order("not_before, id").
		Limit(limit).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("due held messages: %w", err)
	}
	out := make([]cnsbot.Outgoing, 0, len(rows))
	for _, r := range rows {
		var m cnsbot.Outgoing
		if err := json.Unmarshal([]byte(r.Payload), &m); err != nil {
			return nil, fmt.Errorf("due held messages: decode message %s: %w", r.MessageID, err)
		}
		m.Released = true
		out = append(out, m)
	}
	return out, nil
}

// ExpediteHeld makes the messages held for any of reasons due at now, and
// returns how many: the messages held for an OA setup fault go as soon as
// Zalo accepts the OA's messages again, not at the end of their hold.
func (db *DB) ExpediteHeld(ctx context.Context, reasons []string, now time.Time) (int64, error) {
	if len(reasons) == 0 {
		return 0, nil
	}
	res := db.orm.WithContext(ctx).Model(&Delivery{}).
		Where("state = ? AND reason IN ? AND not_before > ?", StateHeld, reasons, now.UTC()).
		Updates(map[string]any{"not_before": now.UTC(), "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return 0, fmt.Errorf("expedite held messages: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// MarkReleased records that the held message id was put back on the
// outbox, so that DueHeld does not return it again. A message that is not
// held is left as it is.
func (db *DB) MarkReleased(ctx context.Context, id string) error {
	err := db.orm.WithContext(ctx).Model(&Delivery{}).
		Where("message_id = ? AND state = ?", id, StateHeld).
		Updates(map[string]any{"state": StateReleased, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("mark released: %w", err)
	}
	return nil
}

// FindDelivery returns the delivery record of message id, or an ENOTFOUND
// *cnsbot.Error.
func (db *DB) FindDelivery(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	if err := takeOne(db.orm.WithContext(ctx).Where("message_id = ?", id), &d, "delivery of message %s", id); err != nil {
		return Delivery{}, err
	}
	return d, nil
}

func newDelivery(m cnsbot.Outgoing, state string) Delivery {
	now := time.Now().UTC()
	return Delivery{
		MessageID: m.ID,
		Recipient: m.To.String(),
		Purpose:   m.Purpose,
		Ref:       m.Ref,
		State:     state,
		CreatedAt: now,
		UpdatedAt: now,
	}
}

func withPayload(d *Delivery, m cnsbot.Outgoing) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	d.Payload = string(b)
	return nil
}

// recordDelivery inserts d or, when the message already has a record,
// overwrites its outcome: the queue may deliver a message more than once
// and the last word wins — except that a sent message stays sent, since a
// later attempt can only have been a duplicate.
func (db *DB) recordDelivery(ctx context.Context, d Delivery) error {
	if d.MessageID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "message without id")
	}
	return db.orm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "message_id"}},
		DoUpdates: clause.AssignmentColumns([]string{
			"recipient", "purpose", "ref", "state", "zalo_code", "reason",
			"payload", "zalo_message_id", "not_before", "updated_at",
		}),
		Where: clause.Where{Exprs: []clause.Expression{
			clause.Expr{SQL: "deliveries.state <> ?", Vars: []any{StateSent}},
		}},
	}).Create(&d).Error
}
