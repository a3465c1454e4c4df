package report

import (
	"math"
	"strconv"

	"github.com/camau-cns/cnsbot"
)

// Texts renders the headers and labels; *locales.Bundle has it. TN
// renders a plural message in the form count takes, as {{.Count}}.
type Texts interface {
	T(lang, id string, data map[string]any) string
	TN(lang, id string, count int, data map[string]any) string
}

// The report's table, the same in both formats: four columns that name
// the row, then the figures.
const (
	colNo = iota
	colCommune
	colHamlet
	colTeam
	textCols
)

// textHeaders are the message ids of the naming columns.
var textHeaders = [textCols]string{"reports.col.no", "reports.col.commune", "reports.col.hamlet", "reports.col.team"}

type numKind int

const (
	kindCount numKind = iota
	kindPercent
	kindHours
)

// numCol is one column of figures.
type numCol struct {
	// header is the message id of the header; for a people column it is
	// empty and area names the area (a calendar.area.* message).
	header string
	area   string
	kind   numKind
	// narrow marks a column whose header is a word or two and whose
	// figures are short: the printed sheet gives the room it saves to the
	// columns with long headers.
	narrow bool
	// get returns the cell's value, and false for a blank cell.
	get func(f Figures) (float64, bool)
}

func count(get func(f Figures) int) func(Figures) (float64, bool) {
	return func(f Figures) (float64, bool) { return float64(get(f)), true }
}

// ofHouseholds leaves a share blank when the household count is unknown:
// 0% would read as a team that guided nobody.
func ofHouseholds(get func(f Figures) float64) func(Figures) (float64, bool) {
	return func(f Figures) (float64, bool) { return get(f), f.Households > 0 }
}

// numCols returns the figure columns in table order.
func numCols() []numCol {
	cols := []numCol{
		{header: "reports.col.households", narrow: true, get: count(func(f Figures) int { return f.Households })},
		{header: "reports.col.guided_quarter", get: count(func(f Figures) int { return f.GuidedInQuarter })},
		{header: "reports.col.guided_to_date", get: count(func(f Figures) int { return f.GuidedToDate })},
		{header: "reports.col.percent", kind: kindPercent, get: ofHouseholds(Figures.Percent)},
		{header: "reports.col.of_target", kind: kindPercent, get: ofHouseholds(Figures.OfTarget)},
	}
	for i, a := range cnsbot.Areas {
		cols = append(cols, numCol{area: a, get: count(func(f Figures) int {
			if i < len(f.People) {
				return f.People[i]
			}
			return 0
		})})
	}
	return append(cols,
		numCol{header: "reports.col.members", narrow: true, get: count(func(f Figures) int { return f.Members })},
		numCol{header: "reports.col.active", get: count(func(f Figures) int { return f.ActiveMembers })},
		numCol{header: "reports.col.hours", kind: kindHours, narrow: true, get: func(f Figures) (float64, bool) { return f.Hours(), true }},
		numCol{header: "reports.col.visits", narrow: true, get: count(func(f Figures) int { return f.Visits })},
		numCol{header: "reports.col.help_received", get: count(func(f Figures) int { return f.HelpReceived })},
		numCol{header: "reports.col.help_resolved", get: count(func(f Figures) int { return f.HelpResolved })},
	)
}

// plain formats a figure for CSV: whole numbers as they are, hours with
// one decimal, shares as a percentage with one decimal, with a point as
// the decimal mark (CSV is for other programs).
func plain(c numCol, v float64) string {
	switch c.kind {
	case kindPercent:
		v *= 100
	case kindCount:
		return strconv.FormatInt(int64(math.Round(v)), 10)
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// rowLabel returns the naming cells of a team's row.
func rowLabel(texts Texts, lang string, r Row) [textCols]string {
	team := r.Team
	if r.TeamID == 0 {
		team = texts.T(lang, "reports.xlsx.no_team", nil)
	}
	return [textCols]string{strconv.Itoa(r.No), r.Commune, r.Hamlet, team}
}

// unitName is what the report covers, for its title block.
func unitName(texts Texts, lang string, r *Report) string {
	if r.Unit != "" {
		return r.Unit
	}
	return texts.T(lang, "reports.xlsx.all_units", nil)
}

// notes are what the report says under its table or its date: how many
// hamlets' households (and households guided) are counted from their
// household lists, and how many typed households match none of them
// ("chưa khớp"), as the chat's figures say; none when no hamlet has a list.
func notes(texts Texts, lang string, r *Report) []string {
	if r.ListedHamlets == 0 {
		return nil
	}
	out := []string{texts.TN(lang, "households.report.listed", r.ListedHamlets, nil)}
	if n := r.Total.Unmatched; n > 0 {
		out = append(out, texts.TN(lang, "households.counted.report_unmatched", n, nil))
	}
	return out
}
