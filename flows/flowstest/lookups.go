package flowstest

import (
	"context"
	"sync/atomic"
)

// Lookups is a lookup limiter that allows every lookup and counts them.
type Lookups struct{ n atomic.Int64 }

// AllowLookup allows the lookup.
func (l *Lookups) AllowLookup(context.Context, string) (bool, error) {
	l.n.Add(1)
	return true, nil
}

// Count returns how many lookups were allowed.
func (l *Lookups) Count() int64 { return l.n.Load() }
