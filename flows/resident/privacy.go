package resident

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// ConsentVersion names the notice on personal data that residents agree
// to before the service keeps their name or phone (Decree 13/2023, the
// Personal Data Protection Law). A wording that changes what is kept, why
// or for how long gets a new version, and everyone is asked again.
const ConsentVersion = "2026-12"

// DefaultRequestRetention is how long a closed request's personal fields
// are kept when Deps.RequestRetention is unset: twelve months.
const DefaultRequestRetention = 365 * 24 * time.Hour

// Privacy keeps residents' consent and erases what the service holds about
// a person at their request. The store implements it.
type Privacy interface {
	HasConsent(ctx context.Context, userID, version string) (bool, error)
	// RecordConsent keeps the first time userID agreed to version.
	RecordConsent(ctx context.Context, userID, version string, at time.Time) error
	// ForgetUser deletes or anonymises the person's stored data (requests'
	// personal fields, attachments, kept messages) and records that it
	// did. The roster entry of a team member or officer stays. It is
	// idempotent.
	ForgetUser(ctx context.Context, userID string, at time.Time) error
	// RecordUnfollow and ClearUnfollow keep who unfollowed the OA, so that
	// their session can be deleted (see the retention pass).
	RecordUnfollow(ctx context.Context, userID string, at time.Time) error
	ClearUnfollow(ctx context.Context, userID string) error
}

// FlowForget is the one-question flow that confirms "xóa thông tin của tôi".
const FlowForget = "forget"

const (
	stepConsent = "consent"
	// noteConsent keeps the notice version the person agreed to, so that
	// the next request needs no query.
	noteConsent = "consent"
)

// forgetWords start the erasure, at any step.
var forgetWords = []string{"xoa thong tin cua toi", "xoa du lieu cua toi", "xoa het thong tin cua toi",
	"xoa thong tin ca nhan", "delete my data", "erase my data", "delete my information", "forget me", "xoadulieu"}

// consentStep asks, once, before the name: what is kept, why, for how long
// and how to delete it.
func (r *residents) consentStep() *flows.Step {
	return &flows.Step{Name: stepConsent, Ask: "privacy.consent.ask", Help: "privacy.consent.help",
		Input: flows.InputChoice, Vars: r.consentVars,
		Choices: []flows.Choice{
			{ID: "dongy", Label: "privacy.btn.agree", Words: []string{"dong y", "toi dong y", "co", "duoc", "ok", "yes", "agree", "i agree"}, Run: r.agree},
			{ID: "khong", Label: "privacy.btn.decline", Words: []string{"khong", "khong dong y", "ko", "no", "decline", "i do not agree"}, Run: r.decline},
		}}
}

// months is how long a closed request is kept, in whole months, for the
// notice.
func (r *residents) months() int {
	d := r.deps.RequestRetention
	if d <= 0 {
		d = DefaultRequestRetention
	}
	return max(1, int(math.Round(d.Hours()/24/(365.0/12))))
}

func (r *residents) consentVars(c *flows.Ctx) map[string]any {
	return map[string]any{"months": r.months()}
}

// consented reports whether the person agreed to the current notice.
func (r *residents) consented(c *flows.Ctx) (bool, error) {
	if c.Note(noteConsent) == ConsentVersion {
		return true, nil
	}
	ok, err := r.deps.Privacy.HasConsent(c.Context(), c.UserID(), ConsentVersion)
	if err != nil {
		return false, fmt.Errorf("consent: %w", err)
	}
	if ok {
		c.SetNote(noteConsent, ConsentVersion)
	}
	return ok, nil
}

// askConsent goes to the notice unless the person already agreed; the
// name comes next either way.
func (r *residents) askConsent(c *flows.Ctx) error {
	ok, err := r.consented(c)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		c.Goto(stepConsent)
	case needAddress(c):
		c.Goto(stepAddress)
	}
	return nil
}

// newRequest starts another request from the "existing" step.
func (r *residents) newRequest(c *flows.Ctx) error {
	c.Goto("name")
	return r.askConsent(c)
}

func (r *residents) agree(c *flows.Ctx) error {
	if err := r.deps.Privacy.RecordConsent(c.Context(), c.UserID(), ConsentVersion, c.Now()); err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	c.SetNote(noteConsent, ConsentVersion)
	c.Goto("name")
	if needAddress(c) {
		c.Goto(stepAddress)
	}
	return nil
}

// decline keeps nothing and points to what needs no personal data.
func (r *residents) decline(c *flows.Ctx) error {
	c.Menu(c.T("privacy.consent.declined", nil))
	return nil
}

