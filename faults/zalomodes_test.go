package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store"
)

// suiteMode is the fake Zalo's mode for every scenario of the suite, from
// CNSBOT_ZALOTEST_MODE (see README, "The fault suite against other
// Zalos"). The setup-fault mode cannot last a whole scenario (nothing
// could be delivered), so it is TestZaloModes/setup-fault's alone.
func suiteMode(t *testing.T) zalotest.Mode {
	t.Helper()
	m, err := zalotest.ModeFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if m == zalotest.ModeSetupFault {
		t.Skipf("%s=%s: the setup fault is a scenario of TestZaloModes, not a mode for the whole suite", zalotest.ModeEnv, m)
	}
	return m
}

// TestZaloModes runs one short scenario in each mode of the fake Zalo that
// the service may meet on day one, with every kind of send in it: replies
// and menus (the load's "menu" and "giúp"), reminders pushed to team
// leaders, half of whom are outside Zalo's 7-day window (so, with
// REMINDER_CHANNEL=transaction, transaction messages), and the team
// groups the reminders fall back to. Every event must be answered,
// possibly in a simpler form (numbered text for a list, the group for a
// refused transaction message), and every reminder must have reached its
// leader or the team's group, or be recorded as undeliverable: nothing is
// dropped without a trace. The load is shorter than TestFaults'
// (FAULTS_MODE_LOAD, 8s) so that the three fit in a CI run.
func TestZaloModes(t *testing.T) {
	for _, mode := range []zalotest.Mode{zalotest.ModeListsRefused, zalotest.ModeTransactionRefused, zalotest.ModeSetupFault} {
		t.Run(string(mode), func(t *testing.T) {
			start := time.Now()
			s := prepareModeStage(t, mode)
			var during zaloReadings
			fault := func(*stage) {}
			if mode == zalotest.ModeSetupFault {
				// On since before the load: replies and the reminder
				// pass meet it. It ends after the outage.
				s.z.SetMode(zalotest.ModeSetupFault)
				fault = func(s *stage) {
					on := time.Now()
					deadline := time.Now().Add(s.cfg.outage)
					for time.Now().Before(deadline) && during.alert != 1 {
						sleep(100 * time.Millisecond)
						during = s.readZalo()
					}
					sleep(time.Until(deadline))
					s.z.SetMode(zalotest.ModeNormal)
					s.note("setup fault %d from before the load until %.1fs after the reminder pass; /readyz said %q", zalotest.SetupFaultCode,
						time.Since(on).Seconds(), during.readyz)
				}
			}
			r := s.run(fault)
			after := s.readZalo()
			outcomes := s.reminderOutcomes(t)
			s.checkMode(mode, r, during, after, outcomes)
			// The per-leader tally of TestFaults counts one kind at the
			// leader; here reminders may go by three paths, which
			// reminderOutcomes checked.
			r.reminders.Missing, r.reminders.Doubled = 0, 0
			r.reminders.Sent, r.reminders.Held = outcomes.reached(), outcomes.states[store.StateHeld]
			s.report(r, time.Since(start), -1, fmt.Sprintf("mode %s: reminders %s; degraded sends %.0f", mode, outcomes, after.degraded))
		})
	}
}

