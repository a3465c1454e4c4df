package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
)

// Consent records that a Zalo user agreed to the notice on personal data
// (Decree 13/2023, Personal Data Protection Law) before the service kept
// their name or phone: when, and which version of the notice they read.
type Consent struct {
	ID         int64     `gorm:"primaryKey"`
	ZaloUserID string    `gorm:"size:64;not null;uniqueIndex:uniq_consents_user_version,priority:1"`
	Version    string    `gorm:"size:16;not null;uniqueIndex:uniq_consents_user_version,priority:2"`
	AgreedAt   time.Time `gorm:"not null"`
}

// Unfollow records that a Zalo user unfollowed the OA, so that the
// retention pass deletes their conversation session. A follow again
// deletes the row.
type Unfollow struct {
	ZaloUserID       string     `gorm:"primaryKey;size:64"`
	UnfollowedAt     time.Time  `gorm:"not null"`
	SessionClearedAt *time.Time `gorm:"index"`
}

// Erasure records that personal data was deleted: when, why and how much.
// It holds no personal data itself, not even the Zalo id it was about.
type Erasure struct {
	ID int64 `gorm:"primaryKey"`
	// Reason is ReasonAsked, ReasonRequestsExpired, ReasonDeadEventsExpired
	// or ReasonUnfollowed.
	Reason      string    `gorm:"size:32;not null"`
	Requests    int64     `gorm:"not null;default:0"`
	Attachments int64     `gorm:"not null;default:0"`
	Visits      int64     `gorm:"not null;default:0"`
	Deliveries  int64     `gorm:"not null;default:0"`
	Handoffs    int64     `gorm:"not null;default:0"`
	DeadEvents  int64     `gorm:"not null;default:0"`
	Sessions    int64     `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"not null;index"`
}

// Reasons of an Erasure.
const (
	// ReasonAsked: the person wrote "xóa thông tin của tôi".
	ReasonAsked = "asked"
	// ReasonRequestsExpired: closed or cancelled requests past retention.
	ReasonRequestsExpired = "requests_expired"
	// ReasonDeadEventsExpired: dead events' payloads past retention.
	ReasonDeadEventsExpired = "dead_events_expired"
	// ReasonUnfollowed: sessions of people who unfollowed the OA.
	ReasonUnfollowed = "unfollowed"
	// ReasonDeliveriesExpired: texts of refused messages past re-sending.
	ReasonDeliveriesExpired = "deliveries_expired"
)

func privacyMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120706_privacy",
		Migrate: func(tx *gorm.DB) error {
			// Frozen copies of the models above, as of this migration.
			type consent struct {
				ID         int64     `gorm:"primaryKey"`
				ZaloUserID string    `gorm:"size:64;not null;uniqueIndex:uniq_consents_user_version,priority:1"`
				Version    string    `gorm:"size:16;not null;uniqueIndex:uniq_consents_user_version,priority:2"`
				AgreedAt   time.Time `gorm:"not null"`
			}
			type unfollow struct {
				ZaloUserID       string     `gorm:"primaryKey;size:64"`
				UnfollowedAt     time.Time  `gorm:"not null"`
				SessionClearedAt *time.Time `gorm:"index:idx_unfollows_session_cleared_at"`
			}
			type erasure struct {
				ID          int64     `gorm:"primaryKey"`
				Reason      string    `gorm:"size:32;not null"`
				Requests    int64     `gorm:"not null;default:0"`
				Attachments int64     `gorm:"not null;default:0"`
				Visits      int64     `gorm:"not null;default:0"`
				Deliveries  int64     `gorm:"not null;default:0"`
				Handoffs    int64     `gorm:"not null;default:0"`
				DeadEvents  int64     `gorm:"not null;default:0"`
				Sessions    int64     `gorm:"not null;default:0"`
				CreatedAt   time.Time `gorm:"not null;index:idx_privacy_erasures_created_at"`
			}
			for name, model := range map[string]any{"consents": &consent{}, "unfollows": &unfollow{}, "privacy_erasures": &erasure{}} {
				if err := tx.Table(name).Migrator().CreateTable(model); err != nil {
					return fmt.Errorf("create table %s: %w", name, err)
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, t := range []string{"consents", "unfollows", "privacy_erasures"} {
				if err := tx.Migrator().DropTable(t); err != nil {
					return fmt.Errorf("drop %s: %w", t, err)
				}
			}
			return nil
		},
	}}
}