// registerPrivacy adds "xóa thông tin của tôi", the unfollow record, and
// the guard that keeps photos out of the session before consent. It must
// run before the resident's media handler.
func (r *residents) registerPrivacy(e *flows.Engine) {
	e.Register(&flows.Flow{
		Name:  FlowForget,
		Title: "privacy.forget.name_flow",
		Steps: []*flows.Step{{Name: "confirm", Ask: "privacy.forget.ask", Help: "privacy.forget.help", Input: flows.InputChoice,
			Choices: []flows.Choice{
				{ID: "xoa", Label: "privacy.btn.erase", Words: []string{"xoa", "xoa het", "dong y xoa", "dong y", "yes", "delete", "erase"}, Run: r.erase},
				{ID: "giu", Label: "privacy.btn.keep", Words: []string{"giu", "giu lai", "khong xoa", "khong", "no", "keep"}, Run: r.keep},
			}}},
	})
	e.Command(flows.Command{Name: "privacy-forget", Match: flows.Prefix(forgetWords...), Run: r.forgetCommand})
	e.OnEvent(cnsbot.KindMedia, r.mediaBeforeConsent)
	e.OnEvent(cnsbot.KindUnfollow, r.onUnfollow)
	e.OnIncoming(r.onFollow)
}

// forgetCommand asks once whether to erase. Someone on a roster hears
// first that their roster entry is their commune's and stays.
func (r *residents) forgetCommand(c *flows.Ctx, _ string) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	_, _, onRoster, err := c.Person()
	if err != nil {
		return false, err
	}
	if onRoster {
		c.Reply(c.T("privacy.forget.roster", nil))
	}
	c.Start(FlowForget, "", nil)
	return true, nil
}

// erase deletes the person's data, then everything the session knows of
// them, in the same commit as the answer.
func (r *residents) erase(c *flows.Ctx) error {
	if err := r.cancelOpen(c); err != nil {
		return err
	}
	if err := r.deps.Privacy.ForgetUser(c.Context(), c.UserID(), c.Now()); err != nil {
		return fmt.Errorf("forget user: %w", err)
	}
	_, _, onRoster, err := c.Person()
	if err != nil {
		return err
	}
	done := "privacy.forget.done"
	if onRoster {
		done = "privacy.forget.done_roster"
	}
	c.Reply(c.T(done, nil), c.Button("common.menu", "menu"))
	c.Forget()
	c.Done()
	return nil
}

// cancelOpen cancels the person's open request as "hủy yêu cầu" does, so
// that whoever was going to come is told; the erasure then clears it.
func (r *residents) cancelOpen(c *flows.Ctx) error {
	ctx := c.Context()
	req, err := r.deps.HelpDesk.OpenHelpRequestFor(ctx, c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		return nil
	case err != nil:
		return fmt.Errorf("open help request: %w", err)
	}
	cancelled, err := r.deps.HelpDesk.CancelHelpRequest(ctx, req.Code, c.UserID())
	switch cnsbot.ErrorCode(err) {
	case "":
		return r.notifyCancelled(c, cancelled)
	case cnsbot.ECONFLICT, cnsbot.ENOTFOUND:
		return nil // closed or gone meanwhile: nobody is on the way
	}
	return fmt.Errorf("cancel help request: %w", err)
}

func (r *residents) keep(c *flows.Ctx) error {
	c.Menu(c.T("privacy.forget.kept", nil))
	return nil
}

// mediaBeforeConsent keeps no photo or location while the notice waits
// for an answer: they are personal data too.
func (r *residents) mediaBeforeConsent(c *flows.Ctx) (bool, error) {
	if c.FlowName() != FlowCome || c.StepName() != stepConsent {
		return false, nil
	}
	c.Reprompt(c.T("privacy.consent.media", nil))
	return true, nil
}

func (r *residents) onUnfollow(c *flows.Ctx) (bool, error) {
	at := c.Event.Time
	if at.IsZero() {
		at = c.Now()
	}
	if err := r.deps.Privacy.RecordUnfollow(c.Context(), c.UserID(), at); err != nil {
		return false, fmt.Errorf("record unfollow: %w", err)
	}
	return true, nil
}

// onFollow clears the unfollow mark of someone who followed again.
func (r *residents) onFollow(c *flows.Ctx) error {
	if c.Event.Kind != cnsbot.KindFollow {
		return nil
	}
	if err := r.deps.Privacy.ClearUnfollow(c.Context(), c.UserID()); err != nil {
		return fmt.Errorf("clear unfollow: %w", err)
	}
	return nil
}
