package reminder

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
)

// StillDue reports whether a reminder that Zalo refused to deliver is
// still worth delivering at now, when its person writes again: a private
// copy of "3 days left" after the deadline, or of "please submit" after
// the report is in, would mislead. messageID is the reminder's message ID
// (calendar.ReminderID). A reminder before the deadline is due until the
// deadline, an overdue notice as long as the pass would still send one
// (Options.OverdueFor), both only while the person still has a report to
// submit; the list of who is late goes to the next level up for as long
// as overdue notices do. An ID that names no reminder of the schedule in
// force is not due.
func (r *Reminders) StillDue(ctx context.Context, messageID string, now time.Time) (bool, error) {
	key, personID, offset, ok := parseReminderID(messageID)
	if !ok {
		return false, nil
	}
	sched, err := r.st.Schedule(ctx)
	if err != nil {
		return false, fmt.Errorf("reminder still due: %w", err)
	}
	d, ok := sched.Deadline(key, r.loc)
	if !ok {
		return false, nil
	}
	if !now.Before(sched.OverdueAt(d).Add(r.opts.OverdueFor)) {
		return false, nil
	}
	switch offset {
	case calendar.OffsetEscalate:
		return true, nil
	case calendar.OffsetOverdue:
	default:
		if !now.Before(d.Before) {
			return false, nil
		}
	}
	resp, err := r.st.ResponsibleFor(ctx, d.From)
	if err != nil {
		return false, fmt.Errorf("reminder still due: %w", err)
	}
	subs, err := r.st.Submissions(ctx, key)
	if err != nil {
		return false, fmt.Errorf("reminder still due: %w", err)
	}
	done := map[string]bool{}
	for _, s := range subs {
		done[s.ReporterKey()] = true
	}
	for _, rs := range resp {
		if rs.PersonID == personID && !done[rs.ReporterKey()] {
			return true, nil
		}
	}
	return false, nil
}

// parseReminderID splits "reminder:2025Q3:team:commune:12:7", as
// calendar.ReminderID makes it.
func parseReminderID(id string) (key string, personID int64, offset string, ok bool) {
	rest, found := strings.CutPrefix(id, "reminder:")
	if !found {
		return "", 0, "", false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 5 {
		return "", 0, "", false
	}
	key = strings.Join(parts[:3], ":")
	if _, _, _, err := calendar.ParseKey(key); err != nil {
		return "", 0, "", false
	}
	personID, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", 0, "", false
	}
	return key, personID, parts[4], true
}
