package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
)

// StateKept: an announcement for someone outside Zalo's 7-day window,
// never sent, kept with its payload to be delivered as a private copy the
// next time they write (PendingCopies returns it like a refused reminder).
const StateKept = "kept"

// AnnounceOptOut is someone who said "dừng nhận tin": no announcement is
// planned or sent to them until they say "nhận tin". It is in the database
// so that every replica, and the next start, honours it.
type AnnounceOptOut struct {
	UserID    string    `gorm:"primaryKey;size:64"`
	CreatedAt time.Time `gorm:"not null"`
}

// HamletGroup is a hamlet's Zalo group of household representatives,
// linked with "#lienket AP<hamlet id>" by a member or leader of the
// hamlet's team who is in it. A group belongs to one hamlet.
type HamletGroup struct {
	ID        int64     `gorm:"primaryKey"`
	HamletID  int64     `gorm:"not null;index"`
	GroupID   string    `gorm:"size:64;not null;uniqueIndex"`
	LinkedBy  int64     `gorm:"not null;default:0"`
	CreatedAt time.Time `gorm:"not null"`
}

// announceMigrations creates the tables of issue 18.
func announceMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120950_announcements",
		Migrate: func(tx *gorm.DB) error {
			type announcement struct {
				ID              int64  `gorm:"primaryKey"`
				CreatedBy       string `gorm:"size:64;not null"`
				CreatorPersonID *int64
				CreatorName     string    `gorm:"size:200;not null;default:''"`
				CommuneID       *int64    `gorm:"index"`
				HamletIDs       string    `gorm:"size:1000;not null;default:''"`
				Audience        string    `gorm:"size:200;not null"`
				Text            string    `gorm:"type:text;not null"`
				ImageURL        string    `gorm:"size:1000;not null;default:''"`
				LinkURL         string    `gorm:"size:1000;not null;default:''"`
				SendAt          time.Time `gorm:"not null;index:idx_announcements_state_send_at,priority:2"`
				State           string    `gorm:"size:16;not null;index:idx_announcements_state_send_at,priority:1"`
				ClaimedAt       *time.Time
				SentAt          *time.Time
				CreatedAt       time.Time
				UpdatedAt       time.Time
			}
			type announcementRecipient struct {
				ID             int64  `gorm:"primaryKey"`
				AnnouncementID int64  `gorm:"not null;uniqueIndex:uniq_announcement_recipients,priority:1"`
				Route          string `gorm:"size:128;not null;uniqueIndex:uniq_announcement_recipients,priority:2"`
				Kind           string `gorm:"size:32;not null"`
				PersonID       int64  `gorm:"not null;default:0"`
				CommuneID      int64  `gorm:"not null;default:0"`
				HamletID       int64  `gorm:"not null;default:0"`
				Channel        string `gorm:"size:16;not null"`
				Reason         string `gorm:"size:32;not null;default:''"`
				MessageID      string `gorm:"size:255;not null;default:'';index"`
				Lang           string `gorm:"size:8;not null;default:''"`
				Queued         bool   `gorm:"not null;default:false"`
				CreatedAt      time.Time
			}
			type announceOptOut struct {
				UserID    string    `gorm:"primaryKey;size:64"`
				CreatedAt time.Time `gorm:"not null"`
			}
			type hamletGroup struct {
				ID        int64     `gorm:"primaryKey"`
				HamletID  int64     `gorm:"not null;index"`
				GroupID   string    `gorm:"size:64;not null;uniqueIndex"`
				LinkedBy  int64     `gorm:"not null;default:0"`
				CreatedAt time.Time `gorm:"not null"`
			}
			return tx.AutoMigrate(&announcement{}, &announcementRecipient{}, &announceOptOut{}, &hamletGroup{})
		},
	}}
}

// CreateAnnouncement stores a, scheduled for a.SendAt.
func (db *DB) CreateAnnouncement(ctx context.Context, a *announce.Announcement) error {
	if strings.TrimSpace(a.Text) == "" || len(a.Parts()) == 0 {
		return cnsbot.Errorf(cnsbot.EINVALID, "an announcement needs a text and an audience")
	}
	a.State = announce.StateScheduled
	a.SendAt = a.SendAt.UTC()
	if err := db.orm.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("create announcement: %w", err)
	}
	return nil
}

