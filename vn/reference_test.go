package vn

// The matcher as it was before it had an index: every phrase tried against
// every place in the input. The tests check that the indexed Matcher gives
// the same answers.

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// refMatcher finds which of a fixed set of intents (commands, menu choices,
// topics) a resident's free text refers to. It is built once and is safe
// for concurrent use.
type refMatcher struct {
	exact   map[string]string
	phrases []refPhrase
}

// phrase is one synonym, folded and split ahead of time.
type refPhrase struct {
	id     string
	text   string
	words  []string
	runes  [][]rune
	joined []rune // the words run together: "cai dat" → "caidat"
	size   int    // runes in text
}

// newRefMatcher returns a refMatcher for the given intents: each key is an
// intent id, each value the phrases that mean it, in any spelling
// ("install": {"cài đặt", "cai", "tải về", "install"}). Phrases are folded
// here, so Match only folds its input. Phrases that fold to nothing are
// ignored. The ids themselves are not phrases; list an id among its own
// phrases when a button payload should also match as typed text.
func newRefMatcher(intents map[string][]string) *refMatcher {
	m := &refMatcher{exact: make(map[string]string)}
	seen := make(map[[2]string]bool)
	for id, synonyms := range intents {
		for _, syn := range synonyms {
			text := Fold(syn)
			if text == "" || seen[[2]string{id, text}] {
				continue
			}
			seen[[2]string{id, text}] = true
			words := strings.Fields(text)
			p := refPhrase{id: id, text: text, words: words, size: utf8.RuneCountInString(text)}
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
func (m *refMatcher) Match(input string) (id string, ok bool) {
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
	if best, ok := m.fuzzy(words, refToRunes(words), nil); ok {
		return best.id, true
	}
	return "", false
}

// MatchAll returns every intent that input refers to, best first, each
// once: the exact match, then intents found as whole words, then near
// matches, each group ranked as Match ranks it. "cai vneid ko dc" with
// intents for VNeID and for installing yields both.
func (m *refMatcher) MatchAll(input string) []string {
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
	m.fuzzy(words, refToRunes(words), &hits)
	sortHits(hits)
	for _, h := range hits {
		add(h.id)
	}
	return ids
}

// The reference ranks its hits as the matcher does (hit.better): the index
// changes how phrases are found, not which one wins.

// contained finds the best phrase occurring in words as whole words; with
// all set, it also appends every such phrase's first occurrence.
func (m *refMatcher) contained(words []string, all *[]hit) (hit, bool) {
	var best hit
	found := false
	for i := range m.phrases {
		p := &m.phrases[i]
		pos := refIndexWords(words, p.words)
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

func refIndexWords(words, sub []string) int {
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
func (m *refMatcher) fuzzy(words []string, runes [][]rune, all *[]hit) (hit, bool) {
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
			if d, ok := refNearWords(runes[pos:pos+len(p.runes)], p.runes); ok {
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
func refNearWords(input, phrase [][]rune) (int, bool) {
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

func refToRunes(words []string) [][]rune {
	out := make([][]rune, len(words))
	for i, w := range words {
		out[i] = []rune(w)
	}
	return out
}
