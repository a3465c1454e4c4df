package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// migrationsTable records which migrations have run.
const migrationsTable = "schema_migrations"

// migrations is the schema's history, oldest first.
//
// To change the schema, APPEND a migration with a new ID of the form
// yyyymmddnn_name (a date, a two-digit sequence, a short name) and a Migrate
// function that declares the shapes it needs as local types, so that later
// edits of the models in models.go never change what an old migration does.
// Never edit, reorder or remove a migration that has been released.
var migrations = slices.Concat(
	[]*gormigrate.Migration{{ID: "2026112701_foundation", Migrate: migrateFoundation}},
	domainMigrations(), calendarMigrations(), reportMigrations(), dashboardMigrations(), rosterMigrations(),
	// Issue 11's migrations, in the order of their ids (2026120701…06).
	enrolMigrations(),
	helpMigrations(),
	demoMigrations(),
	accessMigrations(),
	privacyMigrations(),
	readinessMigrations(),
	guideRatingMigrations(),
	capabilityMigrations(),
	visitIndexMigrations(),
	formerNamesMigrations(),
	handoffMigrations(),
	householdListMigrations(),
	guideMigrations(),
	announceMigrations(),
	rollupMigrations(),
	answerMigrations(),
	areaRollupMigrations(),
	placeMigrations(),
	listedCounterMigrations(),
)

// Migrate applies the migrations that have not run yet. It holds a lock for
// the whole run, so replicas that start together are safe: one applies, the
// others wait and then find nothing to do. All migrations of one run commit
// together (both databases have transactional DDL).
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrate(ctx, migrations)
}

func (db *DB) migrate(ctx context.Context, list []*gormigrate.Migration) error {
	start := time.Now()
	var applied []string
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockMigrations(tx, db.dialect); err != nil {
			return err
		}
		done, err := appliedMigrations(tx)
		if err != nil {
			return err
		}
		for _, m := range list {
			if !done[m.ID] {
				applied = append(applied, m.ID)
			}
		}
		// tx is already a transaction; gormigrate must not open another.
		opts := &gormigrate.Options{
			TableName:                 migrationsTable,
			IDColumnName:              "id",
			IDColumnSize:              255,
			ValidateUnknownMigrations: false,
		}
		return gormigrate.New(tx, opts, list).Migrate()
	})
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	if len(applied) > 0 {
		db.log.Info("database migrated", "dialect", db.dialect, "applied", applied, "elapsed", time.Since(start))
	}
	return nil
}

// lockMigrations serializes migration runs. On Postgres a transaction-level
// advisory lock, keyed by the schema so that databases sharing a server do
// not wait for each other, is released by the commit or rollback. On SQLite
// the transaction began IMMEDIATE (see sqliteDSN) and already holds the
// database's single write lock.
func lockMigrations(tx *gorm.DB, dialect string) error {
	if dialect != DialectPostgres {
		return nil
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext('cnsbot.migrate'), hashtext(current_schema()))`).Error; err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	return nil
}

func appliedMigrations(tx *gorm.DB) (map[string]bool, error) {
	done := map[string]bool{}
	if !tx.Migrator().HasTable(migrationsTable) {
		return done, nil
	}
	var ids []string
	if err := tx.Table(migrationsTable).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	for _, id := range ids {
		done[id] = true
	}
	return done, nil
}

// migrateFoundation creates the tables of issue 2: the OA token, the
// delivery log and dead events.
func migrateFoundation(tx *gorm.DB) error {
	type oaToken struct {
		ID        int64     `gorm:"primaryKey;autoIncrement:false"`
		Access    string    `gorm:"type:text;not null"`
		Refresh   string    `gorm:"type:text;not null"`
		ExpiresAt time.Time `gorm:"not null"`
		UpdatedAt time.Time `gorm:"not null"`
	}
	type delivery struct {
		ID            int64      `gorm:"primaryKey"`
		MessageID     string     `gorm:"size:255;not null;uniqueIndex:uniq_deliveries_message_id"`
		Recipient     string     `gorm:"size:128;not null"`
		Purpose       string     `gorm:"size:32;not null;default:''"`
		Ref           string     `gorm:"size:255;not null;default:''"`
		State         string     `gorm:"size:16;not null;index:idx_deliveries_state_not_before,priority:1"`
		ZaloCode      int        `gorm:"not null;default:0"`
		Reason        string     `gorm:"type:text;not null;default:''"`
		Payload       string     `gorm:"type:text;not null;default:''"`
		ZaloMessageID string     `gorm:"size:128;not null;default:''"`
		NotBefore     *time.Time `gorm:"index:idx_deliveries_state_not_before,priority:2"`
		CreatedAt     time.Time  `gorm:"not null"`
		UpdatedAt     time.Time  `gorm:"not null"`
	}
	type deadEvent struct {
		ID        int64     `gorm:"primaryKey"`
		EventKey  string    `gorm:"size:255;not null;index:idx_dead_events_event_key"`
		Payload   string    `gorm:"type:text;not null"`
		Error     string    `gorm:"type:text;not null"`
		CreatedAt time.Time `gorm:"not null;index:idx_dead_events_created_at"`
	}
	tables := []struct {
		name  string
		model any
	}{
		{"oa_tokens", &oaToken{}},
		{"deliveries", &delivery{}},
		{"dead_events", &deadEvent{}},
	}
	for _, t := range tables {
		if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
			return fmt.Errorf("create table %s: %w", t.name, err)
		}
	}
	return nil
}
