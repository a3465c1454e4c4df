package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	json "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
)

// Queue defaults.
const (
	DefaultQueuePrefix = "cnsbot:"
	DefaultPartitions  = 16
	DefaultDedupeTTL   = 48 * time.Hour
	DefaultSessionTTL  = 7 * 24 * time.Hour
	DefaultLease       = 15 * time.Second
	DefaultAttempts    = 5
)

const (
	// group is the consumer group of every stream. Its consumer name is
	// fixed too, so that whichever replica owns a partition reads the
	// entries a crashed owner left pending before any new one.
	group    = "cnsbot"
	consumer = "owner"
	// readCount entries are read per round trip.
	readCount = 32
)

// Stream kinds, as metric labels.
const (
	streamInbox  = "inbox"
	streamOutbox = "outbox"
	streamPush   = "push"
	streamBulk   = "bulk"
)

// QueueOptions configure a Queue; zero fields take the defaults.
type QueueOptions struct {
	// Prefix starts every key. It must not contain '{' or '}', which
	// would break the partitions' hash tags. Default "cnsbot:".
	Prefix string
	// Partitions is the fixed number of partitions (default 16). It is
	// stored in Redis on first start, and a Queue with another number
	// refuses to start: routes would move to other partitions while
	// their events are still queued in the old ones.
	Partitions int
	// DedupeTTL is how long an event key is remembered (default 48h).
	DedupeTTL time.Duration
	// SessionTTL is how long a session lives after its last commit
	// (default 7 days).
	SessionTTL time.Duration
	// Lease is how long a partition stays owned by a replica that stopped
	// renewing it (default 15s). It bounds how long a crashed replica's
	// partitions wait for a new owner.
	Lease time.Duration
	// ReplicaID names this replica in logs and leases (default
	// hostname-pid).
	ReplicaID string
	// Attempts is how many times an event is handled before it is given
	// up as dead (default 5).
	Attempts int
	Log      *slog.Logger
	Metrics  *QueueMetrics
	// OnDead records an event that failed every attempt (DB.RecordDeadEvent
	// fits). When it fails a few times too (the database is down or
	// read-only), the event is parked in its partition's dead stream in
	// Redis and the partition moves on; parked events are handed to OnDead
	// again every minute until it succeeds, so that nothing is dropped
	// silently. Nil drops dead events after logging them.
	OnDead func(ctx context.Context, key string, payload []byte, err error) error
	// Apology, when set, returns the message that tells the person whose
	// event was given up as dead that something went wrong (cause is the
	// last attempt's error, so the words can fit its code), or false when
	// there is nobody to tell (a group's chatter, an event not from a
	// person). The message is queued in the same atomic step that removes
	// the event, so it is sent once.
	Apology func(ctx context.Context, payload []byte, cause error) (cnsbot.Outgoing, bool)
}

// Queue is the Redis side of event processing: the de-duplicating inbox the
// webhook enqueues to, the sessions, and the outbox of messages to send.
//
// Routes are spread over a fixed number of partitions. All keys of a
// partition share the hash tag {p<N>}, so every script touches one cluster
// slot. Run makes this replica own some partitions (a lease each) and
// process them: events of a partition strictly one after the other, which
// keeps each route in order, and partitions in parallel.
type Queue struct {
	rdb redis.UniversalClient
	// fast carries the hot path's commands (enqueue, session load and
	// commit): see autoPipelined. acks carries the acknowledgements of
	// processed entries, on connections of its own (set by Run).
	fast  redis.UniversalClient
	acks  redis.UniversalClient
	opts  QueueOptions
	log   *slog.Logger
	m     *QueueMetrics
	token string // lease value: unique to this Queue, even if ReplicaIDs clash
	parts []partKeys

	// block is how long a read waits for new entries.
	block time.Duration
	// retry is the first retry interval after a failure.
	retry time.Duration
	// deadRetry is how often parked dead entries are handed to OnDead
	// again.
	deadRetry time.Duration

	running atomic.Bool

	mu       sync.Mutex
	owned    int // partitions owned or being acquired
	replicas int // live replicas, from the heartbeat
}

// partKeys are the keys of one partition. Replies (messages an event
// produced for the person who wrote, and anything without a purpose) wait
// in outbox; pushes (reminders, notifications: every other purpose) in
// push, so that a reply never queues behind a burst of pushes; officers'
// announcements (Purpose "announce", thousands at once) in bulk, so that
// they queue behind neither replies nor the other pushes. dead holds
// events given up while OnDead could not record them.
type partKeys struct {
	tag, inbox, outbox, push, bulk, dead, lease string
}

