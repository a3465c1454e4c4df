package vn

import (
	"math"
	"sort"
	"strings"
	"sync"
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
//
// Every message goes through several matchers (global commands, the flows'
// entries, the step's choices), so a match costs a few map lookups per
// input word rather than a comparison with every phrase: NewMatcher indexes
// the phrases by their first word, for whole-word matches, and the first
// near match indexes every phrase word by the strings that deleting up to
// its allowed number of typing mistakes from it leaves (a symmetric-deletion
// dictionary). A word within n edits of a phrase word shares one of those
// strings with it, so the index finds every candidate; each candidate is
// then checked with the edit distance, as before there was an index.
type Matcher struct {
	exact   map[string]string
	phrases []phrase
	// byFirst lists the phrases that start with each folded word.
	byFirst map[string][]int32

	// The typo index, built by the first match that needs it: a matcher
	// is often rebuilt before it is used (the engine's entries, once per
	// flow registered) or used once (a list of places).
	once sync.Once
	// terms are the distinct phrase words and run-together phrases.
	terms []term
	// deletes maps the hash of every string left by deleting up to
	// maxEdits runes from a term to the head of its chain in chain, plus
	// one. A hash collision only adds a candidate that near then rejects.
	deletes map[uint64]int32
	chain   []link
	// filter has bit h&filterMask set for every hash h in deletes: most
	// deletion strings of an input word are in no term, and testing a
	// bit costs far less than a miss in the map.
	filter     []uint64
	filterMask uint64
	// deleteLens has bit n set when some deletion string is n runes long
	// (n < 64), to skip lookups that cannot hit.
	deleteLens uint64
	// maxEdits bounds the edits any term allows; singleMin and singleMax
	// bound the runes of one-word phrases, which alone are tried against
	// two input words run together.
	maxEdits             int
	singleMin, singleMax int
}

// link is one term filed under a deletion string; next is the index of
// the next link plus one (0 ends the chain).
type link struct {
	term, next int32
}

// phrase is one synonym, folded and split ahead of time.
type phrase struct {
	id    string
	text  string
	words []string
	// wordTerms are the terms of words (see indexTypos).
	wordTerms []int32
	size      int // runes in text
}

// term is a phrase word or a phrase's words run together, and where it
// occurs.
type term struct {
	runes []rune
	refs  []termRef
}

// termRef is an occurrence of a term: in phrase, as word number slot, or
// as the whole phrase run together when slot is joinedSlot.
type termRef struct {
	phrase int32
	slot   int32
}

const joinedSlot = -1

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
			m.phrases = append(m.phrases, phrase{id: id, text: text, words: strings.Fields(text), size: utf8.RuneCountInString(text)})
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
	m.byFirst = make(map[string][]int32)
	for i := range m.phrases {
		w := m.phrases[i].words[0]
		m.byFirst[w] = append(m.byFirst[w], int32(i))
	}
	return m
}

// indexTypos builds terms and deletes from the sorted phrases.
func (m *Matcher) indexTypos() {
	m.deletes = make(map[uint64]int32)
	termOf := make(map[string]int32)
	addTerm := func(s string, ref termRef) int32 {
		t, ok := termOf[s]
		if !ok {
			t = int32(len(m.terms))
			termOf[s] = t
			m.terms = append(m.terms, term{runes: []rune(s)})
			m.indexDeletes(s, t)
		}
		m.terms[t].refs = append(m.terms[t].refs, ref)
		return t
	}
	m.singleMin = math.MaxInt
	defer m.buildFilter()
	for i := range m.phrases {
		p := &m.phrases[i]
		for j, w := range p.words {
			p.wordTerms = append(p.wordTerms, addTerm(w, termRef{phrase: int32(i), slot: int32(j)}))
		}
		if len(p.words) > 1 {
			// "caidat" typed for "cai dat".
			addTerm(strings.Join(p.words, ""), termRef{phrase: int32(i), slot: joinedSlot})
		} else {
			n := utf8.RuneCountInString(p.words[0])
			m.singleMin, m.singleMax = min(m.singleMin, n), max(m.singleMax, n)
		}
	}
}

