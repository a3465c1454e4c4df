package vn

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// realIntents are the phrase sets the flows build matchers from (global
// commands, resume, share, and every flow's entries), as dumped from a
// running engine; realIntents["entries"] is the largest.
func realIntents(t testing.TB) map[string]map[string][]string {
	t.Helper()
	b, err := os.ReadFile("testdata/intents.json")
	if err != nil {
		t.Fatal(err)
	}
	var sets map[string]map[string][]string
	if err := json.Unmarshal(b, &sets); err != nil {
		t.Fatal(err)
	}
	return sets
}

// corpus returns the load test's first messages: what residents, members
// and leaders really write (cmd/cnsbot-load/testdata).
func corpus(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("../cmd/cnsbot-load/testdata/first-messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || line == "#" || strings.HasPrefix(line, "# ") {
			continue
		}
		texts = append(texts, strings.ReplaceAll(line, `\n`, "\n"))
	}
	return texts
}

// typos returns inputs made from the phrases of intents the way people
// mistype them: a rune dropped, doubled, replaced or swapped with the
// next, words run together or split, surrounded by other words.
func typos(intents map[string][]string, rng *rand.Rand) []string {
	var out []string
	letters := []rune("abcdeghiklmnopqrstuvxy")
	for _, list := range intents {
		for _, p := range list {
			f := []rune(Fold(p))
			if len(f) == 0 {
				continue
			}
			for range 3 {
				r := slices.Clone(f)
				i := rng.IntN(len(r))
				switch rng.IntN(6) {
				case 0:
					r = slices.Delete(r, i, i+1)
				case 1:
					r = slices.Insert(r, i, r[i])
				case 2:
					r[i] = letters[rng.IntN(len(letters))]
				case 3:
					if i+1 < len(r) {
						r[i], r[i+1] = r[i+1], r[i]
					}
				case 4:
					r = []rune(strings.ReplaceAll(string(r), " ", ""))
				case 5:
					r = slices.Insert(r, i, ' ')
				}
				if rng.IntN(3) == 0 {
					// and a second mistake
					j := rng.IntN(len(r) + 1)
					r = slices.Insert(r, j, letters[rng.IntN(len(letters))])
				}
				s := string(r)
				out = append(out, s, "cho em hoi "+s+" voi", s+" ko dc", "alo "+s)
			}
		}
	}
	return out
}