// NewQueue checks opts against what Redis holds and returns a Queue.
func NewQueue(ctx context.Context, rdb redis.UniversalClient, opts QueueOptions) (*Queue, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultQueuePrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("new queue: prefix %q must not contain braces", opts.Prefix)
	}
	if opts.Partitions == 0 {
		opts.Partitions = DefaultPartitions
	}
	if opts.Partitions < 1 || opts.Partitions > 4096 {
		return nil, fmt.Errorf("new queue: %d partitions, want 1 to 4096", opts.Partitions)
	}
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = DefaultDedupeTTL
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Lease < 30*time.Millisecond {
		return nil, fmt.Errorf("new queue: lease %v is too short", opts.Lease)
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.ReplicaID == "" {
		host, _ := os.Hostname()
		opts.ReplicaID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewQueueMetrics(nil)
	}
	random, err := randomToken()
	if err != nil {
		return nil, fmt.Errorf("new queue: %w", err)
	}
	q := &Queue{
		rdb:       rdb,
		opts:      opts,
		log:       opts.Log.With("component", "queue", "replica", opts.ReplicaID),
		m:         opts.Metrics,
		token:     opts.ReplicaID + "/" + random,
		block:     time.Second,
		retry:     100 * time.Millisecond,
		deadRetry: time.Minute,
		replicas:  1,
	}
	q.fast = autoPipelined(rdb)
	for p := range opts.Partitions {
		tag := fmt.Sprintf("%s{p%d}", opts.Prefix, p)
		q.parts = append(q.parts, partKeys{
			tag:    tag,
			inbox:  tag + ":in",
			outbox: tag + ":out",
			push:   tag + ":push",
			bulk:   tag + ":bulk",
			dead:   tag + ":dead",
			lease:  tag + ":lease",
		})
	}
	if err := q.checkPartitions(ctx); err != nil {
		return nil, fmt.Errorf("new queue: %w", err)
	}
	return q, nil
}

func (q *Queue) checkPartitions(ctx context.Context) error {
	key := q.opts.Prefix + "partitions"
	want := strconv.Itoa(q.opts.Partitions)
	if err := q.rdb.SetNX(ctx, key, want, 0).Err(); err != nil {
		return fmt.Errorf("store partition count: %w", err)
	}
	got, err := q.rdb.Get(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("read partition count: %w", err)
	}
	if got != want {
		return fmt.Errorf("redis holds a queue of %s partitions but %s are configured: "+
			"changing the number moves routes to other partitions, so it needs a drained queue "+
			"(stop every replica, wait for Backlog to be 0, delete key %q, restart)", got, want, key)
	}
	return nil
}

// partition returns the partition of a route.
func (q *Queue) partition(route string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(route))
	return int(h.Sum32() % uint32(q.opts.Partitions))
}

func (q *Queue) seenKey(p int, key string) string      { return q.parts[p].tag + ":seen:" + key }
func (q *Queue) sessionKey(p int, route string) string { return q.parts[p].tag + ":s:" + route }

// enqueueScript adds an event to the inbox unless its key was seen. The
// key is marked seen only after the XADD succeeded, so an event that could
// not be queued is not refused as a duplicate when Zalo sends it again.
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('XADD', KEYS[2], '*', 'k', ARGV[2], 'p', ARGV[3], 'r', ARGV[4])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`)

// Enqueue queues payload (an event) for route, once per key: accepted is
// false when key was already queued within DedupeTTL. When it returns nil
// the event is in Redis, as durable as Redis is.
//
// Enqueue returns when ctx ends, whether or not Redis has answered: the
// auto-pipeliner runs a queued command on a context of its own, behind the
// batch in flight, so a Redis that refused connections or never answered
// held the webhook's answer for 2.5 s to over a minute. An event given up
// this way may still reach the inbox later; Zalo's re-send of it then finds
// its key seen and is answered 200 without a second copy.
func (q *Queue) Enqueue(ctx context.Context, key, route string, payload []byte) (accepted bool, err error) {
	if key == "" || route == "" {
		return false, cnsbot.Errorf(cnsbot.EINVALID, "event without key or route")
	}
	p := q.partition(route)
	run := func() (int, error) {
		return enqueueScript.Run(ctx, q.fast,
			[]string{q.seenKey(p, key), q.parts[p].inbox},
			q.opts.DedupeTTL.Milliseconds(), key, payload, route).Int()
	}
	var n int
	if ctx.Done() == nil {
		n, err = run()
	} else {
		n, err = waitFor(ctx, run)
	}
	if err != nil {
		return false, fmt.Errorf("enqueue event: %w", err)
	}
	return n == 1, nil
}

// waitFor runs f on its own goroutine and returns its result, or ctx's
// error as soon as ctx ends; f then finishes in the background.
func waitFor[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// Load returns the session of route, or a new one (Key set, Version 0).
func (q *Queue) Load(ctx context.Context, route string) (cnsbot.Session, error) {
	b, err := q.fast.Get(ctx, q.sessionKey(q.partition(route), route)).Bytes()
	if errors.Is(err, redis.Nil) {
		return cnsbot.Session{Key: route}, nil
	}
	if err != nil {
		return cnsbot.Session{}, fmt.Errorf("load session: %w", err)
	}
	var s cnsbot.Session
	if err := json.Unmarshal(b, &s); err != nil {
		return cnsbot.Session{}, fmt.Errorf("load session: %w", err)
	}
	return s, nil
}

// commitScript writes a session if its stored version is the one it was
// loaded at, and queues its messages on the partition's outbox (replies)
// or push stream (ARGV[i+2] is "p"), in one atomic step. The messages go
// first: if Redis refuses a write, nothing of the commit is visible.
var commitScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local version = 0
if cur then
  version = tonumber(cjson.decode(cur)['version']) or 0
end
if version ~= tonumber(ARGV[1]) then
  return {0, version}
end
for i = 5, #ARGV, 3 do
  local stream = KEYS[2]
  if ARGV[i+2] == 'p' then
    stream = KEYS[4]
  elseif ARGV[i+2] == 'b' then
    stream = KEYS[5]
  end
  redis.call('XADD', stream, '*', 'o', ARGV[i], 'r', ARGV[i+1])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('XACK', KEYS[3], 'cnsbot', ARGV[4])
  redis.call('XDEL', KEYS[3], ARGV[4])
end
return {1, version + 1}
`)

