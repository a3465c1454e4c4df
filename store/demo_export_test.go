package store

import (
	"context"
	"slices"

	"github.com/go-gormigrate/gormigrate/v2"
)

// MigrateBeforeDemoMark applies the migrations without the demo mark's, as
// a database created before it.
func (db *DB) MigrateBeforeDemoMark(ctx context.Context) error {
	mark := demoMigrations()[0].ID
	return db.migrate(ctx, slices.DeleteFunc(slices.Clone(migrations), func(m *gormigrate.Migration) bool { return m.ID == mark }))
}
