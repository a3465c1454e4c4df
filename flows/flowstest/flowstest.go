// Package flowstest has in-process implementations of what the flows
// depend on (sessions, places, the help desk, handoffs, the roster) and a
// chat harness that drives an Engine the way the queue does. Tests use
// them instead of mocks: they behave like the store, only in memory.
package flowstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

// Sessions keeps sessions in memory with the store's optimistic
// concurrency: Commit fails with ECONFLICT when the version moved.
type Sessions struct {
	mu       sync.Mutex
	sessions map[string]cnsbot.Session
	out      []cnsbot.Outgoing
	// BeforeCommit, when set, runs before each commit, outside the lock;
	// tests use it to commit something else first (a concurrent writer).
	BeforeCommit func(s cnsbot.Session)
}

// NewSessions returns an empty session store.
func NewSessions() *Sessions {
	return &Sessions{sessions: make(map[string]cnsbot.Session)}
}

// Load returns a copy of the route's session, or a zero one.
func (s *Sessions) Load(_ context.Context, route string) (cnsbot.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.sessions[route]
	if !ok {
		return cnsbot.Session{Key: route}, nil
	}
	return copySession(got), nil
}

// Commit stores the session with Version+1 and keeps the messages.
func (s *Sessions) Commit(_ context.Context, sess cnsbot.Session, out []cnsbot.Outgoing) error {
	if hook := s.BeforeCommit; hook != nil {
		hook(sess)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.sessions[sess.Key]; cur.Version != sess.Version {
		return cnsbot.Errorf(cnsbot.ECONFLICT, "session %s is at version %d, not %d", sess.Key, cur.Version, sess.Version)
	}
	sess = copySession(sess)
	sess.Version++
	s.sessions[sess.Key] = sess
	s.out = append(s.out, out...)
	return nil
}

// Put replaces a session as is (tests set up a conversation's state).
func (s *Sessions) Put(sess cnsbot.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.Key] = copySession(sess)
}

// Get returns the stored session of a route.
func (s *Sessions) Get(route string) cnsbot.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copySession(s.sessions[route])
}

// Outbox returns every message committed so far, in order.
func (s *Sessions) Outbox() []cnsbot.Outgoing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.out)
}

func copySession(s cnsbot.Session) cnsbot.Session {
	s.Data = maps.Clone(s.Data)
	s.History = slices.Clone(s.History)
	return s
}

// Places is a province's units in memory.
type Places struct {
	units []cnsbot.Unit
}

// NewPlaces returns the places made of units (communes and hamlets, with
// ParentID linking a hamlet to its commune).
func NewPlaces(units ...cnsbot.Unit) *Places { return &Places{units: units} }

// Communes returns the communes sorted by name.
func (p *Places) Communes(context.Context) ([]cnsbot.Unit, error) {
	return p.kind(cnsbot.UnitCommune, nil), nil
}

// Hamlets returns a commune's hamlets sorted by name.
func (p *Places) Hamlets(_ context.Context, communeID int64) ([]cnsbot.Unit, error) {
	return p.kind(cnsbot.UnitHamlet, &communeID), nil
}

// Unit returns a unit by id.
func (p *Places) Unit(_ context.Context, id int64) (cnsbot.Unit, error) {
	for _, u := range p.units {
		if u.ID == id {
			return u, nil
		}
	}
	return cnsbot.Unit{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "unit %d", id)
}

func (p *Places) kind(kind string, parent *int64) []cnsbot.Unit {
	var out []cnsbot.Unit
	for _, u := range p.units {
		if u.Kind != kind {
			continue
		}
		if parent != nil && (u.ParentID == nil || *u.ParentID != *parent) {
			continue
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return vn.Fold(out[i].Name) < vn.Fold(out[j].Name) })
	return out
}