// TableName keeps the erasures apart from any other "erasures".
func (Erasure) TableName() string { return "privacy_erasures" }

// RecordConsent records that userID agreed to version of the notice at
// at. Agreeing again to the same version keeps the first time.
func (db *DB) RecordConsent(ctx context.Context, userID, version string, at time.Time) error {
	if userID == "" || version == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "consent without user or version")
	}
	row := Consent{ZaloUserID: userID, Version: version, AgreedAt: at.UTC()}
	if err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return nil
}

// HasConsent reports whether userID agreed to version of the notice.
func (db *DB) HasConsent(ctx context.Context, userID, version string) (bool, error) {
	var n int64
	if err := db.orm.WithContext(ctx).Model(&Consent{}).Where("zalo_user_id = ? AND version = ?", userID, version).Count(&n).Error; err != nil {
		return false, fmt.Errorf("find consent: %w", err)
	}
	return n > 0, nil
}

// ConsentOf returns userID's consent to version, or an ENOTFOUND error.
func (db *DB) ConsentOf(ctx context.Context, userID, version string) (Consent, error) {
	var c Consent
	err := takeOne(db.orm.WithContext(ctx).Where("zalo_user_id = ? AND version = ?", userID, version), &c, "consent")
	return c, err
}

// helpPersonalFields are the help request's columns that say who the
// resident is or what they told the team; the rest (place, topic, status,
// times, rating) stays so that requests still count.
var helpPersonalFields = map[string]any{
	"resident_user_id": "", "name": "", "phone": "", "problem": "", "preferred_time": "", "outcome": "",
}

// EraseUser deletes or anonymises what the database holds about the Zalo
// user userID, at their request: their help requests' personal fields (an
// open one is cancelled, since nobody could reach them any more), the
// photos and locations attached, the resident's name on the visits that
// closed those requests, the messages kept for them in the delivery log,
// their handoffs, consents and unfollow mark, and their Zalo id on the
// announcements they were sent. Counts stay: the requests and
// visits remain as rows. A roster entry (people, roles) is the commune's
// and is kept. The erasure is recorded, without the Zalo id.
func (db *DB) EraseUser(ctx context.Context, userID string, at time.Time) (Erasure, error) {
	if userID == "" {
		return Erasure{}, cnsbot.Errorf(cnsbot.EINVALID, "erase without a user")
	}
	e := Erasure{Reason: ReasonAsked, CreatedAt: at.UTC()}
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&cnsbot.HelpRequest{}).
			Where("resident_user_id = ? AND status IN ?", userID, []string{cnsbot.HelpOpen, cnsbot.HelpTaken}).
			Updates(map[string]any{"status": cnsbot.HelpCancelled, "cancelled_at": at.UTC(), "updated_at": at.UTC()}).Error; err != nil {
			return fmt.Errorf("cancel open requests: %w", err)
		}
		var ids []int64
		if err := tx.Model(&cnsbot.HelpRequest{}).Where("resident_user_id = ?", userID).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("find requests: %w", err)
		}
		if err := forgetRequests(tx, ids, &e); err != nil {
			return err
		}
		res := tx.Where("recipient = ?", cnsbot.Recipient{UserID: userID}.String()).Delete(&Delivery{})
		if res.Error != nil {
			return fmt.Errorf("delete kept messages: %w", res.Error)
		}
		e.Deliveries = res.RowsAffected
		// What the resident wrote to a person goes with their handoffs.
		if err := tx.Where("handoff_id IN (?)", tx.Model(&Handoff{}).Select("id").Where("user_id = ?", userID)).
			Delete(&cnsbot.HandoffMessage{}).Error; err != nil {
			return fmt.Errorf("delete handoff messages: %w", err)
		}
		// Announcements they were sent keep their row for the report's
		// counts, without the Zalo id. Their "dừng nhận tin" is kept: it
		// is their refusal, and forgetting it would send them what they
		// refused.
		if err := tx.Model(&announce.Recipient{}).Where("route = ?", cnsbot.Recipient{UserID: userID}.String()).
			Update("route", gorm.Expr("'erased:' || id")).Error; err != nil {
			return fmt.Errorf("forget announcement recipients: %w", err)
		}
		res = tx.Where("user_id = ?", userID).Delete(&Handoff{})
		if res.Error != nil {
			return fmt.Errorf("delete handoffs: %w", res.Error)
		}
		e.Handoffs = res.RowsAffected
		for _, m := range []any{&Consent{}, &Unfollow{}} {
			if err := tx.Where("zalo_user_id = ?", userID).Delete(m).Error; err != nil {
				return fmt.Errorf("delete %T: %w", m, err)
			}
		}
		return tx.Create(&e).Error
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("erase user: %w", err)
	}
	return e, nil
}

