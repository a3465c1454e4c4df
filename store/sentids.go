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

	// writes records the ids in pipelines of their own, all those queued
	// during a round trip together: a message each cost a round trip of
	// its own (three system calls and go-redis's check for pushed
	// notices), about 5% of the service's CPU under the load test (issue
	// 19).
	writes *groupWriter[string]
}

// maxSentBatch bounds the ids written in one pipeline.
const maxSentBatch = 256

// sentWriteTimeout bounds one pipeline's round trip.
const sentWriteTimeout = 2 * time.Second

// NewSentIDs returns SentIDs keeping each id for ttl (DefaultSentTTL when 0).
func NewSentIDs(rdb redis.UniversalClient, prefix string, ttl time.Duration) *SentIDs {
	if ttl <= 0 {
		ttl = DefaultSentTTL
	}
	// Not through the auto-pipeliner: these writes are off the send path
	// (bot.Client.RememberSends writes in the background) and must not
	// queue ahead of the outbox's acknowledgements, whose delay widens the
	// window in which a crash re-sends a message. They share pipelines of
	// their own instead (groupWriter).
	s := &SentIDs{rdb: rdb, prefix: prefix + "sent:", ttl: ttl}
	s.writes = newGroupWriter(maxSentBatch, s.write)
	return s
}

// RememberSent records msgID as sent by the service.
func (s *SentIDs) RememberSent(ctx context.Context, _ cnsbot.Recipient, msgID string) error {
	if msgID == "" {
		return nil
	}
	if err := s.writes.Add(ctx, s.prefix+msgID); err != nil {
		return fmt.Errorf("remember sent message: %w", err)
	}
	return nil
}

// write sets the keys in one pipeline.
func (s *SentIDs) write(keys []string, errs []error) {
	ctx, cancel := context.WithTimeout(context.Background(), sentWriteTimeout)
	defer cancel()
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, k, 1, s.ttl)
		}
		return nil
	})
	for i := range keys {
		errs[i] = err
		if i < len(cmds) {
			errs[i] = cmds[i].Err()
		}
	}
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
