package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// HandoffCodeLen is the length of a handoff code: five characters of
// HelpCodeAlphabet (no look-alikes, nothing a Vietnamese keyboard turns
// into a letter with a mark), about 8 million codes for the few handoffs
// open at any time. It is shorter than a help request's code, so the two
// are never confused: "xong" followed by a five-character code closes a
// handoff, by an "HT" code a help request.
const HandoffCodeLen = 5

// handoffCodeAttempts bounds the retries on a collision among open codes.
const handoffCodeAttempts = 10

func newHandoffCode() string {
	limit := byte(256 - 256%len(HelpCodeAlphabet))
	b := make([]byte, 0, HandoffCodeLen)
	var buf [16]byte
	for len(b) < HandoffCodeLen {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand's documented contract)
		for _, x := range buf {
			if x < limit && len(b) < HandoffCodeLen {
				b = append(b, HelpCodeAlphabet[int(x)%len(HelpCodeAlphabet)])
			}
		}
	}
	return string(b)
}

// ParseHandoffCode reads a handoff code as typed ("k7q3m", "#K7Q-3M"): it
// returns the stored form and whether the text is one.
func ParseHandoffCode(text string) (string, bool) {
	c := strings.TrimLeft(normalizeCode(text), "#")
	if len(c) != HandoffCodeLen {
		return "", false
	}
	for _, r := range c {
		if !strings.ContainsRune(HelpCodeAlphabet, r) {
			return "", false
		}
	}
	return c, true
}

// OpenHandoff stores a new open handoff with a fresh code unique among the
// open ones. An unset TeamID becomes the hamlet's first team and an unset
// CommuneID the hamlet's commune. When h.SourceEvent already opened one, h
// is filled with that handoff instead.
func (db *DB) OpenHandoff(ctx context.Context, h *cnsbot.Handoff) error {
	if h.UserID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "handoff without user")
	}
	tx := db.orm.WithContext(ctx)
	if found, err := bySource(tx, h, h.SourceEvent, "handoff"); found || err != nil {
		return err
	}
	if err := fillPlace(tx, h.HamletID, &h.CommuneID, &h.TeamID); err != nil {
		return err
	}
	h.Status = cnsbot.HandoffOpen
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now()
	}
	h.CreatedAt = h.CreatedAt.UTC()
	return createCoded(tx, h, h.SourceEvent, handoffCodeAttempts, "handoff", func(h *cnsbot.Handoff) {
		h.ID, h.Code = 0, newHandoffCode()
	})
}

// OpenHandoffOf returns the resident's open handoff, or ENOTFOUND.
func (db *DB) OpenHandoffOf(ctx context.Context, userID string) (cnsbot.Handoff, error) {
	var h cnsbot.Handoff
	q := db.orm.WithContext(ctx).Where("user_id = ? AND status = ?", userID, cnsbot.HandoffOpen).Order("id DESC")
	if err := takeOne(q, &h, "open handoff"); err != nil {
		return cnsbot.Handoff{}, err
	}
	return h, nil
}

// HandoffOf returns the resident's latest handoff with the code, open or
// not, or ENOTFOUND.
func (db *DB) HandoffOf(ctx context.Context, userID, code string) (cnsbot.Handoff, error) {
	var h cnsbot.Handoff
	c, ok := ParseHandoffCode(code)
	if !ok {
		return h, cnsbot.Errorf(cnsbot.EINVALID, "not a handoff code")
	}
	q := db.orm.WithContext(ctx).Where("user_id = ? AND code = ?", userID, c).Order("id DESC")
	if err := takeOne(q, &h, "handoff %q", c); err != nil {
		return cnsbot.Handoff{}, err
	}
	return h, nil
}

// servedHandoffSQL is servedBySQL for handoffs: the hamlet's team, the
// commune's officers, the province's officers and administrators.
var servedHandoffSQL = strings.ReplaceAll(servedBySQL, "help_requests.", "handoffs.")

func servesHandoff(personID int64) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		return q.Where(servedHandoffSQL, personID, true,
			[]string{cnsbot.RoleMember, cnsbot.RoleLeader}, cnsbot.RoleCommuneOfficer,
			[]string{cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin})
	}
}

// HandoffFor returns the latest handoff with the code when personID may
// answer it (the same rule as help requests, see servedBySQL). Anyone
// else gets ENOTFOUND, as for a code that does not exist.
func (db *DB) HandoffFor(ctx context.Context, code string, personID int64) (cnsbot.Handoff, error) {
	var h cnsbot.Handoff
	c, ok := ParseHandoffCode(code)
	if !ok {
		return h, cnsbot.Errorf(cnsbot.EINVALID, "not a handoff code")
	}
	q := db.orm.WithContext(ctx).Scopes(servesHandoff(personID)).Where("code = ?", c).Order("id DESC")
	if err := takeOne(q, &h, "handoff %q", c); err != nil {
		return cnsbot.Handoff{}, err
	}
	return h, nil
}