// inFlight is the inbox entry whose handler is running. Commit finds it in
// the handler's context and acknowledges the entry in the same atomic step
// as the session and the messages, so an event is never applied twice,
// and the acknowledgement costs no round trip of its own.
type inFlight struct {
	p      int
	stream string
	id     string
	acked  atomic.Bool
}

type inFlightKey struct{}

// Commit stores s with Version+1, and queues out for delivery,
// atomically. UpdatedAt is kept as the caller stamped it, by the engine's
// clock, which the engine compares it with ("back after a while?"): a demo
// clock moved forward must not find every session hours old. Unset, it is
// now. It returns an ECONFLICT *cnsbot.Error when the
// stored session is no longer at s.Version (someone committed since Load).
// The messages go to s's partition, whatever their recipients, so that
// the messages of one conversation leave in order: replies on its outbox,
// pushes (a notice to a team, say) on its push stream, behind replies.
func (q *Queue) Commit(ctx context.Context, s cnsbot.Session, out []cnsbot.Outgoing) error {
	if s.Key == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "session without key")
	}
	p := q.partition(s.Key)
	expected := s.Version
	s.Version++
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = time.Now()
	}
	s.UpdatedAt = s.UpdatedAt.UTC()
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	keys := []string{q.sessionKey(p, s.Key), q.parts[p].outbox, q.parts[p].inbox, q.parts[p].push, q.parts[p].bulk}
	ack, _ := ctx.Value(inFlightKey{}).(*inFlight)
	if ack != nil && ack.p != p {
		ack = nil // an event of another partition: cannot be acknowledged here
	}
	ackID := ""
	if ack != nil {
		ackID = ack.id
	}
	args := make([]any, 0, 4+3*len(out))
	args = append(args, expected, body, q.opts.SessionTTL.Milliseconds(), ackID)
	for _, o := range out {
		b, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("commit session: encode message %s: %w", o.ID, err)
		}
		lane := "r"
		switch {
		case IsBulk(o):
			lane = "b"
		case IsPush(o):
			lane = "p"
		}
		args = append(args, b, o.To.String(), lane)
	}
	res, err := commitScript.Run(ctx, q.fast, keys, args...).Int64Slice()
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("commit session: unexpected reply %v", res)
	}
	if res[0] == 0 {
		return cnsbot.Errorf(cnsbot.ECONFLICT, "session changed: version %d, loaded at %d", res[1], expected)
	}
	if ack != nil {
		ack.acked.Store(true)
	}
	return nil
}

// IsPush reports whether m is a push (a reminder, a notification, an
// announcement: any purpose but "reply") rather than a reply to someone who
// just wrote. Pushes wait on a stream of their own and take send permits
// only when no reply is waiting (see Limiter.WaitPush).
func IsPush(m cnsbot.Outgoing) bool {
	return m.Purpose != "" && m.Purpose != "reply"
}

// IsBulk reports whether m is an officer's announcement, which waits on
// the bulk stream and takes a send permit only when no reply and no other
// push of this replica waits for one (see Limiter.WaitBulk).
func IsBulk(m cnsbot.Outgoing) bool { return m.Purpose == PurposeAnnounce }

// PurposeAnnounce is the purpose of announcements (announce.Purpose).
const PurposeAnnounce = "announce"

// Push queues messages that no event produced (reminders, notifications,
// announcements) on each recipient's partition, in order per recipient:
// announcements on its bulk stream, other pushes on its push stream,
// replies (a message with Purpose "reply") on its outbox.
func (q *Queue) Push(ctx context.Context, outs ...cnsbot.Outgoing) error {
	if len(outs) == 0 {
		return nil
	}
	_, err := q.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, o := range outs {
			b, err := json.Marshal(o)
			if err != nil {
				return fmt.Errorf("encode message %s: %w", o.ID, err)
			}
			keys := q.parts[q.partition(o.To.String())]
			stream := keys.outbox
			switch {
			case IsBulk(o):
				stream = keys.bulk
			case IsPush(o):
				stream = keys.push
			}
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"o", b, "r", o.To.String()}})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("push messages: %w", err)
	}
	return nil
}

// Backlog returns how many events and messages (replies and pushes) wait
// in all partitions (including those being processed).
func (q *Queue) Backlog(ctx context.Context) (inbox, outbox int64, err error) {
	in, replies, pushes, err := q.backlog(ctx)
	return in, replies + pushes, err
}

func (q *Queue) backlog(ctx context.Context) (inbox, replies, pushes int64, err error) {
	in := make([]*redis.IntCmd, len(q.parts))
	out := make([]*redis.IntCmd, len(q.parts))
	push := make([]*redis.IntCmd, len(q.parts))
	bulk := make([]*redis.IntCmd, len(q.parts))
	_, err = q.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for p, k := range q.parts {
			in[p] = pipe.XLen(ctx, k.inbox)
			out[p] = pipe.XLen(ctx, k.outbox)
			push[p] = pipe.XLen(ctx, k.push)
			bulk[p] = pipe.XLen(ctx, k.bulk)
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("queue backlog: %w", err)
	}
	for p := range q.parts {
		inbox += in[p].Val()
		replies += out[p].Val()
		// Announcements count as pushes here (the backlog's metric and
		// readiness know two kinds of outgoing message).
		pushes += push[p].Val() + bulk[p].Val()
	}
	return inbox, replies, pushes, nil
}