// forgetRequests clears the personal fields of the requests ids, deletes
// their attachments and anonymises the visits that closed them, adding
// the counts to e.
func forgetRequests(tx *gorm.DB, ids []int64, e *Erasure) error {
	if len(ids) == 0 {
		return nil
	}
	var codes []string
	if err := tx.Model(&cnsbot.HelpRequest{}).Where("id IN ?", ids).Pluck("code", &codes).Error; err != nil {
		return fmt.Errorf("find request codes: %w", err)
	}
	res := tx.Model(&cnsbot.HelpRequest{}).Where("id IN ?", ids).Updates(helpPersonalFields)
	if res.Error != nil {
		return fmt.Errorf("clear requests: %w", res.Error)
	}
	e.Requests += res.RowsAffected
	res = tx.Where("request_id IN ?", ids).Delete(&cnsbot.HelpAttachment{})
	if res.Error != nil {
		return fmt.Errorf("delete attachments: %w", res.Error)
	}
	e.Attachments += res.RowsAffected
	// A visit that closed a request names the resident's household (the
	// member's form fills it with the resident's name). It stays as a
	// visit, named by the request's code; its key becomes a hash of the old
	// one, so the household still counts once.
	var visits []cnsbot.Visit
	if err := tx.Select("id", "team_id", "hamlet_id", "help_code", "household_key").Where("help_code IN ?", codes).Find(&visits).Error; err != nil {
		return fmt.Errorf("find visits: %w", err)
	}
	renamed := make([]renamedKey, 0, len(visits))
	for _, v := range visits {
		sum := sha256.Sum256([]byte(v.HouseholdKey))
		key := "#" + hex.EncodeToString(sum[:8])
		renamed = append(renamed, renamedKey{teamID: v.TeamID, hamletID: v.HamletID, old: v.HouseholdKey, new: key})
		if err := tx.Model(&cnsbot.Visit{}).Where("id = ?", v.ID).Updates(map[string]any{
			"household": v.HelpCode, "household_key": key,
			"note": "", "photo_url": "", "latitude": 0, "longitude": 0,
		}).Error; err != nil {
			return fmt.Errorf("anonymise visit: %w", err)
		}
		if err := renameHousehold(tx, v.TeamID, v.HouseholdKey, key, v.HelpCode); err != nil {
			return err
		}
	}
	e.Visits += int64(len(visits))
	return recountRenamed(tx, renamed)
}

// renamedKey is a household key that erasure replaced on a team's visit.
type renamedKey struct {
	teamID, hamletID int64
	old, new         string
}

// recountRenamed keeps the rollups equal to what a rebuild from the visits
// gives once forgetRequests has renamed households, in its transaction.
// The rollups name a household by a hash of its key, so a renamed visit is
// another household to them. Keeping the rollups' old name was the other
// way, but a rebuild reads only the visits, and the visit cannot keep the
// old key: it holds the resident's name, which is what erasure removes. So
// the teams concerned are recounted from their visits (a team's are a few
// thousand), and each hamlet's area sets trade the old hash for the keys
// its visits now hold. Where another visit of the team still names the
// old key, the team now has two keys for what was one household; the
// rollups count both, as a rebuild would.
func recountRenamed(tx *gorm.DB, renamed []renamedKey) error {
	if len(renamed) == 0 {
		return nil
	}
	teams := make([]int64, 0, len(renamed))
	for _, r := range renamed {
		teams = append(teams, r.teamID)
	}
	if err := rebuildTeamRollups(tx, teams); err != nil {
		return fmt.Errorf("recount erased visits: %w", err)
	}
	done := map[renamedKey]bool{}
	for _, r := range renamed {
		r.teamID = 0 // the area sets are the hamlet's
		if done[r] || r.hamletID == 0 {
			continue
		}
		done[r] = true
		if err := rerollAreaHouseholds(tx, r); err != nil {
			return fmt.Errorf("recount erased visits: %w", err)
		}
	}
	return nil
}

