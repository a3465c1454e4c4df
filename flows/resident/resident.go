// Package resident holds the conversations of residents who write to the
// province's OA: step-by-step guides for VNeID, CaMau-G and other digital
// services, and the request for a team member to come to their home.
//
// Everything the resident reads lives in locales/resident.*.toml, except
// the guides' own words and pictures, which are content officers change
// while the service runs (package content, Deps.Guides); the Go code names
// message ids only.
package resident

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
)

// Places lists the province's communes and their hamlets. The store
// implements it; Unit returns an ENOTFOUND *cnsbot.Error for an unknown id.
type Places interface {
	Communes(ctx context.Context) ([]cnsbot.Unit, error)
	Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error)
	Unit(ctx context.Context, id int64) (cnsbot.Unit, error)
}

// HelpDesk stores residents' requests for a team member and finds who to
// tell about them. Lookups that find nothing return an ENOTFOUND
// *cnsbot.Error. CreateHelpRequest is idempotent on r.SourceEvent. A
// resident reaches a request by code only when it is their own: another
// resident's code is ENOTFOUND, as a code that does not exist.
type HelpDesk interface {
	CreateHelpRequest(ctx context.Context, r *cnsbot.HelpRequest) error
	ResidentHelpRequest(ctx context.Context, code, residentUserID string) (cnsbot.HelpRequest, error)
	OpenHelpRequestFor(ctx context.Context, residentUserID string) (cnsbot.HelpRequest, error)
	UnratedHelpRequestFor(ctx context.Context, residentUserID string, since time.Time) (cnsbot.HelpRequest, error)
	AddHelpAttachment(ctx context.Context, a *cnsbot.HelpAttachment) error
	RateHelpRequest(ctx context.Context, code, residentUserID string, rating int) error
	CancelHelpRequest(ctx context.Context, code, residentUserID string) (cnsbot.HelpRequest, error)
	HelpTaker(ctx context.Context, r cnsbot.HelpRequest) (cnsbot.Person, error)

	TeamsOfHamlet(ctx context.Context, hamletID int64) ([]cnsbot.Team, error)
	Team(ctx context.Context, id int64) (cnsbot.Team, error)
	TeamMembers(ctx context.Context, teamID int64) ([]cnsbot.Person, error)
	TeamLeaders(ctx context.Context, teamID int64) ([]cnsbot.Person, error)
	CommuneOfficers(ctx context.Context, communeID int64) ([]cnsbot.Person, error)

	UnclaimedBefore(ctx context.Context, t time.Time) ([]cnsbot.HelpRequest, error)
	MarkEscalated(ctx context.Context, id int64, at time.Time) error
}

// LookupLimiter bounds how often one Zalo user may look a help request up
// by its code (a *store.LookupLimiter).
type LookupLimiter interface {
	AllowLookup(ctx context.Context, userID string) (bool, error)
}

// Feedback records how a resident rated a guide (1–5), once per source
// event; *store.DB has it, and the dashboard shows the figures.
type Feedback interface {
	RateGuide(ctx context.Context, userID, guide string, rating int, sourceEvent string) error
}

// GuideSource serves the guides, which officers change while the service
// runs: the newest version of each with a generation that grows with every
// publish, and any version ever published, so that a resident finishes the
// version they started. It answers from memory (*store.GuideLibrary, or
// content.Memory); a version that does not exist is ENOTFOUND.
type GuideSource interface {
	Guides(ctx context.Context) ([]content.Version, int64, error)
	Guide(ctx context.Context, key string, version int) (content.Guide, error)
}

// GuideUse counts what residents do in a guide (store.Guide* kinds:
// start, step, stuck, come, done), once per source event and kind, for
// the dashboard's "which step to fix first". *store.DB has it.
type GuideUse interface {
	RecordGuideUse(ctx context.Context, guide string, version, step int, kind, sourceEvent string) error
}

