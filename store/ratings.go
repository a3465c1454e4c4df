package store

import (
	"context"
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
)

// GuideRating is one rating a resident gave a guide. Who gave it is not
// kept: the figure is about the guide, and a rating then holds nothing a
// request to forget a person would have to erase.
type GuideRating struct {
	ID    int64  `gorm:"primaryKey"`
	Guide string `gorm:"size:64;not null;index:idx_guide_ratings_guide"`
	// Rating is 1 to 5.
	Rating int `gorm:"not null"`
	// SourceEvent is the key of the event that gave the rating, so that a
	// re-delivered event is counted once.
	SourceEvent string    `gorm:"size:255;not null;uniqueIndex:uniq_guide_ratings_source_event"`
	CreatedAt   time.Time `gorm:"not null"`
}

// guideRatingMigrations returns the migration of the guide_ratings table,
// with a frozen copy of its model.
func guideRatingMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120722_guide_ratings",
		Migrate: func(tx *gorm.DB) error {
			type guideRating struct {
				ID          int64     `gorm:"primaryKey"`
				Guide       string    `gorm:"size:64;not null;index:idx_guide_ratings_guide"`
				Rating      int       `gorm:"not null"`
				SourceEvent string    `gorm:"size:255;not null;uniqueIndex:uniq_guide_ratings_source_event"`
				CreatedAt   time.Time `gorm:"not null"`
			}
			if err := tx.Table("guide_ratings").Migrator().CreateTable(&guideRating{}); err != nil {
				return fmt.Errorf("create table guide_ratings: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("guide_ratings") },
	}}
}

// RateGuide records a resident's rating of a guide, once per source event.
// The user id is not stored (see GuideRating). A rating outside 1–5 is
// EINVALID.
func (db *DB) RateGuide(ctx context.Context, _, guide string, rating int, sourceEvent string) error {
	if rating < 1 || rating > 5 || guide == "" || sourceEvent == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "rating %d of guide %q", rating, guide)
	}
	row := GuideRating{Guide: guide, Rating: rating, SourceEvent: sourceEvent, CreatedAt: time.Now().UTC()}
	if err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("rate guide: %w", err)
	}
	return nil
}

// GuideScore is how residents rated one guide.
type GuideScore struct {
	Guide   string  `json:"guide"`
	Count   int     `json:"count"`
	Average float64 `json:"average"`
}

// GuideScores returns each rated guide's number of ratings and average,
// most rated first.
func (db *DB) GuideScores(ctx context.Context) ([]GuideScore, error) {
	var out []GuideScore
	err := db.orm.WithContext(ctx).Table("guide_ratings").
		Select("guide, COUNT(*) AS count, AVG(rating) AS average").
		Group("guide").Order("count DESC, guide").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("guide scores: %w", err)
	}
	return out, nil
}
