package reminder

import (
	"context"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
)

// TeamsFigures is what a Store may also have: the figures of many teams
// at once, in a few set-based statements (*store.DB has it). A pass then
// computes the figures of every team whose leaders it reminds in one go,
// where it would ask for each leader's team in turn: at a province's 1,500
// teams that was most of a pass's time (issue 19).
type TeamsFigures interface {
	ReportFigures(ctx context.Context, teamIDs []int64, q string, loc *time.Location) (map[int64]calendar.Figures, error)
}

// figuresOf returns the quarter's figures of a reporter: from the pass's
// figures of all teams when the store computes those at once, or else
// asked for alone.
func (p *pass) figuresOf(rs calendar.Responsible, q string) (calendar.Figures, error) {
	batch, ok := p.r.st.(TeamsFigures)
	if rs.TeamID == nil || !ok {
		return figuresOf(p.ctx, p.r.st, rs, q, p.r.loc)
	}
	if f, ok := p.teamFigures[q][*rs.TeamID]; ok {
		return f, nil
	}
	// Every team with a responsible leader, whether or not this pass
	// reminds them all: one pass over the rollups costs little more than
	// a part of it, and later deadlines of the quarter find them ready.
	resp, err := p.responsibleFor(calendar.LevelTeam)
	if err != nil {
		return calendar.Figures{}, err
	}
	seen := map[int64]bool{*rs.TeamID: true}
	ids := []int64{*rs.TeamID}
	for _, r := range resp {
		if r.TeamID != nil && !seen[*r.TeamID] {
			seen[*r.TeamID] = true
			ids = append(ids, *r.TeamID)
		}
	}
	all, err := batch.ReportFigures(p.ctx, ids, q, p.r.loc)
	if err != nil {
		return calendar.Figures{}, err
	}
	if p.teamFigures == nil {
		p.teamFigures = map[string]map[int64]calendar.Figures{}
	}
	p.teamFigures[q] = all
	return all[*rs.TeamID], nil
}
