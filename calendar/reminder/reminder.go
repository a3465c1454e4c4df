// Package reminder runs the reporting calendar: it pushes the deadline
// reminders, with the quarter's figures, to the people responsible, tells
// them when a report is overdue, tells the next level up who is late, and
// records submissions.
//
// It is a sub-package of calendar rather than part of it because it has
// dependencies that the calendar's pure date logic must not have: the
// database (through Store), the outbox (Pusher), the message texts and
// River, the job engine that runs the pass. store imports calendar for its
// types, so the pass cannot live there either.
//
// # Exactly once
//
// Each reminder is one (deadline, person, offset) triple, and the database
// holds at most one row per triple (a unique index). A pass inserts that
// row (ClaimReminder) before it queues the message; an insert that finds
// the row means another pass, on this replica or another, now or before a
// restart, owns the reminder, and the pass moves on. Rows record what
// became of each reminder: planned, queued, then sent, fallback or
// undeliverable from the delivery log, or dropped_late.
//
// The one gap is a pass that dies after claiming and before its message is
// queued: its row stays planned. After StaleAfter another pass retakes such
// a row, unless the delivery log already knows its message, and queues it.
// A message queued but neither recorded as queued nor yet handled by the
// sender when the row is retaken goes out twice; StaleAfter (10 minutes)
// makes that need a crash and an outbox ten minutes behind at once. A
// store with BatchClaims lets a pass claim, queue and record up to
// BatchSize reminders at a time (batch.go); the rule is the same, the gap
// a batch wide.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// Store is what the reminders need from the database; *store.DB has it.
type Store interface {
	Schedule(ctx context.Context) (calendar.Schedule, error)
	ResponsibleFor(ctx context.Context, level calendar.Level) ([]calendar.Responsible, error)
	Submissions(ctx context.Context, deadlineKey string) ([]calendar.Submission, error)
	MarkSubmitted(ctx context.Context, deadlineKey string, personID int64, teamID *int64, unitID int64, at time.Time) error
	Reminders(ctx context.Context, deadlineKey string) ([]calendar.ReminderRecord, error)
	ClaimReminder(ctx context.Context, deadlineKey string, personID int64, offset string) (bool, error)
	RetakeReminder(ctx context.Context, deadlineKey string, personID int64, offset string, staleBefore time.Time) (bool, error)
	SetReminderState(ctx context.Context, deadlineKey string, personID int64, offset, state, reason string) error
	SyncReminderStates(ctx context.Context) (int, error)
	QuarterFigures(ctx context.Context, teamID int64, q string, loc *time.Location) (calendar.Figures, error)
	UnitFigures(ctx context.Context, unitID int64, q string, loc *time.Location) (calendar.Figures, error)
}

// Pusher queues messages that no event produced; *store.Queue has it.
type Pusher interface {
	Push(ctx context.Context, out ...cnsbot.Outgoing) error
}

// Texts renders the messages; *locales.Bundle has it.
type Texts interface {
	T(lang, id string, data map[string]any) string
	TN(lang, id string, count int, data map[string]any) string
}

// Options configure Reminders. Location is required.
type Options struct {
	// Location is where deadlines and quiet hours are counted:
	// Asia/Ho_Chi_Minh.
	Location *time.Location
	// OverdueFor is how long after a deadline the overdue notices and the
	// list of who is late still go out (default 7 days); a pass that comes
	// later records them as dropped_late.
	OverdueFor time.Duration
	// StaleAfter is how long a claimed reminder may stay planned before
	// another pass takes it over (default 10 minutes).
	StaleAfter time.Duration
	// Clock is the wall clock (default time.Now) that measures StaleAfter
	// against the rows' write times. It is apart from Pass's now, the
	// calendar's time, which `cnsbot remind --now` sets to any day.
	Clock func() time.Time
	Log   *slog.Logger
}

// Defaults of Options.
const (
	DefaultOverdueFor = 7 * 24 * time.Hour
	DefaultStaleAfter = 10 * time.Minute
)

