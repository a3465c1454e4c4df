package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

// A roster entry gets a Zalo id only on proof: the phone Zalo itself sent
// in a user_submit_info form (LinkZalo, from enrolment), a one-time code an
// officer handed over (RedeemEnrolCode), or, for a plain member, their
// team leader's word on a link request (ApproveLink). A typed phone alone
// proves nothing: anyone can type anyone's number.

// EnrolCode is a one-time code that links its person to whoever redeems
// it. Only the code's SHA-256 is stored. (A code has about 40 bits and
// lives for days: enough against guessing through the chat, which is rate
// limited, not against someone holding a copy of the database, who could
// invert an unused code's hash; such a person has the roster anyway.)
type EnrolCode struct {
	ID        int64      `gorm:"primaryKey"`
	PersonID  int64      `gorm:"not null;index:idx_enrol_codes_person_id"`
	CodeHash  string     `gorm:"size:64;not null;uniqueIndex:uniq_enrol_codes_code_hash"`
	CreatedBy string     `gorm:"size:200;not null;default:''"`
	CreatedAt time.Time  `gorm:"not null"`
	ExpiresAt time.Time  `gorm:"not null"`
	UsedAt    *time.Time `gorm:""`
}

// LinkRequest is a Zalo user who typed the phone of a plain member and
// asked the member's team leaders to confirm it is them. Each person has
// at most one (the latest), and so has each Zalo user.
type LinkRequest struct {
	ID         int64     `gorm:"primaryKey"`
	PersonID   int64     `gorm:"not null;uniqueIndex:uniq_link_requests_person_id"`
	ZaloUserID string    `gorm:"size:64;not null;index:idx_link_requests_zalo_user_id"`
	Name       string    `gorm:"size:200;not null;default:''"`
	CreatedAt  time.Time `gorm:"not null"`
}

// linkRequestTTL is how long a leader can approve a link request: past it
// the leader's button does nothing and the person asks again.
const linkRequestTTL = 7 * 24 * time.Hour

// enrolMigrations create the enrol codes and link requests.
func enrolMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120701_enrol_proof",
		Migrate: func(tx *gorm.DB) error {
			type enrolCode struct {
				ID        int64      `gorm:"primaryKey"`
				PersonID  int64      `gorm:"not null;index:idx_enrol_codes_person_id"`
				CodeHash  string     `gorm:"size:64;not null;uniqueIndex:uniq_enrol_codes_code_hash"`
				CreatedBy string     `gorm:"size:200;not null;default:''"`
				CreatedAt time.Time  `gorm:"not null"`
				ExpiresAt time.Time  `gorm:"not null"`
				UsedAt    *time.Time `gorm:""`
			}
			type linkRequest struct {
				ID         int64     `gorm:"primaryKey"`
				PersonID   int64     `gorm:"not null;uniqueIndex:uniq_link_requests_person_id"`
				ZaloUserID string    `gorm:"size:64;not null;index:idx_link_requests_zalo_user_id"`
				Name       string    `gorm:"size:200;not null;default:''"`
				CreatedAt  time.Time `gorm:"not null"`
			}
			if err := tx.Table("enrol_codes").Migrator().CreateTable(&enrolCode{}); err != nil {
				return fmt.Errorf("create table enrol_codes: %w", err)
			}
			if err := tx.Table("link_requests").Migrator().CreateTable(&linkRequest{}); err != nil {
				return fmt.Errorf("create table link_requests: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("enrol_codes", "link_requests") },
	}}
}

// DefaultEnrolCodeTTL is how long an enrol code can be redeemed unless
// ENROL_CODE_TTL says otherwise.
const DefaultEnrolCodeTTL = 72 * time.Hour

