package web

import (
	"context"
	"slices"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
)

// pageReporters is how many reporters of a deadline a page lists. A
// province has ~1,500 teams: the overview listed every one of them under
// each deadline, 390 kB of HTML (issue 19). A page shows the first ones,
// late before pending before submitted, and the counts of all; a commune's
// page, with its few dozen, and the API show every one.
const pageReporters = 60

// trimReporters shortens long reporter lists for a page, keeping the
// counts of the whole list.
func trimReporters(ds []deadlineView) []deadlineView {
	out := slices.Clone(ds)
	for i := range out {
		d := &out[i]
		d.Total = len(d.Reporters)
		if len(d.Reporters) <= pageReporters {
			continue
		}
		rs := slices.Clone(d.Reporters)
		rank := func(r reporterView) int {
			switch {
			case r.Late:
				return 0
			case r.SubmittedAt == nil:
				return 1
			}
			return 2
		}
		slices.SortStableFunc(rs, func(a, b reporterView) int { return rank(a) - rank(b) })
		d.More = len(rs) - pageReporters
		d.Reporters = rs[:pageReporters]
	}
	return out
}

// quartersStore is what a Store may also have: a commune's figures for
// several quarters at once (*store.DB has it, from its rollups).
type quartersStore interface {
	CommuneFiguresQuarters(ctx context.Context, communeID int64, qs []string, loc *time.Location) ([]calendar.Figures, error)
}

// communeQuarters returns a commune's figures (0: the province's) for each
// quarter, at once when the store can.
func (d *Dashboard) communeQuarters(ctx context.Context, communeID int64, qs []string) ([]calendar.Figures, error) {
	if s, ok := d.cfg.Store.(quartersStore); ok {
		return s.CommuneFiguresQuarters(ctx, communeID, qs, d.cfg.Location)
	}
	out := make([]calendar.Figures, 0, len(qs))
	for _, q := range qs {
		f, err := d.cfg.Store.CommuneFigures(ctx, communeID, q, d.cfg.Location)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
