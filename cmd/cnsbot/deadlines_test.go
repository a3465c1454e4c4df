package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/store"
)

// calendarConfig is a configuration with an embedded database in a fresh
// directory, whose calendar tables exist.
func calendarConfig(t *testing.T) Config {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), Migrate: true, RedisPrefix: "cnsbot:", Partitions: 4}
	db := calendarDB(t, cfg)
	db.Close()
	return cfg
}

// calendarDB opens cfg's database, migrated, with the domain and calendar
// tables created even before store's migration list names them (gormigrate
// then skips nothing: AutoMigrate only adds what is missing).
func calendarDB(t *testing.T, cfg Config) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func runDeadlines(t *testing.T, cfg Config, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := deadlinesCmd(context.Background(), args, &out, cfg, slog.New(slog.DiscardHandler))
	return out.String(), err
}

type deadlineRow struct {
	Quarter string `json:"quarter"`
	From    string `json:"from"`
	To      string `json:"to"`
	Before  string `json:"before"`
}

func rows(t *testing.T, out string) []deadlineRow {
	t.Helper()
	var got []deadlineRow
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return got
}

func plan220Rows(year string) []deadlineRow {
	var out []deadlineRow
	for i, month := range []string{"03", "06", "09", "12"} {
		q := year + "Q" + string(rune('1'+i))
		out = append(out,
			deadlineRow{q, "team", "commune", year + "-" + month + "-16"},
			deadlineRow{q, "commune", "district", year + "-" + month + "-21"},
			deadlineRow{q, "district", "department", year + "-" + month + "-26"})
	}
	return out
}

func twoLevelRows(year string) []deadlineRow {
	var out []deadlineRow
	for i, month := range []string{"03", "06", "09", "12"} {
		q := year + "Q" + string(rune('1'+i))
		out = append(out,
			deadlineRow{q, "team", "commune", year + "-" + month + "-16"},
			deadlineRow{q, "commune", "department", year + "-" + month + "-26"})
	}
	return out
}

func TestDeadlinesJSON(t *testing.T) {
	cfg := calendarConfig(t)
	twoLevel2026 := []deadlineRow{
		{"2026Q1", "team", "commune", "2026-03-16"}, {"2026Q1", "commune", "department", "2026-03-26"},
		{"2026Q2", "team", "commune", "2026-06-16"}, {"2026Q2", "commune", "department", "2026-06-26"},
		{"2026Q3", "team", "commune", "2026-09-16"}, {"2026Q3", "commune", "department", "2026-09-26"},
		{"2026Q4", "team", "commune", "2026-12-16"}, {"2026Q4", "commune", "department", "2026-12-26"},
	}
	edited2025 := []deadlineRow{
		{"2025Q1", "team", "commune", "2025-03-10"}, {"2025Q1", "commune", "department", "2025-03-20"},
		{"2025Q2", "team", "commune", "2025-06-10"}, {"2025Q2", "commune", "department", "2025-06-20"},
		{"2025Q3", "team", "commune", "2025-09-10"}, {"2025Q3", "commune", "department", "2025-09-20"},
		{"2025Q4", "team", "commune", "2025-12-10"}, {"2025Q4", "commune", "department", "2025-12-20"},
	}
	tests := []struct {
		name string
		args []string
		want []deadlineRow
	}{
		// A fresh database: the two-level chain in force since July 2025.
		{"stored default", []string{"--year", "2025", "--json"}, twoLevelRows("2025")},
		{"preset plan220", []string{"--year", "2027", "--json", "--preset", "plan220"}, plan220Rows("2027")},
		{"preset two-level", []string{"--year", "2026", "--json", "--preset", "two-level"}, twoLevel2026},
		{"schedule file", []string{"--year=2025", "--json", "--schedule", "testdata/schedule-edited.json"}, edited2025},
	}
	for _, tt := range tests {
		out, err := runDeadlines(t, cfg, tt.args...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := rows(t, out); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	// The exact published form of one object.
	out, _ := runDeadlines(t, cfg, "--year", "2025", "--json")
	if !strings.Contains(out, `"quarter": "2025Q3",`+"\n"+`    "from": "team",`+"\n"+`    "to": "commune",`+"\n"+`    "before": "2025-09-16"`) {
		t.Errorf("output does not hold the 2025Q3 team deadline as published:\n%s", out)
	}

	// An administrator stores plan 220 (to look back at 2025, say): it is
	// in force.
	db := calendarDB(t, cfg)
	if err := db.SaveSchedule(context.Background(), calendar.Plan220(), "admin"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err := runDeadlines(t, cfg, "--year", "2025", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if got := rows(t, out); !reflect.DeepEqual(got, plan220Rows("2025")) {
		t.Errorf("stored plan220: got %v, want %v", got, plan220Rows("2025"))
	}
}

func TestDeadlinesTable(t *testing.T) {
	cfg := calendarConfig(t)
	for _, c := range []struct{ golden, lang string }{{"deadlines_2025.vi.txt", "vi"}, {"deadlines_2025.en.txt", "en"}} {
		out, err := runDeadlines(t, cfg, "--year", "2025", "--preset", "plan220", "--lang", c.lang)
		if err != nil {
			t.Fatal(err)
		}
		flowstest.Golden(t, filepath.Join("testdata", c.golden), out)
	}
}

func TestDeadlinesErrors(t *testing.T) {
	cfg := calendarConfig(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name":"x","steps":[{"from":"team","to":"commune","day":16}],"ofsets":[1]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "three-level"}, "unknown preset"},
		{[]string{"--preset", "plan220", "--schedule", "testdata/schedule-edited.json"}, "not both"},
		{[]string{"--schedule", bad}, "unknown field"},
		{[]string{"--schedule", "testdata/missing.json"}, "no such file"},
		{[]string{"--year", "25"}, "not a year"},
		{[]string{"--year", "2025", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		_, err := runDeadlines(t, cfg, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("deadlines %v: got %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