// AnswerHandoff records a person's answer to an open handoff: the message,
// and who answers it now. The same sourceEvent is recorded once. A closed
// handoff is an ECONFLICT error.
func (db *DB) AnswerHandoff(ctx context.Context, id, personID int64, text, sourceEvent string, at time.Time) error {
	at = at.UTC()
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&cnsbot.Handoff{}).Where("id = ? AND status = ?", id, cnsbot.HandoffOpen).
			Updates(map[string]any{"answered_by": personID, "answered_at": gorm.Expr("COALESCE(answered_at, ?)", at),
				"last_answer_at": at})
		if res.Error != nil {
			return fmt.Errorf("answer handoff: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ECONFLICT, "handoff %d is not open", id)
		}
		return keepMessage(tx, &cnsbot.HandoffMessage{HandoffID: id, PersonID: &personID, Text: text, SourceEvent: sourceEvent, CreatedAt: at})
	})
}

// HandoffAnsweredByAgent records that a human agent answered the handoff
// from the OA chat tool: it counts as answered (no escalation) and its
// pause runs from then.
func (db *DB) HandoffAnsweredByAgent(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC()
	err := db.orm.WithContext(ctx).Model(&cnsbot.Handoff{}).Where("id = ? AND status = ?", id, cnsbot.HandoffOpen).
		Updates(map[string]any{"answered_at": gorm.Expr("COALESCE(answered_at, ?)", at), "last_answer_at": at}).Error
	if err != nil {
		return fmt.Errorf("handoff answered by agent: %w", err)
	}
	return nil
}

// KeepHandoffMessage keeps what the resident wrote while the handoff was
// open. The same sourceEvent is kept once.
func (db *DB) KeepHandoffMessage(ctx context.Context, id int64, text, sourceEvent string, at time.Time) error {
	return keepMessage(db.orm.WithContext(ctx), &cnsbot.HandoffMessage{HandoffID: id, Text: text, SourceEvent: sourceEvent, CreatedAt: at.UTC()})
}

func keepMessage(tx *gorm.DB, m *cnsbot.HandoffMessage) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(m).Error; err != nil {
		return fmt.Errorf("keep handoff message: %w", err)
	}
	return nil
}

// HandoffMessages returns a handoff's messages, oldest first.
func (db *DB) HandoffMessages(ctx context.Context, id int64) ([]cnsbot.HandoffMessage, error) {
	var ms []cnsbot.HandoffMessage
	if err := db.orm.WithContext(ctx).Where("handoff_id = ?", id).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("handoff messages: %w", err)
	}
	return ms, nil
}