// Run processes the partitions this replica owns until ctx is done:
// handle gets each event's payload, deliver each outgoing message. An event
// whose handle fails is retried, and recorded as dead after Attempts tries;
// a message whose deliver fails is retried until it succeeds (deliver
// decides what is permanent and returns nil for it).
//
// When ctx is done, Run stops reading, lets the calls in flight finish
// (their context is not cancelled by ctx, only by losing the partition),
// releases its leases and returns nil.
func (q *Queue) Run(ctx context.Context, handle func(ctx context.Context, payload []byte) error,
	deliver func(ctx context.Context, m cnsbot.Outgoing) error) error {
	if handle == nil || deliver == nil {
		return errors.New("run queue: handle and deliver are required")
	}
	if !q.running.CompareAndSwap(false, true) {
		return errors.New("run queue: already running")
	}
	defer q.running.Store(false)

	// Every owned partition keeps three blocking reads open. They get their
	// own connections so that they never starve the webhook's Enqueue.
	brdb, closeB := dedicatedClient(q.rdb, 3*len(q.parts)+2)
	defer closeB()
	// Acknowledgements of sent messages get a pipeliner of their own: the
	// acks of many lanes share a write, but never wait behind the session
	// loads and commits queued on q.fast. The time from Zalo's answer to
	// the ack reaching Redis is the window in which a crash sends a
	// message again (Zalo has no idempotency key), so it is kept short.
	ardb, closeA := dedicatedClient(q.rdb, 4)
	defer closeA()
	q.acks = autoPipelined(ardb)

	q.heartbeat(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { q.heartbeats(ctx) })
	wg.Go(func() { q.watchBacklog(ctx) })
	for p := range q.parts {
		wg.Go(func() { q.runPartition(ctx, brdb, p, handle, deliver) })
	}
	wg.Wait()

	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = q.rdb.ZRem(stop, q.replicasKey(), q.token).Err()
	return nil
}

// dedicatedClient returns a client with its own pool of size connections,
// sharing rdb's settings, and a function that closes it.
func dedicatedClient(rdb redis.UniversalClient, size int) (redis.UniversalClient, func()) {
	switch c := rdb.(type) {
	case *redis.Client:
		o := *c.Options()
		o.PoolSize, o.MinIdleConns, o.MaxIdleConns = size, 0, size
		// No silent retry of a read whose connection broke: Redis may have
		// handed entries over before it broke, and the reader must know to
		// read its pending entries again (see drain).
		o.MaxRetries = -1
		d := redis.NewClient(&o)
		return d, func() { _ = d.Close() }
	case *redis.ClusterClient:
		o := *c.Options()
		o.PoolSize, o.MinIdleConns, o.MaxIdleConns = size, 0, size
		o.MaxRetries = -1
		d := redis.NewClusterClient(&o)
		return d, func() { _ = d.Close() }
	}
	return rdb, func() {}
}

func (q *Queue) replicasKey() string { return q.opts.Prefix + "replicas" }

