package flows

import (
	"context"
	"slices"
	"strings"

	"github.com/camau-cns/cnsbot/vn"
)

const menuStep = "main"

// menuDefinition is the engine's own flow: the main menu, whose choices are
// the registered menu items that the person may see.
func (e *Engine) menuDefinition() *Flow {
	return &Flow{
		Name:  menuFlow,
		Title: "flows.menu.name",
		Steps: []*Step{{
			Name:    menuStep,
			Ask:     "flows.menu.title",
			Help:    "flows.menu.help",
			Input:   InputChoice,
			Options: e.menuChoices,
		}},
	}
}

func (e *Engine) menuChoices(c *Ctx) ([]Choice, error) {
	if len(e.menu) > 64 {
		return e.buildMenuChoices(c, nil), nil
	}
	// Which items c sees is one bit each: the lists for each combination
	// are built once and shared, read-only, since the menu is shown on
	// most turns and building it (a closure per item) was a tenth of the
	// bytes a turn allocated (issue 19).
	var seen uint64
	for i := range e.menu {
		if m := &e.menu[i]; m.Show == nil || m.Show(c) {
			seen |= 1 << i
		}
	}
	if v, ok := e.menuLists.Load(seen); ok {
		return v.([]Choice), nil
	}
	v, _ := e.menuLists.LoadOrStore(seen, e.buildMenuChoices(c, &seen))
	return v.([]Choice), nil
}

// buildMenuChoices lists the items c sees, or those whose bit is set in
// seen when it is given.
func (e *Engine) buildMenuChoices(c *Ctx, seen *uint64) []Choice {
	out := make([]Choice, 0, len(e.menu))
	for i := range e.menu {
		m := &e.menu[i]
		shown := m.Show == nil || m.Show(c)
		if seen != nil {
			shown = *seen&(1<<i) != 0
		}
		if !shown {
			continue
		}
		out = append(out, Choice{ID: m.ID, Label: m.Label, Words: m.Words,
			Run: func(c *Ctx) error { return e.runMenuItem(c, m) }})
	}
	return slices.Clip(out)
}

func (e *Engine) runMenuItem(c *Ctx, m *MenuItem) error {
	if m.Run != nil {
		c.tr = nil
		if err := m.Run(c); err != nil {
			return err
		}
		if c.tr == nil {
			c.Stay()
		}
		return e.apply(c)
	}
	c.tr = &transition{kind: trStart, flow: m.Flow, step: m.Step}
	return e.apply(c)
}

// buildEntries indexes the typed shortcuts of every flow and menu item,
// so that "quen mat khau" typed at the menu goes straight to its guide.
func (e *Engine) buildEntries() {
	e.entries = vn.NewMatcher(e.intents(nil))
}

// intents are the typed entries into flows and the menu's items, by the
// id entry reads: "flow/step" or "menu:item". more adds entries by flow.
func (e *Engine) intents(more map[string][]Entry) map[string][]string {
	intents := make(map[string][]string)
	for _, name := range e.order {
		f := e.flows[name]
		for _, en := range slices.Concat(f.Entries, more[name]) {
			id := f.Name + "/" + en.Step
			intents[id] = append(intents[id], en.Phrases...)
		}
	}
	if e.texts != nil {
		for _, m := range e.menu {
			id := "menu:" + m.ID
			intents[id] = append(intents[id], m.ID, e.texts.T("vi", m.Label, nil), e.texts.T("en", m.Label, nil))
			intents[id] = append(intents[id], m.Words...)
		}
	}
	return intents
}

// entryMatcher returns the matcher of typed entries, rebuilt when a flow's
// MoreEntries changed since it was last built. On every message it only
// compares the flows' generations with those it was built for.
func (e *Engine) entryMatcher(ctx context.Context) *vn.Matcher {
	var genBuf [8]flowGen
	var entBuf [8][]Entry
	gens, entries := genBuf[:0], entBuf[:0]
	for i, name := range e.order {
		f := e.flows[name]
		if f.MoreEntries == nil {
			continue
		}
		gen, more, err := f.MoreEntries(ctx)
		if err != nil {
			// Typed shortcuts into this flow are missing for now; its
			// menu item and the other entries still work.
			e.log.WarnContext(ctx, "flow entries", "flow", name, "err", err)
			continue
		}
		gens = append(gens, flowGen{flow: i, gen: gen})
		entries = append(entries, more)
	}
	if len(gens) == 0 {
		return e.entries
	}
	e.dynMu.Lock()
	defer e.dynMu.Unlock()
	if e.dynEntries == nil || !slices.Equal(e.dynGens, gens) {
		more := make(map[string][]Entry, len(gens))
		for i, g := range gens {
			more[e.order[g.flow]] = entries[i]
		}
		e.dynEntries, e.dynGens = vn.NewMatcher(e.intents(more)), slices.Clone(gens)
	}
	return e.dynEntries
}

// flowGen is the generation of a flow's MoreEntries, the flow by its
// place in the registration order.
type flowGen struct {
	flow int
	gen  int64
}

// IsMenu reports whether a message with these button payloads is the main
// menu, or one page of it: every button is a menu item's or "More…", and
// one of them is "More…" or the language switch (each page of a menu too
// long for one list has "More…"; a menu that fits holds the language
// switch, which everyone is offered). A clarifying question offering a few
// menu items has neither. Transcripts use it to show the menu as one
// token, so that a new menu item changes only the menu's own transcript.
func (e *Engine) IsMenu(payloads []string) bool {
	ends := false
	for _, p := range payloads {
		id, ok := strings.CutPrefix(p, "#")
		if !ok {
			return false
		}
		switch {
		case id == cmdMore || id == cmdEnglish || id == cmdVietnamese:
			ends = true
		case !slices.ContainsFunc(e.menu, func(m MenuItem) bool { return m.ID == id }):
			return false
		}
	}
	return ends
}

// MenuPayload returns the payload of the main menu's entry titled title in
// either language ("VNeID" → "#vneid", "Thêm…" → "#them"), so that a
// transcript can show a menu that Zalo made the sender write as numbered
// text as the one token "[menu]", as it does the buttons (IsMenu).
func (e *Engine) MenuPayload(title string) (string, bool) {
	labels := map[string]string{"flows.btn.more": cmdMore}
	for _, m := range e.menu {
		labels[m.Label] = m.ID
	}
	for label, id := range labels {
		for _, lang := range e.texts.Langs() {
			if e.texts.T(lang, label, nil) == title {
				return "#" + id, true
			}
		}
	}
	return "", false
}