// Reminders runs reminder passes and records submissions.
type Reminders struct {
	st    Store
	push  Pusher
	texts Texts
	loc   *time.Location
	opts  Options
	log   *slog.Logger
}

// New returns Reminders. It panics without a Location: a calendar without
// a time zone would put every deadline seven hours off.
func New(st Store, push Pusher, texts Texts, opts Options) *Reminders {
	if opts.Location == nil {
		panic("reminder.New: Options.Location is required")
	}
	if opts.OverdueFor <= 0 {
		opts.OverdueFor = DefaultOverdueFor
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reminders{st: st, push: push, texts: texts, loc: opts.Location, opts: opts, log: log}
}

// Actions in a Report.
const (
	// ActionQueued: the message is on the recipient's outbox.
	ActionQueued = "queued"
	// ActionGroup: the person has no Zalo account linked; the message went
	// to their team's group.
	ActionGroup = "group"
	// ActionUndeliverable: the person cannot be reached at all.
	ActionUndeliverable = "undeliverable"
	// ActionDropped: the reminder was due while no pass ran, and was no
	// longer useful when one did.
	ActionDropped = "dropped_late"
	// ActionFailed: queuing failed; a later pass retries it.
	ActionFailed = "failed"
)

// Report says what a pass did (or, in a dry run, would do).
type Report struct {
	Now    time.Time `json:"now"`
	DryRun bool      `json:"dry_run"`
	// Schedule is the name of the schedule in force.
	Schedule string `json:"schedule"`
	Items    []Item `json:"items"`
}

// Item is one reminder a pass handled.
type Item struct {
	Deadline string `json:"deadline"`
	PersonID int64  `json:"person_id"`
	Name     string `json:"name"`
	// Offset is the days before the deadline, "overdue" or "escalate".
	Offset string `json:"offset"`
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
	// Message is what was (or would be) queued.
	Message *cnsbot.Outgoing `json:"message,omitempty"`
}

// Pass sends every reminder whose time has come by now and that no pass
// has sent yet. In a dry run it changes nothing and reports what it would
// do. Errors on one reminder do not stop the others; they are returned
// together at the end, so that the job engine retries the pass.
//
// Rules, per deadline and per person whose report is not in:
//   - before the deadline, the latest reminder that is due goes out (a
//     pass that comes after downtime catches up); earlier ones missed in the
//     downtime are recorded as dropped_late rather than sent in a burst;
//   - after the deadline, reminders never sent are recorded as
//     dropped_late; from OverdueAt, the person gets an overdue notice and
//     the next level up a list of who is late, for OverdueFor;
//   - nothing is sent in the quiet hours: the pass waits for the morning.
func (r *Reminders) Pass(ctx context.Context, now time.Time, dryRun bool) (Report, error) {
	local := now.In(r.loc)
	rep := Report{Now: local, DryRun: dryRun}
	if !dryRun {
		if _, err := r.st.SyncReminderStates(ctx); err != nil {
			r.log.Warn("sync reminder states", "err", err)
		}
	}
	sched, err := r.st.Schedule(ctx)
	if err != nil {
		return rep, fmt.Errorf("reminder pass: %w", err)
	}
	rep.Schedule = sched.Name
	p := &pass{r: r, ctx: ctx, sched: sched, now: local, quiet: sched.Quiet(local), dryRun: dryRun, rep: &rep,
		responsible: map[calendar.Level][]calendar.Responsible{}}
	var errs []error
	for _, d := range r.active(sched, local) {
		if err := p.deadline(d); err != nil {
			errs = append(errs, fmt.Errorf("deadline %s: %w", d.Key(), err))
		}
		p.flush()
	}
	errs = append(errs, p.errs...)
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("reminder pass: %w", err)
	}
	return rep, nil
}

