package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
)

// DefaultSentTTL is how long the id of a message the service sent is
// remembered: as long as an event is de-duplicated, so that an echo Zalo
// re-sends (for up to about 12 hours) or one that waited in the queue
// through an outage is still recognised.
const DefaultSentTTL = 48 * time.Hour

// SentIDs remembers, in Redis and so for every replica, the message ids Zalo
// returned for the service's own sends (bot.SentLog), and answers whether an
// echo's msg_id is one of them (flows.OwnSends).
type SentIDs struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewSentIDs returns SentIDs keeping each id for ttl (DefaultSentTTL when 0).
func NewSentIDs(rdb redis.UniversalClient, prefix string, ttl time.Duration) *SentIDs {
	if ttl <= 0 {
		ttl = DefaultSentTTL
	}
	// Not through the auto-pipeliner: these writes are off the send path
	// (bot.Client.RememberSends writes in the background) and must not
	// queue ahead of the outbox's acknowledgements, whose delay widens the
	// window in which a crash re-sends a message.
	return &SentIDs{rdb: rdb, prefix: prefix + "sent:", ttl: ttl}
}

// RememberSent records msgID as sent by the service.
func (s *SentIDs) RememberSent(ctx context.Context, _ cnsbot.Recipient, msgID string) error {
	if msgID == "" {
		return nil
	}
	if err := s.rdb.Set(ctx, s.prefix+msgID, 1, s.ttl).Err(); err != nil {
		return fmt.Errorf("remember sent message: %w", err)
	}
	return nil
}

// SentByUs reports whether msgID was recorded by RememberSent within the TTL.
func (s *SentIDs) SentByUs(ctx context.Context, msgID string) (bool, error) {
	if msgID == "" {
		return false, nil
	}
	n, err := s.rdb.Exists(ctx, s.prefix+msgID).Result()
	if err != nil {
		return false, fmt.Errorf("look up sent message: %w", err)
	}
	return n == 1, nil
}

// TTL is how long an id is remembered.
func (s *SentIDs) TTL() time.Duration { return s.ttl }
