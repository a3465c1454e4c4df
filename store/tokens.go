package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camau-cns/cnsbot"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// tokenRowID is the primary key of the one OA token row.
const tokenRowID = 1

// LoadToken returns the stored token pair, or an ENOTFOUND *cnsbot.Error when
// none has been stored yet.
func (db *DB) LoadToken(ctx context.Context) (cnsbot.Token, error) {
	var row OAToken
	err := db.WithContext(ctx).Where("id = ?", tokenRowID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return cnsbot.Token{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "no OA token stored")
	}
	if err != nil {
		return cnsbot.Token{}, fmt.Errorf("load token: %w", err)
	}
	return cnsbot.Token{
		Access:    row.Access,
		Refresh:   row.Refresh,
		ExpiresAt: row.ExpiresAt,
		UpdatedAt: row.UpdatedAt,
	}, nil
}

// SaveToken stores t, replacing the previous pair. UpdatedAt is set to now
// when t leaves it zero.
func (db *DB) SaveToken(ctx context.Context, t cnsbot.Token) error {
	updated := t.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	row := OAToken{
		ID:        tokenRowID,
		Access:    t.Access,
		Refresh:   t.Refresh,
		ExpiresAt: t.ExpiresAt.UTC(),
		UpdatedAt: updated.UTC(),
	}
	err := db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"access", "refresh", "expires_at", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}