// CloseHandoff closes an open handoff, saying why and who (nil: the
// resident, or the clock). It reports whether this call closed it.
func (db *DB) CloseHandoff(ctx context.Context, id int64, by *int64, reason string, at time.Time) (bool, error) {
	res := db.orm.WithContext(ctx).Model(&cnsbot.Handoff{}).Where("id = ? AND status = ?", id, cnsbot.HandoffOpen).
		Updates(map[string]any{"status": cnsbot.HandoffClosed, "closed_at": at.UTC(), "closed_by": by, "close_reason": reason})
	if res.Error != nil {
		return false, fmt.Errorf("close handoff: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// UnansweredHandoffs returns the open handoffs nobody answered and that
// were not escalated yet, oldest first.
func (db *DB) UnansweredHandoffs(ctx context.Context) ([]cnsbot.Handoff, error) {
	var hs []cnsbot.Handoff
	err := db.orm.WithContext(ctx).
		Where("status = ? AND answered_at IS NULL AND escalated_at IS NULL", cnsbot.HandoffOpen).
		Order("created_at, id").Find(&hs).Error
	if err != nil {
		return nil, fmt.Errorf("unanswered handoffs: %w", err)
	}
	return hs, nil
}

// MarkHandoffEscalated records when a handoff was escalated; the first
// time stays.
func (db *DB) MarkHandoffEscalated(ctx context.Context, id int64, at time.Time) error {
	err := db.orm.WithContext(ctx).Model(&cnsbot.Handoff{}).Where("id = ? AND escalated_at IS NULL", id).
		Update("escalated_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("mark handoff escalated: %w", err)
	}
	return nil
}

// WaitingHandoffs returns the open handoffs nobody has answered yet, oldest
// first, in the given communes (nil: everywhere).
func (db *DB) WaitingHandoffs(ctx context.Context, communes []int64) ([]cnsbot.Handoff, error) {
	q := db.orm.WithContext(ctx).Where("status = ? AND answered_at IS NULL", cnsbot.HandoffOpen)
	if communes != nil {
		q = q.Where("commune_id IN ?", append(communes, -1))
	}
	var hs []cnsbot.Handoff
	if err := q.Order("created_at, id").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("waiting handoffs: %w", err)
	}
	return hs, nil
}

// ResidentPlace returns the hamlet and commune of the resident's latest
// help request: where a handoff goes when the resident asks for a person
// without saying where they live again. ENOTFOUND when they never asked.
func (db *DB) ResidentPlace(ctx context.Context, userID string) (hamletID, communeID int64, err error) {
	var r cnsbot.HelpRequest
	q := db.orm.WithContext(ctx).Where("resident_user_id = ?", userID).Order("id DESC")
	if err := takeOne(q, &r, "help request of resident"); err != nil {
		return 0, 0, err
	}
	return r.HamletID, r.CommuneID, nil
}

// forgetClosedHandoffs deletes the messages of handoffs closed before
// before, and what the resident wrote before asking: the retention pass
// keeps a conversation with a person no longer than a closed request's
// personal fields (ForgetClosedRequests).
func (db *DB) forgetClosedHandoffs(ctx context.Context, before time.Time) error {
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		closed := tx.Model(&cnsbot.Handoff{}).Select("id").Where("status = ? AND closed_at < ?", cnsbot.HandoffClosed, before.UTC())
		if err := tx.Where("handoff_id IN (?)", closed).Delete(&cnsbot.HandoffMessage{}).Error; err != nil {
			return fmt.Errorf("forget handoff messages: %w", err)
		}
		err := tx.Model(&cnsbot.Handoff{}).Where("status = ? AND closed_at < ? AND recent <> ''", cnsbot.HandoffClosed, before.UTC()).
			Update("recent", "").Error
		if err != nil {
			return fmt.Errorf("forget handoff texts: %w", err)
		}
		return nil
	})
}

// handoffMigrations turn the handoffs table, a record that someone asked,
// into the conversation a person answers: a code, where it goes, who
// answered and when it closed, and the messages kept meanwhile.
func handoffMigrations() []*gormigrate.Migration {
	type handoff struct {
		Code         string `gorm:"size:8"`
		Status       string `gorm:"size:16"`
		HamletID     int64
		CommuneID    int64
		TeamID       *int64
		Lang         string `gorm:"size:8"`
		Recent       string `gorm:"size:2000"`
		AnsweredBy   *int64
		AnsweredAt   *time.Time
		LastAnswerAt *time.Time
		ClosedAt     *time.Time
		ClosedBy     *int64
		CloseReason  string `gorm:"size:16"`
		EscalatedAt  *time.Time
	}
	type handoffMessage struct {
		ID          int64 `gorm:"primaryKey"`
		HandoffID   int64 `gorm:"index;not null"`
		PersonID    *int64
		Text        string `gorm:"size:2000"`
		SourceEvent string `gorm:"size:128"`
		CreatedAt   time.Time
	}
	columns := []string{"Code", "Status", "HamletID", "CommuneID", "TeamID", "Lang", "Recent", "AnsweredBy",
		"AnsweredAt", "LastAnswerAt", "ClosedAt", "ClosedBy", "CloseReason", "EscalatedAt"}
	return []*gormigrate.Migration{{
		ID: "2026120910_handoffs",
		Migrate: func(tx *gorm.DB) error {
			m := tx.Table("handoffs").Migrator()
			for _, c := range columns {
				if err := m.AddColumn(&handoff{}, c); err != nil {
					return fmt.Errorf("add handoffs.%s: %w", c, err)
				}
			}
			if err := tx.Table("handoff_messages").Migrator().CreateTable(&handoffMessage{}); err != nil {
				return fmt.Errorf("create handoff_messages: %w", err)
			}
			for _, q := range []string{
				`CREATE UNIQUE INDEX idx_handoffs_open_code ON handoffs (code) WHERE status = 'open'`,
				`CREATE INDEX idx_handoffs_status ON handoffs (status)`,
				`CREATE UNIQUE INDEX idx_handoff_messages_source ON handoff_messages (handoff_id, source_event) WHERE source_event <> ''`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return fmt.Errorf("handoff index: %w", err)
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable("handoff_messages"); err != nil {
				return err
			}
			for _, q := range []string{`DROP INDEX idx_handoffs_open_code`, `DROP INDEX idx_handoffs_status`} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			m := tx.Table("handoffs").Migrator()
			for _, c := range columns {
				if err := m.DropColumn(&handoff{}, c); err != nil {
					return err
				}
			}
			return nil
		},
	}}
}
