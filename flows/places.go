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
// choice also answers to its name without "Xã", "Ấp"… in front, and to its
// former names (FormerNames), with or without theirs.
func PlaceChoices(units []cnsbot.Unit) []Choice {
	out := make([]Choice, 0, len(units))
	for _, u := range units {
		ch := Choice{ID: "u" + strconv.FormatInt(u.ID, 10), Title: u.Name}
		ch.Words = append(ch.Words, bareName(u.Name)...)
		for _, n := range cnsbot.SplitFormerNames(u.FormerNames) {
			ch.Words = append(ch.Words, formerWords(n)...)
		}
		out = append(out, ch)
	}
	return out
}

// bareName returns name without its "Xã", "Ấp"… in front, folded; none
// when it has no such word.
func bareName(name string) []string {
	words := vn.Words(name)
	for _, p := range unitPrefixes {
		if len(words) > len(p) && slices.Equal(words[:len(p)], p) {
			return []string{strings.Join(words[len(p):], " ")}
		}
	}
	return nil
}

// shortPrefixes are how people shorten the words in front of a former
// name: "TT Cái Nước", "P5".
var shortPrefixes = map[string]string{"thi tran": "tt", "phuong": "p"}

// formerWords are the folded phrases that name a former unit: the name,
// without its "Thị trấn", "Phường"…, and with those shortened.
func formerWords(name string) []string {
	out := append([]string{vn.Fold(name)}, bareName(name)...)
	words := vn.Words(name)
	for _, p := range unitPrefixes {
		short, ok := shortPrefixes[strings.Join(p, " ")]
		if ok && len(words) > len(p) && slices.Equal(words[:len(p)], p) {
			rest := strings.Join(words[len(p):], " ")
			out = append(out, short+" "+rest, short+strings.ReplaceAll(rest, " ", ""))
		}
	}
	return out
}

// FormerNameTyped returns the former name of u that typed names, when typed
// is closer to one of u's former names than to its current name ("phuong 5"
// for An Xuyên, once Phường 5): the person may not know the new name, so
// it is worth saying. Typos are forgiven as in any other matching.
func FormerNameTyped(u cnsbot.Unit, typed string) (string, bool) {
	former := cnsbot.SplitFormerNames(u.FormerNames)
	if len(former) == 0 || strings.HasPrefix(strings.TrimSpace(typed), "#") {
		return "", false
	}
	intents := map[string][]string{"current": append([]string{vn.Fold(u.Name)}, bareName(u.Name)...)}
	for i, n := range former {
		intents["former:"+strconv.Itoa(i)] = formerWords(n)
	}
	id, ok := vn.NewMatcher(intents).Match(typed)
	if !ok || id == "current" {
		return "", false
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(id, "former:"))
	return former[i], true
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
