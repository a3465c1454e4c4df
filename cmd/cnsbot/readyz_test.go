package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/camau-cns/cnsbot/store/storetest"
)

// A store that answers but cannot write is not ready: /readyz answers 503
// and says so. (Before, it pinged the database only and answered 200 while
// reminders had stopped and events were retried forever.) CI runs as root,
// whom a read-only directory does not stop, so SQLite's query_only pragma
// makes the store refuse writes instead.
func TestReadyzReportsStoreThatCannotWrite(t *testing.T) {
	r := start(t, embeddedConfig(t), false)
	if code, body := getReadyz(t, r.url); code != http.StatusOK || body["database"] != "ok" || body["redis"] != "ok" {
		t.Fatalf("healthy: got %d %v, want 200 with database and redis ok", code, body)
	}

	r = start(t, embeddedConfig(t), false)
	// The embedded database has one connection, so this reaches the server's.
	storetest.Exec(t, r.db, "PRAGMA query_only = 1")
	code, body := getReadyz(t, r.url)
	if code != http.StatusServiceUnavailable || body["database"] != "cannot write" || body["redis"] != "ok" {
		t.Errorf("read-only store: got %d %v, want 503 with database \"cannot write\"", code, body)
	}
}

func getReadyz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}
