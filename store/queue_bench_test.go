package store_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// The session get and set of every event: Load, then Commit of the whole
// session with the event's reply (one Lua call that writes the session and
// queues the message). On miniredis it measures the code; on a real Redis
// (TEST_REDIS_URL or 127.0.0.1:6379; skipped without one, failed under
// CI) it includes the round trips.

func benchQueue(b *testing.B, rdb *redis.Client, prefix string) *store.Queue {
	b.Helper()
	q, err := store.NewQueue(context.Background(), rdb, store.QueueOptions{Prefix: prefix, Partitions: 16})
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// benchSession is a session in the middle of a flow, with some data, as
// conversations carry.
func benchSession(route string) cnsbot.Session {
	return cnsbot.Session{Key: route, Flow: "come", Step: "problem", Lang: "vi",
		Data:      map[string]string{"name": "Nguyễn Văn An", "phone": "+84912345678", "commune": "12", "hamlet": "123"},
		LastEvent: "e2a641af6661713b2874"}
}

func benchReply(route string, i int) []cnsbot.Outgoing {
	return []cnsbot.Outgoing{{ID: "ev-" + strconv.Itoa(i) + "/0", To: cnsbot.Recipient{UserID: route[2:]}, Kind: cnsbot.MsgList,
		Text: "Bạn cần giúp gì? Bấm một nút, hoặc gõ vài chữ.", Purpose: "reply",
		Buttons: []cnsbot.Button{{Title: "Cài VNeID", Payload: "#vneid"}, {Title: "CaMau-G", Payload: "#camaug"},
			{Title: "Dịch vụ công", Payload: "#dichvu"}, {Title: "Người đến nhà", Payload: "#dennha"}, {Title: "Thêm…", Payload: "#them"}}}}
}

// loadCommit is one event's session round: load, change, commit with a reply.
func loadCommit(b *testing.B, q *store.Queue, route string, i int) {
	ctx := context.Background()
	s, err := q.Load(ctx, route)
	if err != nil {
		b.Fatal(err)
	}
	if s.Flow == "" {
		s = benchSession(route)
	}
	s.LastEvent = "ev-" + strconv.Itoa(i)
	if err := q.Commit(ctx, s, benchReply(route, i)); err != nil {
		b.Fatal(err)
	}
}

func benchLoadCommit(b *testing.B, rdb *redis.Client, prefix string) {
	q := benchQueue(b, rdb, prefix)
	const users = 1000
	b.ReportAllocs()
	for i := range b.N {
		loadCommit(b, q, "u:"+strconv.Itoa(7_000_000_000+i%users), i)
		if i%4096 == 4095 {
			// Keep the outbox from growing without bound: nobody drains it here.
			b.StopTimer()
			trimOutboxes(b, rdb, prefix)
			b.StartTimer()
		}
	}
}

func trimOutboxes(b *testing.B, rdb *redis.Client, prefix string) {
	b.Helper()
	ctx := context.Background()
	for p := range 16 {
		if err := rdb.Del(ctx, prefix+"{p"+strconv.Itoa(p)+"}:out").Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionLoadCommitMiniredis(b *testing.B) {
	benchLoadCommit(b, storetest.MiniRedis(b), "bench:")
}

func BenchmarkSessionLoadCommitRedis(b *testing.B) {
	rdb, prefix := storetest.Redis(b)
	benchLoadCommit(b, rdb, prefix)
}

// BenchmarkSessionLoadCommitRedisParallel runs the round from 16
// goroutines at once, as the partitions do.
func BenchmarkSessionLoadCommitRedisParallel(b *testing.B) {
	rdb, prefix := storetest.Redis(b)
	q := benchQueue(b, rdb, prefix)
	b.ReportAllocs()
	b.SetParallelism(8) // 8 × GOMAXPROCS goroutines
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			loadCommit(b, q, "u:"+strconv.Itoa(7_000_000_000+i%1000), i)
		}
	})
	b.StopTimer()
	trimOutboxes(b, rdb, prefix)
}

// BenchmarkEnqueueRedis is the webhook's one round trip: the
// de-duplicating XADD of an event.
func BenchmarkEnqueueRedis(b *testing.B) {
	rdb, prefix := storetest.Redis(b)
	q := benchQueue(b, rdb, prefix)
	ctx := context.Background()
	payload := []byte(`{"name":"user_send_text","key":"e2a641af6661713b2874","route":"u:5510185758261927916","text":"menu"}`)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	b.ReportAllocs()
	for i := range b.N {
		if _, err := q.Enqueue(ctx, run+strconv.Itoa(i), "u:"+strconv.Itoa(i%1000), payload); err != nil {
			b.Fatal(err)
		}
	}
}