// Announcement returns announcement id.
func (db *DB) Announcement(ctx context.Context, id int64) (announce.Announcement, error) {
	var a announce.Announcement
	if err := takeOne(db.orm.WithContext(ctx).Where("id = ?", id), &a, "announcement %d", id); err != nil {
		return announce.Announcement{}, err
	}
	return a, nil
}

// Announcements returns the latest limit announcements, newest first:
// those of the communes given, or all when all is true (a province-wide
// announcement is listed for everyone who sees all).
func (db *DB) Announcements(ctx context.Context, communes []int64, all bool, limit int) ([]announce.Announcement, error) {
	q := db.orm.WithContext(ctx).Order("id DESC").Limit(limit)
	if !all {
		q = q.Where("commune_id IN ?", append([]int64{-1}, communes...))
	}
	var out []announce.Announcement
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list announcements: %w", err)
	}
	return out, nil
}

// ClaimDueAnnouncements marks as sending, for this caller only, the
// announcements due at now and those left sending since before
// staleBefore, and returns them. Each is claimed by one conditional
// update, so two replicas never both claim one.
func (db *DB) ClaimDueAnnouncements(ctx context.Context, now, staleBefore time.Time) ([]announce.Announcement, error) {
	now, staleBefore = now.UTC(), staleBefore.UTC()
	due := func(q *gorm.DB) *gorm.DB {
		return q.Where("(state = ? AND send_at <= ?) OR (state = ? AND claimed_at < ?)",
			announce.StateScheduled, now, announce.StateSending, staleBefore)
	}
	var ids []int64
	if err := due(db.orm.WithContext(ctx).Model(&announce.Announcement{})).Order("send_at, id").Limit(20).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("due announcements: %w", err)
	}
	var out []announce.Announcement
	for _, id := range ids {
		res := due(db.orm.WithContext(ctx).Model(&announce.Announcement{}).Where("id = ?", id)).
			Updates(map[string]any{"state": announce.StateSending, "claimed_at": now, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return out, fmt.Errorf("claim announcement %d: %w", id, res.Error)
		}
		if res.RowsAffected != 1 {
			continue
		}
		a, err := db.Announcement(ctx, id)
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// FinishAnnouncement records that every message of announcement id is
// queued or kept.
func (db *DB) FinishAnnouncement(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC()
	err := db.orm.WithContext(ctx).Model(&announce.Announcement{}).Where("id = ?", id).
		Updates(map[string]any{"state": announce.StateSent, "sent_at": at, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("finish announcement %d: %w", id, err)
	}
	return nil
}

// SaveRecipients records the recipients of announcement id. A recipient
// already recorded (a run taken over after a crash) keeps its first row.
func (db *DB) SaveRecipients(ctx context.Context, id int64, rows []announce.Recipient) error {
	for i := range rows {
		rows[i].AnnouncementID = id
		rows[i].CreatedAt = rows[i].CreatedAt.UTC()
	}
	if len(rows) == 0 {
		return nil
	}
	err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
	if err != nil {
		return fmt.Errorf("save announcement recipients: %w", err)
	}
	return nil
}

// UnqueuedRecipients returns the recipients of announcement id whose
// message is neither queued nor kept yet.
func (db *DB) UnqueuedRecipients(ctx context.Context, id int64) ([]announce.Recipient, error) {
	var out []announce.Recipient
	err := db.orm.WithContext(ctx).Where("announcement_id = ? AND queued = ? AND channel IN ?", id, false,
		[]string{announce.ChannelDirect, announce.ChannelLater}).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("unqueued announcement recipients: %w", err)
	}
	return out, nil
}

// MarkRecipientsQueued records that the messages of routes are queued.
func (db *DB) MarkRecipientsQueued(ctx context.Context, id int64, routes []string) error {
	err := db.orm.WithContext(ctx).Model(&announce.Recipient{}).
		Where("announcement_id = ? AND route IN ?", id, routes).Update("queued", true).Error
	if err != nil {
		return fmt.Errorf("mark announcement recipients queued: %w", err)
	}
	return nil
}

// scopeHamlets returns the hamlets an announcement covers, with their
// communes.
func (db *DB) scopeHamlets(ctx context.Context, a announce.Announcement) (map[int64]int64, error) {
	q := db.orm.WithContext(ctx).Model(&cnsbot.Unit{}).Where("kind = ?", cnsbot.UnitHamlet)
	if a.CommuneID != nil {
		q = q.Where("parent_id = ?", *a.CommuneID)
	}
	if ids := a.Hamlets(); len(ids) > 0 {
		q = q.Where("id IN ?", ids)
	}
	var rows []struct {
		ID       int64
		ParentID *int64
	}
	if err := q.Select("id", "parent_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("hamlets of announcement: %w", err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.ID] = 0
		if r.ParentID != nil {
			out[r.ID] = *r.ParentID
		}
	}
	return out, nil
}

// Candidates returns everyone and every group a's audience names, in its
// hamlets: leaders, then members, then residents (someone named twice is
// planned under the first), then the groups. Residents are the Zalo users
// whose help requests were for one of the hamlets (their latest request
// decides their hamlet), which is all the service knows of where residents
// live.
func (db *DB) Candidates(ctx context.Context, a announce.Announcement) ([]announce.Candidate, error) {
	hamlets, err := db.scopeHamlets(ctx, a)
	if err != nil || len(hamlets) == 0 {
		return nil, err
	}
	ids := make([]int64, 0, len(hamlets))
	for id := range hamlets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	tx := db.orm.WithContext(ctx)
	var out []announce.Candidate
	var roles []string
	if a.Has(announce.AudienceLeaders) {
		roles = append(roles, cnsbot.RoleLeader)
	}
	if a.Has(announce.AudienceMembers) {
		roles = append(roles, cnsbot.RoleMember)
	}
	if len(roles) > 0 {
		var rows []struct {
			PersonID   int64
			ZaloUserID *string
			Lang       string
			Role       string
			HamletID   int64
		}
		err := tx.Raw(`SELECT p.id AS person_id, p.zalo_user_id, p.lang, r.role, t.hamlet_id
			FROM roles r JOIN people p ON p.id = r.person_id JOIN teams t ON t.id = r.team_id
			WHERE r.approved = ? AND r.role IN ? AND t.hamlet_id IN ?
			ORDER BY CASE r.role WHEN 'leader' THEN 0 ELSE 1 END, p.id`, true, roles, ids).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("announcement team members: %w", err)
		}
		for _, r := range rows {
			c := announce.Candidate{Kind: announce.KindMember, PersonID: r.PersonID, HamletID: r.HamletID,
				CommuneID: hamlets[r.HamletID], Lang: r.Lang}
			if r.Role == cnsbot.RoleLeader {
				c.Kind = announce.KindLeader
			}
			if r.ZaloUserID != nil {
				c.UserID = *r.ZaloUserID
			}
			out = append(out, c)
		}
	}
	if a.Has(announce.AudienceResidents) {
		var rows []struct {
			ResidentUserID string
			HamletID       int64
		}
		// Every resident's latest request, in or out of the scope: a
		// resident who moved is not told about their old hamlet.
		err := tx.Raw(`SELECT h.resident_user_id, h.hamlet_id FROM help_requests h
			WHERE h.resident_user_id <> '' AND h.resident_user_id IN
				(SELECT resident_user_id FROM help_requests WHERE hamlet_id IN ?)
			ORDER BY h.created_at DESC, h.id DESC`, ids).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("announcement residents: %w", err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if seen[r.ResidentUserID] {
				continue
			}
			seen[r.ResidentUserID] = true
			if _, ok := hamlets[r.HamletID]; !ok {
				continue
			}
			out = append(out, announce.Candidate{Kind: announce.KindResident, UserID: r.ResidentUserID,
				HamletID: r.HamletID, CommuneID: hamlets[r.HamletID]})
		}
	}
	if a.Has(announce.AudienceGroups) {
		var groups []HamletGroup
		if err := tx.Where("hamlet_id IN ?", ids).Order("id").Find(&groups).Error; err != nil {
			return nil, fmt.Errorf("announcement household groups: %w", err)
		}
		for _, g := range groups {
			out = append(out, announce.Candidate{Kind: announce.KindHouseholdGroup, GroupID: g.GroupID,
				HamletID: g.HamletID, CommuneID: hamlets[g.HamletID]})
		}
		var teams []cnsbot.Team
		if err := tx.Where("hamlet_id IN ? AND group_id <> ''", ids).Order("id").Find(&teams).Error; err != nil {
			return nil, fmt.Errorf("announcement team groups: %w", err)
		}
		for _, t := range teams {
			out = append(out, announce.Candidate{Kind: announce.KindTeamGroup, GroupID: t.GroupID,
				HamletID: t.HamletID, CommuneID: hamlets[t.HamletID]})
		}
	}
	return out, nil
}

// OptedOut returns which of userIDs said "dừng nhận tin".
func (db *DB) OptedOut(ctx context.Context, userIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(userIDs, 500) {
		var got []string
		if err := db.orm.WithContext(ctx).Model(&AnnounceOptOut{}).Where("user_id IN ?", chunk).Pluck("user_id", &got).Error; err != nil {
			return nil, fmt.Errorf("announcement opt-outs: %w", err)
		}
		for _, u := range got {
			out[u] = true
		}
	}
	return out, nil
}

// IsOptedOut reports whether userID said "dừng nhận tin".
func (db *DB) IsOptedOut(ctx context.Context, userID string) (bool, error) {
	got, err := db.OptedOut(ctx, []string{userID})
	return got[userID], err
}

// SetOptOut records that userID no longer wants announcements (out true)
// or wants them again. Stopping also drops the copies kept for them, so
// that nothing reaches them later either.
func (db *DB) SetOptOut(ctx context.Context, userID string, out bool) error {
	if userID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty user id")
	}
	tx := db.orm.WithContext(ctx)
	if !out {
		if err := tx.Where("user_id = ?", userID).Delete(&AnnounceOptOut{}).Error; err != nil {
			return fmt.Errorf("opt in to announcements: %w", err)
		}
		return nil
	}
	return tx.Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&AnnounceOptOut{UserID: userID, CreatedAt: time.Now().UTC()}).Error
		if err != nil {
			return fmt.Errorf("opt out of announcements: %w", err)
		}
		err = tx.Model(&Delivery{}).Where("recipient = ? AND purpose = ? AND state = ?",
			cnsbot.Recipient{UserID: userID}.String(), announce.Purpose, StateKept).
			Updates(map[string]any{"state": StateUndeliverable, "reason": announce.ReasonOptedOut, "payload": "", "updated_at": time.Now().UTC()}).Error
		if err != nil {
			return fmt.Errorf("drop kept announcements: %w", err)
		}
		// Announcements Zalo refused for the window keep a copy too: its
		// payload goes, so that PendingCopies no longer finds it.
		err = tx.Model(&Delivery{}).Where("recipient = ? AND purpose = ? AND state IN ? AND payload <> ''",
			cnsbot.Recipient{UserID: userID}.String(), announce.Purpose, []string{StateUndeliverable, StateFallback}).
			Updates(map[string]any{"payload": "", "updated_at": time.Now().UTC()}).Error
		if err != nil {
			return fmt.Errorf("drop refused announcements' copies: %w", err)
		}
		return nil
	})
}

