package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/faults/loadgen"
	"github.com/camau-cns/cnsbot/store"
)

// remindAt is the calendar time of the suite's reminder passes: seven days
// before the team→commune deadline of 2025's fourth quarter, so every
// seeded team leader is due the "7 days left" reminder, once. Calendar time
// is set with `cnsbot remind --now`; the delivery runs on the real clock.
const remindAt = "2025-12-09T08:30:00+07:00"

// leaderBase is the first Zalo user id of seeded team leaders, far from
// the load generator's users.
const leaderBase = 5_100_000_000_000_000_000

// seedLeaders adds a commune with n hamlets, each with a team whose leader
// has a Zalo account, and returns the leaders' Zalo ids.
func seedLeaders(t *testing.T, dbURL string, n int, first uint64) []string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, "", nil)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc"}
	must("commune", store.Insert(context.Background(), db, &commune))
	hamlets := make([]cnsbot.Unit, n)
	for i := range hamlets {
		name := fmt.Sprintf("Ấp %d", i+1)
		hamlets[i] = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: name, Folded: fmt.Sprintf("ap %d", i+1),
			ParentID: &commune.ID, Households: 100 + i%50}
	}
	must("hamlets", store.Insert(context.Background(), db, ptrs(hamlets)...))
	teams := make([]cnsbot.Team, n)
	for i := range teams {
		teams[i] = cnsbot.Team{HamletID: hamlets[i].ID, Name: fmt.Sprintf("Tổ Ấp %d", i+1), Code: fmt.Sprintf("F%05d", i+1)}
	}
	must("teams", store.Insert(context.Background(), db, ptrs(teams)...))
	ids := make([]string, n)
	people := make([]cnsbot.Person, n)
	for i := range people {
		ids[i] = strconv.FormatUint(first+uint64(i), 10)
		people[i] = cnsbot.Person{FullName: fmt.Sprintf("Tổ trưởng %d", i+1),
			Phone: fmt.Sprintf("+8491%07d", i), ZaloUserID: &ids[i]}
	}
	must("people", store.Insert(context.Background(), db, ptrs(people)...))
	roles := make([]cnsbot.Role, n)
	for i := range roles {
		roles[i] = cnsbot.Role{PersonID: people[i].ID, Role: cnsbot.RoleLeader, UnitID: hamlets[i].ID,
			TeamID: &teams[i].ID, Approved: true}
	}
	must("roles", store.Insert(context.Background(), db, ptrs(roles)...))
	return ids
}

// remindPass runs `cnsbot remind --now remindAt --json` and returns how
// many reminders it queued and the kind of their messages.
func remindPass(ctx context.Context, e *env, vars map[string]string) (queued int, kind string, err error) {
	out, err := runCLI(ctx, e, vars, "remind", "--now", remindAt, "--json")
	if err != nil {
		return 0, "", err
	}
	var rep reminder.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		return 0, "", fmt.Errorf("remind report: %w", err)
	}
	for _, it := range rep.Items {
		if it.Action == reminder.ActionQueued && it.Message != nil {
			queued++
			kind = it.Message.Kind
		}
	}
	return queued, kind, nil
}

// reminderTally is what became of the reminders of one pass: sent at the
// fake, or held in the database for the morning (the sender holds pushes
// between 22:00 and 06:00 in Vietnam, by the real clock).
type reminderTally struct {
	Leaders, Queued  int
	Sent, Held       int
	Missing, Doubled int
	// Resent counts reminders sent again across a kill (not doubled).
	Resent              int
	DoubledExamples     []string
	MessagesPerReminder map[int]int // leaders by messages received
}

// OK reports whether each leader got exactly one reminder.
func (r reminderTally) OK() bool {
	return r.Missing == 0 && r.Doubled == 0 && r.Sent+r.Held == r.Leaders
}

// tallyReminders counts, per leader, the messages of kind at the fake and
// the held reminders in the database.
func tallyReminders(t *testing.T, rec *loadgen.Recorder, gen *loadgen.Generator, dbURL string, leaders []string, kind string) reminderTally {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, "", nil)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	heldBy, err := heldReminders(ctx, db)
	if err != nil {
		t.Fatalf("count held reminders: %v", err)
	}
	tally := reminderTally{Leaders: len(leaders), MessagesPerReminder: map[int]int{}}
	for _, id := range leaders {
		msgs := rec.Messages(id)
		if gen != nil {
			// A reminder Zalo accepted just before a kill and sent
			// again after it: see loadgen.Verdict.Resent.
			var n int
			msgs, n = gen.CrashResends(msgs)
			tally.Resent += n
		}
		tally.MessagesPerReminder[len(msgs)]++
		sent := 0
		for _, m := range msgs {
			if m.Kind == kind || kind == "" {
				sent++
			}
		}
		h := heldBy[cnsbot.Recipient{UserID: id}.String()]
		tally.Sent += sent
		tally.Held += h
		switch n := sent + h; {
		case n == 0:
			tally.Missing++
		case n > 1:
			tally.Doubled++
			if len(tally.DoubledExamples) < 3 {
				var at []string
				for _, m := range msgs {
					at = append(at, m.Time.Format("15:04:05.000"))
				}
				tally.DoubledExamples = append(tally.DoubledExamples, fmt.Sprintf("leader …%s: %d sent (at %s), %d held", id[len(id)-4:], sent, strings.Join(at, ", "), h))
			}
		}
	}
	return tally
}

// waitReminders waits until every leader received a message, or timeout
// (at night the reminders are held instead, and the wait runs out).
func waitReminders(rec *loadgen.Recorder, leaders []string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n := 0
		for _, id := range leaders {
			if rec.Count(id) > 0 {
				n++
			}
		}
		if n == len(leaders) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ptrs points at each row of rows, for store.Insert.
func ptrs[T any](rows []T) []*T {
	out := make([]*T, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}

// heldReminders counts the reminders held for the morning, by recipient.
func heldReminders(ctx context.Context, db *store.DB) (map[string]int, error) {
	sqlDB, err := db.SQL()
	if err != nil {
		return nil, err
	}
	rows, err := sqlDB.QueryContext(ctx, "SELECT recipient, count(*) FROM deliveries WHERE purpose = $1 AND state = $2 GROUP BY recipient",
		"reminder", store.StateHeld)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	heldBy := map[string]int{}
	for rows.Next() {
		var (
			recipient string
			n         int
		)
		if err := rows.Scan(&recipient, &n); err != nil {
			return nil, err
		}
		heldBy[recipient] = n
	}
	return heldBy, rows.Err()
}
