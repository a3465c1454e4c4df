package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"gorm.io/gorm"
)

// PersonByZalo returns the person linked to a Zalo user id, with all their
// roles (pending ones too: check Role.Approved).
func (db *DB) PersonByZalo(ctx context.Context, zaloUserID string) (cnsbot.Person, []cnsbot.Role, error) {
	if zaloUserID == "" {
		return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.EINVALID, "empty zalo user id")
	}
	if db.zalo.unlinked(zaloUserID) {
		return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.ENOTFOUND, "person not found")
	}
	return db.personWhere(ctx, "zalo_user_id = ?", zaloUserID)
}

// PersonByID returns a person by id, with all their roles.
func (db *DB) PersonByID(ctx context.Context, id int64) (cnsbot.Person, []cnsbot.Role, error) {
	return db.personWhere(ctx, "id = ?", id)
}

// PersonByPhone returns the person with the given phone number, with all
// their roles. The number may be in any form vn.ParsePhone accepts.
func (db *DB) PersonByPhone(ctx context.Context, phone string) (cnsbot.Person, []cnsbot.Role, error) {
	e164, err := vn.ParsePhone(phone)
	if err != nil {
		return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.EINVALID, "invalid phone number")
	}
	return db.personWhere(ctx, "phone = ?", e164)
}

func (db *DB) personWhere(ctx context.Context, query string, arg any) (cnsbot.Person, []cnsbot.Role, error) {
	var p cnsbot.Person
	tx := db.orm.WithContext(ctx)
	if err := takeOne(tx.Where(query, arg), &p, "person"); err != nil {
		return cnsbot.Person{}, nil, err
	}
	var roles []cnsbot.Role
	if err := tx.Where("person_id = ?", p.ID).Order("id").Find(&roles).Error; err != nil {
		return cnsbot.Person{}, nil, fmt.Errorf("load roles: %w", err)
	}
	return p, roles, nil
}

// LinkZalo records the Zalo user id of a person, for enrolment once the
// person proved who they are (see enrol.go). It is an ECONFLICT error when
// the id already belongs to someone else, or the person is linked to
// another Zalo id: only an officer's enrol code moves a linked person.
func (db *DB) LinkZalo(ctx context.Context, personID int64, zaloUserID string) error {
	if zaloUserID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty zalo user id")
	}
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkZaloFree(tx, zaloUserID, personID); err != nil {
			return err
		}
		var p cnsbot.Person
		if err := takeOne(tx.Where("id = ?", personID), &p, "person %d", personID); err != nil {
			return err
		}
		if p.ZaloUserID != nil && *p.ZaloUserID != "" && *p.ZaloUserID != zaloUserID {
			return cnsbot.Errorf(cnsbot.ECONFLICT, "person %d is linked to another zalo user", personID)
		}
		if err := tx.Model(&p).Update("zalo_user_id", zaloUserID).Error; err != nil {
			return fmt.Errorf("link zalo: %w", err)
		}
		return nil
	})
	if err == nil {
		db.zalo.add(zaloUserID)
	}
	return err
}

// checkZaloFree returns an ECONFLICT error when a person other than
// personID is linked to the Zalo user.
func checkZaloFree(tx *gorm.DB, zaloUserID string, personID int64) error {
	var other int64
	err := tx.Model(&cnsbot.Person{}).Where("zalo_user_id = ? AND id <> ?", zaloUserID, personID).Count(&other).Error
	if err != nil {
		return fmt.Errorf("check zalo link: %w", err)
	}
	if other > 0 {
		return cnsbot.Errorf(cnsbot.ECONFLICT, "zalo user is linked to another person")
	}
	return nil
}

// TeamMembers returns the approved members and leaders of a team, sorted
// the Vietnamese way: by given name (the last word), then full name.
func (db *DB) TeamMembers(ctx context.Context, teamID int64) ([]cnsbot.Person, error) {
	return db.peopleWithRole(ctx, "team_id = ?", teamID, cnsbot.RoleMember, cnsbot.RoleLeader)
}

// TeamLeaders returns the approved leaders of a team.
func (db *DB) TeamLeaders(ctx context.Context, teamID int64) ([]cnsbot.Person, error) {
	return db.peopleWithRole(ctx, "team_id = ?", teamID, cnsbot.RoleLeader)
}

// CommuneOfficers returns the approved officers of a commune.
func (db *DB) CommuneOfficers(ctx context.Context, communeID int64) ([]cnsbot.Person, error) {
	return db.peopleWithRole(ctx, "unit_id = ?", communeID, cnsbot.RoleCommuneOfficer)
}

func (db *DB) peopleWithRole(ctx context.Context, where string, id int64, roles ...string) ([]cnsbot.Person, error) {
	tx := db.orm.WithContext(ctx)
	holders := tx.Model(&cnsbot.Role{}).Select("person_id").
		Where(where, id).Where("role IN ? AND approved = ?", roles, true)
	var people []cnsbot.Person
	if err := tx.Where("id IN (?)", holders).Find(&people).Error; err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	sortPeople(people)
	return people, nil
}