// HelpDesk keeps help requests, teams and people in memory, with the
// store's rules: codes "HT"+6, idempotent creation on SourceEvent, a
// request's team defaulting to its hamlet's first team, a resident
// reaching only their own requests by code.
type HelpDesk struct {
	mu          sync.Mutex
	Requests    []cnsbot.HelpRequest
	Attachments []cnsbot.HelpAttachment
	Teams       []cnsbot.Team
	People      []cnsbot.Person
	Roles       []cnsbot.Role
	// Places gives hamlets' communes; optional.
	Places *Places
	seq    int
}

// codeAlphabet is store.HelpCodeAlphabet. The codes here are the
// sequence number scrambled (not random, so that transcripts do not change
// from run to run), so they look like the store's.
const codeAlphabet = "23456789BCFGHJKMNPQRTVXZ"

func (d *HelpDesk) nextCode() string {
	d.seq++
	n := d.seq * 2654435761 % 191102976 // 24^6
	b := []byte("HT")
	for range 6 {
		b = append(b, codeAlphabet[n%len(codeAlphabet)])
		n /= len(codeAlphabet)
	}
	return string(b)
}

// CreateHelpRequest stores r, or fills r with the request an earlier
// handling of the same event created.
func (d *HelpDesk) CreateHelpRequest(ctx context.Context, r *cnsbot.HelpRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.ResidentUserID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "help request without resident")
	}
	for _, x := range d.Requests {
		if r.SourceEvent != "" && x.SourceEvent == r.SourceEvent {
			*r = x
			return nil
		}
	}
	if r.TeamID == nil {
		for _, t := range d.Teams {
			if t.HamletID == r.HamletID {
				id := t.ID
				r.TeamID = &id
				break
			}
		}
	}
	if r.CommuneID == 0 && d.Places != nil {
		if u, err := d.Places.Unit(ctx, r.HamletID); err == nil && u.ParentID != nil {
			r.CommuneID = *u.ParentID
		}
	}
	r.ID = int64(len(d.Requests) + 1)
	r.Code = d.nextCode()
	r.Status = cnsbot.HelpOpen
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	d.Requests = append(d.Requests, *r)
	return nil
}

func (d *HelpDesk) find(code string) (int, error) {
	code = strings.TrimLeft(strings.ToUpper(strings.Join(strings.Fields(code), "")), "#")
	for i, r := range d.Requests {
		if r.Code == code {
			return i, nil
		}
	}
	return -1, cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %q", code)
}

// HelpRequestByCode finds a request by its code, ignoring case and spaces.
func (d *HelpDesk) HelpRequestByCode(_ context.Context, code string) (cnsbot.HelpRequest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, err := d.find(code)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return d.Requests[i], nil
}

// ResidentHelpRequest finds the resident's own request by its code.
func (d *HelpDesk) ResidentHelpRequest(_ context.Context, code, residentUserID string) (cnsbot.HelpRequest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, err := d.findOwn(code, residentUserID)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	return d.Requests[i], nil
}

func (d *HelpDesk) findOwn(code, residentUserID string) (int, error) {
	i, err := d.find(code)
	if err != nil || d.Requests[i].ResidentUserID != residentUserID {
		return -1, cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %q", code)
	}
	return i, nil
}

// CancelHelpRequest cancels the resident's own open or taken request;
// cancelling again succeeds, a closed request is ECONFLICT.
func (d *HelpDesk) CancelHelpRequest(_ context.Context, code, residentUserID string) (cnsbot.HelpRequest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, err := d.findOwn(code, residentUserID)
	if err != nil {
		return cnsbot.HelpRequest{}, err
	}
	r := &d.Requests[i]
	switch r.Status {
	case cnsbot.HelpOpen, cnsbot.HelpTaken:
		now := time.Now()
		r.Status, r.CancelledAt = cnsbot.HelpCancelled, &now
	case cnsbot.HelpCancelled:
	default:
		return *r, cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s", r.Code, r.Status)
	}
	return *r, nil
}

