package reminder_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

const (
	teamKey     = "2025Q3:team:commune"
	communeKey  = "2025Q3:commune:district"
	districtKey = "2025Q3:district:department"
)

// quarterQ3 is what a quarter of hourly passes sends under plan 220.
func (e *env) quarterQ3() []string {
	w := e.w
	return []string{
		"09-09 08:00 " + id(teamKey, w.a, "7"),
		"09-09 08:00 " + id(teamKey, w.b, "7"),
		"09-13 08:00 " + id(teamKey, w.a, "3"),
		"09-13 08:00 " + id(teamKey, w.b, "3"),
		"09-14 08:00 " + id(communeKey, w.o, "7"),
		"09-15 08:00 " + id(teamKey, w.a, "1"),
		"09-15 08:00 " + id(teamKey, w.b, "1"),
		"09-16 08:00 " + id(teamKey, w.a, "overdue"),
		"09-16 08:00 " + id(teamKey, w.b, "overdue"),
		"09-16 08:00 " + id(teamKey, w.o, "escalate"),
		"09-18 08:00 " + id(communeKey, w.o, "3"),
		"09-19 08:00 " + id(districtKey, w.p, "7"),
		"09-20 08:00 " + id(communeKey, w.o, "1"),
		"09-21 08:00 " + id(communeKey, w.o, "overdue"),
		"09-21 08:00 " + id(communeKey, w.p, "escalate"),
		"09-23 08:00 " + id(districtKey, w.p, "3"),
		"09-25 08:00 " + id(districtKey, w.p, "1"),
		"09-26 08:00 " + id(districtKey, w.p, "overdue"),
	}
}

func TestQuarter(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	got := e.run("2025-09-01 00:00", "2025-10-10 22:00", 2*time.Hour)
	if want := e.quarterQ3(); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	w := e.w
	// B has no Zalo account: B's messages went to the team's group.
	for _, m := range e.push.all() {
		switch {
		case strings.Contains(m.ID, fmt.Sprintf(":%d:", w.b.ID)):
			if m.To.GroupID != "g2" || m.FallbackGroup != "" {
				t.Errorf("%s to %v (fallback %q), want group g2", m.ID, m.To, m.FallbackGroup)
			}
		case strings.Contains(m.ID, fmt.Sprintf(":%d:", w.a.ID)):
			if m.To.UserID != "za" || m.FallbackGroup != "g1" {
				t.Errorf("%s to %v (fallback %q), want za with fallback g1", m.ID, m.To, m.FallbackGroup)
			}
		}
		if m.Purpose != "reminder" || !strings.HasPrefix(m.ID, "reminder:"+m.Ref+":") {
			t.Errorf("%s: purpose %q ref %q", m.ID, m.Purpose, m.Ref)
		}
	}
	wantStates := map[string]string{
		fmt.Sprintf("%d/7", w.a.ID): "queued", fmt.Sprintf("%d/3", w.a.ID): "queued",
		fmt.Sprintf("%d/1", w.a.ID): "queued", fmt.Sprintf("%d/overdue", w.a.ID): "queued",
		fmt.Sprintf("%d/7", w.b.ID): "fallback", fmt.Sprintf("%d/3", w.b.ID): "fallback",
		fmt.Sprintf("%d/1", w.b.ID): "fallback", fmt.Sprintf("%d/overdue", w.b.ID): "fallback",
		fmt.Sprintf("%d/escalate", w.o.ID): "queued",
	}
	if got := e.states(teamKey); !reflect.DeepEqual(got, wantStates) {
		t.Errorf("states %v, want %v", got, wantStates)
	}
}

// The messages themselves, against golden files.
func TestMessages(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	e.run("2025-09-09 08:00", "2025-09-09 08:00", time.Hour)
	e.run("2025-09-15 08:00", "2025-09-15 08:00", time.Hour)
	e.run("2025-09-16 08:00", "2025-09-16 08:00", time.Hour)
	e.run("2025-09-21 08:00", "2025-09-21 08:00", time.Hour)
	byID := map[string]cnsbot.Outgoing{}
	for _, m := range e.push.all() {
		byID[m.ID] = m
	}
	w := e.w
	for name, msgID := range map[string]string{
		"reminder_7_team.json":         id(teamKey, w.a, "7"),
		"reminder_1_team.json":         id(teamKey, w.a, "1"), // the last day
		"overdue_team_group.json":      id(teamKey, w.b, "overdue"),
		"escalate_commune.json":        id(teamKey, w.o, "escalate"),
		"escalate_province_en.json":    id(communeKey, w.p, "escalate"),
		"overdue_commune_officer.json": id(communeKey, w.o, "overdue"),
	} {
		m, ok := byID[msgID]
		if !ok {
			t.Errorf("%s: no message %s", name, msgID)
			continue
		}
		// IDs depend on the database's sequences: compare the rest.
		m.ID, m.Ref = "", ""
		golden(t, name, m)
	}
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	flowstest.Golden(t, filepath.Join("testdata", name), string(got)+"\n")
}

