package store

import (
	"context"

	"github.com/go-gormigrate/gormigrate/v2"
)

// MigrateWithCalendar applies the domain and calendar migrations after the
// real list, whether or not they are in it yet (gormigrate refuses a list
// that names an ID twice, so those already listed are left out).
func (db *DB) MigrateWithCalendar(ctx context.Context) error {
	list := append([]*gormigrate.Migration(nil), migrations...)
	seen := map[string]bool{}
	for _, m := range list {
		seen[m.ID] = true
	}
	for _, m := range append(domainMigrations(), calendarMigrations()...) {
		if !seen[m.ID] {
			list = append(list, m)
			seen[m.ID] = true
		}
	}
	return db.migrate(ctx, list)
}
