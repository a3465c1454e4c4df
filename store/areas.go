package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
)

// Progress per area of the plan (issue 16): how many of a hamlet's
// households were guided in each area (VNeID, online public services,
// e-payment…), to date, whichever of the hamlet's teams went.
//
// rollup_area_households holds each (hamlet, area, household) once, the
// household as the 64-bit hash of its key as in the other rollups, with
// whether the key is a listed household's ("ds:<id>"). The count follows
// the hamlet's household count (householdsOf): a hamlet with a household
// list counts only its listed households, one without counts every key.
// Both are a COUNT over a primary-key range, per hamlet: the set is kept
// rather than counters because the import of a list moves old free-text
// visits onto listed households (relinkVisits), which a set absorbs and a
// counter would get wrong.

// areaRollupMigrations create the per-area household set and fill it from
// the visits already stored.
func areaRollupMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026121021_area_households",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(`CREATE TABLE rollup_area_households (
				hamlet_id BIGINT NOT NULL, area VARCHAR(200) NOT NULL, household BIGINT NOT NULL,
				listed BOOLEAN NOT NULL DEFAULT FALSE,
				PRIMARY KEY (hamlet_id, area, household))`).Error; err != nil {
				return fmt.Errorf("create area households: %w", err)
			}
			return rebuildAreaHouseholds(tx)
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("rollup_area_households") },
	}}
}

// rollupAreaHousehold is a row of rollup_area_households.
type rollupAreaHousehold struct {
	HamletID  int64
	Area      string
	Household int64
	Listed    bool
}

func (rollupAreaHousehold) TableName() string { return "rollup_area_households" }

// isListedKey reports whether a household key names a listed household.
func isListedKey(key string) bool { return strings.HasPrefix(key, "ds:") }

// rollAreaHouseholds adds a new visit's household to each of its areas'
// sets, within the transaction that stored it. The primary key decides
// concurrent inserts.
func rollAreaHouseholds(tx *gorm.DB, v *cnsbot.Visit) error {
	areas := visitAreas(v.Areas)
	if len(areas) == 0 || v.HamletID == 0 {
		return nil
	}
	rows := make([]rollupAreaHousehold, 0, len(areas))
	hh, listed := householdHash(v.HouseholdKey), isListedKey(v.HouseholdKey)
	for _, a := range areas {
		rows = append(rows, rollupAreaHousehold{HamletID: v.HamletID, Area: a, Household: hh, Listed: listed})
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("roll up visit: area households: %w", err)
	}
	return nil
}

// relinkAreaHouseholds moves a hamlet's area sets from a free-text key to
// the listed household its visits now name (relinkVisits).
func relinkAreaHouseholds(tx *gorm.DB, hamletID int64, oldKey, newKey string) error {
	var areas []string
	if err := tx.Raw(`SELECT DISTINCT COALESCE(areas, '') FROM visits WHERE hamlet_id = ? AND household_key = ?`,
		hamletID, newKey).Scan(&areas).Error; err != nil {
		return fmt.Errorf("relink area households: %w", err)
	}
	// No visit of the hamlet keeps the old key: relinkVisits moved them all.
	if err := tx.Exec(`DELETE FROM rollup_area_households WHERE hamlet_id = ? AND household = ?`,
		hamletID, householdHash(oldKey)).Error; err != nil {
		return fmt.Errorf("relink area households: %w", err)
	}
	return rollAreaHouseholds(tx, &cnsbot.Visit{HamletID: hamletID, HouseholdKey: newKey, Areas: strings.Join(areas, ",")})
}

// rebuildAreaHouseholds fills rollup_area_households from every visit, a
// hundred hamlets at a time, each hamlet's visits read once.
func rebuildAreaHouseholds(tx *gorm.DB) error {
	if err := tx.Exec(`DELETE FROM rollup_area_households`).Error; err != nil {
		return fmt.Errorf("rebuild area households: %w", err)
	}
	var hamlets []int64
	if err := tx.Raw(`SELECT DISTINCT hamlet_id FROM visits ORDER BY hamlet_id`).Scan(&hamlets).Error; err != nil {
		return fmt.Errorf("rebuild area households: %w", err)
	}
	const chunk = 100
	for i := 0; i < len(hamlets); i += chunk {
		var keys []struct {
			HamletID     int64
			HouseholdKey string
			Areas        string
		}
		// Distinct (hamlet, key, areas) first: a household's many visits
		// with the same areas are one row.
		if err := tx.Raw(`SELECT DISTINCT hamlet_id, COALESCE(household_key, '') AS household_key, COALESCE(areas, '') AS areas
			FROM visits WHERE hamlet_id IN ?`, hamlets[i:min(i+chunk, len(hamlets))]).Scan(&keys).Error; err != nil {
			return fmt.Errorf("rebuild area households: %w", err)
		}
		seen := map[rollupAreaHousehold]bool{}
		var rows []rollupAreaHousehold
		for _, k := range keys {
			for _, a := range visitAreas(k.Areas) {
				r := rollupAreaHousehold{HamletID: k.HamletID, Area: a, Household: householdHash(k.HouseholdKey),
					Listed: isListedKey(k.HouseholdKey)}
				if !seen[r] {
					seen[r] = true
					rows = append(rows, r)
				}
			}
		}
		if err := tx.CreateInBatches(rows, 1000).Error; err != nil {
			return fmt.Errorf("rebuild area households: %w", err)
		}
	}
	return nil
}

// HamletAreas is a hamlet's households guided per area of the plan, to
// date, over its household count (householdsOf).
type HamletAreas struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Households int            `json:"households"`
	Listed     bool           `json:"listed"`
	Guided     map[string]int `json:"guided"`
}

// CommuneAreas sums hamlets' per-area figures: the commune's households
// and, per area, its households guided. A household belongs to one hamlet,
// so the hamlets' sums count none twice.
func CommuneAreas(hamlets []HamletAreas) HamletAreas {
	out := HamletAreas{Guided: map[string]int{}}
	for _, h := range hamlets {
		out.Households += h.Households
		for a, n := range h.Guided {
			out.Guided[a] += n
		}
	}
	return out
}

// AreaProgress returns the per-area progress of the hamlets of a commune
// (communeID), or of the one hamlet hamletID when communeID is 0, in the
// order of their folded names. Two statements whatever the number of hamlets.
func (db *DB) AreaProgress(ctx context.Context, communeID, hamletID int64) ([]HamletAreas, error) {
	tx := db.orm.WithContext(ctx)
	scope, arg := `SELECT id FROM units WHERE kind = ? AND parent_id = ?`, []any{cnsbot.UnitHamlet, communeID}
	if communeID == 0 {
		scope, arg = `SELECT id FROM units WHERE kind = ? AND id = ?`, []any{cnsbot.UnitHamlet, hamletID}
	}
	var hamlets []struct {
		ID         int64
		Name       string
		Households int64
		Listed     int64
	}
	if err := tx.Raw(`SELECT u.id, u.name, `+householdsOf("u")+` AS households, `+listedOf("u")+` AS listed
		FROM units u WHERE u.id IN (`+scope+`) ORDER BY u.folded, u.id`, arg...).Scan(&hamlets).Error; err != nil {
		return nil, fmt.Errorf("area progress: %w", err)
	}
	var counts []struct {
		HamletID int64
		Area     string
		Listed   bool
		N        int64
	}
	if err := tx.Raw(`SELECT hamlet_id, area, listed, COUNT(*) AS n FROM rollup_area_households
		WHERE hamlet_id IN (`+scope+`) GROUP BY hamlet_id, area, listed`, arg...).Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("area progress: %w", err)
	}
	out := make([]HamletAreas, 0, len(hamlets))
	index := make(map[int64]int, len(hamlets))
	for _, h := range hamlets {
		index[h.ID] = len(out)
		out = append(out, HamletAreas{ID: h.ID, Name: h.Name, Households: int(h.Households), Listed: h.Listed == 1,
			Guided: map[string]int{}})
	}
	for _, c := range counts {
		i, ok := index[c.HamletID]
		if !ok {
			continue
		}
		// A hamlet with a list counts its listed households only, as its
		// household count does.
		if out[i].Listed && !c.Listed {
			continue
		}
		out[i].Guided[c.Area] += int(c.N)
	}
	return out, nil
}

// HamletAreaProgress is AreaProgress of one hamlet.
func (db *DB) HamletAreaProgress(ctx context.Context, hamletID int64) (HamletAreas, error) {
	list, err := db.AreaProgress(ctx, 0, hamletID)
	if err != nil {
		return HamletAreas{}, err
	}
	if len(list) == 0 {
		return HamletAreas{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "hamlet %d", hamletID)
	}
	return list[0], nil
}

// HamletAreaGuided is HamletAreaProgress in plain types, for the chat's
// "tiến độ": the hamlet's households guided per area, and its households.
func (db *DB) HamletAreaGuided(ctx context.Context, hamletID int64) (guided map[string]int, households int, err error) {
	h, err := db.HamletAreaProgress(ctx, hamletID)
	if err != nil {
		return nil, 0, err
	}
	return h.Guided, h.Households, nil
}
