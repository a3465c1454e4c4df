package flows

import (
	"context"
	"fmt"
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

// Places is what picking a commune and a hamlet needs of the store.
type Places interface {
	Communes(ctx context.Context) ([]cnsbot.Unit, error)
	Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error)
}

// CommuneChoices lists the communes as choices.
func CommuneChoices(ctx context.Context, p Places) ([]Choice, error) {
	units, err := p.Communes(ctx)
	if err != nil {
		return nil, fmt.Errorf("communes: %w", err)
	}
	return PlaceChoices(units), nil
}

// HamletChoices lists the hamlets of the commune chosen as communeChoice
// (a PlaceChoices id); none when no commune is chosen yet.
func HamletChoices(ctx context.Context, p Places, communeChoice string) ([]Choice, error) {
	id, ok := UnitID(communeChoice)
	if !ok {
		return nil, nil
	}
	units, err := p.Hamlets(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("hamlets: %w", err)
	}
	return PlaceChoices(units), nil
}