// Keep records m, an announcement for someone outside the window, as a
// kept copy, and indexes its recipient so that their next message finds it.
func (k *KeptCopies) Keep(ctx context.Context, m cnsbot.Outgoing, reason string) error {
	if m.To.UserID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "a kept copy needs a person")
	}
	if err := k.rdb.SAdd(ctx, k.key, m.To.UserID).Err(); err != nil {
		return fmt.Errorf("index kept copy: %w", err)
	}
	d := newDelivery(m, StateKept)
	d.Reason = reason
	if err := withPayload(&d, m); err != nil {
		return fmt.Errorf("keep copy: %w", err)
	}
	if err := k.recordDelivery(ctx, d); err != nil {
		return fmt.Errorf("keep copy: %w", err)
	}
	return nil
}

// LinkHamletGroup links a Zalo group to a hamlet as its household group,
// unlinking it from a team (a group is one or the other).
func (db *DB) LinkHamletGroup(ctx context.Context, hamletID int64, groupID string, by int64) error {
	if groupID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty group id")
	}
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&cnsbot.Team{}).Where("group_id = ?", groupID).Update("group_id", "").Error; err != nil {
			return fmt.Errorf("unlink team group: %w", err)
		}
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "group_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"hamlet_id", "linked_by", "created_at"})}).
			Create(&HamletGroup{HamletID: hamletID, GroupID: groupID, LinkedBy: by, CreatedAt: time.Now().UTC()}).Error
		if err != nil {
			return fmt.Errorf("link household group: %w", err)
		}
		return nil
	})
}

