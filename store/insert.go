package store

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
)

// Row is a domain type that Insert writes as it is.
type Row interface {
	cnsbot.Unit | cnsbot.Team | cnsbot.Person | cnsbot.Role | cnsbot.Visit | cnsbot.HelpRequest
}

// Insert writes rows as they are and fills in their IDs, in batches of 500.
// It is for tests and tools that build a world in one go; it skips what
// the flows' methods do around a write (a visit's household, a request's
// code), so production code uses those. Visits still update the quarterly
// rollups (rollups.go): those are an index of the visits, which every
// reader of figures trusts, not a flow's doing.
func Insert[T Row](ctx context.Context, db *DB, rows ...*T) error {
	if len(rows) == 0 {
		return nil
	}
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return fmt.Errorf("insert %T: %w", rows[0], err)
		}
		for _, r := range rows {
			if v, ok := any(r).(*cnsbot.Visit); ok {
				if err := rollVisit(tx, v); err != nil {
					return fmt.Errorf("insert %T: %w", r, err)
				}
			}
		}
		return nil
	})
}

// SQL returns the connection pool under the store, for code that speaks
// plain SQL beside it: River's SQLite driver, and tests that age or read
// columns no method exposes. Placeholders are $1, $2… on both dialects.
func (db *DB) SQL() (*sql.DB, error) {
	sqlDB, err := db.orm.DB()
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	return sqlDB, nil
}
