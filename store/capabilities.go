package store

import (
	"context"
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot/bot"
)

// capabilitiesTable holds what the OA's Zalo accepts (bot.Capability), one
// row per feature: learnt by the sender from Zalo's answers and by
// `cnsbot zalo check`, read by every replica.
const capabilitiesTable = "zalo_capabilities"

type capabilityRow struct {
	Feature   string    `gorm:"primaryKey;size:64"`
	Refused   bool      `gorm:"not null"`
	Code      int       `gorm:"not null"`
	CheckedAt time.Time `gorm:"not null"`
}

func capabilityMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120850_zalo_capabilities",
		Migrate: func(tx *gorm.DB) error {
			type zaloCapability struct {
				Feature   string    `gorm:"primaryKey;size:64"`
				Refused   bool      `gorm:"not null"`
				Code      int       `gorm:"not null"`
				CheckedAt time.Time `gorm:"not null"`
			}
			if err := tx.Table(capabilitiesTable).Migrator().CreateTable(&zaloCapability{}); err != nil {
				return fmt.Errorf("create table %s: %w", capabilitiesTable, err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable(capabilitiesTable) },
	}}
}

// LoadCapabilities returns every feature known, by name.
func (db *DB) LoadCapabilities(ctx context.Context) (map[string]bot.Capability, error) {
	var rows []capabilityRow
	if err := db.orm.WithContext(ctx).Table(capabilitiesTable).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load zalo capabilities: %w", err)
	}
	out := make(map[string]bot.Capability, len(rows))
	for _, r := range rows {
		out[r.Feature] = bot.Capability{Refused: r.Refused, Code: r.Code, CheckedAt: r.CheckedAt}
	}
	return out, nil
}

// SaveCapability stores what is known of feature, replacing what was.
func (db *DB) SaveCapability(ctx context.Context, feature string, c bot.Capability) error {
	row := capabilityRow{Feature: feature, Refused: c.Refused, Code: c.Code, CheckedAt: c.CheckedAt.UTC()}
	err := db.orm.WithContext(ctx).Table(capabilitiesTable).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save zalo capability %s: %w", feature, err)
	}
	return nil
}