// HamletOfGroup returns the hamlet whose household group is groupID, or
// an ENOTFOUND error.
func (db *DB) HamletOfGroup(ctx context.Context, groupID string) (cnsbot.Unit, error) {
	var g HamletGroup
	if err := takeOne(db.orm.WithContext(ctx).Where("group_id = ?", groupID), &g, "household group"); err != nil {
		return cnsbot.Unit{}, err
	}
	return db.Unit(ctx, g.HamletID)
}

// AnnouncementOutcomes returns the recipients of announcement id with
// their messages' outcomes.
func (db *DB) AnnouncementOutcomes(ctx context.Context, id int64) ([]announce.Outcome, error) {
	var rows []struct {
		announce.Recipient
		DState    *string
		DCode     *int
		DReason   *string
		CopyState *string
	}
	err := db.orm.WithContext(ctx).Raw(`SELECT r.*, d.state AS d_state, d.zalo_code AS d_code, d.reason AS d_reason,
			c.state AS copy_state
		FROM announcement_recipients r
		LEFT JOIN deliveries d ON d.message_id = r.message_id AND r.message_id <> ''
		LEFT JOIN deliveries c ON c.message_id = ? || r.message_id AND r.message_id <> ''
		WHERE r.announcement_id = ? ORDER BY r.id`, CopyPrefix, id).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("announcement outcomes: %w", err)
	}
	out := make([]announce.Outcome, len(rows))
	for i, r := range rows {
		o := announce.Outcome{Recipient: r.Recipient}
		if r.DState != nil {
			o.State = *r.DState
		}
		if r.DCode != nil {
			o.ZaloCode = *r.DCode
		}
		if r.DReason != nil {
			o.ZaloReason = *r.DReason
		}
		if r.CopyState != nil {
			o.CopyState = *r.CopyState
		}
		out[i] = o
	}
	return out, nil
}

// LastSeen returns when each of userIDs last wrote to the OA, and the
// language they chat in, from their chat sessions: a session is written by
// every message a person sends and expires SessionTTL (Zalo's 7 days)
// after the last, so someone missing has not written for that long.
func (q *Queue) LastSeen(ctx context.Context, userIDs []string) (map[string]announce.Seen, error) {
	out := make(map[string]announce.Seen, len(userIDs))
	for chunk := range slices.Chunk(userIDs, 1000) {
		cmds := make([]*redis.StringCmd, len(chunk))
		_, err := q.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for i, u := range chunk {
				route := cnsbot.Recipient{UserID: u}.String()
				cmds[i] = pipe.Get(ctx, q.sessionKey(q.partition(route), route))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("last seen: %w", err)
		}
		for i, cmd := range cmds {
			b, err := cmd.Bytes()
			if err != nil {
				continue
			}
			var s struct {
				UpdatedAt time.Time `json:"updated_at"`
				Lang      string    `json:"lang"`
			}
			if json.Unmarshal(b, &s) == nil && !s.UpdatedAt.IsZero() {
				out[chunk[i]] = announce.Seen{At: s.UpdatedAt, Lang: s.Lang}
			}
		}
	}
	return out, nil
}
