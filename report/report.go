// Package report builds the quarterly report of the community digital
// technology teams — a row per hamlet and team, commune subtotals and a
// total — and writes it as a printable XLSX workbook or as CSV.
//
// The figures are those of the reminders and of the chat's "báo cáo quý",
// compiled from the visit reports (see calendar.Figures), plus the help
// requests received and resolved in the quarter. A hamlet without a team
// has a row too: its households count toward its commune's target, and an
// officer must see that nobody is guiding them.
package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// Target is the share of a hamlet's households its team must guide.
const Target = 0.8

// Source is what Build reads; *store.DB has it. Lookups that find
// nothing return an ENOTFOUND *cnsbot.Error.
type Source interface {
	// Communes returns every commune sorted by name; Hamlets a commune's
	// hamlets sorted by name.
	Communes(ctx context.Context) ([]cnsbot.Unit, error)
	Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error)
	Unit(ctx context.Context, id int64) (cnsbot.Unit, error)
	// FindUnit matches a name folded (case, diacritics and an
	// administrative word like "Xã" do not matter); several matches are an
	// ECONFLICT error.
	FindUnit(ctx context.Context, kind string, parentID *int64, name string) (cnsbot.Unit, error)
	ReportTeams(ctx context.Context) ([]cnsbot.Team, error)
	ReportFigures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error)
	// ReportHamletFigures returns the figures of the hamlets that have a
	// household list, over all their teams: the list's households, and
	// the listed households guided, each once however many teams guided
	// it. Hamlets without a list are not in the map.
	ReportHamletFigures(ctx context.Context, hamletIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error)
	ReportHelpRequests(ctx context.Context, from, to time.Time) ([]cnsbot.HelpRequest, error)
	// ReportPeople counts the distinct Members and ActiveMembers of the
	// teams of each commune, and of all of them, for quarter q: of every
	// commune, or of the one whose id is communeID. A person on two teams
	// is one person; the teams' rows cannot say so.
	ReportPeople(ctx context.Context, communeID int64, q string, loc *time.Location) (map[int64]calendar.Figures, calendar.Figures, error)
}

// Report is the quarterly report.
type Report struct {
	// Quarter is "2025Q3"; the quarter is the local days [Start, End).
	Quarter    string
	Start, End time.Time
	// Unit is what the report covers: the province, or the commune when
	// the report is about one.
	Unit string
	// Commune is set when the report covers one commune.
	Commune string
	// Made is when the report was built, in the report's location; it is
	// printed as the date made and on the signature's date line.
	Made time.Time
	// Communes are the communes in name order, each with its rows.
	Communes []Commune
	Total    Figures
	// ListedHamlets counts the hamlets whose households are their
	// household list's rather than the units import's count; the report
	// says so under its date, with Total.Unmatched.
	ListedHamlets int
}

// Commune is one commune's rows and subtotal.
type Commune struct {
	ID       int64
	Name     string
	Rows     []Row
	Subtotal Figures
}

// Row is one team, or a hamlet that has no team (Team empty, TeamID 0).
type Row struct {
	// No numbers the rows through the whole report, from 1.
	No       int
	Commune  string
	Hamlet   string
	HamletID int64
	Team     string
	TeamID   int64
	Figures
}

// Figures are the counts of a row, a subtotal or the total.
type Figures struct {
	// Households is the hamlet's household count, the base of the target;
	// a subtotal counts each hamlet once, however many teams it has.
	Households int
	// GuidedInQuarter counts distinct households visited in the quarter,
	// GuidedToDate those visited by the quarter's end. In a hamlet with a
	// household list they are the list's households that visits named: a
	// team's row counts those its visits named, and a subtotal counts a
	// household once however many of the hamlet's teams guided it.
	GuidedInQuarter int
	GuidedToDate    int
	// Unmatched counts, in hamlets with a list, the households typed in
	// visits that match none of it ("chưa khớp"): not counted as guided.
	Unmatched int
	// People is the number of people guided in the quarter per area, in
	// the order of cnsbot.Areas; areas the service does not know count as
	// cnsbot.AreaOther.
	People []int
	// Members are the approved members and leaders; ActiveMembers those who
	// reported a visit in the quarter. A subtotal or the total counts a
	// person once, however many of its teams they belong to or reported for.
	Members       int
	ActiveMembers int
	Visits        int
	Minutes       int
	// HelpReceived counts residents' requests for a member made in the
	// quarter, HelpResolved those closed in it.
	HelpReceived int
	HelpResolved int
}

// Percent is the share of households guided to date, 0 to 1 (0 when the
// household count is unknown).
func (f Figures) Percent() float64 {
	if f.Households <= 0 {
		return 0
	}
	return float64(f.GuidedToDate) / float64(f.Households)
}

// OfTarget is Percent against the target: 1 means 80% of households.
func (f Figures) OfTarget() float64 {
	if f.Households <= 0 {
		return 0
	}
	return float64(f.GuidedToDate) / (float64(f.Households) * Target)
}