// rerollAreaHouseholds replaces the hamlet's area sets of the renamed
// household with those of the visits that name it by the old key or the
// new one.
func rerollAreaHouseholds(tx *gorm.DB, r renamedKey) error {
	if err := tx.Exec(`DELETE FROM rollup_area_households WHERE hamlet_id = ? AND household = ?`,
		r.hamletID, householdHash(r.old)).Error; err != nil {
		return err
	}
	var keys []struct{ HouseholdKey, Areas string }
	if err := tx.Raw(`SELECT DISTINCT household_key, COALESCE(areas, '') AS areas FROM visits
		WHERE hamlet_id = ? AND household_key IN ?`, r.hamletID, []string{r.old, r.new}).Scan(&keys).Error; err != nil {
		return err
	}
	for _, k := range keys {
		if err := rollAreaHouseholds(tx, &cnsbot.Visit{HamletID: r.hamletID, HouseholdKey: k.HouseholdKey, Areas: k.Areas}); err != nil {
			return err
		}
	}
	return nil
}

// retentionBatch bounds the rows one retention step changes in one
// transaction, so a first run on years of data does not hold locks long.
const retentionBatch = 500

// ForgetClosedRequests clears the personal fields of requests closed or
// cancelled before before (as ForgetUser does for one person), and records
// the erasure at at when there was any. It returns how many requests it
// cleared.
func (db *DB) ForgetClosedRequests(ctx context.Context, before, at time.Time) (int64, error) {
	// Conversations with a person go by the same rule as requests.
	if err := db.forgetClosedHandoffs(ctx, before); err != nil {
		return 0, err
	}
	e := Erasure{Reason: ReasonRequestsExpired, CreatedAt: at.UTC()}
	for {
		var ids []int64
		err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// A request is due from its closing or cancelling time; one
			// cancelled before those were recorded, from its last change.
			if err := tx.Model(&cnsbot.HelpRequest{}).
				Where("status IN ? AND COALESCE(closed_at, cancelled_at, updated_at) < ?", []string{cnsbot.HelpClosed, cnsbot.HelpCancelled}, before.UTC()).
				Where("resident_user_id <> '' OR name <> '' OR phone <> '' OR problem <> '' OR preferred_time <> '' OR outcome <> ''").
				Order("id").Limit(retentionBatch).Pluck("id", &ids).Error; err != nil {
				return fmt.Errorf("find expired requests: %w", err)
			}
			return forgetRequests(tx, ids, &e)
		})
		if err != nil {
			return e.Requests, fmt.Errorf("forget closed requests: %w", err)
		}
		if len(ids) < retentionBatch {
			break
		}
	}
	return e.Requests, db.recordErasure(ctx, e)
}

// ClearDeadEvents empties the payloads of dead events recorded before
// before (the event as Zalo sent it: who wrote and what). The key and the
// error stay, to show that something failed.
func (db *DB) ClearDeadEvents(ctx context.Context, before, at time.Time) (int64, error) {
	res := db.orm.WithContext(ctx).Model(&DeadEvent{}).Where("created_at < ? AND payload <> ''", before.UTC()).Update("payload", "")
	if res.Error != nil {
		return 0, fmt.Errorf("clear dead events: %w", res.Error)
	}
	return res.RowsAffected, db.recordErasure(ctx, Erasure{Reason: ReasonDeadEventsExpired, DeadEvents: res.RowsAffected, CreatedAt: at.UTC()})
}

// ClearDeliveryPayloads empties the text kept with refused messages
// recorded before before: it is kept so that the message can be sent again
// (a private copy once the person writes, CopyMaxAge), and after that only
// holds names and places nobody will read. Held messages keep theirs until
// they are released.
func (db *DB) ClearDeliveryPayloads(ctx context.Context, before, at time.Time) (int64, error) {
	res := db.orm.WithContext(ctx).Model(&Delivery{}).
		Where("created_at < ? AND payload <> '' AND state <> ?", before.UTC(), StateHeld).Update("payload", "")
	if res.Error != nil {
		return 0, fmt.Errorf("clear delivery payloads: %w", res.Error)
	}
	return res.RowsAffected, db.recordErasure(ctx, Erasure{Reason: ReasonDeliveriesExpired, Deliveries: res.RowsAffected, CreatedAt: at.UTC()})
}

// recordErasure keeps e when it erased anything.
func (db *DB) recordErasure(ctx context.Context, e Erasure) error {
	if e.Requests+e.Attachments+e.Visits+e.Deliveries+e.Handoffs+e.DeadEvents+e.Sessions == 0 {
		return nil
	}
	if err := db.orm.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	return nil
}

