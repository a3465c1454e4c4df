package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
)

// KeptCopies is the delivery log with an index in Redis of the people who
// may have private copies waiting (see PendingCopies). Every message a
// person writes asks for their copies; with the index, the usual answer
// ("none") costs one Redis lookup instead of a database query.
//
// The index only ever says "maybe": a refusal adds the person before the
// copy could be asked for, and a lookup that finds nothing removes them.
type KeptCopies struct {
	*DB
	rdb redis.UniversalClient
	key string
}

// NewKeptCopies wraps db; the index lives at prefix+"copies".
func NewKeptCopies(db *DB, rdb redis.UniversalClient, prefix string) *KeptCopies {
	return &KeptCopies{DB: db, rdb: autoPipelined(rdb), key: prefix + "copies"}
}

// Undeliverable records a refusal, and indexes its recipient when the
// refusal keeps a private copy.
func (k *KeptCopies) Undeliverable(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error {
	if err := k.index(ctx, m, code); err != nil {
		return err
	}
	return k.DB.Undeliverable(ctx, m, code, reason)
}

// Fallback records a refusal delivered to the team's group instead, and
// indexes its recipient when the refusal keeps a private copy.
func (k *KeptCopies) Fallback(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error {
	if err := k.index(ctx, m, code); err != nil {
		return err
	}
	return k.DB.Fallback(ctx, m, code, reason)
}

// index adds m's recipient to the index before the refusal is recorded, so
// a recorded copy is always findable.
func (k *KeptCopies) index(ctx context.Context, m cnsbot.Outgoing, code int) error {
	if m.To.UserID == "" || !slices.Contains(copyCodes, code) || !slices.Contains(copyPurposes, m.Purpose) {
		return nil
	}
	if err := k.rdb.SAdd(ctx, k.key, m.To.UserID).Err(); err != nil {
		return fmt.Errorf("index kept copy: %w", err)
	}
	return nil
}

// PendingCopies is DB.PendingCopies for people in the index; others have
// none. A person whose copies are all dealt with leaves the index.
func (k *KeptCopies) PendingCopies(ctx context.Context, userID string, limit int) ([]cnsbot.Outgoing, error) {
	if userID == "" {
		return nil, nil
	}
	maybe, err := k.rdb.SIsMember(ctx, k.key, userID).Result()
	if err != nil {
		return nil, fmt.Errorf("pending copies index: %w", err)
	}
	if !maybe {
		return nil, nil
	}
	out, err := k.DB.PendingCopies(ctx, userID, limit)
	if err != nil || len(out) > 0 {
		return out, err
	}
	if err := k.rdb.SRem(ctx, k.key, userID).Err(); err != nil {
		return nil, fmt.Errorf("pending copies index: %w", err)
	}
	return nil, nil
}