// heartbeatScript registers a replica until its deadline and counts the
// live ones. Scores are deadlines in Unix milliseconds.
var heartbeatScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
`)

// heartbeat announces this replica, so that each takes a fair share of the
// partitions instead of the first one to start taking them all.
func (q *Queue) heartbeat(ctx context.Context) {
	now := time.Now()
	ctx, cancel := context.WithTimeout(ctx, q.opts.Lease/3)
	defer cancel()
	n, err := heartbeatScript.Run(ctx, q.rdb, []string{q.replicasKey()},
		now.UnixMilli(), now.Add(q.opts.Lease).UnixMilli(), q.token, (2 * q.opts.Lease).Milliseconds()).Int()
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("queue heartbeat failed", "err", err)
		}
		return
	}
	q.mu.Lock()
	q.replicas = max(n, 1)
	q.mu.Unlock()
}

func (q *Queue) heartbeats(ctx context.Context) {
	t := time.NewTicker(q.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			q.heartbeat(ctx)
		}
	}
}

// fairShareLocked is how many partitions one replica should own.
func (q *Queue) fairShareLocked() int {
	return (len(q.parts) + q.replicas - 1) / q.replicas
}

// reserve books a slot for one more partition if this replica owns less
// than its fair share.
func (q *Queue) reserve() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.owned >= q.fairShareLocked() {
		return false
	}
	q.owned++
	q.m.Owned.Set(float64(q.owned))
	return true
}

func (q *Queue) unreserve() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.owned--
	q.m.Owned.Set(float64(q.owned))
}

// shed reports whether this replica owns more than its fair share, and if
// so gives up the slot of one partition, which the caller then releases.
func (q *Queue) shed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.owned <= q.fairShareLocked() {
		return false
	}
	q.owned--
	q.m.Owned.Set(float64(q.owned))
	return true
}

func (q *Queue) watchBacklog(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		in, out, push, err := q.backlog(ctx)
		if err == nil {
			q.m.Backlog.WithLabelValues(streamInbox).Set(float64(in))
			q.m.Backlog.WithLabelValues(streamOutbox).Set(float64(out))
			q.m.Backlog.WithLabelValues(streamPush).Set(float64(push))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runPartition tries to own partition p until ctx is done.
func (q *Queue) runPartition(ctx context.Context, brdb redis.UniversalClient, p int,
	handle func(context.Context, []byte) error, deliver func(context.Context, cnsbot.Outgoing) error) {
	for ctx.Err() == nil {
		if q.reserve() {
			acquired, at := q.acquire(ctx, p)
			if acquired {
				shed := q.own(ctx, brdb, p, at, handle, deliver)
				if !shed {
					q.unreserve()
				}
			} else {
				q.unreserve()
			}
		}
		if !sleep(ctx, jitter(q.opts.Lease/3)) {
			return
		}
	}
}

// acquire tries to take the lease of partition p. at is when the request
// was sent: the lease runs from no earlier than that.
func (q *Queue) acquire(ctx context.Context, p int) (ok bool, at time.Time) {
	at = time.Now()
	ok, err := q.rdb.SetNX(ctx, q.parts[p].lease, q.token, q.opts.Lease).Result()
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("acquire partition failed", "partition", p, "err", err)
		}
		return false, at
	}
	return ok, at
}

// renewScript extends a lease only while it is still ours.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

var errLeaseLost = errors.New("partition lease lost")

// owner is this replica's tenure of one partition.
type owner struct {
	q    *Queue
	p    int
	brdb redis.UniversalClient
	log  *slog.Logger
	// work is the context of handler calls: cancelled only when the lease
	// is lost, since then another replica may be processing the partition.
	work context.Context
	lose context.CancelCauseFunc
	// loops stop reading at shutdown, when the lease is lost, or when the
	// partition is shed.
	loops     context.Context
	stopLoops context.CancelFunc
	// until is when the lease runs out by this replica's clock (Unix
	// nanoseconds), less a margin. It guards each step even if the renewing
	// goroutine is starved and has not noticed a loss yet.
	until atomic.Int64
}

func (o *owner) extend(sent time.Time) {
	l := o.q.opts.Lease
	o.until.Store(sent.Add(l - l/5).UnixNano())
}

// held reports whether the partition may still be worked on.
func (o *owner) held() bool {
	return o.work.Err() == nil && time.Now().UnixNano() < o.until.Load()
}

// own processes partition p while this replica holds its lease. It returns
// when ctx is done, the lease is lost, or the partition was shed to another
// replica (shed is then true: the slot was already given back).
func (q *Queue) own(ctx context.Context, brdb redis.UniversalClient, p int, acquiredAt time.Time,
	handle func(context.Context, []byte) error, deliver func(context.Context, cnsbot.Outgoing) error) (shed bool) {
	o := &owner{q: q, p: p, brdb: brdb, log: q.log.With("partition", p)}
	o.extend(acquiredAt)
	o.work, o.lose = context.WithCancelCause(context.WithoutCancel(ctx))
	defer o.lose(nil)
	o.loops, o.stopLoops = context.WithCancel(o.work)
	defer o.stopLoops()
	defer context.AfterFunc(ctx, o.stopLoops)()
	o.log.Debug("partition acquired")

	renewing, stopRenewing := context.WithCancel(o.work)
	renewed := make(chan bool, 1)
	go func() { renewed <- o.renew(renewing) }()

	var wg sync.WaitGroup
	wg.Go(func() {
		o.drain(q.parts[p].inbox, "p", nil, eventSlots, func(e entry) bool { return o.processEvent(e, handle) })
	})
	wg.Go(func() {
		o.drain(q.parts[p].outbox, "o", recipientLane, nil, func(e entry) bool {
			return o.processMessage(e, q.parts[p].outbox, streamOutbox, deliver)
		})
	})
	// Pushes are drained alongside replies, never in front of them: each
	// push waits for a send permit that no reply is waiting for.
	wg.Go(func() {
		o.drain(q.parts[p].push, "o", recipientLane, nil, func(e entry) bool {
			return o.processMessage(e, q.parts[p].push, streamPush, deliver)
		})
	})
	// Announcements have a lane of their own, behind the other pushes.
	wg.Go(func() {
		o.drain(q.parts[p].bulk, "o", recipientLane, nil, func(e entry) bool {
			return o.processMessage(e, q.parts[p].bulk, streamBulk, deliver)
		})
	})
	if q.opts.OnDead != nil {
		wg.Go(o.recordParked)
	}
	wg.Wait()
	stopRenewing()
	shed = <-renewed

	if o.work.Err() != nil {
		o.log.Warn("partition lost", "err", context.Cause(o.work))
		return shed
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := unlockScript.Run(rctx, q.rdb, []string{q.parts[p].lease}, q.token).Err(); err != nil {
		o.log.Warn("release partition failed", "err", err)
	}
	o.log.Debug("partition released", "shed", shed)
	return shed
}

// renew keeps the lease until ctx is done. A renewal that fails (Redis
// unreachable) is retried; once the next try would come after the lease
// ran out, the lease is given up as lost, before another replica may take
// it. It reports whether it shed the partition.
func (o *owner) renew(ctx context.Context) (shed bool) {
	q := o.q
	every := q.opts.Lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return shed
		case <-t.C:
		}
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, every)
		n, err := renewScript.Run(rctx, q.rdb, []string{q.parts[o.p].lease}, q.token, q.opts.Lease.Milliseconds()).Int()
		cancel()
		switch {
		case err == nil && n == 1:
			o.extend(sent)
			if !shed && q.shed() {
				o.log.Info("partition handed over to another replica")
				shed = true
				o.stopLoops()
			}
		case err == nil:
			o.lose(errLeaseLost)
			return shed
		default:
			if ctx.Err() != nil {
				return shed
			}
			o.log.Warn("renew partition failed", "err", err)
			if time.Now().Add(every).UnixNano() >= o.until.Load() {
				o.lose(fmt.Errorf("%w: cannot renew: %w", errLeaseLost, err))
				return shed
			}
		}
	}
}

// ensureGroup creates stream key and its consumer group if missing. The
// group starts at the stream's beginning, so entries added before it
// existed are read too.
func ensureGroup(ctx context.Context, rdb redis.UniversalClient, key string) error {
	err := rdb.XGroupCreateMkStream(ctx, key, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group of %s: %w", key, err)
	}
	return nil
}

// entry is one stream entry being processed.
type entry struct {
	id   string
	key  string // event key; empty for messages
	body string
	// lane is the conversation the entry belongs to: entries of one lane
	// are processed in order, different lanes of a batch at once.
	lane string
}

// recipientLane is the lane of an outbox entry: its recipient, so that one
// person's messages arrive in order while others' are sent alongside.
// Entries carry it in their "r" field; this reads it from the message of
// entries queued by a version that did not.
func recipientLane(e entry) string {
	var m struct {
		To cnsbot.Recipient `json:"to"`
	}
	if json.Unmarshal([]byte(e.body), &m) != nil {
		return ""
	}
	return m.To.String()
}

// drain reads stream key — first the entries a previous owner left
// pending, then new ones — and calls process on each, in order within each
// lane (the entry's "r" field: the route of an event, the recipient of a
// message; lane(e) for an entry without one), until the loops stop or process reports that it must stop. Entries
// read but not processed stay pending for the next owner.
func (o *owner) drain(key, field string, lane func(entry) string, slots chan struct{}, process func(entry) bool) {
	if err := ensureGroup(o.loops, o.q.rdb, key); err != nil && o.loops.Err() == nil {
		o.log.Warn("prepare stream failed", "stream", key, "err", err)
	}
	b := o.q.backoff(5 * time.Second)
	pending := true
	for o.loops.Err() == nil && o.held() {
		args := &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{key, ">"},
			Count: readCount, Block: o.q.block,
		}
		if pending {
			args.Streams[1], args.Block = "0", -1
		}
		res, err := o.brdb.XReadGroup(o.loops, args).Result()
		if errors.Is(err, redis.Nil) {
			pending = false
			continue
		}
		if err != nil {
			if o.loops.Err() != nil {
				return
			}
			// The read may have failed after Redis handed entries to this
			// consumer (the reply lost with the connection): they are in
			// the pending list, so read that again before new entries.
			pending = true
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				err = ensureGroup(o.loops, o.q.rdb, key)
			}
			if err != nil {
				o.log.Warn("read stream failed", "stream", key, "err", err)
			}
			if !sleep(o.loops, b.NextBackOff()) {
				return
			}
			continue
		}
		b.Reset()
		var msgs []redis.XMessage
		if len(res) > 0 {
			msgs = res[0].Messages
		}
		if pending && len(msgs) == 0 {
			pending = false
			continue
		}
		entries := make([]entry, len(msgs))
		for i, m := range msgs {
			e := entry{id: m.ID}
			e.body, _ = m.Values[field].(string)
			e.key, _ = m.Values["k"].(string)
			e.lane, _ = m.Values["r"].(string)
			if lane != nil && e.lane == "" && e.body != "" {
				e.lane = lane(e)
			}
			entries[i] = e
		}
		if !o.processBatch(entries, slots, process) {
			return
		}
		if len(entries) < readCount && !pending {
			// Under load, a read right after a quick batch finds only the
			// one or two entries that came meanwhile: a round trip each.
			// Waiting a moment lets them gather (as a Kafka consumer's
			// fetch.max.wait does); when idle, the blocking read returns
			// at the first entry, so a lone message waits no longer.
			if !sleep(o.loops, batchLinger) {
				return
			}
		}
	}
}

// batchLinger is the pause after a batch smaller than readCount before the
// next read. It adds at most this to a reply's latency under load, and
// turns most reads of one entry into reads of many.
const batchLinger = 5 * time.Millisecond

// processBatch processes a batch read from one stream: the entries of each
// lane in stream order, the lanes at the same time. A partition is thus
// strictly ordered per conversation without waiting on other conversations
// (the partitions alone would cap the work in flight at their number).
// With slots, a lane starts only when it can take one, shared by every
// partition of the stream's kind: see eventSlots. It reports false when processing must stop; the entries not processed stay
// pending, in order, for this owner's next read or the next owner.
func (o *owner) processBatch(entries []entry, slots chan struct{}, process func(entry) bool) bool {
	var lanes [][]entry
	index := make(map[string]int, len(entries))
	for _, e := range entries {
		i, ok := index[e.lane]
		if !ok {
			i = len(lanes)
			index[e.lane] = i
			lanes = append(lanes, nil)
		}
		lanes[i] = append(lanes[i], e)
	}
	run := func(lane []entry) bool {
		for _, e := range lane {
			if o.loops.Err() != nil || !o.held() || !process(e) {
				return false
			}
		}
		return true
	}
	if len(lanes) == 1 {
		return run(lanes[0])
	}
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for _, lane := range lanes {
		if slots != nil {
			slots <- struct{}{}
		}
		laneWorkers.Go(&wg, func() {
			if slots != nil {
				defer func() { <-slots }()
			}
			if !run(lane) {
				stopped.Store(true)
			}
		})
	}
	wg.Wait()
	return !stopped.Load()
}

// processEvent handles one inbox entry until it succeeds or is dead, then
// removes it. It returns false, leaving the entry queued, when it must stop.
func (o *owner) processEvent(e entry, handle func(context.Context, []byte) error) bool {
	stream := o.q.parts[o.p].inbox
	if e.body == "" {
		// Deleted under us (a crash between XDEL and XACK): nothing to do.
		return o.ack(stream, e.id)
	}
	b := o.q.backoff(2 * time.Second)
	first := time.Now()
	flight := &inFlight{p: o.p, stream: stream, id: e.id}
	work := context.WithValue(o.work, inFlightKey{}, flight)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := call(work, func(ctx context.Context) error { return handle(ctx, []byte(e.body)) })
		o.q.m.Call.WithLabelValues(streamInbox).Observe(time.Since(start).Seconds())
		if err == nil {
			break
		}
		if o.work.Err() != nil {
			return false
		}
		o.q.m.Errors.WithLabelValues(streamInbox).Inc()
		if transient(err) && time.Since(first) < transientFor {
			// Redis or the database is unreachable: the event is not at
			// fault, and giving it up would drop it unanswered. Retry
			// without spending an attempt while the partition is ours.
			attempt--
		}
		if attempt >= o.q.opts.Attempts {
			if flight.acked.Load() {
				// Its Commit went through before a later step failed: the
				// effects are in, and the event is acknowledged with them.
				return true
			}
			o.log.Error("event failed every attempt: giving it up as dead", "event", e.key, "attempts", attempt, "err", err)
			return o.dead(e, stream, err, true)
		}
		wait := b.NextBackOff()
		o.log.Warn("event failed: retrying", "event", e.key, "attempt", attempt, "in", wait, "err", err)
		if !sleep(o.loops, wait) || !o.held() {
			return false
		}
	}
	o.q.m.Latency.WithLabelValues(streamInbox).Observe(entryAge(e.id).Seconds())
	if flight.acked.Load() {
		return true // acknowledged by the handler's Commit
	}
	return o.ack(stream, e.id)
}

// deadTries is how many times OnDead is tried before a dead entry is
// parked in Redis instead, so that a database that cannot write (down, or
// a read-only SQLite file) does not hold the partition.
const deadTries = 3

// dead gives entry e of stream up: it records it through OnDead (or parks
// it in the partition's dead stream when OnDead keeps failing), queues the
// apology when apologize is set and Apology has one, and removes the entry,
// so that the partition moves on. It returns false, leaving the entry
// queued, when it must stop.
func (o *owner) dead(e entry, stream string, cause error, apologize bool) bool {
	q := o.q
	q.m.Dead.Inc()
	recorded := q.opts.OnDead == nil
	b := q.backoff(time.Second)
	for try := 1; !recorded; try++ {
		err := call(o.work, func(ctx context.Context) error { return q.opts.OnDead(ctx, e.key, []byte(e.body), cause) })
		if err == nil {
			recorded = true
			break
		}
		if o.work.Err() != nil {
			return false
		}
		if try >= deadTries {
			o.log.Error("record dead event failed: parking it in Redis", "event", e.key, "err", err)
			break
		}
		o.log.Warn("record dead event failed: retrying", "event", e.key, "err", err)
		if !sleep(o.loops, b.NextBackOff()) || !o.held() {
			return false
		}
	}
	var apology []byte
	to := ""
	if apologize && q.opts.Apology != nil {
		var m cnsbot.Outgoing
		var ok bool
		_ = call(o.work, func(ctx context.Context) error {
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			m, ok = q.opts.Apology(actx, []byte(e.body), cause)
			return nil
		})
		if ok {
			apology, _ = json.Marshal(m)
			to = m.To.String()
		}
	}
	park := "0"
	if !recorded {
		park = "1"
	}
	reason := ""
	if cause != nil {
		reason = cause.Error()
	}
	keys := []string{stream, q.parts[o.p].dead, q.parts[o.p].outbox}
	return o.retry("bury dead entry", func() error {
		return buryScript.Run(o.work, q.fast, keys, e.id, park, e.key, e.body, reason, apology, to).Err()
	})
}

// buryScript removes a dead entry (KEYS[1], ARGV[1]) in one atomic step
// with what goes with it: its copy in the dead stream (KEYS[2]) when
// ARGV[2] is "1", the apology to its sender on the outbox (KEYS[3]) when
// ARGV[6] is not empty. Run again after its answer was lost, it finds the
// entry gone and does nothing, so neither is added twice.
var buryScript = redis.NewScript(`
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  redis.call('XACK', KEYS[1], 'cnsbot', ARGV[1])
  return 0