// CreateEnrolCode issues a one-time code that links the person to the Zalo
// account that redeems it within ttl, and returns it with its expiry. Only
// its hash is kept, so it cannot be shown again. by names who asked, for
// the record ("cli", "admin", an officer's name).
func (db *DB) CreateEnrolCode(ctx context.Context, personID int64, by string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = DefaultEnrolCodeTTL
	}
	tx := db.orm.WithContext(ctx)
	var p cnsbot.Person
	if err := takeOne(tx.Where("id = ?", personID), &p, "person %d", personID); err != nil {
		return "", time.Time{}, err
	}
	now := time.Now().UTC()
	for range 5 { // a clash of hashes is a clash of codes: try another
		code, err := newEnrolCode()
		if err != nil {
			return "", time.Time{}, err
		}
		row := EnrolCode{PersonID: personID, CodeHash: TokenHash(code), CreatedBy: vn.Clip(by, 200), CreatedAt: now, ExpiresAt: now.Add(ttl)}
		var n int64
		if err := tx.Model(&EnrolCode{}).Where("code_hash = ?", row.CodeHash).Count(&n).Error; err != nil {
			return "", time.Time{}, fmt.Errorf("create enrol code: %w", err)
		}
		if n > 0 {
			continue
		}
		if err := tx.Create(&row).Error; err != nil {
			return "", time.Time{}, fmt.Errorf("create enrol code: %w", err)
		}
		return code, row.ExpiresAt, nil
	}
	return "", time.Time{}, fmt.Errorf("create enrol code: no free code after 5 tries")
}

// newEnrolCode draws a code with at least one letter and one digit (see
// cnsbot.ParseEnrolCode).
func newEnrolCode() (string, error) {
	alphabet := cnsbot.EnrolCodeAlphabet
	n := big.NewInt(int64(len(alphabet)))
	for {
		b := make([]byte, cnsbot.EnrolCodeLen)
		for i := range b {
			k, err := rand.Int(rand.Reader, n)
			if err != nil {
				return "", fmt.Errorf("draw enrol code: %w", err)
			}
			b[i] = alphabet[k.Int64()]
		}
		if code, ok := cnsbot.ParseEnrolCode(string(b)); ok {
			return code, nil
		}
	}
}

// RedeemEnrolCode links the code's person to the Zalo user and uses the
// code up. It returns the person, their roles, and the Zalo id they were
// linked to before ("" when none), which has just lost them. A person linked to another Zalo id is moved: an officer's code
// is the only way to move a linked person. An unknown, used or expired
// code is ENOTFOUND (the same answer for all three, so that nothing is
// learnt by trying); a Zalo id that already belongs to someone else with
// an approved role is ECONFLICT, and leaves the code unused (one that
// belongs to a person still waiting for approval is released).
func (db *DB) RedeemEnrolCode(ctx context.Context, code, zaloUserID string) (cnsbot.Person, []cnsbot.Role, string, error) {
	if zaloUserID == "" {
		return cnsbot.Person{}, nil, "", cnsbot.Errorf(cnsbot.EINVALID, "empty zalo user id")
	}
	code, ok := cnsbot.ParseEnrolCode(code)
	if !ok {
		return cnsbot.Person{}, nil, "", cnsbot.Errorf(cnsbot.ENOTFOUND, "unknown, used or expired enrol code")
	}
	var out struct {
		Person   cnsbot.Person
		Roles    []cnsbot.Role
		Previous string
	}
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		var row EnrolCode
		err := takeOne(tx.Where("code_hash = ? AND used_at IS NULL AND expires_at > ?", TokenHash(code), now), &row,
			"unknown, used or expired enrol code")
		if err != nil {
			return err
		}
		// The conditional update is the lock: of two redemptions at once,
		// one changes the row and the other finds it used.
		res := tx.Model(&EnrolCode{}).Where("id = ? AND used_at IS NULL", row.ID).Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("use enrol code: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ENOTFOUND, "unknown, used or expired enrol code")
		}
		var p cnsbot.Person
		if err := takeOne(tx.Where("id = ?", row.PersonID), &p, "person %d", row.PersonID); err != nil {
			return err
		}
		if err := releasePending(tx, zaloUserID, p.ID); err != nil {
			return err
		}
		if err := checkZaloFree(tx, zaloUserID, p.ID); err != nil {
			return err
		}
		if p.ZaloUserID != nil && *p.ZaloUserID != zaloUserID {
			out.Previous = *p.ZaloUserID
		}
		if err := tx.Model(&p).Update("zalo_user_id", zaloUserID).Error; err != nil {
			return fmt.Errorf("link zalo: %w", err)
		}
		p.ZaloUserID = &zaloUserID
		if err := tx.Where("person_id = ?", p.ID).Delete(&LinkRequest{}).Error; err != nil {
			return fmt.Errorf("drop link requests: %w", err)
		}
		var roles []cnsbot.Role
		if err := tx.Where("person_id = ?", p.ID).Order("id").Find(&roles).Error; err != nil {
			return fmt.Errorf("load roles: %w", err)
		}
		out.Person, out.Roles = p, roles
		return nil
	})
	if err != nil {
		return cnsbot.Person{}, nil, "", err
	}
	db.zalo.add(zaloUserID)
	return out.Person, out.Roles, out.Previous, nil
}

