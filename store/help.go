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

// Handoff is the store's name of a resident's request for a person (see
// cnsbot.Handoff and handoffs.go).
type Handoff = cnsbot.Handoff

// helpCodeAttempts bounds the retries on a code collision; with 24^6 codes
// a collision is rare, ten in a row means something is broken.
const helpCodeAttempts = 10

// HelpCodeAlphabet holds the characters of a help request code after its
// "HT". No look-alikes: no 0/O, 1/I/L, 5/S. And no vowels, D or W, because
// most people here type with a Vietnamese keyboard (Telex or VNI), which
// turns "AS" into "Á", "DD" into "Đ", "W" into "Ư" and "A1" into "Á" as
// they type; a code of consonants and digits comes through unchanged.
const HelpCodeAlphabet = "23456789BCFGHJKMNPQRTVXZ"

// helpCodeRandom is how many random characters follow "HT": 24^6, about
// 190 million codes for a few thousand requests a year, so a code cannot be
// guessed within the lookup limit, and eight characters in all are still
// easy to read out over the phone.
const helpCodeRandom = 6

// newHelpCode returns a random help request code, "HT" and six characters
// of HelpCodeAlphabet drawn from crypto/rand: a code is all a member needs
// to name a request, so it must not be predictable from the ones before.
func newHelpCode() string {
	b := []byte("HT")
	// 24 does not divide 256: bytes from 240 up are drawn again, so that
	// every character is equally likely.
	limit := byte(256 - 256%len(HelpCodeAlphabet))
	var buf [16]byte
	for len(b) < 2+helpCodeRandom {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand's documented contract)
		for _, x := range buf {
			if x < limit && len(b) < 2+helpCodeRandom {
				b = append(b, HelpCodeAlphabet[int(x)%len(HelpCodeAlphabet)])
			}
		}
	}
	return string(b)
}

// NormalizeHelpCode is a typed code as stored: upper case, without spaces,
// dashes or a leading "#" ("#ht 7k3q-m2" → "HT7K3QM2"). Lookups go through
// it, so a code typed loosely still finds its request.
func NormalizeHelpCode(code string) string {
	return strings.TrimLeft(normalizeCode(code), "#")
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
	tx := db.orm.WithContext(ctx)
	if found, err := bySource(tx, r, r.SourceEvent, "help request"); found || err != nil {
		return err
	}
	if err := fillPlace(tx, r.HamletID, &r.CommuneID, &r.TeamID); err != nil {
		return err
	}
	r.Status = cnsbot.HelpOpen
	now := time.Now().UTC()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), now
	return createCoded(tx, r, r.SourceEvent, helpCodeAttempts, "help request", func(r *cnsbot.HelpRequest) {
		r.ID, r.Code = 0, newHelpCode()
	})
}

// HelpRequestByCode returns the help request with the given code, ignoring
// case, spaces, dashes and a leading "#", whoever asks. It is for the
// officers' dashboard and tools; chat goes through HelpRequestFor or
// ResidentHelpRequest, which apply who may see what.
func (db *DB) HelpRequestByCode(ctx context.Context, code string) (cnsbot.HelpRequest, error) {
	return helpByCode(db.orm.WithContext(ctx), code)
}

func helpByCode(tx *gorm.DB, code string) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	c := NormalizeHelpCode(code)
	if c == "" {
		return r, cnsbot.Errorf(cnsbot.EINVALID, "empty help request code")
	}
	if err := takeOne(tx.Where("code = ?", c), &r, "help request %q", c); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// servedBySQL is the one rule of who may take, close and read a help
// request (the resident's name, phone and hamlet): an approved member or
// leader of a team of the request's hamlet, an approved officer of its
// commune, or an approved province officer or administrator (one province
// per installation). It is a condition on help_requests, so reads and the
// updates that take and close a request apply it in the same statement.
const servedBySQL = `EXISTS (SELECT 1 FROM roles ro LEFT JOIN teams te ON te.id = ro.team_id
	WHERE ro.person_id = ? AND ro.approved = ? AND (
		(ro.role IN ? AND te.hamlet_id = help_requests.hamlet_id)
		OR (ro.role = ? AND ro.unit_id = help_requests.commune_id)
		OR ro.role IN ?))`

