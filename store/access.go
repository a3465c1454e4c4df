package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
)

// DefaultOfficerTokenTTL is how long an officer token lasts unless its
// creator says otherwise: a quarter and a little, so that an officer who
// left is locked out by the next quarterly report at the latest.
const DefaultOfficerTokenTTL = 90 * 24 * time.Hour

// MaxOfficerTokenTTL bounds a token's life: a token that never expires is
// a token nobody remembers to revoke.
const MaxOfficerTokenTTL = 366 * 24 * time.Hour

// DashboardSession is a signed-in dashboard browser, kept on the server so
// that signing out, revoking the officer's token or ending every session
// refuses the cookie at once. Only the secret's SHA-256 is stored.
type DashboardSession struct {
	ID         int64  `gorm:"primaryKey"`
	SecretHash string `gorm:"size:64;not null;uniqueIndex:uniq_dashboard_sessions_secret_hash"`
	Admin      bool   `gorm:"not null;default:false"`
	// TokenID is the officer token that signed in; 0 for the administrator.
	TokenID   int64      `gorm:"not null;default:0;index:idx_dashboard_sessions_token_id"`
	CreatedAt time.Time  `gorm:"not null"`
	ExpiresAt time.Time  `gorm:"not null"`
	EndedAt   *time.Time `gorm:""`
}

// AccessEntry is one request that read or exported personal data: who
// (the administrator, or an officer by token and person), what, for which
// commune (0: all of them) and how it ended. Rows are kept: they are the
// record residents and auditors may ask for.
type AccessEntry struct {
	ID    int64     `gorm:"primaryKey" json:"id"`
	At    time.Time `gorm:"not null;index:idx_access_log_at" json:"at"`
	Admin bool      `gorm:"not null;default:false" json:"admin"`
	// TokenID and PersonID name the officer; both 0 for the administrator.
	TokenID   int64  `gorm:"not null;default:0" json:"token_id,omitempty"`
	PersonID  int64  `gorm:"not null;default:0;index:idx_access_log_person_id" json:"person_id,omitempty"`
	What      string `gorm:"size:32;not null" json:"what"`
	CommuneID int64  `gorm:"not null;default:0" json:"commune_id,omitempty"`
	// Detail is the request's other parameters (quarter, format, status),
	// never personal data.
	Detail string `gorm:"size:255;not null;default:''" json:"detail,omitempty"`
	Status int    `gorm:"not null;default:0" json:"status"`
}

// TableName keeps the log's table name singular, as operators say it.
func (AccessEntry) TableName() string { return "access_log" }

// accessMigrations returns the migrations of officers' access: token
// expiry, server-side dashboard sessions and the access log.
func accessMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120705_officer_access",
		Migrate: func(tx *gorm.DB) error {
			type officerToken struct {
				ExpiresAt *time.Time `gorm:"index:idx_officer_tokens_expires_at"`
			}
			m := tx.Table("officer_tokens").Migrator()
			if err := m.AddColumn(&officerToken{}, "ExpiresAt"); err != nil {
				return fmt.Errorf("add officer_tokens.expires_at: %w", err)
			}
			// Tokens issued before expiry existed get the default life
			// from today, not from their creation: nobody is locked out
			// by the upgrade itself.
			if err := tx.Exec(`UPDATE officer_tokens SET expires_at = ? WHERE expires_at IS NULL`,
				time.Now().UTC().Add(DefaultOfficerTokenTTL)).Error; err != nil {
				return fmt.Errorf("set officer_tokens.expires_at: %w", err)
			}
			type dashboardSession struct {
				ID         int64      `gorm:"primaryKey"`
				SecretHash string     `gorm:"size:64;not null;uniqueIndex:uniq_dashboard_sessions_secret_hash"`
				Admin      bool       `gorm:"not null;default:false"`
				TokenID    int64      `gorm:"not null;default:0;index:idx_dashboard_sessions_token_id"`
				CreatedAt  time.Time  `gorm:"not null"`
				ExpiresAt  time.Time  `gorm:"not null"`
				EndedAt    *time.Time `gorm:""`
			}
			if err := tx.Table("dashboard_sessions").Migrator().CreateTable(&dashboardSession{}); err != nil {
				return fmt.Errorf("create table dashboard_sessions: %w", err)
			}
			type accessEntry struct {
				ID        int64     `gorm:"primaryKey"`
				At        time.Time `gorm:"not null;index:idx_access_log_at"`
				Admin     bool      `gorm:"not null;default:false"`
				TokenID   int64     `gorm:"not null;default:0"`
				PersonID  int64     `gorm:"not null;default:0;index:idx_access_log_person_id"`
				What      string    `gorm:"size:32;not null"`
				CommuneID int64     `gorm:"not null;default:0"`
				Detail    string    `gorm:"size:255;not null;default:''"`
				Status    int       `gorm:"not null;default:0"`
			}
			if err := tx.Table("access_log").Migrator().CreateTable(&accessEntry{}); err != nil {
				return fmt.Errorf("create table access_log: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable("access_log", "dashboard_sessions"); err != nil {
				return err
			}
			return tx.Table("officer_tokens").Migrator().DropColumn(&OfficerToken{}, "ExpiresAt")
		},
	}}
}