// releasePending unlinks the Zalo user from someone other than personID
// who holds no approved role: the entry a typed, unknown phone made while
// its leader had not approved it yet. The officer's code says who the
// account is; someone with an approved role keeps it (ECONFLICT follows).
func releasePending(tx *gorm.DB, zaloUserID string, personID int64) error {
	approved := tx.Model(&cnsbot.Role{}).Select("person_id").Where("approved = ?", true)
	err := tx.Model(&cnsbot.Person{}).Where("zalo_user_id = ? AND id <> ? AND id NOT IN (?)", zaloUserID, personID, approved).
		Update("zalo_user_id", nil).Error
	if err != nil {
		return fmt.Errorf("release pending link: %w", err)
	}
	return nil
}

// PersonCommunes returns the communes a person's roles are in (a hamlet's
// role counts for its commune); a role above communes (province, admin)
// is reported as 0. Officers may make enrol codes only for people wholly
// within their communes.
func (db *DB) PersonCommunes(ctx context.Context, personID int64) ([]int64, error) {
	tx := db.orm.WithContext(ctx)
	var p cnsbot.Person
	if err := takeOne(tx.Where("id = ?", personID), &p, "person %d", personID); err != nil {
		return nil, err
	}
	var rows []struct {
		Kind     string
		ID       int64
		ParentID *int64
	}
	err := tx.Table("roles").Select("units.kind, units.id, units.parent_id").
		Joins("JOIN units ON units.id = roles.unit_id").Where("roles.person_id = ?", personID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("person communes: %w", err)
	}
	var out []int64
	for _, r := range rows {
		id := int64(0)
		switch r.Kind {
		case cnsbot.UnitCommune:
			id = r.ID
		case cnsbot.UnitHamlet:
			if r.ParentID != nil {
				id = *r.ParentID
			}
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// RequestLink records that a Zalo user says they are a plain member of a
// team (they typed the member's phone) and waits for a team leader's
// ApproveLink. It replaces the person's earlier request and the Zalo
// user's requests for anyone else. It is EINVALID for anyone who is not
// only a member (leaders and officers see personal data: they need a
// shared phone or a code) and ECONFLICT when the person is linked already
// (only a code moves them) or the Zalo id belongs to someone else.
func (db *DB) RequestLink(ctx context.Context, personID int64, zaloUserID, name string) error {
	if zaloUserID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty zalo user id")
	}
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := plainMember(tx, personID); err != nil {
			return err
		}
		if err := checkZaloFree(tx, zaloUserID, personID); err != nil {
			return err
		}
		if err := tx.Where("person_id = ? OR zalo_user_id = ?", personID, zaloUserID).Delete(&LinkRequest{}).Error; err != nil {
			return fmt.Errorf("drop old link requests: %w", err)
		}
		row := LinkRequest{PersonID: personID, ZaloUserID: zaloUserID, Name: vn.Clip(name, 200), CreatedAt: time.Now().UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create link request: %w", err)
		}
		return nil
	})
}

