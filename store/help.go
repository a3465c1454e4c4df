package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/camau-cns/cnsbot"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Handoff records that a resident's conversation was handed to a human
// (a team member or an OA agent), and why.
type Handoff struct {
	ID     int64  `gorm:"primaryKey"`
	UserID string `gorm:"size:64;index;not null"`
	Reason string `gorm:"size:200"`
	// SourceEvent makes recording idempotent when an event is processed again.
	SourceEvent string `gorm:"size:128"`
	CreatedAt   time.Time
}

// helpCodeAttempts bounds the retries on a code collision; with 32^4 codes
// per prefix a collision is rare, ten in a row means something is broken.
const helpCodeAttempts = 10

// newHelpCode returns a random help request code: "HT" and four characters
// that cannot be mistaken for one another.
func newHelpCode() string {
	b := []byte("HT")
	for range 4 {
		b = append(b, codeAlphabet[rand.IntN(len(codeAlphabet))])
	}
	return string(b)
}

// CreateHelpRequest stores a new help request with a fresh unique Code and
// status open. An unset TeamID becomes the hamlet's first team and an unset
// CommuneID the hamlet's commune. When r.SourceEvent names an event that
// already created a request, r is filled with that request instead, so an
// event processed twice creates one request.
func (db *DB) CreateHelpRequest(ctx context.Context, r *cnsbot.HelpRequest) error {
	if r.ResidentUserID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "help request without resident")
	}
	tx := db.WithContext(ctx)
	if found, err := helpBySource(tx, r); found || err != nil {
		return err
	}
	if r.HamletID != 0 {
		var hamlet cnsbot.Unit
		if err := takeOne(tx.Where("id = ? AND kind = ?", r.HamletID, cnsbot.UnitHamlet), &hamlet, "hamlet %d", r.HamletID); err != nil {
			return err
		}
		if r.CommuneID == 0 && hamlet.ParentID != nil {
			r.CommuneID = *hamlet.ParentID
		}
		if r.TeamID == nil {
			var teams []cnsbot.Team
			if err := tx.Where("hamlet_id = ?", r.HamletID).Order("id").Limit(1).Find(&teams).Error; err != nil {
				return fmt.Errorf("find hamlet team: %w", err)
			}
			if len(teams) > 0 {
				r.TeamID = &teams[0].ID
			}
		}
	}
	r.Status = cnsbot.HelpOpen
	now := time.Now().UTC()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), now
	for range helpCodeAttempts {
		r.ID = 0
		r.Code = newHelpCode()
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(r)
		if res.Error != nil {
			return fmt.Errorf("create help request: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return nil
		}
		// Either the code was taken or the same event won a race.
		if found, err := helpBySource(tx, r); found || err != nil {
			return err
		}
	}
	return fmt.Errorf("create help request: no free code after %d attempts", helpCodeAttempts)
}

// helpBySource fills r with the request created by r.SourceEvent, if any.
func helpBySource(tx *gorm.DB, r *cnsbot.HelpRequest) (bool, error) {
	if r.SourceEvent == "" {
		return false, nil
	}
	var existing []cnsbot.HelpRequest
	if err := tx.Where("source_event = ?", r.SourceEvent).Limit(1).Find(&existing).Error; err != nil {
		return false, fmt.Errorf("find help request by event: %w", err)
	}
	if len(existing) == 0 {
		return false, nil
	}
	*r = existing[0]
	return true, nil
}

// HelpRequestByCode returns the help request with the given code, ignoring
// case, spaces and dashes.
func (db *DB) HelpRequestByCode(ctx context.Context, code string) (cnsbot.HelpRequest, error) {
	return helpByCode(db.WithContext(ctx), code)
}

func helpByCode(tx *gorm.DB, code string) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	c := normalizeCode(code)
	if c == "" {
		return r, cnsbot.Errorf(cnsbot.EINVALID, "empty help request code")
	}
	if err := takeOne(tx.Where("code = ?", c), &r, "help request %q", c); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// OpenHelpRequestFor returns the resident's latest request that is not yet
// closed or cancelled (open or taken).
func (db *DB) OpenHelpRequestFor(ctx context.Context, residentUserID string) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	q := db.WithContext(ctx).
		Where("resident_user_id = ? AND status IN ?", residentUserID, []string{cnsbot.HelpOpen, cnsbot.HelpTaken}).
		Order("id DESC")
	if err := takeOne(q, &r, "open help request"); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// AddHelpAttachment stores a photo or location sent for a help request.
