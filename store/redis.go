package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// ConnectRedis connects to the Redis at url (redis:// or rediss://) and
// checks that it answers. An empty url starts an in-process Redis instead,
// so that the very same code (Lua scripts, streams, locks) runs without a
// server; it serves one replica only and loses everything when the process
// stops, which is logged. The returned function closes the client (and the
// in-process server).
func ConnectRedis(ctx context.Context, url string, log *slog.Logger) (redis.UniversalClient, func() error, error) {
	if url == "" {
		return startMiniRedis(log)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("connect redis: REDIS_URL: %w", err)
	}
	if !strings.Contains(url, "pool_size=") {
		opt.PoolSize = DefaultPoolSize
	}
	smallBuffers(opt, url)
	failFast(opt, url)
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("connect redis: %w", err)
	}
	return rdb, rdb.Close, nil
}

// failFast shortens the time the client spends on a Redis that is down,
// unless the URL sets the option: a dial gives up after 1 s (go-redis: 5 s)
// and is tried twice (go-redis: five times, 100 ms apart, before each of
// three retries), and plain commands honour their context's deadline
// (ContextTimeoutEnabled), which /readyz's ping needs. The webhook's bound
// is Queue.Enqueue's: the auto-pipeliner runs commands on a context of its
// own.
func failFast(opt *redis.Options, url string) {
	opt.ContextTimeoutEnabled = true
	if !strings.Contains(url, "dial_timeout=") {
		// Redis is on the local network: a dial is well under a millisecond.
		opt.DialTimeout = time.Second
	}
	// Two attempts: one more after 100 ms for a connection refused while
	// Redis restarts, not five.
	opt.DialerRetries = 2
}

// smallBuffers sizes the connections' buffers for this service's commands,
// unless the URL sets them: go-redis gives each pooled connection 32 KiB to
// read and 32 KiB to write, and each pipeline connection 128 KiB, made for
// large values. The service's commands and replies are a few kilobytes (a
// stream read of 32 entries is the largest), a longer reply is read in more
// calls, not refused, and at up to 128 + 50 connections the buffers were
// about half of the live heap under the load test (issue 19: 100 MB).
func smallBuffers(opt *redis.Options, url string) {
	if !strings.Contains(url, "buffer_size=") {
		opt.ReadBufferSize, opt.WriteBufferSize = 8<<10, 8<<10
		opt.PipelineReadBufferSize, opt.PipelineWriteBufferSize = 32<<10, 32<<10
	}
}

// DefaultPoolSize is the Redis connection pool unless REDIS_URL says
// otherwise (?pool_size=N). The queue works on many conversations at once
// and the webhook must never wait behind them for a connection; go-redis's
// own default (ten per CPU) is too small on a small machine.
const DefaultPoolSize = 128

// autoPipelined returns rdb's auto-pipeliner when rdb is a *redis.Client
// (else rdb): commands from concurrent callers then share one write and one
// round trip. On this workload (many conversations at once, each waiting on
// a small command) that halves Redis's CPU and most of the system calls.
// go-redis keeps one auto-pipeliner per client, so every caller shares it.
// Blocking commands (XREADGROUP BLOCK) and transactions are diverted by the
// library to ordinary pooled connections.
func autoPipelined(rdb redis.UniversalClient) redis.UniversalClient {
	c, ok := rdb.(*redis.Client)
	if !ok {
		return rdb
	}
	cfg := redis.DefaultBlockingAutoPipelineOptions()
	cfg.MaxQueuedCommands = maxQueuedCommands
	ap, err := c.AutoPipelineWithOptions(cfg)
	if err != nil {
		// Only an invalid AutoPipelineOptions in the client's options can
		// fail; plain commands work as well, one round trip each.
		return rdb
	}
	return ap
}

// maxQueuedCommands bounds the commands an auto-pipeliner holds. Batches run
// one at a time, so while Redis hangs every command waits behind the batch
// in flight, long after the webhook that sent it has answered 503 and gone;
// past this many, a command fails at once instead of adding to the pile.
// Busy, the pipeliner holds a few hundred (one per caller waiting).
const maxQueuedCommands = 2048

func startMiniRedis(log *slog.Logger) (redis.UniversalClient, func() error, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("start in-process redis: %w", err)
	}
	log.Warn("redis: in-process store (REDIS_URL unset): it serves ONE replica only and keeps nothing across restarts; " +
		"events accepted but not yet processed are lost if the process stops")

	// miniredis only counts TTLs down when told to. A ticker does it, once a
	// second, so that de-duplication keys, sessions and leases expire as on
	// a real server. (Its ClockTTL mode would walk every key on every
	// command instead.)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				srv.FastForward(now.Sub(last))
				last = now
			}
		}
	})

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: DefaultPoolSize})
	var once sync.Once
	closeFn := func() error {
		var err error
		once.Do(func() {
			err = rdb.Close()
			close(stop)
			wg.Wait()
			srv.Close()
		})
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
		return err
	}
	return rdb, closeFn, nil
}