end
if ARGV[2] == '1' then
  redis.call('XADD', KEYS[2], '*', 'k', ARGV[3], 'p', ARGV[4], 'e', ARGV[5])
end
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[3], '*', 'o', ARGV[6], 'r', ARGV[7])
end
redis.call('XACK', KEYS[1], 'cnsbot', ARGV[1])
return redis.call('XDEL', KEYS[1], ARGV[1])
`)

// recordParked hands the entries parked in the partition's dead stream to
// OnDead, at once and then every q.deadRetry, removing each one recorded.
// It stops at the first failure until the next round.
func (o *owner) recordParked() {
	q := o.q
	key := q.parts[o.p].dead
	for {
		msgs, err := q.rdb.XRangeN(o.loops, key, "-", "+", 100).Result()
		for _, m := range msgs {
			k, _ := m.Values["k"].(string)
			body, _ := m.Values["p"].(string)
			reason, _ := m.Values["e"].(string)
			err = call(o.work, func(ctx context.Context) error { return q.opts.OnDead(ctx, k, []byte(body), errors.New(reason)) })
			if err == nil {
				err = q.rdb.XDel(o.work, key, m.ID).Err()
			}
			if err != nil {
				break
			}
			o.log.Info("parked dead event recorded", "event", k)
		}
		if err != nil && o.loops.Err() == nil {
			o.log.Warn("record parked dead events failed", "err", err)
		}
		if len(msgs) == 100 && err == nil {
			continue
		}
		if !sleep(o.loops, jitter(q.deadRetry)) {
			return
		}
	}
}

// retry runs f until it succeeds while the partition is ours: a step left
// undone would be done again by the next owner.
func (o *owner) retry(what string, f func() error) bool {
	b := o.q.backoff(5 * time.Second)
	for {
		err := f()
		if err == nil {
			return true
		}
		if o.work.Err() != nil {
			return false
		}
		o.log.Warn(what+" failed", "err", err)
		if !sleep(o.loops, b.NextBackOff()) || !o.held() {
			return false
		}
	}
}

// processMessage delivers one entry of stream (kind is its metric label),
// retrying until deliver succeeds, then removes it. It returns false,
// leaving the entry queued, when it must stop.
func (o *owner) processMessage(e entry, stream, kind string, deliver func(context.Context, cnsbot.Outgoing) error) bool {
	if e.body == "" {
		// Deleted under us (a crash between XDEL and XACK): nothing to do.
		return o.ack(stream, e.id)
	}
	var m cnsbot.Outgoing
	if err := json.Unmarshal([]byte(e.body), &m); err != nil {
		// Not a message this code wrote: keep it for inspection.
		o.log.Error("undecodable outbox entry", "id", e.id, "err", err)
		return o.dead(entry{id: e.id, key: "outbox:" + e.id, body: e.body}, stream, err, false)
	}
	b := o.q.backoff(30 * time.Second)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := call(o.work, func(ctx context.Context) error { return deliver(ctx, m) })
		o.q.m.Call.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		if err == nil {
			break
		}
		if o.work.Err() != nil {
			return false
		}
		o.q.m.Errors.WithLabelValues(kind).Inc()
		wait := b.NextBackOff()
		o.log.Warn("delivery failed: retrying", "message", m.ID, "attempt", attempt, "in", wait, "err", err)
		if !sleep(o.loops, wait) || !o.held() {
			return false
		}
	}
	o.q.m.Latency.WithLabelValues(kind).Observe(entryAge(e.id).Seconds())
	return o.ack(stream, e.id)
}

// ackScript acknowledges and deletes one stream entry in one atomic step.
var ackScript = redis.NewScript(`
redis.call('XACK', KEYS[1], 'cnsbot', ARGV[1])
return redis.call('XDEL', KEYS[1], ARGV[1])
`)

// ack removes a processed entry, retrying while the partition is ours: an
// entry left behind would be processed again by the next owner.
func (o *owner) ack(stream, id string) bool {
	b := o.q.backoff(5 * time.Second)
	for {
		err := ackScript.Run(o.work, o.q.acks, []string{stream}, id).Err()
		if err == nil {
			return true
		}
		if o.work.Err() != nil {
			return false
		}
		o.log.Warn("ack failed", "stream", stream, "id", id, "err", err)
		if !sleep(o.loops, b.NextBackOff()) || !o.held() {
			return false
		}
	}
}

// call runs f, turning a panic into an error so that one bad event cannot
// stop the replica.
func call(ctx context.Context, f func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return f(ctx)
}

func (q *Queue) backoff(maxInterval time.Duration) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     q.retry,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         maxInterval,
	}
	b.Reset()
	return b
}

// entryAge is how long ago a stream entry was added, from its id.
func entryAge(id string) time.Duration {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return 0
	}
	return max(time.Since(time.UnixMilli(n)), 0)
}

// sleep waits for d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter returns d ± 25%, so that replicas do not poll in step.
func jitter(d time.Duration) time.Duration {
	b := &backoff.ExponentialBackOff{InitialInterval: d, RandomizationFactor: 0.25, Multiplier: 1, MaxInterval: d}
	return b.NextBackOff()
}

// transientFor bounds how long failures that look like an unreachable
// dependency are retried without counting as attempts, so that an event
// that only ever times out still ends as dead instead of holding its
// conversation forever.
const transientFor = 10 * time.Minute

// transient reports whether err means a dependency is unreachable for a
// while (a connection refused or reset, a time-out, a server starting up)
// rather than a problem with the event.
func transient(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, redis.ErrClosed), errors.Is(err, context.DeadlineExceeded),
		cnsbot.ErrorCode(err) == cnsbot.EUNAVAILABLE:
		return true
	}
	msg := err.Error()
	// Redis loading its append-only file, PostgreSQL starting or in
	// recovery (SQLSTATE 57P03), a pool that could not connect.
	return strings.Contains(msg, "LOADING ") || strings.Contains(msg, "57P03") ||
		strings.Contains(msg, "failed to connect to") || strings.Contains(msg, "connection refused")
}