// TestMatcherSameAsReference checks the indexed Matcher against the
// matcher it replaced, which tried every phrase at every place: same
// answer from Match and MatchAll for real phrase sets, real messages and
// mistyped phrases.
func TestMatcherSameAsReference(t *testing.T) {
	sets := realIntents(t)
	sets["test globals"] = globalIntents
	sets["bench"] = benchIntents()
	texts := corpus(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for name, intents := range sets {
		m, ref := NewMatcher(intents), newRefMatcher(intents)
		inputs := append(slices.Clone(texts), typos(intents, rng)...)
		for _, other := range sets {
			inputs = append(inputs, typos(other, rng)[:40]...)
		}
		for _, in := range inputs {
			// The reference's Match is the first of its MatchAll, so one
			// call of the slow reference checks both.
			want := ref.MatchAll(in)
			if got := m.MatchAll(in); !slices.Equal(got, want) {
				t.Errorf("%s: MatchAll(%q) = %q; reference %q", name, in, got, want)
			}
			gotID, gotOK := m.Match(in)
			if gotOK != (len(want) > 0) || gotOK && gotID != want[0] {
				t.Errorf("%s: Match(%q) = %q, %v; reference's best %q", name, in, gotID, gotOK, want)
			}
		}
	}
}

func FuzzMatcherSameAsReference(f *testing.F) {
	for _, s := range []string{"cai vneid ko dc", "caidat", "vn eid", "quen mat khau", "ddawng nhaapj", "tiếng việt", "ｶﾀｶﾅ", "ß ǅ ﬁ"} {
		f.Add(s)
	}
	intents := realIntents(f)
	m, ref := NewMatcher(intents["entries"]), newRefMatcher(intents["entries"])
	g, gref := NewMatcher(globalIntents), newRefMatcher(globalIntents)
	f.Fuzz(func(t *testing.T, s string) {
		for _, pair := range []struct {
			m   *Matcher
			ref *refMatcher
		}{{m, ref}, {g, gref}} {
			if got, want := pair.m.MatchAll(s), pair.ref.MatchAll(s); !slices.Equal(got, want) {
				t.Errorf("MatchAll(%q) = %q; reference %q", s, got, want)
			}
		}
	})
}

// Phrases with letters outside ASCII after folding (Fold keeps letters of
// other scripts) go through the same index.
func TestMatcherNonLatin(t *testing.T) {
	intents := map[string][]string{"ru": {"привет мир", "здравствуйте"}, "el": {"καλημέρα"}}
	m, ref := NewMatcher(intents), newRefMatcher(intents)
	for _, in := range []string{"привет мир", "привт мир", "здраствуйте", "здравствуйет", "καλημερα", "καλη μέρα", "приветмир"} {
		gotID, gotOK := m.Match(in)
		wantID, wantOK := ref.Match(in)
		if gotID != wantID || gotOK != wantOK || !gotOK {
			t.Errorf("Match(%q) = %q, %v; reference %q, %v (want a match)", in, gotID, gotOK, wantID, wantOK)
		}
	}
}

func TestForDeletes(t *testing.T) {
	var got []string
	var buf []byte
	forDeletes(&buf, []byte("abc"), 2, func(v []byte, n int) bool {
		if n != len(v) {
			t.Errorf("%q: %d runes", v, n)
		}
		got = append(got, string(v))
		return true
	})
	want := []string{"abc", "bc", "ac", "ab", "c", "b", "a"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = got[:0]
	forDeletes(&buf, []byte("đạo"), 1, func(v []byte, n int) bool {
		got = append(got, string(v)+"/"+string(rune('0'+n)))
		return true
	})
	if want := []string{"đạo/3", "ạo/2", "đo/2", "đạ/2"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// BenchmarkMatchCorpus is the understanding of one real first message as
// the engine does it: the global commands, then the flows' entries, over
// the load test's corpus (one op = one message, averaged over the corpus).
func BenchmarkMatchCorpus(b *testing.B) {
	sets := realIntents(b)
	globals, entries := NewMatcher(sets["globals"]), NewMatcher(sets["entries"])
	texts := corpus(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := texts[i%len(texts)]
		globals.Match(s)
		entries.Match(s)
		i++
	}
}

// BenchmarkMatchCorpusReference is the same work done by the matcher
// without an index, for comparison.
func BenchmarkMatchCorpusReference(b *testing.B) {
	sets := realIntents(b)
	globals, entries := newRefMatcher(sets["globals"]), newRefMatcher(sets["entries"])
	texts := corpus(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := texts[i%len(texts)]
		globals.Match(s)
		entries.Match(s)
		i++
	}
}

// BenchmarkMatchLong is the dearest kind of message: a long one with no
// phrase in it, where every word goes through the typo index.
func BenchmarkMatchLong(b *testing.B) {
	entries := NewMatcher(realIntents(b)["entries"])
	s := "chao em chi o ap 4 xa tan loc hom qua con chi no cai cho chi ma gio chi mo len no doi cai gi do chi khong nho em chi chi lam lai voi"
	b.ReportAllocs()
	for b.Loop() {
		entries.Match(s)
	}
}

func BenchmarkMatchLongReference(b *testing.B) {
	entries := newRefMatcher(realIntents(b)["entries"])
	s := "chao em chi o ap 4 xa tan loc hom qua con chi no cai cho chi ma gio chi mo len no doi cai gi do chi khong nho em chi chi lam lai voi"
	b.ReportAllocs()
	for b.Loop() {
		entries.Match(s)
	}
}

// BenchmarkNewMatcherEntries is building the flows' entries, done at start
// and whenever a flow or menu item is added.
func BenchmarkNewMatcherEntries(b *testing.B) {
	intents := realIntents(b)["entries"]
	b.ReportAllocs()
	for b.Loop() {
		NewMatcher(intents)
	}
}

func BenchmarkNewMatcherEntriesReference(b *testing.B) {
	intents := realIntents(b)["entries"]
	b.ReportAllocs()
	for b.Loop() {
		newRefMatcher(intents)
	}
}

// BenchmarkNewMatcherIndexed is building the entries and their typo index,
// which the first near match does.
func BenchmarkNewMatcherIndexed(b *testing.B) {
	intents := realIntents(b)["entries"]
	b.ReportAllocs()
	for b.Loop() {
		NewMatcher(intents).Match("xyzw qwerty")
	}
}

// Matchers are shared by every partition's worker: the first near match
// builds the index while others match (run with -race).
func TestMatcherConcurrentFirstUse(t *testing.T) {
	m, ref := NewMatcher(realIntents(t)["entries"]), newRefMatcher(realIntents(t)["entries"])
	inputs := []string{"caidat vneid", "quen mat khau", "dang nhapp camau g", "vn eid", "xin chao"}
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 50 {
				in := inputs[(g+i)%len(inputs)]
				if got, want := m.MatchAll(in), ref.MatchAll(in); !slices.Equal(got, want) {
					t.Errorf("MatchAll(%q) = %q; reference %q", in, got, want)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}
