package flows

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
)

// A list built at run time that keeps its ids but changes a title or its
// words must not be matched with the index of the list before.
func TestChoiceIndexFollowsTheList(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(nil, texts, Options{})
	a := []Choice{{ID: "1", Title: "Ấp Tân Lộc"}, {ID: "2", Title: "Ấp 3", Words: []string{"ap ba"}}}
	b := []Choice{{ID: "1", Title: "Ấp Tân Lộc"}, {ID: "2", Title: "Ấp 3", Words: []string{"ap bon"}}}
	ia, ib := e.choiceIndex(a), e.choiceIndex(b)
	if ia == ib {
		t.Fatal("two lists share one index")
	}
	if e.choiceIndex(a) != ia {
		t.Error("the same list is indexed again")
	}
	if _, ok := ib.exact["ap bon"]; !ok {
		t.Error("the second list's words are missing")
	}
	if _, ok := ib.exact["ap ba"]; ok {
		t.Error("the first list's words leak into the second")
	}
	// Same hash, other list: the full comparison refuses it.
	if ia.same(b) {
		t.Error("same() ignores the words")
	}
	if i, ok := ia.ids["1"]; !ok || i != 0 {
		t.Errorf("id 1 → %d, %v", i, ok)
	}
}

// page cuts a long list into pages that each open with the pinned choices
// (at most maxButtons-2 of them); it must agree with the plain rule, kept
// here as it was written before page built its slice in place.
func TestPageAgreesWithThePlainRule(t *testing.T) {
	plain := func(choices []Choice, page int) []Choice {
		var pinned, rest []Choice
		for _, ch := range choices {
			if ch.Pin && len(pinned) < maxButtons-2 {
				pinned = append(pinned, ch)
			} else {
				rest = append(rest, ch)
			}
		}
		per := maxButtons - 1 - len(pinned)
		pages := (len(rest) + per - 1) / per
		p := ((page % pages) + pages) % pages
		return append(pinned, rest[p*per:min((p+1)*per, len(rest))]...)
	}
	e := &Engine{}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := maxButtons + 1; n < 40; n++ {
		for range 20 {
			choices := make([]Choice, n)
			for i := range choices {
				choices[i] = Choice{ID: strconv.Itoa(i), Pin: rng.IntN(5) == 0}
			}
			for page := -1; page < n; page++ {
				c := &Ctx{s: &cnsbot.Session{Data: map[string]string{keyPage: strconv.Itoa(page)}}}
				got, more := e.page(c, choices)
				want := plain(choices, page)
				if !more || !slices.EqualFunc(got, want, func(a, b Choice) bool { return a.ID == b.ID }) {
					t.Fatalf("%d choices, pins %v, page %d: got %v, want %v", n, pins(choices), page, ids(got), ids(want))
				}
			}
		}
	}
}

func pins(choices []Choice) (out []string) {
	for _, ch := range choices {
		if ch.Pin {
			out = append(out, ch.ID)
		}
	}
	return out
}

func ids(choices []Choice) (out []string) {
	for _, ch := range choices {
		out = append(out, ch.ID)
	}
	return out
}

// The menu's lists are kept per set of items shown: two people who see
// different items get different lists, and a new item empties the cache.
func TestMenuListsFollowWhatIsShown(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(nil, texts, Options{})
	e.MenuItem(MenuItem{ID: "only-a", Label: "common.yes", Order: 1, Show: func(c *Ctx) bool { return c.Get("who") == "a" }})
	lists := func(who string) []string {
		c := &Ctx{e: e, s: &cnsbot.Session{Data: map[string]string{"who": who}}}
		ch, err := e.menuChoices(c)
		if err != nil {
			t.Fatal(err)
		}
		return ids(ch)
	}
	a, b := lists("a"), lists("b")
	if !slices.Contains(a, "only-a") || slices.Contains(b, "only-a") {
		t.Fatalf("a sees %v, b sees %v", a, b)
	}
	if again := lists("a"); !slices.Equal(again, a) {
		t.Fatalf("a's list changed: %v then %v", a, again)
	}
	e.MenuItem(MenuItem{ID: "new", Label: "common.no", Order: 2})
	// A list's bits name items by their place in the menu, which a new item
	// may shift: the lists built before must be gone.
	e.menuLists.Range(func(k, _ any) bool {
		t.Errorf("list %b kept after a new item", k)
		return true
	})
	if got := lists("b"); !slices.Contains(got, "new") {
		t.Fatalf("after a new item, b sees %v", got)
	}
}