// Hours is Minutes in hours.
func (f Figures) Hours() float64 { return float64(f.Minutes) / 60 }

// addGuided adds g's households guided to f.
func (f *Figures) addGuided(g Figures) {
	f.GuidedInQuarter += g.GuidedInQuarter
	f.GuidedToDate += g.GuidedToDate
	f.Unmatched += g.Unmatched
}

// addRest adds g's other counts to f, except the people (Members and
// ActiveMembers), which do not add up: see Report.sum.
func (f *Figures) addRest(g Figures) {
	if f.People == nil {
		f.People = make([]int, len(cnsbot.Areas))
	}
	for i, n := range g.People {
		f.People[i] += n
	}
	f.Visits += g.Visits
	f.Minutes += g.Minutes
	f.HelpReceived += g.HelpReceived
	f.HelpResolved += g.HelpResolved
}

// fromCalendar takes a team's figures from the visit reports.
func fromCalendar(c calendar.Figures) Figures {
	f := Figures{GuidedInQuarter: c.GuidedInQuarter, GuidedToDate: c.GuidedToDate, Unmatched: c.Unmatched, Members: c.Members,
		ActiveMembers: c.ActiveMembers, Visits: c.Visits, Minutes: c.Minutes, People: make([]int, len(cnsbot.Areas))}
	other := slices.Index(cnsbot.Areas, cnsbot.AreaOther)
	for area, n := range c.People {
		i := slices.Index(cnsbot.Areas, area)
		if i < 0 {
			i = other
		}
		f.People[i] += n
	}
	return f
}

