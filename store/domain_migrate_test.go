package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store/storetest"
	"github.com/go-gormigrate/gormigrate/v2"
)

// domainDialects are the databases every domain test runs on.
var domainDialects = []string{DialectSQLite, DialectPostgres}

// forEachDialect runs f as a subtest on a fresh, migrated database of each
// dialect. Postgres is skipped when it is not running (failed under CI).
func forEachDialect(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Helper()
	for _, d := range domainDialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, openDomainDB(t, d))
		})
	}
}

// domainMigrationList is the foundation migrations followed by the domain
// ones, whether or not the lead has appended them to migrations yet.
func domainMigrationList() []*gormigrate.Migration {
	list := slices.Clone(migrations)
	for _, m := range domainMigrations() {
		if !slices.ContainsFunc(list, func(x *gormigrate.Migration) bool { return x.ID == m.ID }) {
			list = append(list, m)
		}
	}
	return list
}

func openDomainDB(t *testing.T, dialect string) *DB {
	t.Helper()
	return openMigrated(t, dialect, domainMigrationList())
}

// openMigrated opens a new database of the dialect with the given
// migrations applied, and no others.
func openMigrated(t *testing.T, dialect string, list []*gormigrate.Migration) *DB {
	t.Helper()
	ctx := context.Background()
	var url, dir string
	if dialect == DialectPostgres {
		url = storetest.PostgresURL(t)
	} else {
		dir = t.TempDir()
	}
	db, err := Open(ctx, url, dir, nil)
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.migrate(ctx, list); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return db
}

// openMigratedBefore opens a new database as it was before the migration
// with the given id: every migration listed before it applied.
func openMigratedBefore(t *testing.T, dialect, id string) *DB {
	t.Helper()
	i := slices.IndexFunc(migrations, func(m *gormigrate.Migration) bool { return m.ID == id })
	if i < 0 {
		t.Fatalf("migration %s is not in the list", id)
	}
	return openMigrated(t, dialect, migrations[:i])
}

func TestDomainMigrations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		// A second run finds nothing to do.
		if err := db.migrate(ctx, domainMigrationList()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		for _, table := range []string{"units", "teams", "people", "roles", "help_requests",
			"help_attachments", "visits", "households", "handoffs"} {
			if !db.orm.Migrator().HasTable(table) {
				t.Errorf("table %s missing", table)
			}
		}
		// The live types agree with the frozen ones: AutoMigrate has
		// nothing to add and does not fail on the hand-made indexes.
		if err := db.orm.AutoMigrate(&cnsbot.Unit{}, &cnsbot.Team{}, &cnsbot.Person{}, &cnsbot.Role{},
			&cnsbot.HelpRequest{}, &cnsbot.HelpAttachment{}, &cnsbot.Visit{}, &Household{}, &Handoff{}); err != nil {
			t.Fatalf("AutoMigrate over the migrated schema: %v", err)
		}

		// An officer's role has no team; it must still be unique.
		now := time.Now().UTC()
		role := cnsbot.Role{PersonID: 1, Role: cnsbot.RoleCommuneOfficer, UnitID: 7, Approved: true, CreatedAt: now}
		if err := db.orm.Create(&role).Error; err != nil {
			t.Fatalf("create role: %v", err)
		}
		role.ID = 0
		if err := db.orm.Create(&role).Error; err == nil {
			t.Errorf("second identical officer role was stored, want a unique violation")
		}
		// Requests without a source event do not collide with each other.
		for i, code := range []string{"HTAAAA", "HTAAAB"} {
			r := cnsbot.HelpRequest{Code: code, ResidentUserID: "u1", Status: cnsbot.HelpOpen}
			if err := db.orm.Create(&r).Error; err != nil {
				t.Fatalf("request %d without source event: %v", i, err)
			}
		}
		// Units are unique by folded name under one parent.
		u := cnsbot.Unit{Kind: cnsbot.UnitProvince, Name: "Cà Mau", Folded: "ca mau"}
		if err := db.orm.Create(&u).Error; err != nil {
			t.Fatalf("create unit: %v", err)
		}
		u.ID = 0
		if err := db.orm.Create(&u).Error; err == nil {
			t.Errorf("second province with the same folded name was stored, want a unique violation")
		}
	})
}
