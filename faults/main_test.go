package faults

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	printSummary()
	shared.env.tearDown()
	os.Exit(code)
}

// row is one scenario's line of the summary table.
type row struct {
	Scenario             string
	Events, Acked, Posts int
	Non200               string
	LongestUnacked       time.Duration
	Answered, Lost, Dup  int
	Resets, Reordered    int
	Changed, Dead        int
	Reminders            string
	RemindersOK          bool
	Refreshes            int
	LogWarns, LogErrs    int
	Took                 time.Duration
	OK                   bool
	Extra                string
}

var summary struct {
	mu   sync.Mutex
	rows []row
}

func addRow(r row) {
	summary.mu.Lock()
	defer summary.mu.Unlock()
	summary.rows = append(summary.rows, r)
}

// printSummary writes the table of every scenario that ran, on standard
// output, so that `go test ./faults/` shows the figures without -v.
func printSummary() {
	summary.mu.Lock()
	defer summary.mu.Unlock()
	if len(summary.rows) == 0 {
		return
	}
	fmt.Println("\nfault suite summary (events: acknowledged/sent; lost, dup: messages; reminders: sent+held/leaders)")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tevents\tposts\tnon-200\tlongest unacked\tanswered\tchanged\tlost\tdup\tdead\tresets\treordered\treminders\trefreshes\tlog warn/err\ttook\tresult\t")
	for _, r := range summary.rows {
		result := "OK"
		if !r.OK {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d/%d\t%s\t%s\t\n",
			r.Scenario, r.Acked, r.Events, r.Posts, r.Non200, r.LongestUnacked.Round(100*time.Millisecond),
			r.Answered, r.Changed, r.Lost, r.Dup, r.Dead, r.Resets, r.Reordered, r.Reminders, refreshes(r.Refreshes),
			r.LogWarns, r.LogErrs, r.Took.Round(time.Second), result)
	}
	tw.Flush()
	for _, r := range summary.rows {
		if r.Extra != "" {
			fmt.Printf("  %s: %s\n", r.Scenario, r.Extra)
		}
	}
	fmt.Println()
}

func refreshes(n int) string {
	if n < 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// statuses renders a status count map, 200 left out.
func statuses(m map[string]int) string {
	var parts []string
	for _, k := range []string{"400", "401", "403", "413", "500", "502", "503", "error"} {
		if n := m[k]; n > 0 {
			parts = append(parts, k+":"+strconv.Itoa(n))
		}
	}
	for k, n := range m {
		switch k {
		case "200", "400", "401", "403", "413", "500", "502", "503", "error":
			continue
		}
		parts = append(parts, k+":"+strconv.Itoa(n))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

// envDuration reads a duration from the environment.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// envInt reads an integer from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// envFloat reads a number from the environment.
func envFloat(t *testing.T, name string, def float64) float64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}
