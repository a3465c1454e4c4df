package reminder

import (
	"context"
	"time"

	"github.com/camau-cns/cnsbot"
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

// BatchClaims is what a Store may also have: claiming and recording many
// reminders of a deadline in one statement each (*store.DB has it). A pass
// then claims a batch of reminders at once, queues their messages in one
// call to the Pusher and records them as queued at once, where it took
// three statements and a Redis call per reminder: at a province's 1,500
// leaders that was 6.8 s on a quiet machine and 171 s on a busy one, each
// commit waiting its turn (issue 19).
//
// Exactly once holds as before: a reminder is queued only by the pass
// whose insert created its row. The gap after a crash is a batch wide
// rather than one reminder wide: a pass that dies between claiming a batch
// and recording it leaves its rows planned, and a pass after StaleAfter
// retakes those whose messages the delivery log does not know.
type BatchClaims interface {
	ClaimReminders(ctx context.Context, recs []calendar.ReminderRecord) ([]bool, error)
	SetReminderStates(ctx context.Context, deadlineKey, offset string, personIDs []int64, state, reason string) error
}

// BatchSize is how many reminders a pass claims, queues and records at
// once: a statement of a few thousand parameters and a pipeline of a few
// hundred kilobytes.
const BatchSize = 500

// op is one reminder a pass will claim (or retake) and queue, or record as
// dropped, with the rest of its batch.
type op struct {
	item        Item
	msg         cnsbot.Outgoing
	state       string // after queuing: queued, fallback, undeliverable; or dropped_late
	reason      string
	retake      bool
	staleBefore time.Time
}

func (p *pass) batched() bool {
	_, ok := p.r.st.(BatchClaims)
	return ok
}

// flush claims, queues and records the pending reminders, BatchSize at a
// time, and reports them in the order the pass found them.
func (p *pass) flush() {
	ops := p.pending
	p.pending = nil
	for len(ops) > 0 {
		n := min(BatchSize, len(ops))
		p.flushBatch(ops[:n])
		ops = ops[n:]
	}
}

func (p *pass) flushBatch(ops []op) {
	b := p.r.st.(BatchClaims)
	ok := make([]bool, len(ops))
	var recs []calendar.ReminderRecord
	var idx []int
	for i, o := range ops {
		it := o.item
		if o.retake {
			// Rare (a pass died with the reminder claimed): one at a time.
			got, err := p.r.st.RetakeReminder(p.ctx, it.Deadline, it.PersonID, it.Offset, o.staleBefore)
			if err != nil {
				p.errs = append(p.errs, err)
			}
			ok[i] = got
			continue
		}
		rec := calendar.ReminderRecord{DeadlineKey: it.Deadline, PersonID: it.PersonID, Offset: it.Offset, State: calendar.StatePlanned}
		if it.Action == ActionDropped {
			// Recorded as dropped in the claim itself: nothing to queue.
			rec.State, rec.Reason = o.state, o.reason
		}
		recs = append(recs, rec)
		idx = append(idx, i)
	}
	if claimed, err := b.ClaimReminders(p.ctx, recs); err != nil {
		p.errs = append(p.errs, err)
	} else {
		for j, i := range idx {
			ok[i] = claimed[j]
		}
	}

	var msgs []cnsbot.Outgoing
	for i, o := range ops {
		if ok[i] && o.item.Message != nil {
			msgs = append(msgs, o.msg)
		}
	}
	pushErr := p.r.push.Push(p.ctx, msgs...)
	if pushErr != nil {
		p.errs = append(p.errs, pushErr)
	}

	type group struct{ offset, state, reason string }
	var order []group
	groups := map[group][]int64{}
	for i, o := range ops {
		if !ok[i] {
			continue
		}
		it := o.item
		if it.Action == ActionDropped {
			p.rep.Items = append(p.rep.Items, it)
			continue
		}
		if it.Message != nil && pushErr != nil {
			// The row stays planned: a pass after StaleAfter retries it.
			it.Action, it.Reason = ActionFailed, pushErr.Error()
			p.rep.Items = append(p.rep.Items, it)
			continue
		}
		g := group{it.Offset, o.state, o.reason}
		if _, seen := groups[g]; !seen {
			order = append(order, g)
		}
		groups[g] = append(groups[g], it.PersonID)
		p.r.log.Info("reminder", "deadline", it.Deadline, "person", it.PersonID, "offset", it.Offset, "action", it.Action)
		p.rep.Items = append(p.rep.Items, it)
	}
	if len(ops) == 0 {
		return
	}
	key := ops[0].item.Deadline
	for _, g := range order {
		if err := b.SetReminderStates(p.ctx, key, g.offset, groups[g], g.state, g.reason); err != nil {
			p.errs = append(p.errs, err)
		}
	}
}