// prepareModeStage starts a service against a fake in mode (the setup
// fault is switched on by the scenario), with transaction reminders, no
// quiet hours (so that reminders go out at any hour of the test), teams
// that have groups and half the leaders outside the 7-day window.
func prepareModeStage(t *testing.T, mode zalotest.Mode) *stage {
	t.Helper()
	first := zalotest.ModeNormal
	if mode != zalotest.ModeSetupFault {
		// Learnt in the mode: the answers are the mode's (numbered text).
		first = mode
	}
	s := newStage(t, "mode-"+string(mode), stageOptions{mode: first, leaders: envInt(t, "FAULTS_MODE_LEADERS", 20),
		vars: map[string]string{
			"REMINDER_CHANNEL": "transaction",
			"PUSH_QUIET_HOURS": "off",
		}})
	s.cfg.load = envDuration(t, "FAULTS_MODE_LOAD", 8*time.Second)
	s.allowReordered = mode == zalotest.ModeSetupFault
	ctx := context.Background()
	db, err := store.Open(ctx, s.dbURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlDB, err := db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(ctx, "UPDATE teams SET group_id = '77' || substr(code, 2)"); err != nil {
		t.Fatalf("give the teams groups: %v", err)
	}
	outside := map[string]bool{}
	for _, id := range s.leaders[:len(s.leaders)/2] {
		outside[id] = true
	}
	s.outside = outside
	if mode == zalotest.ModeTransactionRefused {
		// The others' reminders go to their team's group.
		s.atLeader = s.leaders[len(s.leaders)/2:]
	}
	z := s.z
	s.z.SetFault(func(r zalotest.Request) zalotest.Fault {
		// Zalo answers an OA-wide setup fault before it looks at the
		// recipient; transaction messages reach users of the last year.
		if outside[r.UserID] && r.Kind != zalotest.KindTransaction && z.Mode() != zalotest.ModeSetupFault {
			return zalotest.Fault{Error: -230}
		}
		return zalotest.Fault{}
	})
	return s
}

// zaloReadings are what the service says about Zalo at one moment.
type zaloReadings struct {
	readyz   string
	status   int
	alert    float64 // cnsbot_zalo_alert{kind="setup"}
	degraded float64 // sum of cnsbot_zalo_degraded_total
	setup    float64 // sum of cnsbot_zalo_setup_faults_total
}

// readZalo reads /readyz and /metrics of the stage's service. The
// dashboard's banner is drawn from the same state as /readyz's "zalo"
// (server.zaloAlerts; web.TestZaloAlertBanner checks the drawing).
func (s *stage) readZalo() zaloReadings {
	var r zaloReadings
	hc := &http.Client{Timeout: 2 * time.Second}
	base := s.svcs[0].url()
	if resp, err := hc.Get(base + "/readyz"); err == nil {
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		r.status, r.readyz = resp.StatusCode, body["zalo"]
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, err := hc.Do(req)
	if err != nil {
		return r
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case name == `cnsbot_zalo_alert{kind="setup"}`:
			r.alert = v
		case strings.HasPrefix(name, "cnsbot_zalo_setup_faults_total"):
			r.setup += v
		case strings.HasPrefix(name, "cnsbot_zalo_degraded_total"):
			r.degraded += v
		}
	}
	return r
}

// reminderOutcome counts the reminders of a mode scenario by how they
// ended, from the delivery log and the fake.
type reminderOutcome struct {
	// states counts delivery rows by state; viaTransaction those sent as
	// transaction messages.
	states         map[string]int
	viaTransaction int
	// unrecorded are leaders without any delivery row; unseen are rows
	// that say sent or fallback with nothing at the fake to show for it.
	unrecorded, unseen []string
	// insideByPath counts the reminders of leaders inside the window by
	// path, outsideByPath those outside.
	insideByPath, outsideByPath map[string]int
}

func (o reminderOutcome) reached() int {
	return o.states[store.StateSent] + o.states[store.StateFallback]
}

func (o reminderOutcome) String() string {
	var parts []string
	for _, k := range sortedKeys(o.states) {
		parts = append(parts, fmt.Sprintf("%s %d", k, o.states[k]))
	}
	return fmt.Sprintf("%s (via transaction %d); inside the window %v, outside %v", strings.Join(parts, ", "),
		o.viaTransaction, o.insideByPath, o.outsideByPath)
}

// reminderOutcomes reads the delivery row of every leader's reminder and
// checks it against what the fake accepted.
func (s *stage) reminderOutcomes(t *testing.T) reminderOutcome {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, s.dbURL, "", nil)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	sqlDB, err := db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sqlDB.QueryContext(ctx, "SELECT recipient, state, reason FROM deliveries WHERE purpose = $1", "reminder")
	if err != nil {
		t.Fatalf("read deliveries: %v", err)
	}
	defer rows.Close()
	type row struct{ state, reason string }
	byRecipient := map[string][]row{}
	for rows.Next() {
		var rec string
		var r row
		if err := rows.Scan(&rec, &r.state, &r.reason); err != nil {
			t.Fatal(err)
		}
		byRecipient[rec] = append(byRecipient[rec], r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	o := reminderOutcome{states: map[string]int{}, insideByPath: map[string]int{}, outsideByPath: map[string]int{}}
	for i, id := range s.leaders {
		rs := byRecipient[cnsbot.Recipient{UserID: id}.String()]
		if len(rs) == 0 {
			o.unrecorded = append(o.unrecorded, id)
			continue
		}
		r := rs[0]
		o.states[r.state]++
		path := r.state
		msgs := s.rec.Messages(id)
		switch {
		case r.state == store.StateSent && strings.HasPrefix(r.reason, "via_transaction"):
			o.viaTransaction++
			path = "transaction"
			if len(msgs) != 1 || msgs[0].Kind != zalotest.KindTransaction {
				o.unseen = append(o.unseen, fmt.Sprintf("leader %d: sent via transaction, fake has %d messages", i+1, len(msgs)))
			}
		case r.state == store.StateSent:
			if len(msgs) != 1 {
				o.unseen = append(o.unseen, fmt.Sprintf("leader %d: sent, fake has %d messages", i+1, len(msgs)))
			}
		case r.state == store.StateFallback:
			if s.rec.GroupCount(fmt.Sprintf("77%05d", i+1)) == 0 {
				o.unseen = append(o.unseen, fmt.Sprintf("leader %d: fallback, the team's group got nothing", i+1))
			}
		}
		if s.outside[id] {
			o.outsideByPath[path]++
		} else {
			o.insideByPath[path]++
		}
	}
	return o
}

// checkMode checks what each mode promises beyond the transcript check.
func (s *stage) checkMode(mode zalotest.Mode, r result, during, after zaloReadings, o reminderOutcome) {
	t := s.t
	n := len(s.leaders)
	inside, outside := n-len(s.outside), len(s.outside)
	if len(o.unrecorded) > 0 {
		t.Errorf("%d leader(s) have no delivery record of their reminder (dropped without a trace): %v", len(o.unrecorded), o.unrecorded)
	}
	if len(o.unseen) > 0 {
		t.Errorf("delivery records the fake does not bear out: %v", o.unseen)
	}
	if got := o.insideByPath[store.StateSent]; got != inside {
		t.Errorf("leaders inside the window reminded directly: %d of %d (%v)", got, inside, o.insideByPath)
	}
	wantOutside := "transaction"
	if mode == zalotest.ModeTransactionRefused {
		wantOutside = store.StateFallback
	}
	if got := o.outsideByPath[wantOutside]; got != outside {
		t.Errorf("leaders outside the window reminded by %s: %d of %d (%v)", wantOutside, got, outside, o.outsideByPath)
	}
	switch mode {
	case zalotest.ModeListsRefused:
		for i := range 3 {
			for _, m := range s.tr.Step(i) {
				if m.Kind == zalotest.KindList {
					t.Errorf("answer %d has a list in the lists-refused mode: %q", i, m.Text)
				}
			}
		}
		if after.degraded == 0 {
			t.Errorf("cnsbot_zalo_degraded_total is 0 though every menu went as text")
		}
	case zalotest.ModeSetupFault:
		if during.alert != 1 || !strings.Contains(during.readyz, fmt.Sprintf("setup fault %d", zalotest.SetupFaultCode)) {
			t.Errorf("during the setup fault: alert gauge %v, /readyz zalo %q; want 1 and the fault named", during.alert, during.readyz)
		}
		if during.status != http.StatusOK {
			t.Errorf("/readyz answered %d during the setup fault; want 200 (the webhook must keep taking events)", during.status)
		}
		if after.setup == 0 {
			t.Errorf("cnsbot_zalo_setup_faults_total is 0 after a setup fault")
		}
		if after.alert != 0 || after.readyz != "" {
			t.Errorf("after the fault: alert gauge %v, /readyz zalo %q; want both clear", after.alert, after.readyz)
		}
		if held := o.states[store.StateHeld]; held > 0 {
			t.Errorf("%d reminder(s) still held after the fault cleared", held)
		}
	}
	_ = r
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
