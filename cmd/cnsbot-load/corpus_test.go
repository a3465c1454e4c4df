package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCorpus(t *testing.T) {
	got := parseCorpus("# a comment\n\nchào em\r\n#menu\n#\nbc ấp 3\\nthăm 5 hộ\n   \nok\n")
	want := []string{"chào em", "#menu", "bc ấp 3\nthăm 5 hộ", "ok"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The embedded corpus is what runs by default: it must be large and
// varied enough to stand for what residents write first.
func TestDefaultCorpus(t *testing.T) {
	texts := parseCorpus(defaultCorpus)
	if len(texts) < 300 {
		t.Fatalf("%d messages, want at least 300", len(texts))
	}
	distinct := map[string]bool{}
	long, ascii := 0, 0
	for _, s := range texts {
		distinct[s] = true
		if len(strings.Fields(s)) >= 15 {
			long++
		}
		if isASCII(s) {
			ascii++
		}
	}
	if len(distinct) != len(texts) {
		t.Errorf("%d messages but %d distinct: drop the repeats", len(texts), len(distinct))
	}
	// Long rambling messages and messages without diacritics are what
	// makes free text dear; a corpus without them would flatter.
	if long < 30 || ascii < len(texts)/4 {
		t.Errorf("%d long messages and %d without diacritics, want at least 30 and %d", long, ascii, len(texts)/4)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestParseFlagsTexts(t *testing.T) {
	o, err := parseFlags([]string{"-n", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.load.Texts) < 300 || o.load.TextsName != defaultCorpusName {
		t.Errorf("default: %d texts from %q, want the embedded corpus", len(o.load.Texts), o.load.TextsName)
	}
	o, err = parseFlags([]string{"-n", "10", "-text", "menu"}, io.Discard)
	if err != nil || !slices.Equal(o.load.Texts, []string{"menu"}) {
		t.Errorf("-text menu: got %q, %v", o.load.Texts, err)
	}
	path := filepath.Join(t.TempDir(), "c.txt")
	if err := os.WriteFile(path, []byte("# x\nalo\nchao em\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err = parseFlags([]string{"-n", "10", "-texts", path}, io.Discard)
	if err != nil || !slices.Equal(o.load.Texts, []string{"alo", "chao em"}) {
		t.Errorf("-texts: got %q, %v", o.load.Texts, err)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("# only a comment\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-text", "menu", "-texts", path},
		{"-texts", empty},
		{"-texts", filepath.Join(t.TempDir(), "missing.txt")},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): got no error, want one", args)
		}
	}
}

// Each user's answers are counted by its own text's message counts, and a
// text the warm-up got no answer to is replaced rather than counted lost.
func TestTallyTexts(t *testing.T) {
	cfg := testLoad(40, 40)
	cfg.Texts = []string{"menu", "cai vneid ko dc", "ok"}
	rec := newRecorder()
	d, err := newDriver(cfg, "http://127.0.0.1:1", rec)
	if err != nil {
		t.Fatal(err)
	}
	d.counts = []msgCount{{first: 1}, {first: 3}, {}}
	d.userText[0] = 2 // make sure the silent text is in use
	silent, err := d.dropSilent()
	if err != nil || silent != 1 {
		t.Fatalf("dropSilent: %d, %v; want 1, nil", silent, err)
	}
	start := time.Now()
	lostUser := -1
	for i := range d.events {
		d.events[i].attempts, d.events[i].acked, d.events[i].sentAt = 1, true, start
	}
	for u := range d.users {
		n := d.counts[d.userText[u]].first
		if n == 0 {
			t.Fatalf("user %d still writes the silent text", u)
		}
		if n == 3 && lostUser < 0 {
			lostUser, n = u, 0 // nothing came for this one
		}
		for k := range n {
			rec.byUser[d.users[u]] = append(rec.byUser[d.users[u]], start.Add(time.Duration(k+1)*time.Millisecond))
		}
	}
	if lostUser < 0 {
		t.Fatal("no user writes the three-message text")
	}
	r := d.tally("t", start, nil, time.Second, true)
	if r.Lost != 1 || r.Answered != 39 || r.DuplicateUsers != 0 || r.Stray != 0 {
		t.Errorf("lost %d, answered %d, duplicate users %d, stray %d; want 1, 39, 0, 0", r.Lost, r.Answered, r.DuplicateUsers, r.Stray)
	}
	if r.MessagesFirst <= 1 || r.MessagesFirst >= 3 {
		t.Errorf("mean messages for a new user %.2f, want between 1 and 3", r.MessagesFirst)
	}
}

func TestDropSilentNoneLeft(t *testing.T) {
	cfg := testLoad(4, 2)
	cfg.Texts = []string{"menu"}
	d, err := newDriver(cfg, "http://127.0.0.1:1", newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	d.counts[0] = msgCount{first: 1}
	if _, err := d.dropSilent(); err == nil {
		t.Error("a text answered only the first time, users writing twice: got no error, want one")
	}
}