// RecordUnfollow records that userID unfollowed the OA at at.
func (db *DB) RecordUnfollow(ctx context.Context, userID string, at time.Time) error {
	if userID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "unfollow without a user")
	}
	row := Unfollow{ZaloUserID: userID, UnfollowedAt: at.UTC()}
	err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "zalo_user_id"}},
		DoUpdates: clause.Assignments(map[string]any{"unfollowed_at": at.UTC(), "session_cleared_at": nil}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("record unfollow: %w", err)
	}
	return nil
}

// ClearUnfollow forgets that userID unfollowed: they followed again.
func (db *DB) ClearUnfollow(ctx context.Context, userID string) error {
	if err := db.orm.WithContext(ctx).Where("zalo_user_id = ?", userID).Delete(&Unfollow{}).Error; err != nil {
		return fmt.Errorf("clear unfollow: %w", err)
	}
	return nil
}

// UnfollowedSessions returns up to limit users who unfollowed and whose
// session has not been deleted since.
func (db *DB) UnfollowedSessions(ctx context.Context, limit int) ([]string, error) {
	var ids []string
	if err := db.orm.WithContext(ctx).Model(&Unfollow{}).Where("session_cleared_at IS NULL").
		Order("unfollowed_at").Limit(limit).Pluck("zalo_user_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("unfollowed sessions: %w", err)
	}
	return ids, nil
}

// MarkSessionsCleared records that the sessions of userIDs were deleted at
// at, and records the erasure.
func (db *DB) MarkSessionsCleared(ctx context.Context, userIDs []string, at time.Time) error {
	if len(userIDs) == 0 {
		return nil
	}
	res := db.orm.WithContext(ctx).Model(&Unfollow{}).Where("zalo_user_id IN ? AND session_cleared_at IS NULL", userIDs).
		Update("session_cleared_at", at.UTC())
	if res.Error != nil {
		return fmt.Errorf("mark sessions cleared: %w", res.Error)
	}
	return db.recordErasure(ctx, Erasure{Reason: ReasonUnfollowed, Sessions: res.RowsAffected, CreatedAt: at.UTC()})
}

// Erasures returns the most recent erasures, newest first.
func (db *DB) Erasures(ctx context.Context, limit int) ([]Erasure, error) {
	var rows []Erasure
	if err := db.orm.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list erasures: %w", err)
	}
	return rows, nil
}

// ForgetUser erases what the database holds about userID (see
// DB.EraseUser) and drops them from the index of kept copies.
func (k *KeptCopies) ForgetUser(ctx context.Context, userID string, at time.Time) error {
	if _, err := k.EraseUser(ctx, userID, at); err != nil {
		return err
	}
	if err := k.rdb.SRem(ctx, k.key, userID).Err(); err != nil {
		return fmt.Errorf("forget kept copies: %w", err)
	}
	return nil
}

// DeleteSession deletes the conversation session of route. A conversation
// that goes on later starts a new one.
func (q *Queue) DeleteSession(ctx context.Context, route string) error {
	if err := q.rdb.Del(ctx, q.sessionKey(q.partition(route), route)).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// renameHousehold gives the team's household row of an anonymised visit
// its new key and the request's code for a label, once no other visit
// names it by the old key: the row holds the name the member typed. While
// another visit still names that household (another request's, say), the
// row stays as it is, as that visit does.
func renameHousehold(tx *gorm.DB, teamID int64, oldKey, newKey, label string) error {
	var others int64
	if err := tx.Model(&cnsbot.Visit{}).Where("team_id = ? AND household_key = ?", teamID, oldKey).Count(&others).Error; err != nil {
		return fmt.Errorf("count visits of household: %w", err)
	}
	if others > 0 {
		return nil
	}
	var taken int64
	if err := tx.Model(&Household{}).Where("team_id = ? AND key = ?", teamID, newKey).Count(&taken).Error; err != nil {
		return fmt.Errorf("find household: %w", err)
	}
	q := tx.Where("team_id = ? AND key = ?", teamID, oldKey)
	if taken > 0 {
		// The anonymised household has its row already: the old one goes.
		if err := q.Delete(&Household{}).Error; err != nil {
			return fmt.Errorf("delete household: %w", err)
		}
		return nil
	}
	if err := q.Model(&Household{}).Updates(map[string]any{"key": newKey, "label": label}).Error; err != nil {
		return fmt.Errorf("anonymise household: %w", err)
	}
	return nil
}
