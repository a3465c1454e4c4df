package flows

import (
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

func TestFormerNames(t *testing.T) {
	cn := cnsbot.Unit{ID: 6, Kind: cnsbot.UnitCommune, Name: "Xã Cái Nước", FormerNames: "Thị trấn Cái Nước; Phường 5"}
	for typed, want := range map[string]string{
		"thị trấn cái nước": "Thị trấn Cái Nước", "thi tran cai nuoc": "Thị trấn Cái Nước",
		"TT Cái Nước": "Thị trấn Cái Nước", "thi tran cai nuocc": "Thị trấn Cái Nước", // a typo
		"phuong 5": "Phường 5", "p5": "Phường 5", "Phường 5 ạ": "Phường 5",
		"cai nuoc": "", "Xã Cái Nước": "", "#u6": "", // the name now, a button
	} {
		got, ok := FormerNameTyped(cn, typed)
		if got != want || ok != (want != "") {
			t.Errorf("FormerNameTyped(%q) = %q, %v; want %q", typed, got, ok, want)
		}
	}
	if _, ok := FormerNameTyped(cnsbot.Unit{Name: "Xã Tân Thành"}, "tan thanh"); ok {
		t.Error("a unit without former names matched one")
	}
	// The picker's choice answers to the former names too.
	ch := PlaceChoices([]cnsbot.Unit{cn})[0]
	m := vn.NewMatcher(map[string][]string{ch.ID: ch.Words})
	for _, typed := range []string{"thi tran cai nuoc", "tt cai nuoc", "phuong 5", "cai nuoc"} {
		if id, ok := m.Match(typed); !ok || id != "u6" {
			t.Errorf("%q: matched %q, %v; want u6", typed, id, ok)
		}
	}
}