// servedBy limits a query on help_requests to those personID may serve;
// see servedBySQL.
func servedBy(personID int64) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		return q.Where(servedBySQL, personID, true,
			[]string{cnsbot.RoleMember, cnsbot.RoleLeader}, cnsbot.RoleCommuneOfficer,
			[]string{cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin})
	}
}

// HelpRequestFor returns the request with the given code when personID may
// serve it (see servedBySQL). A request they may not serve is an ENOTFOUND
// error, exactly as a code that does not exist, so that trying codes tells
// nothing.
func (db *DB) HelpRequestFor(ctx context.Context, code string, personID int64) (cnsbot.HelpRequest, error) {
	return helpFor(db.orm.WithContext(ctx), code, personID)
}

func helpFor(tx *gorm.DB, code string, personID int64) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	c := NormalizeHelpCode(code)
	if c == "" {
		return r, cnsbot.Errorf(cnsbot.EINVALID, "empty help request code")
	}
	if err := takeOne(tx.Scopes(servedBy(personID)).Where("code = ?", c), &r, "help request %q", c); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// ResidentHelpRequest returns the request with the given code when the
// resident made it; anyone else's code is an ENOTFOUND error, as a code
// that does not exist.
func (db *DB) ResidentHelpRequest(ctx context.Context, code, residentUserID string) (cnsbot.HelpRequest, error) {
	return residentHelp(db.orm.WithContext(ctx), code, residentUserID)
}

func residentHelp(tx *gorm.DB, code, residentUserID string) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	c := NormalizeHelpCode(code)
	if c == "" || residentUserID == "" {
		return r, cnsbot.Errorf(cnsbot.EINVALID, "empty help request code or resident")
	}
	q := tx.Where("code = ? AND resident_user_id = ?", c, residentUserID)
	if err := takeOne(q, &r, "help request %q", c); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// OpenHelpRequestFor returns the resident's latest request that is not yet
// closed or cancelled (open or taken).
func (db *DB) OpenHelpRequestFor(ctx context.Context, residentUserID string) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	q := db.orm.WithContext(ctx).
		Where("resident_user_id = ? AND status IN ?", residentUserID, []string{cnsbot.HelpOpen, cnsbot.HelpTaken}).
		Order("id DESC")
	if err := takeOne(q, &r, "open help request"); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// UnratedHelpRequestFor returns the resident's latest request closed since
// since and not yet rated: a bare "5" typed after the closing notice rates
// it.
func (db *DB) UnratedHelpRequestFor(ctx context.Context, residentUserID string, since time.Time) (cnsbot.HelpRequest, error) {
	var r cnsbot.HelpRequest
	q := db.orm.WithContext(ctx).
		Where("resident_user_id = ? AND status = ? AND rating = 0 AND closed_at >= ?", residentUserID, cnsbot.HelpClosed, since.UTC()).
		Order("closed_at DESC")
	if err := takeOne(q, &r, "unrated help request"); err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return r, nil
}

