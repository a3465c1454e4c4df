package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Places of households and of members (issue 16, part 3: "nearest first").
// Coordinates are personal data: nothing here logs them, and errors never
// carry them.

// MemberPlace is where a member last said they stood: the location they
// shared in Zalo. One row a person, replaced by the next share; rows older
// than a day are deleted whenever someone shares, as nothing reads them.
// It lives with the person, not in a chat's session, because the team's
// group asks for it too ("#chuaden"), and a group's session is shared by
// all its members.
type MemberPlace struct {
	PersonID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Latitude  float64
	Longitude float64
	SharedAt  time.Time `gorm:"index"`
}

// memberPlaceKeep is how long a member's shared place is kept at most.
const memberPlaceKeep = 24 * time.Hour

func placeMigrations() []*gormigrate.Migration {
	// Frozen copies of the shapes as of this migration.
	type listedHousehold struct {
		Latitude   *float64
		Longitude  *float64
		PlacedFrom string `gorm:"size:8"`
	}
	type memberPlace struct {
		PersonID  int64 `gorm:"primaryKey;autoIncrement:false"`
		Latitude  float64
		Longitude float64
		SharedAt  time.Time `gorm:"index:idx_member_places_shared_at"`
	}
	return []*gormigrate.Migration{{
		ID: "2026121030_household_places",
		Migrate: func(tx *gorm.DB) error {
			m := tx.Table("listed_households").Migrator()
			for _, col := range []string{"Latitude", "Longitude", "PlacedFrom"} {
				if err := m.AddColumn(&listedHousehold{}, col); err != nil {
					return fmt.Errorf("add listed_households.%s: %w", col, err)
				}
			}
			if err := tx.Table("member_places").Migrator().CreateTable(&memberPlace{}); err != nil {
				return fmt.Errorf("create member_places: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable("member_places"); err != nil {
				return err
			}
			m := tx.Table("listed_households").Migrator()
			for _, col := range []string{"PlacedFrom", "Longitude", "Latitude"} {
				if err := m.DropColumn(&listedHousehold{}, col); err != nil {
					return err
				}
			}
			return nil
		},
	}}
}

// SharePlace keeps where a member stands, replacing what they shared
// before.
func (db *DB) SharePlace(ctx context.Context, personID int64, p cnsbot.Place, at time.Time) error {
	if !p.Valid() {
		return cnsbot.Errorf(cnsbot.EINVALID, "not a place")
	}
	at = at.UTC()
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "person_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"latitude", "longitude", "shared_at"})}).
			Create(&MemberPlace{PersonID: personID, Latitude: p.Lat, Longitude: p.Lng, SharedAt: at}).Error
		if err != nil {
			return fmt.Errorf("share place: %w", err)
		}
		if err := tx.Where("shared_at < ?", at.Add(-memberPlaceKeep)).Delete(&MemberPlace{}).Error; err != nil {
			return fmt.Errorf("forget old places: %w", err)
		}
		return nil
	})
}

// SharedPlace returns where a member said they stood, if they shared it
// at or after since.
func (db *DB) SharedPlace(ctx context.Context, personID int64, since time.Time) (cnsbot.Place, bool, error) {
	var rows []MemberPlace
	err := db.orm.WithContext(ctx).Where("person_id = ? AND shared_at >= ?", personID, since.UTC()).Limit(1).Find(&rows).Error
	if err != nil {
		return cnsbot.Place{}, false, fmt.Errorf("shared place: %w", err)
	}
	if len(rows) == 0 {
		return cnsbot.Place{}, false, nil
	}
	return cnsbot.Place{Lat: rows[0].Latitude, Lng: rows[0].Longitude}, true, nil
}

