package store

import (
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// domainMigrations returns the migrations of the domain tables: units,
// teams, people, roles, help requests, visits and households.
//
// Each migration works on its own frozen copy of the models instead of the
// live types in the root package, so that a field added to a domain type
// later cannot change what an old migration does on a fresh database.
func domainMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		{
			ID:      "2026112702_domain",
			Migrate: migrateDomainV1,
			Rollback: func(tx *gorm.DB) error {
				for _, t := range []string{"handoffs", "households", "visits", "help_attachments",
					"help_requests", "roles", "people", "teams", "units"} {
					if err := tx.Migrator().DropTable(t); err != nil {
						return fmt.Errorf("drop %s: %w", t, err)
					}
				}
				return nil
			},
		},
	}
}

// The v1 snapshots below mirror the gorm tags of the root package's types as
// of this migration. Index names are spelled out so that they equal the names
// AutoMigrate would derive from the live types.

type unitV1 struct {
	ID         int64  `gorm:"primaryKey"`
	Kind       string `gorm:"size:16;index:idx_units_kind;not null"`
	Name       string `gorm:"size:200;not null"`
	Folded     string `gorm:"size:200;index:idx_units_folded"`
	ParentID   *int64 `gorm:"index:idx_units_parent_id"`
	Households int
	Demo       bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (unitV1) TableName() string { return "units" }

type teamV1 struct {
	ID        int64  `gorm:"primaryKey"`
	HamletID  int64  `gorm:"index:idx_teams_hamlet_id;not null"`
	Name      string `gorm:"size:200;not null"`
	Code      string `gorm:"size:32;uniqueIndex:idx_teams_code;not null"`
	GroupID   string `gorm:"size:64;index:idx_teams_group_id"`
	Demo      bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (teamV1) TableName() string { return "teams" }

type personV1 struct {
	ID         int64   `gorm:"primaryKey"`
	FullName   string  `gorm:"size:200;not null"`
	Phone      string  `gorm:"size:20;uniqueIndex:idx_people_phone;not null"`
	ZaloUserID *string `gorm:"size:64;uniqueIndex:idx_people_zalo_user_id"`
	Lang       string  `gorm:"size:8"`
	Demo       bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (personV1) TableName() string { return "people" }

// roleV1 leaves out the root type's role_unique index: it is created below
// over COALESCE(team_id, 0), because a plain unique index treats every NULL
// team as distinct and would let an officer's role be stored twice.
type roleV1 struct {
	ID        int64  `gorm:"primaryKey"`
	PersonID  int64  `gorm:"not null"`
	Role      string `gorm:"size:32;not null"`
	UnitID    int64  `gorm:"index:idx_roles_unit_id;not null"`
	TeamID    *int64 `gorm:"index:idx_roles_team_id"`
	Approved  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (roleV1) TableName() string { return "roles" }

// helpRequestV1 leaves out the unique index on source_event: it is created
// below as a partial index, so that requests made without a source event
// (by an officer, say) do not collide on the empty string.
type helpRequestV1 struct {
	ID             int64  `gorm:"primaryKey"`
	Code           string `gorm:"size:16;uniqueIndex:idx_help_requests_code;not null"`
	ResidentUserID string `gorm:"size:64;index:idx_help_requests_resident_user_id;not null"`
	Name           string `gorm:"size:200"`
	Phone          string `gorm:"size:20"`
	CommuneID      int64  `gorm:"index:idx_help_requests_commune_id"`
	HamletID       int64  `gorm:"index:idx_help_requests_hamlet_id"`
	TeamID         *int64 `gorm:"index:idx_help_requests_team_id"`
	Topic          string `gorm:"size:64"`
	Problem        string `gorm:"size:1000"`
	PreferredTime  string `gorm:"size:200"`
	Status         string `gorm:"size:16;index:idx_help_requests_status;not null"`
	TakenBy        *int64
	TakenAt        *time.Time
	ClosedAt       *time.Time
	EscalatedAt    *time.Time
	Outcome        string `gorm:"size:1000"`
	Rating         int
	SourceEvent    string `gorm:"size:128"`
	Demo           bool
	CreatedAt      time.Time `gorm:"index:idx_help_requests_created_at"`
	UpdatedAt      time.Time
}

func (helpRequestV1) TableName() string { return "help_requests" }

type helpAttachmentV1 struct {
	ID        int64  `gorm:"primaryKey"`
	RequestID int64  `gorm:"index:idx_help_attachments_request_id;not null"`
	Type      string `gorm:"size:16"`
	URL       string `gorm:"size:1000"`
	Latitude  float64
	Longitude float64
	CreatedAt time.Time
}

func (helpAttachmentV1) TableName() string { return "help_attachments" }

type visitV1 struct {
	ID           int64  `gorm:"primaryKey"`
	PersonID     int64  `gorm:"index:idx_visits_person_id;not null"`
	TeamID       int64  `gorm:"index:idx_visits_team_id;not null"`
	HamletID     int64  `gorm:"index:idx_visits_hamlet_id;not null"`
	Household    string `gorm:"size:300;not null"`
	HouseholdKey string `gorm:"size:300;index:idx_visits_household_key"`
	Areas        string `gorm:"size:200"`
	People       int
	Minutes      int
	PhotoURL     string `gorm:"size:1000"`
	Latitude     float64
	Longitude    float64
	Note         string    `gorm:"size:1000"`
	HelpCode     string    `gorm:"size:16"`
	VisitedAt    time.Time `gorm:"index:idx_visits_visited_at"`
	SourceEvent  string    `gorm:"size:128"`
	Demo         bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (visitV1) TableName() string { return "visits" }

type householdV1 struct {
	ID            int64  `gorm:"primaryKey"`
	TeamID        int64  `gorm:"uniqueIndex:idx_households_team_key;not null"`
	Key           string `gorm:"size:300;uniqueIndex:idx_households_team_key;not null"`
	Label         string `gorm:"size:300;not null"`
	FirstGuidedAt time.Time
	LastVisitAt   time.Time
	Visits        int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (householdV1) TableName() string { return "households" }

type handoffV1 struct {
	ID          int64  `gorm:"primaryKey"`
	UserID      string `gorm:"size:64;index:idx_handoffs_user_id;not null"`
	Reason      string `gorm:"size:200"`
	SourceEvent string `gorm:"size:128"`
	CreatedAt   time.Time
}

func (handoffV1) TableName() string { return "handoffs" }

func migrateDomainV1(tx *gorm.DB) error {
	if err := tx.AutoMigrate(&unitV1{}, &teamV1{}, &personV1{}, &roleV1{}, &helpRequestV1{},
		&helpAttachmentV1{}, &visitV1{}, &householdV1{}, &handoffV1{}); err != nil {
		return fmt.Errorf("create domain tables: %w", err)
	}
	// Both SQLite and Postgres accept these expression and partial indexes
	// in the same spelling.
	for _, stmt := range []string{
		// One unit per folded name under a parent; provinces have no parent.
		`CREATE UNIQUE INDEX units_unique ON units (kind, (COALESCE(parent_id, 0)), folded)`,
		`CREATE UNIQUE INDEX role_unique ON roles (person_id, role, unit_id, (COALESCE(team_id, 0)))`,
		`CREATE UNIQUE INDEX idx_help_requests_source_event ON help_requests (source_event) WHERE source_event <> ''`,
		`CREATE UNIQUE INDEX idx_visits_source_event ON visits (source_event) WHERE source_event <> ''`,
		`CREATE UNIQUE INDEX idx_handoffs_source_event ON handoffs (source_event) WHERE source_event <> ''`,
		// RecentHouseholds, MemberWeek and LastActivity read a person's visits by time.
		`CREATE INDEX idx_visits_person_visited ON visits (person_id, visited_at)`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("create domain index: %w", err)
		}
	}
	return nil
}
