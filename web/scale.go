package web

import "slices"

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
