package flows_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// corpus reads the load test's first messages (cmd/cnsbot-load): one a
// line, `\n` for a line break, "# " starting a comment.
func corpus(b *testing.B) []string {
	b.Helper()
	raw, err := os.ReadFile("../cmd/cnsbot-load/testdata/first-messages.txt")
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "#" || strings.HasPrefix(line, "# ") {
			continue
		}
		out = append(out, strings.ReplaceAll(line, `\n`, "\n"))
	}
	if len(out) < 300 {
		b.Fatalf("%d messages in the corpus", len(out))
	}
	return out
}

// BenchmarkEngineCorpus is what the load test sends by default: each event
// a new user's first message drawn from the corpus of what residents,
// members and leaders really write (issue 19). Compare with
// BenchmarkEngineFirstMessage ("xin chào") and BenchmarkEngineMenu.
func BenchmarkEngineCorpus(b *testing.B) {
	e, _ := benchEngine(b)
	texts := corpus(b)
	ctx := context.Background()
	events := make([][]byte, len(texts)*4)
	for i := range events {
		events[i] = payload(b, "c-"+strconv.Itoa(i), "c-"+strconv.Itoa(i), texts[i%len(texts)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := events[i%len(events)]
		if i >= len(events) {
			b.StopTimer()
			p = payload(b, "c-"+strconv.Itoa(i), "c-"+strconv.Itoa(i), texts[i%len(texts)])
			b.StartTimer()
		}
		if err := e.HandleEvent(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
