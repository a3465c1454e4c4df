package bot

import (
	"context"
	"sync"
	"time"

	"github.com/camau-cns/cnsbot"
)

// Message features whose acceptance the service learns from Zalo's answers
// (and from `cnsbot zalo check`). Zalo's v3 pages document text, image,
// file, request_user_info, quote and sticker for consultation messages; the
// list template is documented only for v2 (unsure on v3), so the service
// must not assume it works.
const (
	FeatureList        = "list"
	FeatureRequestInfo = "request_user_info"
	FeatureImage       = "image"
	FeatureText        = "text"
	FeatureGroupText   = "group_text"
)

// Capability is what is known of one feature for this deployment's OA.
type Capability struct {
	// Refused is true when Zalo refused the feature the last time it was
	// tried; false when it accepted it.
	Refused bool
	// Code is Zalo's error code of the refusal (0 when accepted).
	Code int
	// CheckedAt is when it was last tried.
	CheckedAt time.Time
}

// CapabilityStore keeps what the OA's Zalo accepts where every replica, and
// the next start, reads it (store.DB in production). LoadCapabilities
// returns every feature known, by name.
type CapabilityStore interface {
	LoadCapabilities(ctx context.Context) (map[string]Capability, error)
	SaveCapability(ctx context.Context, feature string, c Capability) error
}

// DefaultRetryRefused is how long a refused feature is not tried again: then
// one message tries it, so that an OA whose package changes (or a Zalo that
// starts accepting lists) is noticed without an operator.
const DefaultRetryRefused = 6 * time.Hour

// capsReloadEvery bounds how stale one replica's view of another's
// discovery may be, without a store read per message.
const capsReloadEvery = time.Minute

// capabilities caches a CapabilityStore for the Sender.
type capabilities struct {
	store CapabilityStore
	retry time.Duration
	now   func() time.Time

	mu       sync.Mutex
	known    map[string]Capability
	loadedAt time.Time
	trying   map[string]time.Time // features this replica is re-trying
}

func newCapabilities(st CapabilityStore, retry time.Duration, now func() time.Time) *capabilities {
	if retry <= 0 {
		retry = DefaultRetryRefused
	}
	return &capabilities{store: st, retry: retry, now: now, known: map[string]Capability{}, trying: map[string]time.Time{}}
}

// refused reports whether feature should be skipped for now: Zalo refused it
// and the refusal is younger than the retry interval. Once the interval has
// passed, one caller per replica is let through to try again.
func (c *capabilities) refused(ctx context.Context, feature string) bool {
	if c == nil || c.store == nil {
		return false
	}
	now := c.now()
	c.mu.Lock()
	stale := now.Sub(c.loadedAt) >= capsReloadEvery
	c.mu.Unlock()
	if stale {
		if all, err := c.store.LoadCapabilities(ctx); err == nil {
			c.mu.Lock()
			c.known, c.loadedAt = all, now
			c.mu.Unlock()
		}
		// On a store error the cached view goes on: sending must not
		// depend on the store being up.
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.known[feature]
	if !ok || !k.Refused {
		return false
	}
	if now.Sub(k.CheckedAt) < c.retry {
		return true
	}
	if t, busy := c.trying[feature]; busy && now.Sub(t) < time.Minute {
		return true
	}
	c.trying[feature] = now
	return false
}

// record stores what Zalo just answered for feature when it changes what is
// known (a refusal, or an acceptance after one).
func (c *capabilities) record(ctx context.Context, feature string, refusedCode int) error {
	if c == nil || c.store == nil {
		return nil
	}
	k := Capability{Refused: refusedCode != 0, Code: refusedCode, CheckedAt: c.now()}
	c.mu.Lock()
	old, had := c.known[feature]
	delete(c.trying, feature)
	changed := !had || old.Refused != k.Refused || (k.Refused && old.CheckedAt.Before(k.CheckedAt.Add(-c.retry/2)))
	c.known[feature] = k
	c.mu.Unlock()
	if !changed {
		return nil
	}
	return c.store.SaveCapability(ctx, feature, k)
}

// MemoryCapabilities is a CapabilityStore in memory, for tests, the
// simulator and a single process.
type MemoryCapabilities struct {
	mu   sync.Mutex
	caps map[string]Capability
}

// LoadCapabilities returns a copy of what was saved.
func (m *MemoryCapabilities) LoadCapabilities(context.Context) (map[string]Capability, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Capability, len(m.caps))
	for k, v := range m.caps {
		out[k] = v
	}
	return out, nil
}

// SaveCapability keeps c under feature.
func (m *MemoryCapabilities) SaveCapability(_ context.Context, feature string, c Capability) error {
	if feature == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "capability without a feature")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.caps == nil {
		m.caps = map[string]Capability{}
	}
	m.caps[feature] = c
	return nil
}
