package store

import (
	"context"

	"github.com/go-gormigrate/gormigrate/v2"
)

// MigrateReport applies the report's migrations after the real list,
// whether or not they are in it yet.
func (db *DB) MigrateReport(ctx context.Context) error {
	list := append([]*gormigrate.Migration(nil), migrations...)
	seen := map[string]bool{}
	for _, m := range list {
		seen[m.ID] = true
	}
	for _, m := range reportMigrations() {
		if !seen[m.ID] {
			list = append(list, m)
		}
	}
	return db.migrate(ctx, list)
}
