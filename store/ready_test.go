package store_test

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// An SQLite store that cannot write still answers a ping; the write probe
// is what tells. CI runs as root, whom file permissions do not stop, so the
// store is made read-only with SQLite's query_only pragma on its one
// connection, which refuses writes as a read-only directory does.
func TestWriteProbeSQLiteReadOnly(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	probe := store.NewWriteProbe(db, 0, slog.New(slog.DiscardHandler))
	cached := store.NewWriteProbe(db, time.Hour, slog.New(slog.DiscardHandler))
	for _, p := range []*store.WriteProbe{probe, cached} {
		if err := p.Check(ctx); err != nil {
			t.Fatalf("writable store: %v", err)
		}
	}

	if err := db.ORM().Exec("PRAGMA query_only = 1").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("ping: %v (want the read-only store to answer pings, as it did)", err)
	}
	if err := probe.Check(ctx); err == nil {
		t.Fatal("the probe found a read-only store writable")
	}
	// Within its interval the probe answers from its last write.
	if err := cached.Check(ctx); err != nil {
		t.Errorf("cached probe: %v, want the last answer (nil) within the interval", err)
	}

	if err := db.ORM().Exec("PRAGMA query_only = 0").Error; err != nil {
		t.Fatal(err)
	}
	if err := probe.Check(ctx); err != nil {
		t.Errorf("writable again: %v", err)
	}
}

// A Postgres that went down fails both the ping and the probe.
func TestWriteProbePostgresDown(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newRedisProxy(t, u.Host) // any TCP server will do
	u.Host = proxy.addr
	ctx := context.Background()
	db, err := store.Open(ctx, u.String(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	probe := store.NewWriteProbe(db, 0, slog.New(slog.DiscardHandler))
	if err := probe.Check(ctx); err != nil {
		t.Fatalf("Postgres up: %v", err)
	}
	proxy.refuse()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.Ping(ctx); err == nil {
		t.Error("ping of a Postgres that is down succeeded")
	}
	if err := probe.Check(ctx); err == nil {
		t.Error("the probe found a Postgres that is down writable")
	}
}
