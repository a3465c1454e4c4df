package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// dialects opens a migrated database of each kind.
func dialects(t *testing.T) map[string]func(t *testing.T) *store.DB {
	return map[string]func(t *testing.T) *store.DB{
		"sqlite":   func(t *testing.T) *store.DB { return openDB(t, "", t.TempDir()) },
		"postgres": func(t *testing.T) *store.DB { return openDB(t, storetest.PostgresURL(t), "") },
	}
}

func openDB(t *testing.T, url, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, dir, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

func TestMigrate(t *testing.T) {
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			if got := db.Dialect(); got != name {
				t.Errorf("got dialect %q, want %q", got, name)
			}
			if name == "sqlite" {
				var mode string
				if err := db.ORM().Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
					t.Errorf("got journal mode %q, %v; want wal", mode, err)
				}
			}
			// A second run finds nothing to do.
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			var ids []string
			if err := db.ORM().Table("schema_migrations").Order("id").Pluck("id", &ids).Error; err != nil {
				t.Fatal(err)
			}
			if want := store.MigrationIDs(); !reflect.DeepEqual(ids, want) {
				t.Errorf("got applied %v, want %v", ids, want)
			}
			// The live models match what the migrations created.
			for _, model := range []any{&store.OAToken{}, &store.Delivery{}, &store.DeadEvent{}} {
				stmt := &gorm.Statement{DB: db.ORM()}
				if err := stmt.Parse(model); err != nil {
					t.Fatal(err)
				}
				if !db.ORM().Migrator().HasTable(model) {
					t.Errorf("table %s missing", stmt.Schema.Table)
					continue
				}
				for _, f := range stmt.Schema.Fields {
					if f.DBName != "" && !db.ORM().Migrator().HasColumn(model, f.DBName) {
						t.Errorf("column %s.%s missing", stmt.Schema.Table, f.DBName)
					}
				}
				for _, idx := range stmt.Schema.ParseIndexes() {
					if !db.ORM().Migrator().HasIndex(model, idx.Name) {
						t.Errorf("index %s missing", idx.Name)
					}
				}
			}
		})
	}
}

func TestOpenRejectsOtherURLs(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://x", t.TempDir(), nil)
	if err == nil {
		t.Fatal("got nil error for a mysql URL, want one")
	}
}

// TestMigrateConcurrently starts migrations from two connection pools (as
// two replicas would) at once: both succeed and each migration runs once.
func TestMigrateConcurrently(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	var runs atomic.Int32
	slow := func(tx *gorm.DB) error {
		runs.Add(1)
		time.Sleep(200 * time.Millisecond)
		return tx.Exec("CREATE TABLE IF NOT EXISTS probe_" + "x (id int)").Error
	}
	var dbs []*store.DB
	for range 2 {
		db, err := store.Open(ctx, url, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs = append(dbs, db)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.MigrateFuncs(ctx, []string{"2026010101_probe"}, slow) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migration %d: %v", i, err)
		}
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("got the migration applied %d times, want 1", got)
	}
}

// TestMigrateProcesses runs `migrate` in two processes at once against the
// same database, for each dialect.
func TestMigrateProcesses(t *testing.T) {
	if url := os.Getenv("STORE_TEST_MIGRATE_URL"); url != "" || os.Getenv("STORE_TEST_MIGRATE_DIR") != "" {
		t.Skip("helper process")
	}
	cases := map[string]func(t *testing.T) []string{
		"sqlite":   func(t *testing.T) []string { return []string{"STORE_TEST_MIGRATE_DIR=" + t.TempDir()} },
		"postgres": func(t *testing.T) []string { return []string{"STORE_TEST_MIGRATE_URL=" + storetest.PostgresURL(t)} },
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			env := env(t)
			var wg sync.WaitGroup
			outs := make([][]byte, 2)
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() {
					cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMigrateProcess$", "-test.v")
					cmd.Env = append(os.Environ(), env...)
					outs[i], errs[i] = cmd.CombinedOutput()
				})
			}
			wg.Wait()
			for i := range 2 {
				if errs[i] != nil {
					t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
				}
			}
			url, dir := "", ""
			for _, kv := range env {
				if v, ok := cutPrefix(kv, "STORE_TEST_MIGRATE_URL="); ok {
					url = v
				}
				if v, ok := cutPrefix(kv, "STORE_TEST_MIGRATE_DIR="); ok {
					dir = v
				}
			}
			db := openDB(t, url, dir)
			var n int64
			if err := db.ORM().Table("schema_migrations").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if want := int64(len(store.MigrationIDs())); n != want {
				t.Errorf("got %d migration rows, want %d", n, want)
			}
		})
	}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// TestHelperMigrateProcess is the body of TestMigrateProcesses' processes.