// buildFilter sets filter from deletes, with about 16 bits per deletion
// string so that a string of no term passes it about once in twenty.
func (m *Matcher) buildFilter() {
	bits := 64
	for bits < 16*len(m.deletes) {
		bits *= 2
	}
	m.filter = make([]uint64, bits/64)
	m.filterMask = uint64(bits - 1)
	for h := range m.deletes {
		m.setFilter(h)
	}
}

func (m *Matcher) setFilter(h uint64) {
	b := (h>>32 ^ h) & m.filterMask
	m.filter[b/64] |= 1 << (b % 64)
}

// mayHave reports whether deletes may hold h: false means it does not.
func (m *Matcher) mayHave(h uint64) bool {
	b := (h>>32 ^ h) & m.filterMask
	return m.filter[b/64]&(1<<(b%64)) != 0
}

// indexDeletes files term t under every string left by deleting up to
// maxEdits(runes of s) runes from s, s itself included.
func (m *Matcher) indexDeletes(s string, t int32) {
	k := maxEdits(utf8.RuneCountInString(s))
	m.maxEdits = max(m.maxEdits, k)
	var buf []byte
	forDeletes(&buf, []byte(s), k, func(v []byte, runes int) bool {
		h := hashBytes(v)
		head := m.deletes[h]
		if head > 0 && m.chain[head-1].term == t {
			return true // "aab" less either a
		}
		m.chain = append(m.chain, link{term: t, next: head})
		m.deletes[h] = int32(len(m.chain))
		if runes < 64 {
			m.deleteLens |= 1 << runes
		}
		return true
	})
}

// hashBytes is 64-bit FNV-1a: quick on the few bytes of a word, and
// collisions only cost a rejected candidate.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// forDeletes calls f with every string left by deleting up to k runes
// (k ≤ 2) from s, and its length in runes, until f returns false. The
// slice passed to f is reused; *buf is scratch space. A string may come
// more than once ("aab" less either a).
func forDeletes(buf *[]byte, s []byte, k int, f func(v []byte, runes int) bool) {
	var stack [64]int
	offs := stack[:0]
	for i := 0; i < len(s); {
		offs = append(offs, i)
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRune(s[i:])
			i += size
		}
	}
	n := len(offs)
	offs = append(offs, len(s))
	b := append((*buf)[:0], s...)
	*buf = b
	if !f(b, n) || k < 1 {
		return
	}
	for i := 0; i < n; i++ {
		b = append(append(b[:0], s[:offs[i]]...), s[offs[i+1]:]...)
		if !f(b, n-1) {
			*buf = b
			return
		}
	}
	if k < 2 {
		*buf = b
		return
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			b = append(append(append(b[:0], s[:offs[i]]...), s[offs[i+1]:offs[j]]...), s[offs[j+1]:]...)
			if !f(b, n-2) {
				*buf = b
				return
			}
		}
	}
	*buf = b
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
	return m.MatchFolded(Fold(input))
}