// Deps is what the resident flows need.
type Deps struct {
	// Guides are the step-by-step guides; nil means the repository's
	// (content.Seed), in memory.
	Guides GuideSource
	// Use, when set, counts what residents do in the guides.
	Use      GuideUse
	Places   Places
	HelpDesk HelpDesk
	// Texts renders messages to people outside the conversation (team
	// members, a resident told that someone is coming).
	Texts *locales.Bundle
	// Sessions, when set, tells the language of a resident who is sent a
	// notice outside their conversation; Vietnamese otherwise.
	Sessions flows.Sessions
	Feedback Feedback
	// Lookups bounds lookups by code.
	Lookups LookupLimiter
	// Privacy records consent before a request keeps a name or phone,
	// and erases a person's data at their request.
	Privacy Privacy
	// RequestRetention is how long a closed request's personal fields are
	// kept, as the consent notice tells it (DefaultRequestRetention when
	// zero); the retention pass does the removing.
	RequestRetention time.Duration
	Log              *slog.Logger
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

// Names of the resident flows, as stored in sessions.
const (
	FlowVNeID    = "vneid"
	FlowCaMauG   = "camaug"
	FlowServices = "services"
	FlowCome     = "come"
	FlowCancel   = "cancelrequest"
)

// Register adds the resident flows, their menu items, the status and rating
// commands, and the handler that attaches photos to an open request.
func Register(e *flows.Engine, deps Deps) error {
	if deps.Places == nil || deps.HelpDesk == nil || deps.Texts == nil || deps.Privacy == nil ||
		deps.Feedback == nil || deps.Lookups == nil {
		return fmt.Errorf("resident: Places, HelpDesk, Texts, Privacy, Feedback and Lookups are required")
	}
	if deps.Guides == nil {
		seed, err := content.Seed()
		if err != nil {
			return fmt.Errorf("resident: %w", err)
		}
		if deps.Guides, err = content.NewMemory(seed); err != nil {
			return fmt.Errorf("resident: %w", err)
		}
	}
	r := &residents{deps: deps}
	for _, f := range []*flows.Flow{r.vneidFlow(), r.camaugFlow(), r.servicesFlow(), r.comeFlow(), r.cancelFlow()} {
		e.Register(f)
	}
	r.registerPrivacy(e)
	e.MenuItem(flows.MenuItem{ID: cmdStatus, Label: "resident.menu.status", Order: 5,
		Show: r.hasOpenRequest, Run: r.showOwnStatus})
	e.MenuItem(flows.MenuItem{ID: "vneid", Label: "resident.menu.vneid", Order: 10, Flow: FlowVNeID,
		Words: []string{"dinh danh", "dinh danh dien tu", "can cuoc dien tu", "vn eid"}})
	e.MenuItem(flows.MenuItem{ID: "camaug", Label: "resident.menu.camaug", Order: 20, Flow: FlowCaMauG,
		Words: []string{"camau g", "ca mau g", "ung dung ca mau"}})
	e.MenuItem(flows.MenuItem{ID: "dichvu", Label: "resident.menu.services", Order: 30, Flow: FlowServices,
		Words: []string{"dich vu so", "dich vu khac", "dich vu so khac", "other services", "digital services"}})
	e.MenuItem(flows.MenuItem{ID: "dennha", Label: "resident.menu.come", Order: 40, Flow: FlowCome,
		Words: []string{"nho to", "den nha", "toi nha", "nho nguoi den", "can nguoi den", "to cong nghe so",
			"home visit", "come to my house", "team member", "someone to come"}})
	// First of the resident's commands: an OTP is neither a code to look
	// up nor an answer to keep.
	e.Command(flows.Command{Name: "resident-otp", Match: matchOTP, Run: r.otpCommand})
	e.Command(flows.Command{Name: "resident-status", Match: flows.Prefix(statusWords...), Run: r.statusCommand})
	e.Command(flows.Command{Name: "resident-rate", Match: flows.Prefix(rateWords...), Run: r.rateCommand})
	e.Command(flows.Command{Name: "resident-bare-rating", Match: bareRating, Run: r.bareRatingCommand})
	e.Command(flows.Command{Name: "resident-cancel", Match: flows.Prefix(cancelWords...), Run: r.cancelCommand})
	e.Command(flows.Command{Name: "resident-code", Match: matchCode, Run: r.codeCommand})
	e.Command(flows.Command{Name: "resident-address", Match: matchAddress, Run: r.addressCommand})
	e.OnEvent(cnsbot.KindMedia, r.onMedia)
	e.OnEvent(cnsbot.KindMedia, r.onVoice)
	return nil
}

// residents carries the dependencies into the flows' callbacks.
type residents struct {
	deps Deps
}