// IssuedToken is a newly created officer token: the only time the token
// itself is seen.
type IssuedToken struct {
	ID        int64     `json:"id"`
	PersonID  int64     `json:"person_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssueOfficerToken creates a dashboard token for an officer (someone with
// an approved commune or province officer role) that expires after ttl
// (DefaultOfficerTokenTTL when 0; at most MaxOfficerTokenTTL). Only its
// hash is stored, so it cannot be shown again.
func (db *DB) IssueOfficerToken(ctx context.Context, personID int64, ttl time.Duration) (IssuedToken, error) {
	if ttl == 0 {
		ttl = DefaultOfficerTokenTTL
	}
	if ttl < time.Hour || ttl > MaxOfficerTokenTTL {
		return IssuedToken{}, cnsbot.Errorf(cnsbot.EINVALID, "a token lasts from 1 to %d days", int(MaxOfficerTokenTTL/(24*time.Hour)))
	}
	tx := db.orm.WithContext(ctx)
	o, err := officerScope(tx, personID)
	if err != nil {
		return IssuedToken{}, err
	}
	if !o.Province && len(o.CommuneIDs) == 0 {
		return IssuedToken{}, cnsbot.Errorf(cnsbot.EINVALID, "person %d is not a commune or province officer", personID)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return IssuedToken{}, fmt.Errorf("create officer token: %w", err)
	}
	token := officerTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := time.Now().UTC()
	expires := now.Add(ttl)
	row := OfficerToken{PersonID: personID, TokenHash: TokenHash(token), CreatedAt: now, ExpiresAt: &expires}
	if err := tx.Create(&row).Error; err != nil {
		return IssuedToken{}, fmt.Errorf("create officer token: %w", err)
	}
	return IssuedToken{ID: row.ID, PersonID: personID, Token: token, ExpiresAt: expires}, nil
}

// Token states as OfficerTokens reports them.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// OfficerTokenRow is an officer token as administrators see it: never
// the token itself.
type OfficerTokenRow struct {
	ID        int64      `json:"id"`
	PersonID  int64      `json:"person_id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	State     string     `json:"state"`
}

// OfficerTokens lists every officer token, the usable ones first, then
// the newest.
func (db *DB) OfficerTokens(ctx context.Context, now time.Time) ([]OfficerTokenRow, error) {
	var rows []OfficerTokenRow
	err := db.orm.WithContext(ctx).Raw(`SELECT t.id, t.person_id, COALESCE(p.full_name, '') AS name, t.created_at, t.expires_at, t.revoked_at
		FROM officer_tokens t LEFT JOIN people p ON p.id = t.person_id ORDER BY t.id DESC`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list officer tokens: %w", err)
	}
	active := rows[:0:0]
	var rest []OfficerTokenRow
	for _, r := range rows {
		switch {
		case r.RevokedAt != nil:
			r.State = TokenRevoked
		case r.ExpiresAt == nil || !now.Before(*r.ExpiresAt):
			r.State = TokenExpired
		default:
			r.State = TokenActive
		}
		if r.State == TokenActive {
			active = append(active, r)
		} else {
			rest = append(rest, r)
		}
	}
	return append(active, rest...), nil
}

