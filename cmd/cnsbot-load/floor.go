package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot/bot"
)

// The floor is the least any webhook server must do per event, so that the
// service's throughput can be judged against it rather than in a vacuum:
// read the body, verify the signature, one Redis round trip to de-duplicate
// and enqueue, and then, on a worker of the event's partition, a session GET
// and SET and one reply POST to Zalo. Nothing else: no event parsing beyond
// the fields it needs, no flows, no metrics, no outbox.

// floorEnqueue de-duplicates on the event key and appends to the partition's
// inbox in one round trip, like the service's enqueue.
var floorEnqueue = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[2], '*', 'e', ARGV[1])
  return 1
end
return 0`)

// dedupeTTL matches how long the service remembers an event key.
const dedupeTTL = 48 * time.Hour

// floorReply is the text the floor answers with; its content is irrelevant.
const floorReply = "Menu"

// floorServer is the minimal webhook handler and its worker pool.
type floorServer struct {
	rdb        redis.UniversalClient
	prefix     string
	appID      string
	secretKey  string
	partitions int
	apiBase    string
	token      string
	hc         *http.Client

	srv       *http.Server
	url       string
	stop      context.CancelFunc
	done      sync.WaitGroup
	failed    atomic.Int64 // replies given up after retries
	handleErr atomic.Int64 // inbox entries the worker could not process
}

// floorConfig is what startFloor needs.
type floorConfig struct {
	Redis      redis.UniversalClient
	Prefix     string
	AppID      string
	SecretKey  string
	Partitions int
	APIBase    string
	Token      string
}

// startFloor serves the floor on a free loopback port and starts one worker
// per partition. Stop it with close.
func startFloor(cfg floorConfig) (*floorServer, error) {
	if cfg.Partitions < 1 {
		return nil, fmt.Errorf("floor partitions must be at least 1, got %d", cfg.Partitions)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the floor: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * cfg.Partitions
	tr.MaxIdleConnsPerHost = 4 * cfg.Partitions
	f := &floorServer{
		rdb:        cfg.Redis,
		prefix:     cfg.Prefix,
		appID:      cfg.AppID,
		secretKey:  cfg.SecretKey,
		partitions: cfg.Partitions,
		apiBase:    cfg.APIBase,
		token:      cfg.Token,
		hc:         &http.Client{Transport: tr, Timeout: 10 * time.Second},
		url:        "http://" + ln.Addr().String() + "/webhooks/zalo",
	}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	for p := range f.partitions {
		f.done.Go(func() { f.work(ctx, p) })
	}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// close stops accepting events and waits for the workers.
func (f *floorServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	f.stop()
	f.done.Wait()
	f.hc.CloseIdleConnections()
}

// floorEvent is the part of a webhook body the floor reads.
type floorEvent struct {
	Sender struct {
		ID string `json:"id"`
	} `json:"sender"`
	Message struct {
		Text  string `json:"text"`
		MsgID string `json:"msg_id"`
	} `json:"message"`
	Timestamp string `json:"timestamp"`
}

// floorJob is what the floor keeps in its inbox.
type floorJob struct {
	User string `json:"u"`
	Key  string `json:"k"`
	Text string `json:"t"`
}

func (f *floorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	var ev floorEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !bot.Verify(f.appID, f.secretKey, body, ev.Timestamp, r.Header.Get(bot.SignatureHeader)) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if ev.Sender.ID == "" || ev.Message.MsgID == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	job, _ := json.Marshal(floorJob{User: ev.Sender.ID, Key: ev.Message.MsgID, Text: ev.Message.Text})
	tag := f.tag(partitionOf("u:"+ev.Sender.ID, f.partitions))
	keys := []string{tag + "seen:" + ev.Message.MsgID, tag + "inbox"}
	if err := floorEnqueue.Run(r.Context(), f.rdb, keys, job, int(dedupeTTL/time.Second)).Err(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// tag is the key prefix of partition p, with the same cluster hash tag
// layout as the service.
func (f *floorServer) tag(p int) string { return f.prefix + "{p" + strconv.Itoa(p) + "}:" }

// partitionOf places a route on a partition the way the service does.
func partitionOf(route string, partitions int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(route))
	return int(h.Sum32() % uint32(partitions))
}

// work processes partition p's inbox in order until ctx ends. Entries are
// read without a consumer group: the floor need not survive a crash.
func (f *floorServer) work(ctx context.Context, p int) {
	inbox := f.tag(p) + "inbox"
	last := "0"
	for ctx.Err() == nil {
		res, err := f.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{inbox, last},
			Count:   64,
			Block:   200 * time.Millisecond,
		}).Result()
		if err != nil {
			if !errors.Is(err, redis.Nil) && ctx.Err() == nil {
				sleep(ctx, 50*time.Millisecond)
			}
			continue
		}
		for _, s := range res {
			for _, m := range s.Messages {
				if err := f.handle(ctx, p, m); err != nil {
					f.handleErr.Add(1)
				}
				last = m.ID
			}
		}
	}
}

// floorSession is the floor's stand-in for a conversation state.
type floorSession struct {
	Last string `json:"last"`
	N    int    `json:"n"`
}

func (f *floorServer) handle(ctx context.Context, p int, m redis.XMessage) error {
	raw, _ := m.Values["e"].(string)
	var job floorJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		return fmt.Errorf("decode inbox entry: %w", err)
	}
	key := f.tag(p) + "s:" + job.User
	var s floorSession
	prev, err := f.rdb.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return fmt.Errorf("load session: %w", err)
	default:
		if err := json.Unmarshal(prev, &s); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
	}
	if s.Last == job.Key {
		return nil
	}
	s.Last, s.N = job.Key, s.N+1
	next, _ := json.Marshal(s)
	if err := f.rdb.Set(ctx, key, next, 24*time.Hour).Err(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return f.reply(ctx, job.User)
}

// reply posts one text message, retrying briefly: the floor must not lose
// an answer to a transient error any more than the service may.
func (f *floorServer) reply(ctx context.Context, user string) error {
	body, _ := json.Marshal(map[string]any{
		"recipient": map[string]string{"user_id": user},
		"message":   map[string]string{"text": floorReply},
	})
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			sleep(ctx, time.Duration(attempt)*20*time.Millisecond)
		}
		if err = f.post(ctx, body); err == nil {
			return nil
		}
	}
	f.failed.Add(1)
	return fmt.Errorf("reply to zalo: %w", err)
}

func (f *floorServer) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.apiBase+"/v3.0/oa/message/cs", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("access_token", f.token)
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ans struct {
		Error int `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || ans.Error != 0 {
		return fmt.Errorf("status %d, error %d", resp.StatusCode, ans.Error)
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
