package flows

import (
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
	out := make([]Choice, 0, len(e.menu))
	for i := range e.menu {
		m := &e.menu[i]
		if m.Show != nil && !m.Show(c) {
			continue
		}
		out = append(out, Choice{ID: m.ID, Label: m.Label, Words: m.Words,
			Run: func(c *Ctx) error { return e.runMenuItem(c, m) }})
	}
	return out, nil
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
	intents := make(map[string][]string)
	for _, name := range e.order {
		f := e.flows[name]
		for _, en := range f.Entries {
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
	e.entries = vn.NewMatcher(intents)
}