// active returns the deadlines a pass at now must look at: those whose
// first reminder (or overdue notice) is due, and that ended less than
// OverdueFor ago, plus a day's margin so that a notice due at the end of
// the window is recorded as dropped rather than forgotten.
func (r *Reminders) active(sched calendar.Schedule, now time.Time) []calendar.Deadline {
	var out []calendar.Deadline
	for y := now.Year() - 1; y <= now.Year()+1; y++ {
		for _, d := range sched.Deadlines(y, r.loc) {
			first := sched.OverdueAt(d)
			if rs := sched.Reminders(d); len(rs) > 0 {
				first = rs[0].At
			}
			if first.After(now) || !now.Before(sched.OverdueAt(d).Add(r.opts.OverdueFor+24*time.Hour)) {
				continue
			}
			out = append(out, d)
		}
	}
	return out
}

// pass is the state of one Pass.
type pass struct {
	r           *Reminders
	ctx         context.Context
	sched       calendar.Schedule
	now         time.Time
	quiet       bool
	dryRun      bool
	rep         *Report
	responsible map[calendar.Level][]calendar.Responsible
	// teamFigures holds every team's figures by quarter, once asked for
	// (batch.go).
	teamFigures map[string]map[int64]calendar.Figures
	// pending holds a deadline's reminders to claim, queue and record
	// together when the store does that in batches (batch.go).
	pending []op
	errs    []error
}

// duty is one person's unsubmitted reports for a deadline.
type duty struct {
	person    calendar.Responsible // name, Zalo id, language, group
	reporters []calendar.Responsible
}

func (p *pass) responsibleFor(level calendar.Level) ([]calendar.Responsible, error) {
	if rs, ok := p.responsible[level]; ok {
		return rs, nil
	}
	rs, err := p.r.st.ResponsibleFor(p.ctx, level)
	if err != nil {
		return nil, err
	}
	p.responsible[level] = rs
	return rs, nil
}

func (p *pass) deadline(d calendar.Deadline) error {
	key := d.Key()
	resp, err := p.responsibleFor(d.From)
	if err != nil {
		return err
	}
	subs, err := p.r.st.Submissions(p.ctx, key)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, s := range subs {
		done[s.ReporterKey()] = true
	}
	recs, err := p.r.st.Reminders(p.ctx, key)
	if err != nil {
		return err
	}
	have := map[string]calendar.ReminderRecord{}
	for _, rec := range recs {
		have[recKey(rec.PersonID, rec.Offset)] = rec
	}

	var late []calendar.Responsible
	var duties []*duty
	byPerson := map[int64]*duty{}
	for _, rs := range resp {
		if done[rs.ReporterKey()] {
			continue
		}
		late = append(late, rs)
		du := byPerson[rs.PersonID]
		if du == nil {
			du = &duty{person: rs}
			byPerson[rs.PersonID] = du
			duties = append(duties, du)
		}
		du.reporters = append(du.reporters, rs)
	}

	var due []calendar.Reminder
	for _, rm := range p.sched.Reminders(d) {
		if !rm.At.After(p.now) {
			due = append(due, rm)
		}
	}
	before := p.now.Before(d.Before)
	overdueAt := p.sched.OverdueAt(d)
	overdueOpen := !p.now.Before(overdueAt) && p.now.Before(overdueAt.Add(p.r.opts.OverdueFor))
	overdueGone := !p.now.Before(overdueAt.Add(p.r.opts.OverdueFor))

	for _, du := range duties {
		for i, rm := range due {
			latest := i == len(due)-1
			switch {
			case before && latest:
				p.send(d, du.person, rm.Offset, have, func() (cnsbot.Outgoing, error) {
					return p.reminderMessage(d, du, rm.Offset)
				})
			case before:
				p.drop(d, du.person, rm.Offset, have, calendar.ReasonSuperseded)
			default:
				p.drop(d, du.person, rm.Offset, have, calendar.ReasonDeadlinePassed)
			}
		}
		switch {
		case overdueOpen:
			p.send(d, du.person, calendar.OffsetOverdue, have, func() (cnsbot.Outgoing, error) {
				return p.overdueMessage(d, du)
			})
		case overdueGone:
			p.drop(d, du.person, calendar.OffsetOverdue, have, calendar.ReasonOverduePassed)
		}
	}
	if (overdueOpen || overdueGone) && len(late) > 0 {
		return p.escalate(d, late, have, overdueGone)
	}
	return nil
}

