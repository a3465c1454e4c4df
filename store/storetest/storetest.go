// Package storetest gives tests real Postgres and Redis instances isolated
// per test (a fresh schema, a unique key prefix), and an in-process Redis for
// fast unit tests.
//
// A missing service skips the test on a developer machine but fails it when
// the environment variable CI is set, so that continuous integration can
// never pass by skipping everything.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Default addresses of the services, overridden by TEST_DATABASE_URL and
// TEST_REDIS_URL.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// connectTimeout bounds how long a test waits for a service that is not there.
const connectTimeout = 3 * time.Second

// Postgres returns a GORM handle whose search_path is a fresh schema created
// for this test and dropped when it ends.
func Postgres(t testing.TB) *gorm.DB {
	t.Helper()
	dsn := PostgresURL(t)
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("storetest: open postgres: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("storetest: postgres pool: %v", err)
	}
	// Registered after PostgresURL's cleanup, so it runs first: connections
	// close before the schema is dropped.
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

// PostgresURL creates a fresh schema for this test and returns a DSN whose
// search_path is that schema, for code that opens its own connections.
// The schema is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = DefaultDatabaseURL
	}
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		unavailable(t, "postgres at %s: %v", redactURL(base), err)
	}
	sqlDB, err := admin.DB()
	if err != nil {
		t.Fatalf("storetest: postgres pool: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		unavailable(t, "postgres at %s: %v", redactURL(base), err)
	}

	schema := "t_" + randomHex(t, 8)
	if err := admin.WithContext(ctx).Exec(`CREATE SCHEMA "` + schema + `"`).Error; err != nil {
		_ = sqlDB.Close()
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer sqlDB.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := admin.WithContext(ctx).Exec(`DROP SCHEMA "` + schema + `" CASCADE`).Error; err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: TEST_DATABASE_URL must be a URL: %v", err)
	}
	q := u.Query()
	// pgx passes unknown parameters to the server as run-time settings.
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Pool is what a store offers for plain SQL (store.DB.SQL): tests age rows
// and read columns that no method exposes with it, through database/sql.
type Pool interface {
	SQL() (*sql.DB, error)
}

// Exec runs a statement on db and fails the test if it fails.
// Placeholders are $1, $2… on Postgres and SQLite alike.
func Exec(t testing.TB, db Pool, query string, args ...any) {
	t.Helper()
	sqlDB, err := db.SQL()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if _, err := sqlDB.Exec(query, args...); err != nil {
		t.Fatalf("storetest: %s: %v", query, err)
	}
}

// Scan runs a query that returns one row on db, scans it into dest and
// fails the test if that fails.
func Scan(t testing.TB, db Pool, query string, args []any, dest ...any) {
	t.Helper()
	sqlDB, err := db.SQL()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if err := sqlDB.QueryRow(query, args...).Scan(dest...); err != nil {
		t.Fatalf("storetest: %s: %v", query, err)
	}
}

// Redis returns a client of the test Redis and a key prefix unique to this
// test ("t<random>:"). Keys with that prefix are deleted when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		raw = DefaultRedisURL
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("storetest: TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		unavailable(t, "redis at %s: %v", redactURL(raw), err)
	}
	prefix := "t" + randomHex(t, 8) + ":"
	t.Cleanup(func() {
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, rdb, prefix); err != nil {
			t.Errorf("storetest: delete keys %s*: %v", prefix, err)
		}
	})
	return rdb, prefix
}

// MiniRedis returns a client of an in-process Redis that lives as long as
// the test.
func MiniRedis(t testing.TB) *redis.Client {
	t.Helper()
	_, rdb := MiniRedisServer(t)
	return rdb
}

// MiniRedisServer is MiniRedis that also returns the server, for tests that
// move its clock (FastForward) or inspect it directly.
func MiniRedisServer(t testing.TB) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	srv := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return srv, rdb
}

func deletePrefix(ctx context.Context, rdb *redis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", 500).Result()
		if err != nil {
			return err
		}
		// One DEL per key: in a cluster the keys of one batch may live in
		// different slots.
		for _, k := range keys {
			if err := rdb.Del(ctx, k).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf("storetest: "+format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: a missing service is a failure)")
	}
	t.Skip(msg + " (set CI to make this a failure)")
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// redactURL hides a password that the URL may carry.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