// HelpTaker returns the person who took a request.
func (d *HelpDesk) HelpTaker(_ context.Context, r cnsbot.HelpRequest) (cnsbot.Person, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.TakenBy != nil {
		for _, p := range d.People {
			if p.ID == *r.TakenBy {
				return p, nil
			}
		}
	}
	return cnsbot.Person{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "taker of %s", r.Code)
}

// OpenHelpRequestFor returns the resident's latest open or taken request.
func (d *HelpDesk) OpenHelpRequestFor(_ context.Context, residentUserID string) (cnsbot.HelpRequest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.Requests) - 1; i >= 0; i-- {
		r := d.Requests[i]
		if r.ResidentUserID == residentUserID && (r.Status == cnsbot.HelpOpen || r.Status == cnsbot.HelpTaken) {
			return r, nil
		}
	}
	return cnsbot.HelpRequest{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "open help request")
}

// UnratedHelpRequestFor returns the resident's latest request closed since
// since and not rated.
func (d *HelpDesk) UnratedHelpRequestFor(_ context.Context, residentUserID string, since time.Time) (cnsbot.HelpRequest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.Requests) - 1; i >= 0; i-- {
		r := d.Requests[i]
		if r.ResidentUserID == residentUserID && r.Status == cnsbot.HelpClosed && r.Rating == 0 &&
			r.ClosedAt != nil && !r.ClosedAt.Before(since) {
			return r, nil
		}
	}
	return cnsbot.HelpRequest{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "unrated help request")
}

// AddHelpAttachment keeps a photo or location of a request.
func (d *HelpDesk) AddHelpAttachment(_ context.Context, a *cnsbot.HelpAttachment) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a.RequestID < 1 || int(a.RequestID) > len(d.Requests) {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %d", a.RequestID)
	}
	a.ID = int64(len(d.Attachments) + 1)
	d.Attachments = append(d.Attachments, *a)
	return nil
}

// RateHelpRequest rates the resident's own closed request.
func (d *HelpDesk) RateHelpRequest(_ context.Context, code, residentUserID string, rating int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, err := d.findOwn(code, residentUserID)
	if err != nil {
		return err
	}
	if rating < 1 || rating > 5 {
		return cnsbot.Errorf(cnsbot.EINVALID, "rating %d", rating)
	}
	if d.Requests[i].Status != cnsbot.HelpClosed {
		return cnsbot.Errorf(cnsbot.ECONFLICT, "help request %s is %s, not closed", code, d.Requests[i].Status)
	}
	d.Requests[i].Rating = rating
	return nil
}

// SetStatus changes a request's status (what the team's commands do).
func (d *HelpDesk) SetStatus(code, status string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, err := d.find(code); err == nil {
		d.Requests[i].Status = status
	}
}

// CloseAt marks a request closed at a time (what "xong" does).
func (d *HelpDesk) CloseAt(code string, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, err := d.find(code); err == nil {
		d.Requests[i].Status, d.Requests[i].ClosedAt = cnsbot.HelpClosed, &at
	}
}

// Take marks a request taken by a person (what "nhận" does).
func (d *HelpDesk) Take(code string, personID int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, err := d.find(code); err == nil {
		d.Requests[i].Status, d.Requests[i].TakenBy = cnsbot.HelpTaken, &personID
	}
}

// TeamsOfHamlet returns the hamlet's teams.
func (d *HelpDesk) TeamsOfHamlet(_ context.Context, hamletID int64) ([]cnsbot.Team, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []cnsbot.Team
	for _, t := range d.Teams {
		if t.HamletID == hamletID {
			out = append(out, t)
		}
	}
	return out, nil
}

// Team returns a team by id.
func (d *HelpDesk) Team(_ context.Context, id int64) (cnsbot.Team, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.Teams {
		if t.ID == id {
			return t, nil
		}
	}
	return cnsbot.Team{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "team %d", id)
}