func recKey(personID int64, offset string) string {
	return strconv.FormatInt(personID, 10) + "/" + offset
}

// escalate tells the next level up who is late: the officers of the
// late teams' commune for a team's report, the province's officers above.
// Nobody is told about their own lateness.
func (p *pass) escalate(d calendar.Deadline, late []calendar.Responsible, have map[string]calendar.ReminderRecord, gone bool) error {
	ups, err := p.responsibleFor(d.To)
	if err != nil {
		return err
	}
	lateIDs := map[int64]bool{}
	for _, l := range late {
		lateIDs[l.PersonID] = true
	}
	type watch struct {
		up   calendar.Responsible
		late []calendar.Responsible
	}
	var order []int64
	watches := map[int64]*watch{}
	for _, up := range ups {
		if lateIDs[up.PersonID] {
			continue
		}
		for _, l := range late {
			if d.To == calendar.LevelCommune && l.ParentUnitID != up.UnitID {
				continue
			}
			w := watches[up.PersonID]
			if w == nil {
				w = &watch{up: up}
				watches[up.PersonID] = w
				order = append(order, up.PersonID)
			}
			// A team with two leaders is one line naming both.
			i := slices.IndexFunc(w.late, func(x calendar.Responsible) bool { return x.ReporterKey() == l.ReporterKey() })
			if i < 0 {
				w.late = append(w.late, l)
			} else if !strings.Contains(w.late[i].Name, l.Name) {
				w.late[i].Name += ", " + l.Name
			}
		}
	}
	for _, id := range order {
		w := watches[id]
		if gone {
			p.drop(d, w.up, calendar.OffsetEscalate, have, calendar.ReasonOverduePassed)
			continue
		}
		p.send(d, w.up, calendar.OffsetEscalate, have, func() (cnsbot.Outgoing, error) {
			return p.escalationMessage(d, w.up, w.late), nil
		})
	}
	return nil
}

// send claims the reminder (person, offset) of d and queues its message,
// unless it is already claimed. A claim left planned for StaleAfter by a
// pass that died is taken over. Nothing is sent in the quiet hours.
func (p *pass) send(d calendar.Deadline, who calendar.Responsible, offset string, have map[string]calendar.ReminderRecord,
	build func() (cnsbot.Outgoing, error)) {
	key := d.Key()
	staleBefore := p.r.opts.Clock().Add(-p.r.opts.StaleAfter)
	rec, exists := have[recKey(who.PersonID, offset)]
	retake := exists && rec.State == calendar.StatePlanned && rec.UpdatedAt.Before(staleBefore)
	if (exists && !retake) || p.quiet {
		return
	}
	item := Item{Deadline: key, PersonID: who.PersonID, Name: who.Name, Offset: offset}
	msg, err := build()
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("build reminder %s: %w", calendar.ReminderID(key, who.PersonID, offset), err))
		return
	}
	state, reason := calendar.StateQueued, ""
	item.Action = ActionQueued
	switch {
	case msg.To.UserID != "":
	case msg.To.GroupID != "":
		state, reason, item.Action = calendar.StateFallback, "no Zalo account linked: posted to the team's group", ActionGroup
	default:
		state, reason, item.Action = calendar.StateUndeliverable, "no Zalo account linked and no team group", ActionUndeliverable
	}
	item.Reason = reason
	if item.Action != ActionUndeliverable {
		item.Message = &msg
	}
	if p.dryRun {
		p.rep.Items = append(p.rep.Items, item)
		return
	}
	if p.batched() {
		p.pending = append(p.pending, op{item: item, msg: msg, state: state, reason: reason, retake: retake, staleBefore: staleBefore})
		return
	}
	var ok bool
	if retake {
		ok, err = p.r.st.RetakeReminder(p.ctx, key, who.PersonID, offset, staleBefore)
	} else {
		ok, err = p.r.st.ClaimReminder(p.ctx, key, who.PersonID, offset)
	}
	if err != nil || !ok {
		if err != nil {
			p.errs = append(p.errs, err)
		}
		return
	}
	if item.Action != ActionUndeliverable {
		if err := p.r.push.Push(p.ctx, msg); err != nil {
			// The row stays planned: a pass after StaleAfter retries it.
			item.Action, item.Reason = ActionFailed, err.Error()
			p.rep.Items = append(p.rep.Items, item)
			p.errs = append(p.errs, err)
			return
		}
	}
	if err := p.r.st.SetReminderState(p.ctx, key, who.PersonID, offset, state, reason); err != nil {
		p.errs = append(p.errs, err)
	}
	p.r.log.Info("reminder", "deadline", key, "person", who.PersonID, "offset", offset, "action", item.Action)
	p.rep.Items = append(p.rep.Items, item)
}