// placeFromVisit gives the visit's listed household the visit's location
// as its place when it has none: the member stood at the door. A place
// outside Vietnam gives none.
func placeFromVisit(tx *gorm.DB, v *cnsbot.Visit) error {
	p := cnsbot.Place{Lat: v.Latitude, Lng: v.Longitude}
	if v.ListedHouseholdID == nil || !p.InVietnam() {
		return nil
	}
	err := tx.Model(&cnsbot.ListedHousehold{}).Where("id = ? AND latitude IS NULL", *v.ListedHouseholdID).
		Updates(map[string]any{"latitude": p.Lat, "longitude": p.Lng, "placed_from": cnsbot.PlacedFromVisit,
			"updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("place household: %w", err)
	}
	return nil
}

// AttachVisitPlace puts a location a member shared on their latest visit
// recorded at or after since, when that visit has no location yet, and
// gives its listed household the place if it has none. ok is false when
// there is no such visit (or it has a location already: the first one
// stays): the location is then only where the member stands. Sharing the
// same location again finds the same visit, so a retried event answers
// the same.
func (db *DB) AttachVisitPlace(ctx context.Context, personID int64, since time.Time, p cnsbot.Place) (cnsbot.VisitPlace, bool, error) {
	var out cnsbot.VisitPlace
	var ok bool
	if !p.Valid() {
		return out, false, nil
	}
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var visits []cnsbot.Visit
		// visited_at, not created_at: both are the engine's clock (the
		// demo's too), which since comes from.
		err := tx.Where("person_id = ? AND visited_at >= ?", personID, since.UTC()).
			Order("visited_at DESC, id DESC").Limit(1).Find(&visits).Error
		if err != nil {
			return fmt.Errorf("latest visit: %w", err)
		}
		if len(visits) == 0 {
			return nil
		}
		v := visits[0]
		switch {
		case v.Latitude == 0 && v.Longitude == 0:
			v.Latitude, v.Longitude = p.Lat, p.Lng
			err := tx.Model(&cnsbot.Visit{}).Where("id = ?", v.ID).
				Updates(map[string]any{"latitude": p.Lat, "longitude": p.Lng, "updated_at": time.Now().UTC()}).Error
			if err != nil {
				return fmt.Errorf("visit location: %w", err)
			}
			if err := placeFromVisit(tx, &v); err != nil {
				return err
			}
		case v.Latitude != p.Lat || v.Longitude != p.Lng:
			return nil
		}
		ok, out.Visit = true, v
		if v.ListedHouseholdID != nil {
			var h cnsbot.ListedHousehold
			if err := takeOne(tx.Select("id", "latitude", "longitude").Where("id = ?", *v.ListedHouseholdID), &h, "household %d", *v.ListedHouseholdID); err != nil {
				return err
			}
			hp, has := h.Place()
			out.Placed = has && hp == p
		}
		return nil
	})
	return out, ok, err
}

// NearestUnvisited returns a page of a hamlet's listed households that no
// visit has named yet (with assignedTo set, those a leader gave that
// member), nearest to from first, then those without a place by house
// number. The order is total (ties go by house number, address and id),
// so that pages asked from the same point follow on. total counts them
// all. A hamlet's list is at most a few thousand households: they are
// sorted here rather than in SQL, where SQLite has no trigonometry.
func (db *DB) NearestUnvisited(ctx context.Context, hamletID, assignedTo int64, from cnsbot.Place, offset, limit int) (list []cnsbot.ListedHousehold, total int, err error) {
	q := db.orm.WithContext(ctx).Select("id", "hamlet_id", "address", "number", "head", "latitude", "longitude", "assigned_to").
		Where("hamlet_id = ? AND pending = ? AND guided_at IS NULL", hamletID, false)
	if assignedTo != 0 {
		q = q.Where("assigned_to = ?", assignedTo)
	}
	var all []cnsbot.ListedHousehold
	if err := q.Order("number, address, id").Find(&all).Error; err != nil {
		return nil, 0, fmt.Errorf("unvisited households: %w", err)
	}
	dist := make(map[int64]float64, len(all))
	for _, h := range all {
		if p, ok := h.Place(); ok {
			// To the metre: houses as far as a member can tell go by
			// house number, not by a float's last digits.
			dist[h.ID] = math.Round(cnsbot.Distance(from, p))
		}
	}
	// Stable: equal distances, and the households without a place, keep
	// the round's order the query gave.
	slices.SortStableFunc(all, func(a, b cnsbot.ListedHousehold) int {
		dA, aok := dist[a.ID]
		dB, bok := dist[b.ID]
		switch {
		case aok && bok:
			return cmp.Compare(dA, dB)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	total = len(all)
	offset = max(offset, 0)
	if offset >= total || limit <= 0 {
		return nil, total, nil
	}
	return all[offset:min(offset+limit, total)], total, nil
}
