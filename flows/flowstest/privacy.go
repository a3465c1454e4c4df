package flowstest

import (
	"context"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot"
)

// Privacy keeps consents, erasures and unfollows in memory, as the store
// does. With Desk set, ForgetUser clears the personal fields of that
// desk's requests and drops their attachments, as the store does.
type Privacy struct {
	Desk *HelpDesk

	mu sync.Mutex
	// Consents maps "user/version" to when the user agreed.
	Consents map[string]time.Time
	// Erased lists the users whose data was erased, in order.
	Erased []string
	// Unfollowed maps users who unfollowed to when.
	Unfollowed map[string]time.Time
}

// HasConsent reports whether userID agreed to version.
func (p *Privacy) HasConsent(_ context.Context, userID, version string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.Consents[userID+"/"+version]
	return ok, nil
}

// RecordConsent keeps the first time userID agreed to version.
func (p *Privacy) RecordConsent(_ context.Context, userID, version string, at time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Consents == nil {
		p.Consents = map[string]time.Time{}
	}
	if _, ok := p.Consents[userID+"/"+version]; !ok {
		p.Consents[userID+"/"+version] = at
	}
	return nil
}

// ForgetUser erases userID's consents and, with Desk, their requests'
// personal fields and attachments.
func (p *Privacy) ForgetUser(_ context.Context, userID string, _ time.Time) error {
	p.mu.Lock()
	for k := range p.Consents {
		if len(k) > len(userID) && k[:len(userID)+1] == userID+"/" {
			delete(p.Consents, k)
		}
	}
	delete(p.Unfollowed, userID)
	p.Erased = append(p.Erased, userID)
	p.mu.Unlock()
	if d := p.Desk; d != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		erased := map[int64]bool{}
		for i := range d.Requests {
			r := &d.Requests[i]
			if r.ResidentUserID != userID {
				continue
			}
			if r.Status == cnsbot.HelpOpen || r.Status == cnsbot.HelpTaken {
				r.Status = cnsbot.HelpCancelled
			}
			r.ResidentUserID, r.Name, r.Phone, r.Problem, r.PreferredTime, r.Outcome = "", "", "", "", "", ""
			erased[r.ID] = true
		}
		kept := d.Attachments[:0]
		for _, a := range d.Attachments {
			if !erased[a.RequestID] {
				kept = append(kept, a)
			}
		}
		d.Attachments = kept
	}
	return nil
}

// RecordUnfollow keeps when userID unfollowed.
func (p *Privacy) RecordUnfollow(_ context.Context, userID string, at time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Unfollowed == nil {
		p.Unfollowed = map[string]time.Time{}
	}
	p.Unfollowed[userID] = at
	return nil
}

// ClearUnfollow forgets that userID unfollowed.
func (p *Privacy) ClearUnfollow(_ context.Context, userID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.Unfollowed, userID)
	return nil
}