// Downtime: a reminder missed is caught up while the deadline is ahead,
// and recorded as dropped once it has passed.
func TestDowntime(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	got := e.run("2025-09-01 00:00", "2025-09-17 00:00", time.Hour,
		[2]string{"2025-09-08 00:00", "2025-09-14 10:00"},
		[2]string{"2025-09-15 07:00", "2025-09-16 09:00"})
	w := e.w
	want := []string{
		// Back at 10:00 on the 14th: the 3-day reminder, not the 7-day one too.
		"09-14 10:00 " + id(teamKey, w.a, "3"),
		"09-14 10:00 " + id(teamKey, w.b, "3"),
		// The commune's 7-day reminder was due at 08:00 that day: caught up.
		"09-14 10:00 " + id(communeKey, w.o, "7"),
		// The 1-day reminders fell in the downtime, past the deadline.
		"09-16 09:00 " + id(teamKey, w.a, "overdue"),
		"09-16 09:00 " + id(teamKey, w.b, "overdue"),
		"09-16 09:00 " + id(teamKey, w.o, "escalate"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantStates := map[string]string{
		fmt.Sprintf("%d/7", w.a.ID): "dropped_late", fmt.Sprintf("%d/3", w.a.ID): "queued",
		fmt.Sprintf("%d/1", w.a.ID): "dropped_late", fmt.Sprintf("%d/overdue", w.a.ID): "queued",
		fmt.Sprintf("%d/7", w.b.ID): "dropped_late", fmt.Sprintf("%d/3", w.b.ID): "fallback",
		fmt.Sprintf("%d/1", w.b.ID): "dropped_late", fmt.Sprintf("%d/overdue", w.b.ID): "fallback",
		fmt.Sprintf("%d/escalate", w.o.ID): "queued",
	}
	if got := e.states(teamKey); !reflect.DeepEqual(got, wantStates) {
		t.Errorf("states %v, want %v", got, wantStates)
	}
}

// A long downtime: the overdue notices' window passed too.
func TestDowntimePastOverdue(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	got := e.run("2025-09-23 10:00", "2025-09-23 10:00", time.Hour)
	w := e.w
	// Only what is still useful: the commune's deadline (21st) is within
	// its overdue window, and the district's 3-day reminder (due at 08:00)
	// is caught up.
	want := []string{
		"09-23 10:00 " + id(communeKey, w.o, "overdue"),
		"09-23 10:00 " + id(communeKey, w.p, "escalate"),
		"09-23 10:00 " + id(districtKey, w.p, "3"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The team deadline's (16th) overdue window ended on the 23rd at 08:00.
	wantStates := map[string]string{}
	for _, p := range []cnsbot.Person{w.a, w.b} {
		for _, off := range []string{"7", "3", "1", "overdue"} {
			wantStates[fmt.Sprintf("%d/%s", p.ID, off)] = "dropped_late"
		}
	}
	wantStates[fmt.Sprintf("%d/escalate", w.o.ID)] = "dropped_late"
	if got := e.states(teamKey); !reflect.DeepEqual(got, wantStates) {
		t.Errorf("states %v, want %v", got, wantStates)
	}
	wantStates = map[string]string{
		fmt.Sprintf("%d/7", w.p.ID): "dropped_late", fmt.Sprintf("%d/3", w.p.ID): "queued",
	}
	if got := e.states(districtKey); !reflect.DeepEqual(got, wantStates) {
		t.Errorf("district states %v, want %v", got, wantStates)
	}
}

// Nothing goes out in the quiet hours: the pass waits for the morning.
func TestQuietHours(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	got := e.run("2025-09-13 22:00", "2025-09-14 07:00", time.Hour)
	w := e.w
	want := []string{
		"09-14 06:00 " + id(teamKey, w.a, "3"),
		"09-14 06:00 " + id(teamKey, w.b, "3"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// "Đã nộp" stops the reminders of that team, and the commune hears only
// about the team that is late.
func TestSubmissionStopsReminders(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	w := e.w
	ctx := context.Background()
	e.run("2025-09-09 00:00", "2025-09-10 12:00", time.Hour)
	names, err := e.reminders().Submit(ctx, teamKey, w.a.ID, e.at("2025-09-10 12:30"))
	if err != nil || !reflect.DeepEqual(names, []string{w.team1.Name}) {
		t.Fatalf("Submit = %v, %v, want [%s]", names, err, w.team1.Name)
	}
	reply := e.texts.T("vi", "calendar.submit.done", map[string]any{
		"Reporter": strings.Join(names, ", "), "Quarter": calendar.QuarterLabel(e.texts, "vi", "2025Q3")})
	if want := "Đã ghi nhận: Tổ Ấp 1 đã nộp báo cáo quý 3/2025. Cảm ơn bạn!"; reply != want {
		t.Errorf("reply %q, want %q", reply, want)
	}
	// Again: nothing changes.
	if _, err := e.reminders().Submit(ctx, teamKey, w.a.ID, e.at("2025-09-11 12:30")); err != nil {
		t.Fatal(err)
	}
	got := e.run("2025-09-10 13:00", "2025-09-17 00:00", time.Hour)
	want := []string{
		"09-13 08:00 " + id(teamKey, w.b, "3"),
		"09-14 08:00 " + id(communeKey, w.o, "7"),
		"09-15 08:00 " + id(teamKey, w.b, "1"),
		"09-16 08:00 " + id(teamKey, w.b, "overdue"),
		"09-16 08:00 " + id(teamKey, w.o, "escalate"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, m := range e.push.all() {
		if m.ID == id(teamKey, w.o, "escalate") && (strings.Contains(m.Text, w.team1.Name) || !strings.Contains(m.Text, w.team2.Name)) {
			t.Errorf("escalation lists %q, want only %s", m.Text, w.team2.Name)
		}
	}
	subs, err := e.db.Submissions(ctx, teamKey)
	if err != nil || len(subs) != 1 || !subs[0].SubmittedAt.Equal(e.at("2025-09-10 12:30")) {
		t.Errorf("submissions %+v, %v", subs, err)
	}
}

func TestSubmitErrors(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	ctx := context.Background()
	tests := []struct {
		name   string
		key    string
		person int64
		code   string
	}{
		{"officer on a team's deadline", teamKey, e.w.o.ID, cnsbot.EUNAUTHORIZED},
		{"member", teamKey, e.w.member.ID, cnsbot.EUNAUTHORIZED},
		{"step not in the schedule", "2025Q3:commune:department", e.w.o.ID, cnsbot.EINVALID},
		{"not a key", "2025Q3", e.w.a.ID, cnsbot.EINVALID},
	}
	for _, tt := range tests {
		_, err := e.reminders().Submit(ctx, tt.key, tt.person, time.Now())
		if got := cnsbot.ErrorCode(err); got != tt.code {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
	// The commune officer submits the commune's own report.
	names, err := e.reminders().Submit(ctx, communeKey, e.w.o.ID, time.Now())
	if err != nil || !reflect.DeepEqual(names, []string{e.w.commune.Name}) {
		t.Errorf("commune submit = %v, %v", names, err)
	}
}

// A dry run changes nothing and says what a pass would do.
func TestDryRun(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	w := e.w
	rep, err := e.reminders().Pass(context.Background(), e.at("2025-09-16 09:00"), true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range rep.Items {
		got = append(got, it.Deadline+" "+it.Name+" "+it.Offset+" "+it.Action)
	}
	want := []string{
		teamKey + " " + w.a.FullName + " 7 dropped_late",
		teamKey + " " + w.a.FullName + " 3 dropped_late",
		teamKey + " " + w.a.FullName + " 1 dropped_late",
		teamKey + " " + w.a.FullName + " overdue queued",
		teamKey + " " + w.b.FullName + " 7 dropped_late",
		teamKey + " " + w.b.FullName + " 3 dropped_late",
		teamKey + " " + w.b.FullName + " 1 dropped_late",
		teamKey + " " + w.b.FullName + " overdue group",
		teamKey + " " + w.o.FullName + " escalate queued",
		communeKey + " " + w.o.FullName + " 7 queued",
	}
	if !rep.DryRun || rep.Schedule != "plan220" || !reflect.DeepEqual(got, want) {
		t.Errorf("report %v %q\n%s\nwant\n%s", rep.DryRun, rep.Schedule, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := e.push.count(); n != 0 {
		t.Errorf("dry run queued %d messages", n)
	}
	if s := e.states(teamKey); len(s) != 0 {
		t.Errorf("dry run recorded %v", s)
	}
}

// The default chain since July 2025: the commune reports to the
// Department of Science and Technology, and no message speaks of a
// district.
func TestMessagesTwoLevel(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	if err := e.db.SaveSchedule(context.Background(), calendar.Default(), "test"); err != nil {
		t.Fatal(err)
	}
	e.run("2026-06-08 08:00", "2026-06-27 08:00", time.Hour)
	byID := map[string]cnsbot.Outgoing{}
	district := regexp.MustCompile(`(?i)huyện|district`)
	for _, m := range e.push.all() {
		byID[m.ID] = m
		for _, text := range []string{m.Text, m.Subtitle} {
			if district.MatchString(text) {
				t.Errorf("%s speaks of a district: %q", m.ID, text)
			}
		}
	}
	w := e.w
	const communeKey2 = "2026Q2:commune:department"
	for name, msgID := range map[string]string{
		"two_level_reminder_7_commune.json":   id(communeKey2, w.o, "7"),
		"two_level_escalate_province_en.json": id(communeKey2, w.p, "escalate"),
	} {
		m, ok := byID[msgID]
		if !ok {
			t.Errorf("%s: no message %s", name, msgID)
			continue
		}
		m.ID, m.Ref = "", ""
		golden(t, name, m)
	}
}

// An edited schedule: two levels, other offsets and hour.
func TestEditedSchedule(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	s := calendar.TwoLevel()
	s.Name, s.Offsets, s.Hour = "edited", []int{2}, 9
	if err := e.db.SaveSchedule(context.Background(), s, "test"); err != nil {
		t.Fatal(err)
	}
	w := e.w
	got := e.run("2025-12-10 00:00", "2025-12-27 00:00", time.Hour)
	key2 := "2025Q4:commune:department"
	want := []string{
		"12-14 09:00 " + id("2025Q4:team:commune", w.a, "2"),
		"12-14 09:00 " + id("2025Q4:team:commune", w.b, "2"),
		"12-16 09:00 " + id("2025Q4:team:commune", w.a, "overdue"),
		"12-16 09:00 " + id("2025Q4:team:commune", w.b, "overdue"),
		"12-16 09:00 " + id("2025Q4:team:commune", w.o, "escalate"),
		"12-24 09:00 " + id(key2, w.o, "2"),
		"12-26 09:00 " + id(key2, w.o, "overdue"),
		"12-26 09:00 " + id(key2, w.p, "escalate"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Several schedulers at once (replicas), restarted at every step: every
// reminder goes out exactly once.
func TestConcurrentSchedulers(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			start := e.at("2025-09-01 00:00")
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() {
					for now := start; now.Before(e.at("2025-10-05 00:00")); now = now.Add(6 * time.Hour) {
						if _, err := e.reminders().Pass(context.Background(), now, false); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			counts := map[string]int{}
			for _, m := range e.push.all() {
				counts[m.ID]++
			}
			want := map[string]int{}
			for _, line := range e.quarterQ3() {
				want[strings.Fields(line)[2]] = 1
			}
			if !reflect.DeepEqual(counts, want) {
				t.Errorf("messages %v, want each of %v once", counts, want)
			}
		})
	}
}

// A pass that claimed a reminder but could not queue it leaves the row
// planned; a later pass takes it over once it is stale, and only then.
func TestRetakeAfterFailedPush(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	w := e.w
	ctx := context.Background()
	e.push.fail = errors.New("redis down")
	now := e.at("2025-09-09 08:00")
	rep, err := e.reminders().Pass(ctx, now, false)
	if err == nil || len(rep.Items) != 2 || rep.Items[0].Action != reminder.ActionFailed {
		t.Fatalf("failing pass: %+v, %v", rep.Items, err)
	}
	e.push.fail = nil
	// Fresh claims are someone else's work in progress: not retaken.
	if _, err := e.reminders().Pass(ctx, now.Add(5*time.Minute), false); err != nil || e.push.count() != 0 {
		t.Fatalf("pass retook fresh claims: %d messages, %v", e.push.count(), err)
	}
	later := reminder.New(e.db, e.push, e.texts, reminder.Options{Location: e.loc,
		Clock: func() time.Time { return time.Now().Add(reminder.DefaultStaleAfter + time.Minute) }})
	if _, err := later.Pass(ctx, now.Add(15*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range e.push.all() {
		got[m.ID] = true
	}
	if want := map[string]bool{id(teamKey, w.a, "7"): true, id(teamKey, w.b, "7"): true}; !reflect.DeepEqual(got, want) {
		t.Errorf("retaken %v, want %v", got, want)
	}
	if s := e.states(teamKey); s[fmt.Sprintf("%d/7", w.a.ID)] != "queued" {
		t.Errorf("states %v", s)
	}
}

func TestQuarterReport(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	ctx := context.Background()
	for name, c := range map[string]struct {
		person int64
		lang   string
	}{
		"report_leader.txt":      {e.w.a.ID, "vi"},
		"report_officer_en.txt":  {e.w.o.ID, "en"},
		"report_province_vi.txt": {e.w.p.ID, ""},
	} {
		got, err := e.reminders().QuarterReport(ctx, c.person, "2025q3", c.lang)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		goldenText(t, name, got)
	}
	if _, err := e.reminders().QuarterReport(ctx, e.w.member.ID, "2025Q3", "vi"); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
		t.Errorf("member: got %v, want %s", err, cnsbot.EUNAUTHORIZED)
	}
	if _, err := e.reminders().QuarterReport(ctx, e.w.a.ID, "2025", "vi"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
		t.Errorf("bad quarter: got %v, want %s", err, cnsbot.EINVALID)
	}
}

func goldenText(t *testing.T, name, got string) {
	t.Helper()
	flowstest.Golden(t, filepath.Join("testdata", name), got+"\n")
}

// A team with two leaders: both are reminded, either one's "Đã nộp"
// covers the team, and the commune's list names the team once.
func TestTwoLeaders(t *testing.T) {
	e := newEnv(t, openStore(t, "", t.TempDir()))
	w := e.w
	ctx := context.Background()
	zalo := "zb2"
	b2 := cnsbot.Person{FullName: "Hồ Văn Giàu", Phone: "+84912345679", ZaloUserID: &zalo}
	create(t, e.db, &b2)
	role := cnsbot.Role{PersonID: b2.ID, Role: cnsbot.RoleLeader, UnitID: w.hamlet2.ID, TeamID: &w.team2.ID, Approved: true}
	create(t, e.db, &role)
	got := e.run("2025-09-09 08:00", "2025-09-09 08:00", time.Hour)
	want := []string{
		"09-09 08:00 " + id(teamKey, w.a, "7"),
		"09-09 08:00 " + id(teamKey, w.b, "7"),
		"09-09 08:00 " + id(teamKey, b2, "7"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = e.run("2025-09-16 08:00", "2025-09-16 08:00", time.Hour)
	for _, m := range e.push.all() {
		if m.ID == id(teamKey, w.o, "escalate") {
			if want := "• Tổ Ấp 2 (Trần Thị Bình, Hồ Văn Giàu)"; !strings.Contains(m.Text, want) {
				t.Errorf("escalation %q lacks %q", m.Text, want)
			}
		}
	}
	if len(got) != 5 { // three overdue notices, the escalation, the commune's 7-day reminder
		t.Errorf("got %v, want 5 messages", got)
	}
	if _, err := e.reminders().Submit(ctx, "2025Q4:team:commune", b2.ID, e.at("2025-12-10 09:00")); err != nil {
		t.Fatal(err)
	}
	got = e.run("2025-12-09 08:00", "2025-12-16 08:00", 24*time.Hour)
	q4 := "2025Q4:team:commune"
	want = []string{ // nothing for B or B2: their team's report is in
		"12-09 08:00 " + id(q4, w.a, "7"),
		"12-13 08:00 " + id(q4, w.a, "3"),
		"12-14 08:00 " + id("2025Q4:commune:district", w.o, "7"),
		"12-15 08:00 " + id(q4, w.a, "1"),
		"12-16 08:00 " + id(q4, w.a, "overdue"),
		"12-16 08:00 " + id(q4, w.o, "escalate"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after B2 submitted for team 2: got %v, want %v", got, want)
	}
	for _, m := range e.push.all() {
		if m.ID == id(q4, w.o, "escalate") && (strings.Contains(m.Text, w.team2.Name) || !strings.Contains(m.Text, w.team1.Name)) {
			t.Errorf("Q4 escalation %q, want only %s", m.Text, w.team1.Name)
		}
	}
}