func TestHelperMigrateProcess(t *testing.T) {
	url, dir := os.Getenv("STORE_TEST_MIGRATE_URL"), os.Getenv("STORE_TEST_MIGRATE_DIR")
	if url == "" && dir == "" {
		t.Skip("run by TestMigrateProcesses")
	}
	db, err := store.Open(context.Background(), url, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	ctx := context.Background()
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			_, err := db.LoadToken(ctx)
			if got := cnsbot.ErrorCode(err); got != cnsbot.ENOTFOUND {
				t.Fatalf("got %v (code %q) before any save, want %q", err, got, cnsbot.ENOTFOUND)
			}
			loc := time.FixedZone("ICT", 7*3600)
			for _, want := range []cnsbot.Token{
				{Access: "a1", Refresh: "r1", ExpiresAt: time.Date(2026, 11, 27, 9, 0, 0, 123456000, loc), UpdatedAt: time.Date(2026, 11, 27, 8, 0, 0, 0, loc)},
				{Access: "a2", Refresh: "r2", ExpiresAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)},
			} {
				if err := db.SaveToken(ctx, want); err != nil {
					t.Fatal(err)
				}
				got, err := db.LoadToken(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got.Access != want.Access || got.Refresh != want.Refresh ||
					!got.ExpiresAt.Equal(want.ExpiresAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
					t.Errorf("got %+v, want %+v", got, want)
				}
			}
			var n int64
			db.ORM().Model(&store.OAToken{}).Count(&n)
			if n != 1 {
				t.Errorf("got %d token rows, want 1", n)
			}
		})
	}
}

func TestDeliveries(t *testing.T) {
	ctx := context.Background()
	msg := func(id string) cnsbot.Outgoing {
		return cnsbot.Outgoing{ID: id, To: cnsbot.Recipient{UserID: "42"}, Kind: cnsbot.MsgText, Text: "xin chào", Purpose: "reminder", Ref: "r:1"}
	}
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			state := func(id string) store.Delivery {
				t.Helper()
				d, err := db.FindDelivery(ctx, id)
				if err != nil {
					t.Fatalf("find %s: %v", id, err)
				}
				return d
			}

			// Recording the same outcome twice keeps one row.
			for range 2 {
				if err := db.Delivered(ctx, msg("m1"), "zm1"); err != nil {
					t.Fatal(err)
				}
			}
			var n int64
			db.ORM().Model(&store.Delivery{}).Where("message_id = ?", "m1").Count(&n)
			if d := state("m1"); n != 1 || d.State != store.StateSent || d.ZaloMessageID != "zm1" || d.Payload != "" || d.Recipient != "u:42" {
				t.Errorf("got %d rows, %+v; want 1 sent row without payload", n, d)
			}
			// A sent message stays sent.
			if err := db.Undeliverable(ctx, msg("m1"), -213, "blocked"); err != nil {
				t.Fatal(err)
			}
			if d := state("m1"); d.State != store.StateSent {
				t.Errorf("got state %q after a late refusal, want sent", d.State)
			}

			if err := db.Undeliverable(ctx, msg("m2"), -213, "user blocked the OA"); err != nil {
				t.Fatal(err)
			}
			if d := state("m2"); d.State != store.StateUndeliverable || d.ZaloCode != -213 || d.Payload == "" {
				t.Errorf("got %+v, want undeliverable -213 with payload", d)
			}
			if err := db.Fallback(ctx, msg("m5"), -230, "outside window"); err != nil {
				t.Fatal(err)
			}
			if d := state("m5"); d.State != store.StateFallback {
				t.Errorf("got state %q, want fallback", d.State)
			}

			// Held messages come back when due, oldest first.
			morning := time.Date(2026, 11, 28, 6, 0, 0, 0, time.FixedZone("ICT", 7*3600))
			if err := db.Held(ctx, msg("m4"), morning.Add(time.Minute), "quiet hours"); err != nil {
				t.Fatal(err)
			}
			if err := db.Held(ctx, msg("m3"), morning, "quiet hours"); err != nil {
				t.Fatal(err)
			}
			due, err := db.DueHeld(ctx, morning.Add(-time.Second), 10)
			if err != nil || len(due) != 0 {
				t.Fatalf("got %v, %v before morning, want nothing", due, err)
			}
			due, err = db.DueHeld(ctx, morning.Add(time.Hour).UTC(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(due); !slices.Equal(got, []string{"m3", "m4"}) {
				t.Errorf("got due %v, want [m3 m4]", got)
			}
			if due[0].Text != "xin chào" || due[0].To.UserID != "42" {
				t.Errorf("got %+v, want the whole message back", due[0])
			}
			if err := db.MarkReleased(ctx, "m3"); err != nil {
				t.Fatal(err)
			}
			due, _ = db.DueHeld(ctx, morning.Add(time.Hour), 10)
			if got := ids(due); !slices.Equal(got, []string{"m4"}) {
				t.Errorf("got due %v after releasing m3, want [m4]", got)
			}
			if err := db.Delivered(ctx, msg("m3"), "zm3"); err != nil {
				t.Fatal(err)
			}
			if d := state("m3"); d.State != store.StateSent {
				t.Errorf("got %q, want sent", d.State)
			}
			if _, err := db.FindDelivery(ctx, "nope"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("got %v, want not found", err)
			}
		})
	}
}

func ids(ms []cnsbot.Outgoing) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestDeadEvents(t *testing.T) {
	ctx := context.Background()
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			if err := db.RecordDeadEvent(ctx, "ev1", []byte(`{"x":1}`), errors.New("boom")); err != nil {
				t.Fatal(err)
			}
			got, err := db.DeadEvents(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].EventKey != "ev1" || got[0].Payload != `{"x":1}` || got[0].Error != "boom" {
				t.Errorf("got %+v, want the dead event", got)
			}
		})
	}
}
