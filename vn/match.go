package vn

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Distance returns the Levenshtein distance between a and b counted in
// runes: the fewest single-rune insertions, deletions and substitutions
// that turn one into the other. Fold both first to compare the way a
// Matcher does.
//
// It is a dozen lines of dynamic programming, so the package keeps it
// rather than take a dependency for it.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	return editDistance(ra, rb, false, len(ra)+len(rb))
}

// editDistance returns the edit distance between a and b, counting a swap
// of two adjacent runes as one edit when transpose is set (the restricted
// Damerau–Levenshtein, or optimal string alignment, distance). Once every
// entry of a row exceeds limit it gives up and returns limit+1.
func editDistance(a, b []rune, transpose bool, limit int) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return min(len(a), limit+1)
	}
	if len(a)-len(b) > limit {
		return limit + 1
	}
	// Three rows: the one before the previous is needed for transpositions.
	var stack [3 * 32]int
	var cells []int
	if n := 3 * (len(b) + 1); n <= len(stack) {
		cells = stack[:n]
	} else {
		cells = make([]int, n)
	}
	prev2 := cells[0 : len(b)+1]
	prev := cells[len(b)+1 : 2*(len(b)+1)]
	cur := cells[2*(len(b)+1):]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if transpose && i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

// maxEdits is how many typing mistakes a word of n runes may carry and
// still count as a near match: short words must be exact, since one edit
// turns most of them into another real word.
func maxEdits(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	default:
		return 0
	}
}

// Matcher finds which of a fixed set of intents (commands, menu choices,
// topics) a resident's free text refers to. It is built once and is safe
// for concurrent use.
type Matcher struct {
	exact   map[string]string
	phrases []phrase
}

// phrase is one synonym, folded and split ahead of time.
type phrase struct {
	id     string
	text   string
	words  []string
	runes  [][]rune
	joined []rune // the words run together: "cai dat" → "caidat"
	size   int    // runes in text
}

// NewMatcher returns a Matcher for the given intents: each key is an
// intent id, each value the phrases that mean it, in any spelling
// ("install": {"cài đặt", "cai", "tải về", "install"}). Phrases are folded
// here, so Match only folds its input. Phrases that fold to nothing are
// ignored. The ids themselves are not phrases; list an id among its own
// phrases when a button payload should also match as typed text.
func NewMatcher(intents map[string][]string) *Matcher {
	m := &Matcher{exact: make(map[string]string)}
	seen := make(map[[2]string]bool)
	for id, synonyms := range intents {
		for _, syn := range synonyms {
			text := Fold(syn)
			if text == "" || seen[[2]string{id, text}] {
				continue
			}
			seen[[2]string{id, text}] = true
			words := strings.Fields(text)
			p := phrase{id: id, text: text, words: words, size: utf8.RuneCountInString(text)}
			for _, w := range words {
				p.runes = append(p.runes, []rune(w))
			}
			if len(words) > 1 {
				p.joined = []rune(strings.Join(words, ""))
			}
			m.phrases = append(m.phrases, p)
			if cur, ok := m.exact[text]; !ok || id < cur {
				m.exact[text] = id
			}
		}
	}
	sort.Slice(m.phrases, func(i, j int) bool {
		if m.phrases[i].id != m.phrases[j].id {
			return m.phrases[i].id < m.phrases[j].id
		}
		return m.phrases[i].text < m.phrases[j].text
	})
	return m
}

// Match returns the intent that input refers to, trying in turn:
//
//  1. the whole folded input is one of the phrases;
//  2. a phrase occurs in the input as whole words ("cai vneid ko dc"
//     contains "cai");
//  3. a phrase occurs with a typing mistake in each of its words: one edit
//     for words of 4 runes or more, two for 8 or more, where swapping two
//     neighbouring letters is one edit; a phrase also matches when its
//     words are typed run together or split apart ("caidat", "vn eid").
//
// Within a step, the phrase with more words wins, then the longer phrase,
// then the one found earlier in the input (in step 3, first the one with
// fewer mistakes), then the smaller id, so the answer never depends on map
// order.
func (m *Matcher) Match(input string) (id string, ok bool) {
	f := Fold(input)
	if f == "" {
		return "", false
	}
	if id, ok := m.exact[f]; ok {
		return id, true
	}
	words := strings.Fields(f)
	if best, ok := m.contained(words, nil); ok {
		return best.id, true
	}
	if best, ok := m.fuzzy(words, toRunes(words), nil); ok {
		return best.id, true
	}
	return "", false
}

