package handoff

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
)

// WorkingHours are the hours a handoff's waiting counts in: government
// offices' hours, Monday to Friday, in Cà Mau's time.
type WorkingHours struct {
	// Location is where the hours are read; nil is Asia/Ho_Chi_Minh (UTC+7).
	Location *time.Location
	// Spans are the day's working spans, as minutes since midnight, in
	// order and not overlapping; none means DefaultSpans.
	Spans [][2]int
}

// DefaultSpans are 7:00–11:30 and 13:30–17:00, a commune office's day.
var DefaultSpans = [][2]int{{7 * 60, 11*60 + 30}, {13*60 + 30, 17 * 60}}

// ParseSpans reads spans written "07:00-11:30,13:30-17:00"; an empty
// string is none, which WorkingHours reads as DefaultSpans.
func ParseSpans(s string) ([][2]int, error) {
	var out [][2]int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	last := -1
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("working hours %q: want hh:mm-hh:mm", part)
		}
		a, err := clock(from)
		if err != nil {
			return nil, err
		}
		b, err := clock(to)
		if err != nil {
			return nil, err
		}
		if b <= a || a < last {
			return nil, fmt.Errorf("working hours %q: spans must be in order and not empty", part)
		}
		out = append(out, [2]int{a, b})
		last = b
	}
	return out, nil
}

func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("working hours: %q is not hh:mm", s)
	}
	return hh*60 + mm, nil
}

func (w WorkingHours) loc() *time.Location {
	if w.Location == nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return w.Location
}

func (w WorkingHours) spans() [][2]int {
	if len(w.Spans) == 0 {
		return DefaultSpans
	}
	return w.Spans
}

// Between returns the working time between from and to.
func (w WorkingHours) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	loc := w.loc()
	from, to = from.In(loc), to.In(loc)
	var total time.Duration
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	// A handoff waits days at most; the bound only stops a runaway loop.
	for i := 0; i < 400 && day.Before(to); i, day = i+1, day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for _, s := range w.spans() {
			a := day.Add(time.Duration(s[0]) * time.Minute)
			b := day.Add(time.Duration(s[1]) * time.Minute)
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				total += b.Sub(a)
			}
		}
	}
	return total
}

// Escalate finds the handoffs nobody answered within EscalateAfter of
// working time and returns notices to the team's leaders and the commune's
// officers (the team's group as the fallback), marking each escalated once
// its notices are built: the scheduler pushes them in the same run, and
// their ids ("handoff:<code>:escalated:<person>") make a second push send
// nothing new.
func Escalate(ctx context.Context, deps Deps, now time.Time) ([]cnsbot.Outgoing, error) {
	hs, err := deps.Store.UnansweredHandoffs(ctx)
	if err != nil {
		return nil, err
	}
	h := &handoffs{deps: deps}
	after := deps.escalateAfter()
	var out []cnsbot.Outgoing
	for _, ho := range hs {
		if ho.Code == "" || deps.Hours.Between(ho.CreatedAt, now) < after {
			continue
		}
		n, err := h.tell(func(m cnsbot.Outgoing) { out = append(out, m) }, ctx, ho, "handoff.team.escalated",
			map[string]any{"hours": int(after / time.Hour)}, true)
		if err != nil {
			return out, err
		}
		if n == 0 {
			deps.log().WarnContext(ctx, "unanswered handoff has nobody to escalate to", "code", ho.Code)
		}
		if err := deps.Store.MarkHandoffEscalated(ctx, ho.ID, now); err != nil {
			return out, err
		}
	}
	return out, nil
}
