package flows

import (
	"testing"

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
