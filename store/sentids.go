package store

import (
	"context"
	"fmt"
	"sync/atomic"
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

	// writes queue the ids to record; one goroutine at a time (writing)
	// sends all that are queued in one pipeline, and ends when none is
	// left. A message each cost a round trip of its own (three system
	// calls and go-redis's check for pushed notices), about 5% of the
	// service's CPU under the load test (issue 19).
	writes  chan sentWrite
	writing atomic.Bool
}

type sentWrite struct {
	key  string
	done chan error
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
	// their own instead (writeQueued).
	return &SentIDs{rdb: rdb, prefix: prefix + "sent:", ttl: ttl, writes: make(chan sentWrite, 4*maxSentBatch)}
}

// RememberSent records msgID as sent by the service.
func (s *SentIDs) RememberSent(ctx context.Context, _ cnsbot.Recipient, msgID string) error {
	if msgID == "" {
		return nil
	}
	w := sentWrite{key: s.prefix + msgID, done: make(chan error, 1)}
	select {
	case s.writes <- w:
	case <-ctx.Done():
		return fmt.Errorf("remember sent message: %w", ctx.Err())
	}
	if s.writing.CompareAndSwap(false, true) {
		go s.writeQueued()
	}
	select {
	case err := <-w.done:
		if err != nil {
			return fmt.Errorf("remember sent message: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("remember sent message: %w", ctx.Err())
	}
}

// writeQueued writes the queued ids, a pipeline at a time, until none is
// left: those queued during a round trip go together in the next.
func (s *SentIDs) writeQueued() {
	batch := make([]sentWrite, 0, maxSentBatch)
	for {
		batch = batch[:0]
	drain:
		for len(batch) < maxSentBatch {
			select {
			case w := <-s.writes:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		if len(batch) == 0 {
			s.writing.Store(false)
			// An id queued after the drain, whose caller found writing
			// still set, would wait for nobody: look once more.
			if len(s.writes) == 0 || !s.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		s.write(batch)
	}
}

func (s *SentIDs) write(batch []sentWrite) {
	ctx, cancel := context.WithTimeout(context.Background(), sentWriteTimeout)
	defer cancel()
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, w := range batch {
			p.Set(ctx, w.key, 1, s.ttl)
		}
		return nil
	})
	for i, w := range batch {
		e := err
		if i < len(cmds) {
			e = cmds[i].Err()
		}
		w.done <- e
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