func (db *DB) AddHelpAttachment(ctx context.Context, a *cnsbot.HelpAttachment) error {
	tx := db.WithContext(ctx)
	var n int64
	if err := tx.Model(&cnsbot.HelpRequest{}).Where("id = ?", a.RequestID).Count(&n).Error; err != nil {
		return fmt.Errorf("find help request: %w", err)
	}
	if n == 0 {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %d", a.RequestID)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	a.CreatedAt = a.CreatedAt.UTC()
	if err := tx.Create(a).Error; err != nil {
		return fmt.Errorf("add help attachment: %w", err)
	}
	return nil
}

// TakeHelpRequest assigns an open request to a team member. Taking a request
// one already holds succeeds again. A request taken by someone else, closed
// or cancelled is an ECONFLICT error; the request is returned with it so the
// caller can say who has it.
func (db *DB) TakeHelpRequest(ctx context.Context, code string, personID int64) (cnsbot.HelpRequest, error) {
	tx := db.WithContext(ctx)
	now := time.Now().UTC()
	// The status condition makes the update the arbiter: of two members
	// taking the same request at once, exactly one changes the row.
	res := tx.Model(&cnsbot.HelpRequest{}).
		Where("code = ? AND status = ?", normalizeCode(code), cnsbot.HelpOpen).
		Updates(map[string]any{"status": cnsbot.HelpTaken, "taken_by": personID, "taken_at": now, "updated_at": now})
	if res.Error != nil {
		return cnsbot.HelpRequest{}, fmt.Errorf("take help request: %w", res.Error)
	}
	r, err := helpByCode(tx, code)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	if res.RowsAffected == 1 || (r.Status == cnsbot.HelpTaken && heldBy(r, personID)) {
		return r, nil
	}
	return r, cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s", r.Code, r.Status)
}

// CloseHelpRequest closes a request with what was done. The member who
// holds it closes it; an open request may be closed by any member, who then
// counts as having taken it. Closing again by the same member succeeds
// again without changes; anything else is an ECONFLICT error.
func (db *DB) CloseHelpRequest(ctx context.Context, code string, personID int64, outcome string) (cnsbot.HelpRequest, error) {
	tx := db.WithContext(ctx)
	now := time.Now().UTC()
	res := tx.Model(&cnsbot.HelpRequest{}).
		Where("code = ? AND (status = ? OR (status = ? AND taken_by = ?))",
			normalizeCode(code), cnsbot.HelpOpen, cnsbot.HelpTaken, personID).
		Updates(map[string]any{
			"status":     cnsbot.HelpClosed,
			"closed_at":  now,
			"outcome":    outcome,
			"taken_by":   gorm.Expr("COALESCE(taken_by, ?)", personID),
			"taken_at":   gorm.Expr("COALESCE(taken_at, ?)", now),
			"updated_at": now,
		})
	if res.Error != nil {
		return cnsbot.HelpRequest{}, fmt.Errorf("close help request: %w", res.Error)
	}
	r, err := helpByCode(tx, code)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	if res.RowsAffected == 1 || (r.Status == cnsbot.HelpClosed && heldBy(r, personID)) {
		return r, nil
	}
	return r, cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s", r.Code, r.Status)
}

func heldBy(r cnsbot.HelpRequest, personID int64) bool {
	return r.TakenBy != nil && *r.TakenBy == personID
}

// RateHelpRequest records the resident's rating (1 to 5) of a closed
// request; a later rating replaces an earlier one.
func (db *DB) RateHelpRequest(ctx context.Context, code string, rating int) error {
	if rating < 1 || rating > 5 {
		return cnsbot.Errorf(cnsbot.EINVALID, "rating %d is not between 1 and 5", rating)
	}
	tx := db.WithContext(ctx)
	res := tx.Model(&cnsbot.HelpRequest{}).
		Where("code = ? AND status = ?", normalizeCode(code), cnsbot.HelpClosed).
		Updates(map[string]any{"rating": rating, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("rate help request: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	r, err := helpByCode(tx, code)
	if err != nil {
		return err
	}
	return cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s, not closed", r.Code, r.Status)
}

// OpenHelpRequests returns the hamlet's requests that nobody has taken yet,
// oldest first.
func (db *DB) OpenHelpRequests(ctx context.Context, hamletID int64) ([]cnsbot.HelpRequest, error) {
	var rs []cnsbot.HelpRequest
	err := db.WithContext(ctx).Where("hamlet_id = ? AND status = ?", hamletID, cnsbot.HelpOpen).
		Order("created_at, id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("list open help requests: %w", err)
	}
	return rs, nil
}

// UnclaimedBefore returns the requests created before t that nobody has
// taken and that were not escalated yet, oldest first.
func (db *DB) UnclaimedBefore(ctx context.Context, t time.Time) ([]cnsbot.HelpRequest, error) {
	var rs []cnsbot.HelpRequest
	err := db.WithContext(ctx).
		Where("status = ? AND escalated_at IS NULL AND created_at < ?", cnsbot.HelpOpen, t.UTC()).
		Order("created_at, id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("list unclaimed help requests: %w", err)
	}
	return rs, nil
}

// MarkEscalated records when a request was escalated to the commune. A
// request escalated before keeps its first time.
func (db *DB) MarkEscalated(ctx context.Context, id int64, at time.Time) error {
	tx := db.WithContext(ctx)
	res := tx.Model(&cnsbot.HelpRequest{}).Where("id = ? AND escalated_at IS NULL", id).
		Updates(map[string]any{"escalated_at": at.UTC(), "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("mark escalated: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := tx.Model(&cnsbot.HelpRequest{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return fmt.Errorf("find help request: %w", err)
	}
	if n == 0 {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %d", id)
	}
	return nil
}

// RecordHandoff records that a resident was handed to a human. The same
// sourceEvent is recorded once.
func (db *DB) RecordHandoff(ctx context.Context, userID, reason, sourceEvent string) error {
	if userID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "handoff without user")
	}
	h := Handoff{UserID: userID, Reason: reason, SourceEvent: sourceEvent, CreatedAt: time.Now().UTC()}
	if err := db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&h).Error; err != nil {
		return fmt.Errorf("record handoff: %w", err)
	}
	return nil
}
