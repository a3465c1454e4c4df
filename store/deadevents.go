package store

import (
	"context"
	"fmt"
)

// RecordDeadEvent keeps an event that failed every processing attempt,
// with the last error. Its signature fits QueueOptions.OnDead.
func (db *DB) RecordDeadEvent(ctx context.Context, key string, payload []byte, cause error) error {
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	row := DeadEvent{EventKey: key, Payload: string(payload), Error: msg}
	if err := db.orm.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("record dead event: %w", err)
	}
	return nil
}

// DeadEvents returns the most recent dead events, newest first.
func (db *DB) DeadEvents(ctx context.Context, limit int) ([]DeadEvent, error) {
	var rows []DeadEvent
	if err := db.orm.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list dead events: %w", err)
	}
	return rows, nil
}
