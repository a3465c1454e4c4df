package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// heartbeatTable holds the row that every replica's WriteProbe rewrites.
const heartbeatTable = "heartbeats"

func readinessMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120707_heartbeats",
		Migrate: func(tx *gorm.DB) error {
			type heartbeat struct {
				Name string    `gorm:"primaryKey;size:64"`
				At   time.Time `gorm:"not null"`
			}
			if err := tx.Table(heartbeatTable).Migrator().CreateTable(&heartbeat{}); err != nil {
				return fmt.Errorf("create table %s: %w", heartbeatTable, err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable(heartbeatTable) },
	}}
}

// WriteProbe tells whether the database takes writes, by writing: it
// upserts a heartbeat row. A ping only proves that the database answers;
// an SQLite file in a read-only directory (or a Postgres in recovery, or
// out of disk) answers every read while reminders, help requests and the
// dead-event record all fail, and an event is retried without end. The
// answer is kept for a while, so that a readiness check polled every
// second writes once every few.
type WriteProbe struct {
	db    *DB
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex // held during a probe: concurrent checks share it
	checked time.Time
	err     error
}

// NewWriteProbe returns a probe of db that writes at most once per every,
// logging failed writes to log.
func NewWriteProbe(db *DB, every time.Duration, log *slog.Logger) *WriteProbe {
	return &WriteProbe{db: db, every: every, log: log}
}

// Check returns nil when the database took the last write, made within
// the probe's interval, and the error of that write otherwise. A failure is
// logged when it starts and when it ends, not at every check.
func (p *WriteProbe) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.checked.IsZero() && time.Since(p.checked) < p.every {
		return p.err
	}
	now := time.Now().UTC()
	err := p.db.orm.WithContext(ctx).Table(heartbeatTable).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.Assignments(map[string]any{"at": now}),
	}).Create(map[string]any{"name": "readyz", "at": now}).Error
	if err != nil {
		err = fmt.Errorf("write probe: %w", err)
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about the database.
			return err
		}
	}
	switch {
	case err != nil && p.err == nil:
		p.log.Error("database refuses writes: not ready", "err", err)
	case err == nil && p.err != nil:
		p.log.Info("database takes writes again: ready")
	}
	p.checked, p.err = time.Now(), err
	return err
}
