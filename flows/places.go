package flows

import (
	"slices"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

// unitPrefixes are the folded words in front of a unit's name that people
// leave out ("Xã Tân Thành" typed "tan thanh").
var unitPrefixes = [][]string{{"thi", "tran"}, {"xa"}, {"phuong"}, {"ap"}, {"khom"}}

// PlaceChoices turns communes or hamlets into choices. Ids carry a letter
// so that a typed button number is never read as a unit id, and each
// choice also answers to its name without "Xã", "Ấp"… in front.
func PlaceChoices(units []cnsbot.Unit) []Choice {
	out := make([]Choice, 0, len(units))
	for _, u := range units {
		ch := Choice{ID: "u" + strconv.FormatInt(u.ID, 10), Title: u.Name}
		words := vn.Words(u.Name)
		for _, p := range unitPrefixes {
			if len(words) > len(p) && slices.Equal(words[:len(p)], p) {
				ch.Words = append(ch.Words, strings.Join(words[len(p):], " "))
			}
		}
		out = append(out, ch)
	}
	return out
}

// UnitID returns the unit id of a choice made by PlaceChoices.
func UnitID(choiceID string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(choiceID, "u"), 10, 64)
	return id, err == nil && id > 0
}