// OfficerCandidate is someone a token can be issued to.
type OfficerCandidate struct {
	PersonID int64  `json:"person_id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Unit     string `json:"unit"`
}

// OfficerCandidates lists the people with an approved commune officer,
// province officer or administrator role, by name.
func (db *DB) OfficerCandidates(ctx context.Context) ([]OfficerCandidate, error) {
	var rows []OfficerCandidate
	err := db.orm.WithContext(ctx).Raw(`SELECT p.id AS person_id, p.full_name AS name, r.role, COALESCE(u.name, '') AS unit
		FROM roles r JOIN people p ON p.id = r.person_id LEFT JOIN units u ON u.id = r.unit_id
		WHERE r.approved = ? AND r.role IN ? ORDER BY p.full_name, p.id, r.id`,
		true, []string{cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list officer candidates: %w", err)
	}
	return rows, nil
}

// sessionsKept is how long a session's row outlives its expiry: long
// enough to tell when someone signed in, short enough that the table
// stays small. Rows are removed as new sessions are created.
const sessionsKept = 30 * 24 * time.Hour

// CreateSession records a signed-in browser and returns the secret its
// cookie carries. It also removes the rows of sessions expired more than
// sessionsKept ago.
func (db *DB) CreateSession(ctx context.Context, admin bool, tokenID int64, expires time.Time) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	row := DashboardSession{SecretHash: TokenHash(secret), Admin: admin, TokenID: tokenID,
		CreatedAt: time.Now().UTC(), ExpiresAt: expires.UTC()}
	if err := db.orm.WithContext(ctx).Create(&row).Error; err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	err := db.orm.WithContext(ctx).Where("expires_at < ?", time.Now().UTC().Add(-sessionsKept)).Delete(&DashboardSession{}).Error
	if err != nil {
		return "", fmt.Errorf("remove old sessions: %w", err)
	}
	return secret, nil
}

// SessionBySecret returns the live session a cookie's secret names, or an
// EUNAUTHORIZED error when it is unknown, ended or expired.
func (db *DB) SessionBySecret(ctx context.Context, secret string, now time.Time) (DashboardSession, error) {
	var rows []DashboardSession
	err := db.orm.WithContext(ctx).Where("secret_hash = ? AND ended_at IS NULL AND expires_at > ?", TokenHash(secret), now.UTC()).
		Limit(1).Find(&rows).Error
	if err != nil {
		return DashboardSession{}, fmt.Errorf("find session: %w", err)
	}
	if len(rows) == 0 {
		return DashboardSession{}, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "unknown or ended session")
	}
	return rows[0], nil
}

// EndSession signs one browser out.
func (db *DB) EndSession(ctx context.Context, secret string) error {
	err := db.orm.WithContext(ctx).Model(&DashboardSession{}).Where("secret_hash = ? AND ended_at IS NULL", TokenHash(secret)).
		Update("ended_at", time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndAllSessions signs every browser out, the administrator's included,
// and returns how many sessions it ended.
func (db *DB) EndAllSessions(ctx context.Context) (int64, error) {
	res := db.orm.WithContext(ctx).Model(&DashboardSession{}).Where("ended_at IS NULL").Update("ended_at", time.Now().UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("end all sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// RecordAccess appends a row to the access log and returns its id.
func (db *DB) RecordAccess(ctx context.Context, e AccessEntry) (int64, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	e.ID = 0
	if err := db.orm.WithContext(ctx).Create(&e).Error; err != nil {
		return 0, fmt.Errorf("record access: %w", err)
	}
	return e.ID, nil
}

// SetAccessStatus records how a logged request ended.
func (db *DB) SetAccessStatus(ctx context.Context, id int64, status int) error {
	if err := db.orm.WithContext(ctx).Model(&AccessEntry{}).Where("id = ?", id).Update("status", status).Error; err != nil {
		return fmt.Errorf("record access status: %w", err)
	}
	return nil
}

// AccessRow is an access log row with the names an administrator reads.
type AccessRow struct {
	AccessEntry
	Name    string `json:"name,omitempty"`
	Commune string `json:"commune,omitempty"`
}

// AccessLog returns up to limit rows of the access log, newest first,
// older than beforeID when it is not 0.
func (db *DB) AccessLog(ctx context.Context, beforeID int64, limit int) ([]AccessRow, error) {
	q := `SELECT a.*, COALESCE(p.full_name, '') AS name, COALESCE(u.name, '') AS commune
		FROM access_log a LEFT JOIN people p ON p.id = a.person_id AND a.person_id <> 0
		LEFT JOIN units u ON u.id = a.commune_id AND a.commune_id <> 0`
	var args []any
	if beforeID > 0 {
		q += ` WHERE a.id < ?`
		args = append(args, beforeID)
	}
	q += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, limit)
	var rows []AccessRow
	if err := db.orm.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read access log: %w", err)
	}
	return rows, nil
}