func (d *HelpDesk) peopleWith(match func(r cnsbot.Role) bool) []cnsbot.Person {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []cnsbot.Person
	seen := make(map[int64]bool)
	for _, r := range d.Roles {
		if !r.Approved || !match(r) || seen[r.PersonID] {
			continue
		}
		for _, p := range d.People {
			if p.ID == r.PersonID {
				out = append(out, p)
				seen[p.ID] = true
			}
		}
	}
	return out
}

// TeamMembers returns a team's approved members and leaders.
func (d *HelpDesk) TeamMembers(_ context.Context, teamID int64) ([]cnsbot.Person, error) {
	return d.peopleWith(func(r cnsbot.Role) bool {
		return r.TeamID != nil && *r.TeamID == teamID && (r.Role == cnsbot.RoleMember || r.Role == cnsbot.RoleLeader)
	}), nil
}

// TeamLeaders returns a team's leaders.
func (d *HelpDesk) TeamLeaders(_ context.Context, teamID int64) ([]cnsbot.Person, error) {
	return d.peopleWith(func(r cnsbot.Role) bool {
		return r.TeamID != nil && *r.TeamID == teamID && r.Role == cnsbot.RoleLeader
	}), nil
}

// CommuneOfficers returns a commune's officers.
func (d *HelpDesk) CommuneOfficers(_ context.Context, communeID int64) ([]cnsbot.Person, error) {
	return d.peopleWith(func(r cnsbot.Role) bool {
		return r.UnitID == communeID && r.Role == cnsbot.RoleCommuneOfficer
	}), nil
}

// UnclaimedBefore returns open, unescalated requests created before t.
func (d *HelpDesk) UnclaimedBefore(_ context.Context, t time.Time) ([]cnsbot.HelpRequest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []cnsbot.HelpRequest
	for _, r := range d.Requests {
		if r.Status == cnsbot.HelpOpen && r.EscalatedAt == nil && r.CreatedAt.Before(t) {
			out = append(out, r)
		}
	}
	return out, nil
}

// MarkEscalated records that a request's escalation was sent.
func (d *HelpDesk) MarkEscalated(_ context.Context, id int64, at time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.Requests {
		if d.Requests[i].ID == id {
			d.Requests[i].EscalatedAt = &at
			return nil
		}
	}
	return cnsbot.Errorf(cnsbot.ENOTFOUND, "help request %d", id)
}

// PersonByZalo finds a person by linked Zalo id (the flows' Directory).
func (d *HelpDesk) PersonByZalo(_ context.Context, zaloUserID string) (cnsbot.Person, []cnsbot.Role, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.People {
		if p.ZaloUserID != nil && *p.ZaloUserID == zaloUserID {
			var roles []cnsbot.Role
			for _, r := range d.Roles {
				if r.PersonID == p.ID {
					roles = append(roles, r)
				}
			}
			return p, roles, nil
		}
	}
	return cnsbot.Person{}, nil, cnsbot.Errorf(cnsbot.ENOTFOUND, "person")
}

// Handoffs records handoffs, once per source event.
type Handoffs struct {
	mu      sync.Mutex
	Records []Handoff
}

// Handoff is one recorded request for a person.
type Handoff struct {
	UserID, Reason, SourceEvent string
}

// RecordHandoff records a handoff unless the event already did.
func (h *Handoffs) RecordHandoff(_ context.Context, userID, reason, sourceEvent string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.Records {
		if r.SourceEvent == sourceEvent {
			return nil
		}
	}
	h.Records = append(h.Records, Handoff{UserID: userID, Reason: reason, SourceEvent: sourceEvent})
	return nil
}

// Feedback records guide ratings.
type Feedback struct {
	mu      sync.Mutex
	Ratings []string
}

// RateGuide records "guide=rating".
func (f *Feedback) RateGuide(_ context.Context, _, guide string, rating int, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Ratings = append(f.Ratings, fmt.Sprintf("%s=%d", guide, rating))
	return nil
}

// Clock is a settable time for Options.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
