package team

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// AreaProgress counts a hamlet's households guided per area of the plan,
// to date, with the hamlet's households (listed ones only where it has a
// list). It is optional: when Deps.Visits has it, "tiến độ" adds a line
// per area.
type AreaProgress interface {
	HamletAreaGuided(ctx context.Context, hamletID int64) (guided map[string]int, households int, err error)
}

// maxAreaLines bounds the areas "tiến độ" lists: a phone screen, the
// areas with the most households first.
const maxAreaLines = 4

// areaProgressText is the lines of "tiến độ" per area of the plan, e.g.
// "• VNeID: 120/400 hộ (30%)", or "" when nothing is counted yet.
func (t *teamFlows) areaProgressText(ctx context.Context, lang string, team cnsbot.Team) (string, error) {
	ap, ok := t.deps.Visits.(AreaProgress)
	if !ok {
		return "", nil
	}
	guided, households, err := ap.HamletAreaGuided(ctx, team.HamletID)
	if err != nil {
		return "", fmt.Errorf("area progress: %w", err)
	}
	var areas []string
	for _, a := range cnsbot.Areas {
		if a != cnsbot.AreaOther && guided[a] > 0 {
			areas = append(areas, a)
		}
	}
	if len(areas) == 0 {
		return "", nil
	}
	// Most households first; the plan's order among equals.
	slices.SortStableFunc(areas, func(a, b string) int { return guided[b] - guided[a] })
	lines := []string{t.deps.Texts.T(lang, "team.areas.title", nil)}
	for i, a := range areas {
		if i == maxAreaLines {
			lines = append(lines, t.deps.Texts.TN(lang, "team.areas.more", len(areas)-maxAreaLines, nil))
			break
		}
		data := map[string]any{"area": t.deps.Texts.T(lang, "team.area."+a, nil), "guided": guided[a], "households": households}
		id := "team.areas.no_count"
		if households > 0 {
			id, data["pct"] = "team.areas.line", guided[a]*100/households
		}
		lines = append(lines, t.deps.Texts.T(lang, id, data))
	}
	return strings.Join(lines, "\n"), nil
}