// sortPeople orders people by folded given name, then folded full name.
func sortPeople(people []cnsbot.Person) {
	key := func(p cnsbot.Person) (string, string) {
		full := vn.Fold(p.FullName)
		given := full
		if i := strings.LastIndexByte(full, ' '); i >= 0 {
			given = full[i+1:]
		}
		return given, full
	}
	slices.SortStableFunc(people, func(a, b cnsbot.Person) int {
		ga, fa := key(a)
		gb, fb := key(b)
		if c := strings.Compare(ga, gb); c != 0 {
			return c
		}
		return strings.Compare(fa, fb)
	})
}

// AddPendingMember records someone who asked to join a team but is not on
// its roster: a member role that a leader still has to approve. A person
// already known by phone keeps their stored name and their Zalo link: a
// Zalo id is never given to an existing person here (that would hand their
// roles to whoever typed their number), so p.ZaloUserID set for someone
// known by phone, and not theirs already, is an ECONFLICT error. An
// existing role (pending or approved) is left as it is.
func (db *DB) AddPendingMember(ctx context.Context, p cnsbot.Person, teamID int64) error {
	e164, err := vn.ParsePhone(p.Phone)
	if err != nil {
		return cnsbot.Errorf(cnsbot.EINVALID, "invalid phone number")
	}
	name := cleanCell(p.FullName)
	if name == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty name")
	}
	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var team cnsbot.Team
		if err := takeOne(tx.Where("id = ?", teamID), &team, "team %d", teamID); err != nil {
			return err
		}
		var person cnsbot.Person
		err := tx.Where("phone = ?", e164).Limit(1).Find(&person).Error
		if err != nil {
			return fmt.Errorf("find person: %w", err)
		}
		if p.ZaloUserID != nil && *p.ZaloUserID != "" {
			if err := checkZaloFree(tx, *p.ZaloUserID, person.ID); err != nil {
				return err
			}
		}
		if person.ID == 0 {
			person = cnsbot.Person{FullName: name, Phone: e164, ZaloUserID: p.ZaloUserID, Lang: p.Lang, Demo: p.Demo}
			if err := tx.Create(&person).Error; err != nil {
				return fmt.Errorf("create person: %w", err)
			}
		} else if p.ZaloUserID != nil && *p.ZaloUserID != "" && (person.ZaloUserID == nil || *person.ZaloUserID != *p.ZaloUserID) {
			return cnsbot.Errorf(cnsbot.ECONFLICT, "person %d is on the roster already", person.ID)
		}
		_, _, err = ensureRole(tx, cnsbot.Role{PersonID: person.ID, Role: cnsbot.RoleMember,
			UnitID: team.HamletID, TeamID: &team.ID, Approved: false})
		return err
	})
	if err == nil && p.ZaloUserID != nil {
		db.zalo.add(*p.ZaloUserID)
	}
	return err
}

// ApproveMember approves a person's pending member role in a team.
func (db *DB) ApproveMember(ctx context.Context, personID, teamID int64) error {
	res := db.orm.WithContext(ctx).Model(&cnsbot.Role{}).
		Where("person_id = ? AND team_id = ? AND role = ?", personID, teamID, cnsbot.RoleMember).
		Update("approved", true)
	if res.Error != nil {
		return fmt.Errorf("approve member: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, "member role of person %d in team %d", personID, teamID)
	}
	return nil
}

// ensureRole stores r unless the same role (person, role, unit, team)
// exists. An existing pending role is approved when r is approved; an
// approved one is never made pending again. It reports whether a row was
// created or changed.
func ensureRole(tx *gorm.DB, r cnsbot.Role) (created, changed bool, err error) {
	q := tx.Where("person_id = ? AND role = ? AND unit_id = ?", r.PersonID, r.Role, r.UnitID)
	if r.TeamID == nil {
		q = q.Where("team_id IS NULL")
	} else {
		q = q.Where("team_id = ?", *r.TeamID)
	}
	var existing cnsbot.Role
	if err := q.Limit(1).Find(&existing).Error; err != nil {
		return false, false, fmt.Errorf("find role: %w", err)
	}
	if existing.ID == 0 {
		r.ID = 0
		now := time.Now().UTC()
		r.CreatedAt, r.UpdatedAt = now, now
		if err := tx.Create(&r).Error; err != nil {
			return false, false, fmt.Errorf("create role: %w", err)
		}
		return true, false, nil
	}
	if r.Approved && !existing.Approved {
		if err := tx.Model(&existing).Update("approved", true).Error; err != nil {
			return false, false, fmt.Errorf("approve role: %w", err)
		}
		return false, true, nil
	}
	return false, false, nil
}

// SetPersonLang stores the language ("vi" or "en") of the person whose
// Zalo id this is; nobody on the roster with that id is not an error.
func (db *DB) SetPersonLang(ctx context.Context, zaloUserID, lang string) error {
	err := db.orm.WithContext(ctx).Model(&cnsbot.Person{}).
		Where("zalo_user_id = ?", zaloUserID).
		Update("lang", lang).Error
	if err != nil {
		return fmt.Errorf("set person language: %w", err)
	}
	return nil
}