// AddHelpAttachment stores a photo or location sent for a help request.
func (db *DB) AddHelpAttachment(ctx context.Context, a *cnsbot.HelpAttachment) error {
	tx := db.orm.WithContext(ctx)
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

// TakeHelpRequest assigns an open request to personID, who must be allowed
// to serve it (see servedBySQL); a request they may not serve is ENOTFOUND,
// as a code that does not exist. Taking a request one already holds
// succeeds again. A request taken by someone else, closed or cancelled is
// an ECONFLICT error; the request is returned with it so the caller can
// say who has it.
func (db *DB) TakeHelpRequest(ctx context.Context, code string, personID int64) (cnsbot.HelpRequest, error) {
	tx := db.orm.WithContext(ctx)
	now := time.Now().UTC()
	// The status condition makes the update the arbiter: of two members
	// taking the same request at once, exactly one changes the row.
	res := tx.Model(&cnsbot.HelpRequest{}).Scopes(servedBy(personID)).
		Where("code = ? AND status = ?", NormalizeHelpCode(code), cnsbot.HelpOpen).
		Updates(map[string]any{"status": cnsbot.HelpTaken, "taken_by": personID, "taken_at": now, "updated_at": now})
	if res.Error != nil {
		return cnsbot.HelpRequest{}, fmt.Errorf("take help request: %w", res.Error)
	}
	r, err := helpFor(tx, code, personID)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	if res.RowsAffected == 1 || (r.Status == cnsbot.HelpTaken && heldBy(r, personID)) {
		return r, nil
	}
	return r, cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s", r.Code, r.Status)
}

// CloseHelpRequest closes a request with what was done. The person who
// holds it closes it; an open request may be closed by anyone allowed to
// serve it (see servedBySQL), who then counts as having taken it. A request
// they may not serve is ENOTFOUND. Closing again by the same person
// succeeds again without changes; anything else is an ECONFLICT error.
func (db *DB) CloseHelpRequest(ctx context.Context, code string, personID int64, outcome string) (cnsbot.HelpRequest, error) {
	tx := db.orm.WithContext(ctx)
	now := time.Now().UTC()
	res := tx.Model(&cnsbot.HelpRequest{}).Scopes(servedBy(personID)).
		Where("code = ? AND (status = ? OR (status = ? AND taken_by = ?))",
			NormalizeHelpCode(code), cnsbot.HelpOpen, cnsbot.HelpTaken, personID).
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
	r, err := helpFor(tx, code, personID)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	if res.RowsAffected == 1 || (r.Status == cnsbot.HelpClosed && heldBy(r, personID)) {
		return r, nil
	}
	return r, cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s", r.Code, r.Status)
}

// CancelHelpRequest cancels the resident's own request that is open or
// taken, with the time. Cancelling again succeeds again without changes,
// so an event handled twice gives the same answer. Someone else's code is
// ENOTFOUND; a closed request is an ECONFLICT error, returned with it.
func (db *DB) CancelHelpRequest(ctx context.Context, code, residentUserID string) (cnsbot.HelpRequest, error) {
	tx := db.orm.WithContext(ctx)
	now := time.Now().UTC()
	res := tx.Model(&cnsbot.HelpRequest{}).
		Where("code = ? AND resident_user_id = ? AND status IN ?", NormalizeHelpCode(code), residentUserID,
			[]string{cnsbot.HelpOpen, cnsbot.HelpTaken}).
		Updates(map[string]any{"status": cnsbot.HelpCancelled, "cancelled_at": now, "updated_at": now})
	if res.Error != nil {
		return cnsbot.HelpRequest{}, fmt.Errorf("cancel help request: %w", res.Error)
	}
	r, err := residentHelp(tx, code, residentUserID)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	if res.RowsAffected == 1 || r.Status == cnsbot.HelpCancelled {
		return r, nil
	}
	return r, cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s", r.Code, r.Status)
}

// HelpTaker returns the person who took a request, to tell them when the
// resident cancels it.
func (db *DB) HelpTaker(ctx context.Context, r cnsbot.HelpRequest) (cnsbot.Person, error) {
	var p cnsbot.Person
	if r.TakenBy == nil {
		return p, cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %s has no taker", r.Code)
	}
	if err := takeOne(db.orm.WithContext(ctx).Where("id = ?", *r.TakenBy), &p, "person %d", *r.TakenBy); err != nil {
		return cnsbot.Person{}, err
	}
	return p, nil
}

func heldBy(r cnsbot.HelpRequest, personID int64) bool {
	return r.TakenBy != nil && *r.TakenBy == personID
}

// RateHelpRequest records the resident's rating (1 to 5) of their own
// closed request; a later rating replaces an earlier one. Someone else's
// code is ENOTFOUND.
func (db *DB) RateHelpRequest(ctx context.Context, code, residentUserID string, rating int) error {
	if rating < 1 || rating > 5 {
		return cnsbot.Errorf(cnsbot.EINVALID, "rating %d is not between 1 and 5", rating)
	}
	tx := db.orm.WithContext(ctx)
	res := tx.Model(&cnsbot.HelpRequest{}).
		Where("code = ? AND resident_user_id = ? AND status = ?", NormalizeHelpCode(code), residentUserID, cnsbot.HelpClosed).
		Updates(map[string]any{"rating": rating, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("rate help request: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	r, err := residentHelp(tx, code, residentUserID)
	if err != nil {
		return err
	}
	return cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s, not closed", r.Code, r.Status)
}

// OpenHelpRequests returns the hamlet's requests that nobody has taken yet
// and that personID may serve (see servedBySQL), oldest first.
func (db *DB) OpenHelpRequests(ctx context.Context, hamletID, personID int64) ([]cnsbot.HelpRequest, error) {
	var rs []cnsbot.HelpRequest
	err := db.orm.WithContext(ctx).Scopes(servedBy(personID)).
		Where("hamlet_id = ? AND status = ?", hamletID, cnsbot.HelpOpen).
		Order("created_at, id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("list open help requests: %w", err)
	}
	return rs, nil
}

// UnclaimedBefore returns the requests created before t that nobody has
// taken and that were not escalated yet, oldest first. Taken, closed and
// cancelled requests are not open, so they are never escalated.
func (db *DB) UnclaimedBefore(ctx context.Context, t time.Time) ([]cnsbot.HelpRequest, error) {
	var rs []cnsbot.HelpRequest
	err := db.orm.WithContext(ctx).
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
	tx := db.orm.WithContext(ctx)
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
	if err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&h).Error; err != nil {
		return fmt.Errorf("record handoff: %w", err)
	}
	return nil
}

// helpMigrations adds the time a request was cancelled.
func helpMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120702_help_cancelled_at",
		Migrate: func(tx *gorm.DB) error {
			type helpRequest struct {
				CancelledAt *time.Time
			}
			if err := tx.Table("help_requests").Migrator().AddColumn(&helpRequest{}, "CancelledAt"); err != nil {
				return fmt.Errorf("add help_requests.cancelled_at: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			type helpRequest struct {
				CancelledAt *time.Time
			}
			return tx.Table("help_requests").Migrator().DropColumn(&helpRequest{}, "CancelledAt")
		},
	}}
}

// fillPlace completes a request's place from its hamlet: an unset
// communeID becomes the hamlet's commune and an unset teamID its first
// team. A hamlet id of 0 leaves both as they are.
func fillPlace(tx *gorm.DB, hamletID int64, communeID *int64, teamID **int64) error {
	if hamletID == 0 {
		return nil
	}
	var hamlet cnsbot.Unit
	if err := takeOne(tx.Where("id = ? AND kind = ?", hamletID, cnsbot.UnitHamlet), &hamlet, "hamlet %d", hamletID); err != nil {
		return err
	}
	if *communeID == 0 && hamlet.ParentID != nil {
		*communeID = *hamlet.ParentID
	}
	if *teamID == nil {
		var teams []cnsbot.Team
		if err := tx.Where("hamlet_id = ?", hamletID).Order("id").Limit(1).Find(&teams).Error; err != nil {
			return fmt.Errorf("find hamlet team: %w", err)
		}
		if len(teams) > 0 {
			*teamID = &teams[0].ID
		}
	}
	return nil
}

// createCoded inserts row under a fresh code (recode clears its id and
// draws one), trying again while the code is taken. The unique indexes on
// codes and on source events make the insert the arbiter: when the same
// source event won a race, row becomes that row.
func createCoded[T any](tx *gorm.DB, row *T, source string, attempts int, what string, recode func(*T)) error {
	for range attempts {
		recode(row)
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
		if res.Error != nil {
			return fmt.Errorf("create %s: %w", what, res.Error)
		}
		if res.RowsAffected == 1 {
			return nil
		}
		// Either the code was taken or the same event won a race.
		if found, err := bySource(tx, row, source, what); found || err != nil {
			return err
		}
	}
	return fmt.Errorf("create %s: no free code after %d attempts", what, attempts)
}

// bySource fills row with the one the source event created, if any.
func bySource[T any](tx *gorm.DB, row *T, source, what string) (bool, error) {
	if source == "" {
		return false, nil
	}
	var found []T
	if err := tx.Where("source_event = ?", source).Limit(1).Find(&found).Error; err != nil {
		return false, fmt.Errorf("find %s by event: %w", what, err)
	}
	if len(found) == 0 {
		return false, nil
	}
	*row = found[0]
	return true, nil
}

// answerMigrations store the answers a resident or member picked from
// buttons as codes instead of the button's words, which the chat stored
// (in Vietnamese) until December 2026; every message and page shows a
// code in its reader's language:
//   - a closed request's outcome: cnsbot.Outcomes ("done"); a help visit's
//     note that repeated the button's words is emptied (the request keeps
//     the outcome);
//   - the preferred time: resident.TimeCodes ("morning"…);
//   - the problem, when it was a topic's button: emptied, as the request's
//     Topic says it.
//
// Typed answers are left as written. Every wording each button ever had,
// in both languages, is listed (git log -S on locales/): the words were
// stored as written, so an exact match finds them.
func answerMigrations() []*gormigrate.Migration {
	outcomes := map[string][]string{"done": {"Đã làm được", "It worked"}}
	times := map[string][]string{
		"morning": {"Buổi sáng", "Morning"}, "afternoon": {"Buổi chiều", "Afternoon"},
		"evening": {"Buổi tối", "Evening"}, "any": {"Lúc nào cũng được", "Any time"},
	}
	topics := map[string][]string{
		"vneid": {"VNeID"}, "camaug": {"CaMau-G"}, "dvc": {"Dịch vụ công", "Public services"},
		"ttkdtm": {"Thanh toán, chuyển khoản", "Payments, transfers"}, "khac": {"Việc khác", "Something else"},
	}
	return []*gormigrate.Migration{{
		ID: "2026121020_help_answer_codes",
		Migrate: func(tx *gorm.DB) error {
			fail := func(err error) error { return fmt.Errorf("answer codes: %w", err) }
			for code, ls := range outcomes {
				if err := tx.Exec(`UPDATE help_requests SET outcome = ? WHERE outcome IN ?`, code, ls).Error; err != nil {
					return fail(err)
				}
				if err := tx.Exec(`UPDATE visits SET note = '' WHERE help_code <> '' AND note IN ?`, ls).Error; err != nil {
					return fail(err)
				}
			}
			for code, ls := range times {
				if err := tx.Exec(`UPDATE help_requests SET preferred_time = ? WHERE preferred_time IN ?`, code, ls).Error; err != nil {
					return fail(err)
				}
			}
			for topic, ls := range topics {
				if err := tx.Exec(`UPDATE help_requests SET problem = '' WHERE topic = ? AND problem IN ?`, topic, ls).Error; err != nil {
					return fail(err)
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for code, ls := range outcomes {
				if err := tx.Exec(`UPDATE help_requests SET outcome = ? WHERE outcome = ?`, ls[0], code).Error; err != nil {
					return err
				}
			}
			for code, ls := range times {
				if err := tx.Exec(`UPDATE help_requests SET preferred_time = ? WHERE preferred_time = ?`, ls[0], code).Error; err != nil {
					return err
				}
			}
			for topic, ls := range topics {
				if err := tx.Exec(`UPDATE help_requests SET problem = ? WHERE topic = ? AND problem = ''`, ls[0], topic).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}}
}
