package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// seedLeader adds a hamlet team whose leader has a Zalo account.
func seedLeader(t *testing.T, db *store.DB) {
	t.Helper()
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.Insert(context.Background(), db, &commune))
	hamlet := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &commune.ID, Households: 120}
	must(store.Insert(context.Background(), db, &hamlet))
	team := cnsbot.Team{HamletID: hamlet.ID, Name: "Tổ Ấp 1", Code: "TL1", GroupID: "g1"}
	must(store.Insert(context.Background(), db, &team))
	zalo := "za"
	leader := cnsbot.Person{FullName: "Nguyễn Văn An", Phone: "+84912345670", ZaloUserID: &zalo}
	must(store.Insert(context.Background(), db, &leader))
	must(store.Insert(context.Background(), db, &cnsbot.Role{PersonID: leader.ID, Role: cnsbot.RoleLeader, UnitID: hamlet.ID, TeamID: &team.ID, Approved: true}))
}

func runRemind(t *testing.T, cfg Config, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := remindCmd(context.Background(), args, &out, cfg, slog.New(slog.DiscardHandler))
	return out.String(), err
}

func TestRemindDryRun(t *testing.T) {
	cfg := calendarConfig(t)
	db := calendarDB(t, cfg)
	seedLeader(t, db)
	db.Close()

	out, err := runRemind(t, cfg, "--now", "2025-09-09T08:00:00+07:00", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Lượt nhắc lúc 09/09/2025 08:00 +07:00, lịch “two-level”.",
		"Chạy thử: không gửi và không ghi gì.",
		"2025Q3:team:commune · Nguyễn Văn An · 7 · đã xếp gửi · → u:za",
		"    Còn 7 ngày nộp báo cáo quý 3/2025 cho UBND xã, phường",
		"    [Đã nộp: #danop 2025Q3:team:commune]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Nothing was recorded: the same dry run says the same.
	again, err := runRemind(t, cfg, "--now", "2025-09-09T08:00:00+07:00", "--dry-run")
	if err != nil || again != out {
		t.Errorf("second dry run differs (%v):\n%s", err, again)
	}
	out, err = runRemind(t, cfg, "--now", "2025-08-01T08:00:00+07:00", "--dry-run", "--lang", "en")
	if err != nil || !strings.Contains(out, "Nothing to send.") {
		t.Errorf("quiet day: %v\n%s", err, out)
	}
}

func TestRemindNeedsRedis(t *testing.T) {
	cfg := calendarConfig(t)
	_, err := runRemind(t, cfg, "--now", "2025-09-09T08:00:00+07:00")
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("got %v, want an error about REDIS_URL", err)
	}
	if _, err := runRemind(t, cfg, "--now", "9 September"); err == nil || !strings.Contains(err.Error(), "--now") {
		t.Errorf("bad --now: got %v", err)
	}
}

// For real, the reminders go on the outbox in Redis, once.
func TestRemindQueues(t *testing.T) {
	_, prefix := storetest.Redis(t)
	cfg := calendarConfig(t)
	cfg.RedisURL, cfg.RedisPrefix = storetest.DefaultRedisURL, prefix
	db := calendarDB(t, cfg)
	seedLeader(t, db)
	defer db.Close()

	out, err := runRemind(t, cfg, "--now", "2025-09-09T08:00:00+07:00", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep reminder.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != 1 || rep.Items[0].Action != reminder.ActionQueued || rep.DryRun {
		t.Fatalf("report %+v", rep)
	}
	if _, err := runRemind(t, cfg, "--now", "2025-09-09T08:05:00+07:00"); err != nil {
		t.Fatal(err)
	}
	rdb, closeRedis, err := store.ConnectRedis(context.Background(), cfg.RedisURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	q, err := store.NewQueue(context.Background(), rdb, store.QueueOptions{Prefix: prefix, Partitions: cfg.Partitions})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, outbox, err := q.Backlog(ctx); err != nil || outbox != 1 {
		t.Errorf("outbox holds %d messages (%v), want 1", outbox, err)
	}
}
