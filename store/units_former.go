package store

import (
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// formerNamesMigrations adds units.former_names: the names a commune or
// ward had before the 2025 merger ("Phường 5; Thị trấn Cái Nước"), which
// residents keep using for years. The place pickers match them.
func formerNamesMigrations() []*gormigrate.Migration {
	type unit struct {
		FormerNames string `gorm:"size:500"`
	}
	return []*gormigrate.Migration{{
		ID: "2026120880_unit_former_names",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("units").Migrator().AddColumn(&unit{}, "FormerNames"); err != nil {
				return fmt.Errorf("add units.former_names: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Table("units").Migrator().DropColumn(&unit{}, "FormerNames")
		},
	}}
}