// Build compiles the report of quarter q ("2025Q3") for every commune, or
// for the one commune whose name matches commune (folded: "xa tan loc"
// finds "Xã Tân Lộc"). Days are counted in loc. An invalid quarter is an
// EINVALID error; a commune that matches none or several, ENOTFOUND or
// ECONFLICT.
func Build(ctx context.Context, src Source, q string, commune string, loc *time.Location) (*Report, error) {
	year, n, err := calendar.ParseQuarter(q)
	if err != nil {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	q = fmt.Sprintf("%dQ%d", year, n)
	start, end, err := calendar.QuarterBounds(q, loc)
	if err != nil {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	r := &Report{Quarter: q, Start: start, End: end, Made: time.Now().In(loc)}

	var communes []cnsbot.Unit
	var communeID int64 // 0: every commune
	if strings.TrimSpace(commune) != "" {
		u, err := src.FindUnit(ctx, cnsbot.UnitCommune, nil, commune)
		if err != nil {
			return nil, fmt.Errorf("report: commune %q: %w", commune, err)
		}
		communes = []cnsbot.Unit{u}
		communeID = u.ID
		r.Unit, r.Commune = u.Name, u.Name
	} else {
		if communes, err = src.Communes(ctx); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		if r.Unit, err = topName(ctx, src, communes); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}

	teams, err := src.ReportTeams(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	teamIDs, hamletIDs, err := r.layout(ctx, src, communes, teams)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	figs, err := src.ReportFigures(ctx, teamIDs, q, loc)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	listed, err := src.ReportHamletFigures(ctx, hamletIDs, q, loc)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	people, allPeople, err := src.ReportPeople(ctx, communeID, q, loc)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	help, err := helpRequests(ctx, src, communes, start, end, communeID != 0)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.fill(figs, listed, help)
	r.sum(listed, people, allPeople)
	return r, nil
}

// layout lays out the rows: each commune's hamlets in name order, a row
// per team of a hamlet, or one row for a hamlet without a team, numbered
// through the report. It returns the teams that have a row, and the
// hamlets.
func (r *Report) layout(ctx context.Context, src Source, communes []cnsbot.Unit, teams []cnsbot.Team) ([]int64, []int64, error) {
	teamsOf := map[int64][]cnsbot.Team{}
	for _, t := range teams {
		teamsOf[t.HamletID] = append(teamsOf[t.HamletID], t)
	}
	var teamIDs, hamletIDs []int64
	no := 0
	r.Communes = make([]Commune, 0, len(communes))
	for _, c := range communes {
		hamlets, err := src.Hamlets(ctx, c.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("hamlets of %s: %w", c.Name, err)
		}
		block := Commune{ID: c.ID, Name: c.Name}
		for _, h := range hamlets {
			hamletIDs = append(hamletIDs, h.ID)
			row := Row{Commune: c.Name, Hamlet: h.Name, HamletID: h.ID,
				Figures: Figures{Households: h.Households, People: make([]int, len(cnsbot.Areas))}}
			ts := teamsOf[h.ID]
			if len(ts) == 0 {
				no++
				row.No = no
				block.Rows = append(block.Rows, row)
				continue
			}
			for _, t := range ts {
				no++
				row.No, row.Team, row.TeamID = no, t.Name, t.ID
				row.People = make([]int, len(cnsbot.Areas))
				block.Rows = append(block.Rows, row)
				teamIDs = append(teamIDs, t.ID)
			}
		}
		r.Communes = append(r.Communes, block)
	}
	return teamIDs, hamletIDs, nil
}

// fill puts the teams' figures and the help requests on their rows, and
// the households of a hamlet's list on each of its rows. A request without
// a team of its own (or whose team has no row) counts for its hamlet: the
// row of a hamlet without a team, or its first team.
func (r *Report) fill(figs map[int64]calendar.Figures, hamlets map[int64]calendar.Figures, help []cnsbot.HelpRequest) {
	hamletRow := map[int64]*Row{}
	teamRow := map[int64]*Row{}
	for ci := range r.Communes {
		for ri := range r.Communes[ci].Rows {
			row := &r.Communes[ci].Rows[ri]
			if row.TeamID != 0 {
				teamRow[row.TeamID] = row
			}
			if _, ok := hamletRow[row.HamletID]; !ok {
				hamletRow[row.HamletID] = row
			}
		}
	}
	for id, f := range figs {
		if row := teamRow[id]; row != nil {
			g := fromCalendar(f)
			g.Households = row.Households
			row.Figures = g
		}
	}
	for ci := range r.Communes {
		for ri := range r.Communes[ci].Rows {
			row := &r.Communes[ci].Rows[ri]
			if h, ok := hamlets[row.HamletID]; ok {
				// The hamlet's household list is the base once it has one.
				row.Households = h.Households
			}
		}
	}
	r.ListedHamlets = 0
	for id := range hamlets {
		if hamletRow[id] != nil {
			r.ListedHamlets++
		}
	}
	for _, h := range help {
		row := hamletRow[h.HamletID]
		if h.TeamID != nil && teamRow[*h.TeamID] != nil {
			row = teamRow[*h.TeamID]
		}
		if row == nil {
			// A request of another commune, or one that names no hamlet.
			continue
		}
		if within(h.CreatedAt, r.Start, r.End) {
			row.HelpReceived++
		}
		if h.Status == cnsbot.HelpClosed && h.ClosedAt != nil && within(*h.ClosedAt, r.Start, r.End) {
			row.HelpResolved++
		}
	}
}

// sum adds the rows up into each commune's subtotal and the subtotals into
// the total. Households count once per hamlet, however many teams it has;
// so do the households guided of a hamlet with a list (listed), which
// come from the hamlet's figures rather than its teams' rows: a household
// two teams guided is one household. The people, likewise, are counted
// once per commune and once in the total (people, all): a member of two
// teams is one member.
func (r *Report) sum(listed map[int64]calendar.Figures, people map[int64]calendar.Figures, all calendar.Figures) {
	r.Total = Figures{People: make([]int, len(cnsbot.Areas))}
	for ci := range r.Communes {
		c := &r.Communes[ci]
		c.Subtotal = Figures{People: make([]int, len(cnsbot.Areas))}
		seen := map[int64]bool{}
		for _, row := range c.Rows {
			c.Subtotal.addRest(row.Figures)
			h, isListed := listed[row.HamletID]
			if !isListed {
				c.Subtotal.addGuided(row.Figures)
			}
			if !seen[row.HamletID] {
				seen[row.HamletID] = true
				c.Subtotal.Households += row.Households
				if isListed {
					c.Subtotal.addGuided(Figures{GuidedInQuarter: h.GuidedInQuarter, GuidedToDate: h.GuidedToDate,
						Unmatched: h.Unmatched})
				}
			}
		}
		c.Subtotal.Members, c.Subtotal.ActiveMembers = people[c.ID].Members, people[c.ID].ActiveMembers
		r.Total.addGuided(c.Subtotal)
		r.Total.addRest(c.Subtotal)
		r.Total.Households += c.Subtotal.Households
	}
	r.Total.Members, r.Total.ActiveMembers = all.Members, all.ActiveMembers
}

func within(t, start, end time.Time) bool { return !t.Before(start) && t.Before(end) }

// topName names what a report of every commune covers: the unit at the
// top of the communes' tree (the province), or the names of several tops,
// or "" when the communes are the top.
func topName(ctx context.Context, src Source, communes []cnsbot.Unit) (string, error) {
	var names []string
	seen := map[int64]bool{}
	topOf := map[int64]cnsbot.Unit{} // parent id → the top above it
	for _, c := range communes {
		if c.ParentID == nil {
			continue
		}
		top, ok := topOf[*c.ParentID]
		if !ok {
			u := c
			// Province, district, commune: a few steps; the bound stops a
			// cycle in bad data.
			for range 8 {
				if u.ParentID == nil {
					break
				}
				p, err := src.Unit(ctx, *u.ParentID)
				if err != nil {
					return "", fmt.Errorf("parent of %s: %w", u.Name, err)
				}
				u = p
			}
			top = u
			topOf[*c.ParentID] = top
		}
		if !seen[top.ID] {
			seen[top.ID] = true
			names = append(names, top.Name)
		}
	}
	return strings.Join(names, ", "), nil
}
