package web

import (
	"context"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// AreaProgress counts each hamlet's households guided per area of the
// plan; *store.DB has it. Without it the commune page leaves the table
// out.
type AreaProgress interface {
	AreaProgress(ctx context.Context, communeID, hamletID int64) ([]store.HamletAreas, error)
}

// planAreas are the table's columns: the visit areas, "other" aside,
// which no target counts.
func planAreas() []string {
	var out []string
	for _, a := range cnsbot.Areas {
		if a != cnsbot.AreaOther {
			out = append(out, a)
		}
	}
	return out
}

// areasView is the commune page's table of households guided per hamlet
// and area, with the commune's total as its last row.
type areasView struct {
	Areas []string
	Rows  []areaRow
	Total areaRow
}

type areaRow struct {
	Name       string
	Households int
	Cells      []areaCell
}

type areaCell struct {
	Guided  int
	Percent float64
}

func newAreaRow(h store.HamletAreas, areas []string) areaRow {
	r := areaRow{Name: h.Name, Households: h.Households}
	for _, a := range areas {
		c := areaCell{Guided: h.Guided[a]}
		if h.Households > 0 {
			c.Percent = 100 * float64(c.Guided) / float64(h.Households)
		}
		r.Cells = append(r.Cells, c)
	}
	return r
}

// areaProgress builds the table of a commune the caller has checked is in
// scope: two statements whatever the number of hamlets.
func (d *Dashboard) areaProgress(ctx context.Context, communeID int64) (*areasView, error) {
	ap, ok := d.cfg.Store.(AreaProgress)
	if !ok {
		return nil, nil
	}
	hamlets, err := ap.AreaProgress(ctx, communeID, 0)
	if err != nil {
		return nil, err
	}
	v := &areasView{Areas: planAreas()}
	for _, h := range hamlets {
		v.Rows = append(v.Rows, newAreaRow(h, v.Areas))
	}
	v.Total = newAreaRow(store.CommuneAreas(hamlets), v.Areas)
	return v, nil
}