// MatchFolded is Match for an input that is folded already (f ==
// Fold(f), as Fold returns it): a message goes through several matchers,
// and the engine folds it once for all of them.
func (m *Matcher) MatchFolded(f string) (id string, ok bool) {
	if f == "" {
		return "", false
	}
	if id, ok := m.exact[f]; ok {
		return id, true
	}
	s := getScratch(len(m.phrases))
	defer putScratch(s)
	s.split(f)
	if best, ok := m.contained(s, nil); ok {
		return best.id, true
	}
	if best, ok := m.fuzzy(s, nil); ok {
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
	s := getScratch(len(m.phrases))
	defer putScratch(s)
	s.split(f)
	var hits []hit
	m.contained(s, &hits)
	sortHits(hits)
	for _, h := range hits {
		add(h.id)
	}
	hits = hits[:0]
	m.fuzzy(s, &hits)
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

// scratch is the working memory of one match, pooled so that a match
// allocates little beyond its folded input.
type scratch struct {
	words []string // the folded input's words
	// runes holds the words' runes; wordRunes slices it per word.
	runes     []rune
	wordRunes [][]rune
	// near lists, for each word from nearStart[i] to nearStart[i+1], the
	// terms near it.
	near      []nearTerm
	nearStart []int32
	// best holds, per phrase, 1 + the index in hits of its best hit so far
	// (0: none); touched lists the phrases to reset.
	best    []int32
	touched []int32
	hits    []hit
	// seen marks terms already found for the word at hand: seen[t] == gen.
	seen []uint32
	gen  uint32
	cand []int32
	buf  []byte // an input word or pair, in UTF-8
	del  []byte // one of its deletion strings
	pair []rune
}

type nearTerm struct {
	term int32
	dist int32
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

func getScratch(phrases int) *scratch {
	s := scratches.Get().(*scratch)
	if len(s.best) < phrases {
		s.best = make([]int32, phrases)
	}
	return s
}

// grow makes room to mark terms.
func (s *scratch) grow(terms int) {
	if len(s.seen) < terms {
		s.seen = make([]uint32, terms)
		s.gen = 0
	}
}

// putScratch returns s to the pool, dropping buffers a very long message
// made large so that the pool does not keep them.
func putScratch(s *scratch) {
	const keep = 4096
	if cap(s.runes) > keep || cap(s.near) > keep || cap(s.words) > keep {
		return
	}
	clear(s.words) // do not keep the input alive
	s.words = s.words[:0]
	scratches.Put(s)
}

// split sets s.words to the words of the folded f.
func (s *scratch) split(f string) {
	s.words = s.words[:0]
	for start := 0; start < len(f); {
		end := strings.IndexByte(f[start:], ' ')
		if end < 0 {
			end = len(f)
		} else {
			end += start
		}
		if end > start {
			s.words = append(s.words, f[start:end])
		}
		start = end + 1
	}
}

// splitRunes fills s.wordRunes from s.words.
func (s *scratch) splitRunes() {
	s.runes = s.runes[:0]
	for _, w := range s.words {
		for _, r := range w {
			s.runes = append(s.runes, r)
		}
	}
	s.wordRunes = s.wordRunes[:0]
	at := 0
	for _, w := range s.words {
		n := utf8.RuneCountInString(w)
		s.wordRunes = append(s.wordRunes, s.runes[at:at+n:at+n])
		at += n
	}
}

// consider records h as a hit of phrase p if it is p's best so far.
func (s *scratch) consider(p int32, h hit) {
	if i := s.best[p]; i > 0 {
		if h.better(s.hits[i-1]) {
			s.hits[i-1] = h
		}
		return
	}
	s.hits = append(s.hits, h)
	s.best[p] = int32(len(s.hits))
	s.touched = append(s.touched, p)
}

// results returns the best hit over all phrases and, with all set, appends
// each phrase's best hit; then it resets the per-phrase state.
func (s *scratch) results(all *[]hit) (hit, bool) {
	var best hit
	for i, h := range s.hits {
		if i == 0 || h.better(best) {
			best = h
		}
	}
	found := len(s.hits) > 0
	if all != nil {
		*all = append(*all, s.hits...)
	}
	for _, p := range s.touched {
		s.best[p] = 0
	}
	s.touched, s.hits = s.touched[:0], s.hits[:0]
	return best, found
}

// contained finds the best phrase occurring in the input as whole words;
// with all set, it also appends every such phrase's first occurrence.
func (m *Matcher) contained(s *scratch, all *[]hit) (hit, bool) {
	words := s.words
	for pos, w := range words {
		for _, pi := range m.byFirst[w] {
			p := &m.phrases[pi]
			if s.best[pi] > 0 || pos+len(p.words) > len(words) {
				continue // found earlier, or runs past the end
			}
			match := true
			for j := 1; j < len(p.words); j++ {
				if words[pos+j] != p.words[j] {
					match = false
					break
				}
			}
			if match {
				s.consider(pi, hit{id: p.id, words: len(p.words), size: p.size, pos: pos})
			}
		}
	}
	return s.results(all)
}

// fuzzy finds the best phrase occurring in the input with typing mistakes;
// with all set, it also appends the best occurrence of every such phrase.
func (m *Matcher) fuzzy(s *scratch, all *[]hit) (hit, bool) {
	if len(m.phrases) == 0 {
		return hit{}, false
	}
	m.once.Do(m.indexTypos)
	s.grow(len(m.terms))
	s.splitRunes()
	s.near, s.nearStart = s.near[:0], append(s.nearStart[:0], 0)
	for i, w := range s.wordRunes {
		s.buf = append(s.buf[:0], s.words[i]...)
		s.near = m.nearTerms(s, s.near, w, s.buf)
		s.nearStart = append(s.nearStart, int32(len(s.near)))
	}
	for pos := range s.wordRunes {
		for _, nt := range s.near[s.nearStart[pos]:s.nearStart[pos+1]] {
			for _, ref := range m.terms[nt.term].refs {
				p := &m.phrases[ref.phrase]
				switch {
				case ref.slot == joinedSlot:
					// "caidat" typed for "cai dat".
					s.consider(ref.phrase, hit{id: p.id, dist: int(nt.dist), words: len(p.words), size: p.size, pos: pos})
				case ref.slot == 0:
					if d, ok := s.restNear(p, pos, int(nt.dist)); ok {
						s.consider(ref.phrase, hit{id: p.id, dist: d, words: len(p.words), size: p.size, pos: pos})
					}
				}
			}
		}
	}
	// "vn eid" typed for "vneid": two words run together near a one-word
	// phrase.
	if m.singleMax > 0 {
		for pos := 0; pos+1 < len(s.wordRunes); pos++ {
			n := len(s.wordRunes[pos]) + len(s.wordRunes[pos+1])
			if n+m.maxEdits < m.singleMin || n-m.maxEdits > m.singleMax {
				continue
			}
			s.pair = append(append(s.pair[:0], s.wordRunes[pos]...), s.wordRunes[pos+1]...)
			s.buf = append(append(s.buf[:0], s.words[pos]...), s.words[pos+1]...)
			mark := len(s.near)
			s.near = m.nearTerms(s, s.near, s.pair, s.buf)
			for _, nt := range s.near[mark:] {
				for _, ref := range m.terms[nt.term].refs {
					if p := &m.phrases[ref.phrase]; ref.slot == 0 && len(p.words) == 1 {
						s.consider(ref.phrase, hit{id: p.id, dist: int(nt.dist), words: 1, size: p.size, pos: pos})
					}
				}
			}
			s.near = s.near[:mark]
		}
	}
	return s.results(all)
}

// restNear reports whether the words after pos are near the words of p
// after its first, given the first word's edits, and the total edits.
func (s *scratch) restNear(p *phrase, pos, dist int) (int, bool) {
	if pos+len(p.words) > len(s.wordRunes) {
		return 0, false
	}
	for j := 1; j < len(p.words); j++ {
		found := false
		for _, nt := range s.near[s.nearStart[pos+j]:s.nearStart[pos+j+1]] {
			if nt.term == p.wordTerms[j] {
				dist += int(nt.dist)
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return dist, true
}

// nearTerms appends to dst every term near w (whose UTF-8 form is wb), with
// its edits: the index yields the terms sharing a deletion string with w,
// and near decides.
func (m *Matcher) nearTerms(s *scratch, dst []nearTerm, w []rune, wb []byte) []nearTerm {
	k := min(maxEdits(len(w)), m.maxEdits)
	s.gen++
	if s.gen == 0 { // wrapped: forget every mark
		clear(s.seen)
		s.gen = 1
	}
	s.cand = s.cand[:0]
	forDeletes(&s.del, wb, k, func(v []byte, runes int) bool {
		if runes < 64 && m.deleteLens&(1<<runes) == 0 {
			return true
		}
		h := hashBytes(v)
		if !m.mayHave(h) {
			return true
		}
		for e := m.deletes[h]; e > 0; e = m.chain[e-1].next {
			if t := m.chain[e-1].term; s.seen[t] != s.gen {
				s.seen[t] = s.gen
				s.cand = append(s.cand, t)
			}
		}
		return true
	})
	for _, t := range s.cand {
		if d, ok := near(w, m.terms[t].runes); ok {
			dst = append(dst, nearTerm{term: t, dist: int32(d)})
		}
	}
	return dst
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

// Match reports whether input refers to any of the phrases, by the rules of
// Matcher.Match. It folds the phrases on every call; build a Matcher for
// anything matched often.
func Match(input string, phrases ...string) bool {
	_, ok := NewMatcher(map[string][]string{"": phrases}).Match(input)
	return ok
}