// MatchAll returns every intent that input refers to, best first, each
// once: the exact match, then intents found as whole words, then near
// matches, each group ranked as Match ranks it. "cai vneid ko dc" with
// intents for VNeID and for installing yields both.
func (m *Matcher) MatchAll(input string) []string {
	f := Fold(input)
	if f == "" {
		return nil
	}
	var ids []string
	have := make(map[string]bool)
	add := func(id string) {
		if !have[id] {
			have[id] = true
			ids = append(ids, id)
		}
	}
	if id, ok := m.exact[f]; ok {
		add(id)
	}
	words := strings.Fields(f)
	var hits []hit
	m.contained(words, &hits)
	sortHits(hits)
	for _, h := range hits {
		add(h.id)
	}
	hits = hits[:0]
	m.fuzzy(words, toRunes(words), &hits)
	sortHits(hits)
	for _, h := range hits {
		add(h.id)
	}
	return ids
}

// hit is a phrase found in the input, with what ranks it.
type hit struct {
	id    string
	dist  int
	words int
	size  int
	pos   int
}

func (h hit) better(o hit) bool {
	if h.dist != o.dist {
		return h.dist < o.dist
	}
	if h.words != o.words {
		return h.words > o.words
	}
	if h.size != o.size {
		return h.size > o.size
	}
	if h.pos != o.pos {
		return h.pos < o.pos
	}
	return h.id < o.id
}

func sortHits(hits []hit) {
	sort.Slice(hits, func(i, j int) bool { return hits[i].better(hits[j]) })
}

// contained finds the best phrase occurring in words as whole words; with
// all set, it also appends every such phrase's first occurrence.
func (m *Matcher) contained(words []string, all *[]hit) (hit, bool) {
	var best hit
	found := false
	for i := range m.phrases {
		p := &m.phrases[i]
		pos := indexWords(words, p.words)
		if pos < 0 {
			continue
		}
		h := hit{id: p.id, words: len(p.words), size: p.size, pos: pos}
		if all != nil {
			*all = append(*all, h)
		}
		if !found || h.better(best) {
			best, found = h, true
		}
	}
	return best, found
}

func indexWords(words, sub []string) int {
	for i := 0; i+len(sub) <= len(words); i++ {
		match := true
		for j, w := range sub {
			if words[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// fuzzy finds the best phrase occurring in words with typing mistakes;
// with all set, it also appends the best occurrence of every such phrase.
func (m *Matcher) fuzzy(words []string, runes [][]rune, all *[]hit) (hit, bool) {
	var best hit
	found := false
	var pair []rune
	for i := range m.phrases {
		p := &m.phrases[i]
		var ph hit
		pfound := false
		consider := func(dist, pos int) {
			h := hit{id: p.id, dist: dist, words: len(p.words), size: p.size, pos: pos}
			if !pfound || h.better(ph) {
				ph, pfound = h, true
			}
		}
		for pos := 0; pos+len(p.runes) <= len(runes); pos++ {
			if d, ok := nearWords(runes[pos:pos+len(p.runes)], p.runes); ok {
				consider(d, pos)
			}
		}
		for pos, w := range runes {
			if p.joined != nil {
				// "caidat" typed for "cai dat".
				if d, ok := near(w, p.joined); ok {
					consider(d, pos)
				}
			} else if pos+1 < len(runes) {
				// "vn eid" typed for "vneid".
				pair = append(append(pair[:0], w...), runes[pos+1]...)
				if d, ok := near(pair, p.runes[0]); ok {
					consider(d, pos)
				}
			}
		}
		if !pfound {
			continue
		}
		if all != nil {
			*all = append(*all, ph)
		}
		if !found || ph.better(best) {
			best, found = ph, true
		}
	}
	return best, found
}

// nearWords reports whether each input word is near the phrase word at the
// same place, and the total number of edits.
func nearWords(input, phrase [][]rune) (int, bool) {
	total := 0
	for j := range phrase {
		d, ok := near(input[j], phrase[j])
		if !ok {
			return 0, false
		}
		total += d
	}
	return total, true
}

// near reports whether a is within the edits allowed for the shorter of the
// two words, and how many edits apart they are.
func near(a, b []rune) (int, bool) {
	limit := maxEdits(min(len(a), len(b)))
	if len(a)-len(b) > limit || len(b)-len(a) > limit {
		return 0, false
	}
	if limit == 0 {
		return 0, runesEqual(a, b)
	}
	d := editDistance(a, b, true, limit)
	return d, d <= limit
}

func runesEqual(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func toRunes(words []string) [][]rune {
	out := make([][]rune, len(words))
	for i, w := range words {
		out[i] = []rune(w)
	}
	return out
}

// Match reports whether input refers to any of the phrases, by the rules of
// Matcher.Match. It folds the phrases on every call; build a Matcher for
// anything matched often.
func Match(input string, phrases ...string) bool {
	_, ok := NewMatcher(map[string][]string{"": phrases}).Match(input)
	return ok
}