// plainMember loads a person who may be linked on a leader's word: on the
// roster only as a member, and not linked yet.
func plainMember(tx *gorm.DB, personID int64) (cnsbot.Person, error) {
	var p cnsbot.Person
	if err := takeOne(tx.Where("id = ?", personID), &p, "person %d", personID); err != nil {
		return p, err
	}
	if p.ZaloUserID != nil && *p.ZaloUserID != "" {
		return p, cnsbot.Errorf(cnsbot.ECONFLICT, "person %d is linked already", personID)
	}
	var other int64
	if err := tx.Model(&cnsbot.Role{}).Where("person_id = ? AND role <> ?", personID, cnsbot.RoleMember).Count(&other).Error; err != nil {
		return p, fmt.Errorf("load roles: %w", err)
	}
	if other > 0 {
		return p, cnsbot.Errorf(cnsbot.EINVALID, "person %d holds a role beyond member", personID)
	}
	return p, nil
}

// ApproveLink is a leader of teamID confirming a link request: the person,
// an approved member of the team and nothing more, is linked to the Zalo
// user who asked, whose id is returned. ENOTFOUND when there is no recent
// request or the person is not an approved member of the team; EINVALID
// and ECONFLICT as for RequestLink, checked again now.
func (db *DB) ApproveLink(ctx context.Context, personID, teamID int64) (string, error) {
	var zalo string
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var req LinkRequest
		err := takeOne(tx.Where("person_id = ? AND created_at > ?", personID, time.Now().UTC().Add(-linkRequestTTL)), &req,
			"link request of person %d", personID)
		if err != nil {
			return err
		}
		var n int64
		err = tx.Model(&cnsbot.Role{}).Where("person_id = ? AND team_id = ? AND role = ? AND approved = ?",
			personID, teamID, cnsbot.RoleMember, true).Count(&n).Error
		if err != nil {
			return fmt.Errorf("load roles: %w", err)
		}
		if n == 0 {
			return cnsbot.Errorf(cnsbot.ENOTFOUND, "person %d is no member of team %d", personID, teamID)
		}
		if _, err := plainMember(tx, personID); err != nil {
			return err
		}
		if err := checkZaloFree(tx, req.ZaloUserID, personID); err != nil {
			return err
		}
		res := tx.Model(&cnsbot.Person{}).Where("id = ? AND zalo_user_id IS NULL", personID).Update("zalo_user_id", req.ZaloUserID)
		if res.Error != nil {
			return fmt.Errorf("link zalo: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ECONFLICT, "person %d is linked already", personID)
		}
		if err := tx.Where("person_id = ? OR zalo_user_id = ?", personID, req.ZaloUserID).Delete(&LinkRequest{}).Error; err != nil {
			return fmt.Errorf("drop link requests: %w", err)
		}
		zalo = req.ZaloUserID
		return nil
	})
	if err != nil {
		return "", err
	}
	db.zalo.add(zalo)
	return zalo, nil
}

// Attempts limits how often one Zalo user may try something guessable
// (an enrol code), across replicas: a GCRA kept in Redis by redis_rate, as
// the outbound Limiter is, with a key per user.
type Attempts struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
}

// NewAttempts allows each user burst attempts at once and burst more every
// period. name keeps its keys apart from other limits.
func NewAttempts(rdb redis.UniversalClient, prefix, name string, burst int, period time.Duration) *Attempts {
	return &Attempts{rl: redis_rate.NewLimiter(rdb), key: prefix + "attempts:" + name + ":",
		limit: redis_rate.Limit{Rate: burst, Burst: burst, Period: period}}
}

// Allow takes one attempt of who's and reports whether it is allowed.
func (a *Attempts) Allow(ctx context.Context, who string) (bool, error) {
	res, err := a.rl.Allow(ctx, a.key+who, a.limit)
	if err != nil {
		return false, fmt.Errorf("attempt limit: %w", err)
	}
	return res.Allowed > 0, nil
}