// drop records a reminder that will never be sent, unless it is recorded
// already.
func (p *pass) drop(d calendar.Deadline, who calendar.Responsible, offset string, have map[string]calendar.ReminderRecord, reason string) {
	if _, exists := have[recKey(who.PersonID, offset)]; exists {
		return
	}
	item := Item{Deadline: d.Key(), PersonID: who.PersonID, Name: who.Name, Offset: offset, Action: ActionDropped, Reason: reason}
	if !p.dryRun && p.batched() {
		p.pending = append(p.pending, op{item: item, state: calendar.StateDroppedLate, reason: reason})
		return
	}
	if !p.dryRun {
		ok, err := p.r.st.ClaimReminder(p.ctx, d.Key(), who.PersonID, offset)
		if err != nil {
			p.errs = append(p.errs, err)
			return
		}
		if !ok {
			return
		}
		if err := p.r.st.SetReminderState(p.ctx, d.Key(), who.PersonID, offset, calendar.StateDroppedLate, reason); err != nil {
			p.errs = append(p.errs, err)
			return
		}
	}
	p.rep.Items = append(p.rep.Items, item)
}

// Submit records that personID's report for the deadline is in, for every
// reporter (team or unit) they are responsible for at the deadline's
// level, and returns those reporters' names. It is an EINVALID error for a
// key the schedule does not have, and EUNAUTHORIZED for someone who does
// not report at that level.
func (r *Reminders) Submit(ctx context.Context, deadlineKey string, personID int64, at time.Time) ([]string, error) {
	sched, err := r.st.Schedule(ctx)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	d, ok := sched.Deadline(deadlineKey, r.loc)
	if !ok {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "no deadline %q in the schedule", deadlineKey)
	}
	resp, err := r.st.ResponsibleFor(ctx, d.From)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	var names []string
	for _, rs := range resp {
		if rs.PersonID != personID {
			continue
		}
		if err := r.st.MarkSubmitted(ctx, deadlineKey, personID, rs.TeamID, rs.UnitID, at); err != nil {
			return nil, fmt.Errorf("submit: %w", err)
		}
		names = append(names, rs.ReporterName)
	}
	if len(names) == 0 {
		return nil, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "person %d does not report at level %s", personID, d.From)
	}
	return names, nil
}

// quarterLabel renders "2025Q3" in words.
func (p *pass) quarterLabel(lang, q string) string {
	return calendar.QuarterLabel(p.r.texts, lang, q)
}

// dateLayout is the day-month-year order Vietnam writes dates in.
const dateLayout = "02/01/2006"

// number formats v with at most one decimal, with the language's decimal
// mark.
func number(lang string, v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
