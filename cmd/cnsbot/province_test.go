package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
)

// provinceDBEnv names a database already filled by `cnsbot demo --scale
// province`: TestProvinceScale then measures it against the budgets
// themselves, instead of generating a reduced province and allowing three
// times the budgets.
const provinceDBEnv = "CNSBOT_PROVINCE_DB"

// provinceDirEnv names instead the data directory of an embedded SQLite
// database filled the same way (DATA_DIR=… cnsbot demo --scale province).
const provinceDirEnv = "CNSBOT_PROVINCE_DATA_DIR"

// scaleProbe is one thing measured and its budget at a province's scale.
type scaleProbe struct {
	name   string
	budget time.Duration
	runs   int
	do     func() error
}

// TestProvinceScale measures every dashboard page and /admin/api endpoint,
// the quarterly report, a leader's and a member's questions and a reminder
// pass on a generated province (issue 19), and fails when one's p95 is over
// its budget: the median held to three times the budget on the reduced
// province CI generates (a fifteenth of the visits, on a shared machine;
// nine times under -race), the p95 to the budget itself on a whole province
// named by $CNSBOT_PROVINCE_DB.
//
//	CNSBOT_PROVINCE_DB=postgres://…/province go test -run TestProvinceScale -v ./cmd/cnsbot/
func TestProvinceScale(t *testing.T) {
	if testing.Short() {
		t.Skip("province scale: not in -short")
	}
	ctx := context.Background()
	cfg := postgresConfig(t)
	// Three budgets on the reduced province, and three times that under
	// -race, whose cost on rendering pages (not on the database) took a
	// page of 200 help requests from 70 ms to 1 s on a loaded machine.
	slack, runs := 3.0*raceSlowdown, 5
	full := os.Getenv(provinceDBEnv)
	if full != "" {
		cfg.DatabaseURL, slack, runs = full, 1, 20
	}
	if dir := os.Getenv(provinceDirEnv); dir != "" {
		cfg = embeddedConfig(t)
		cfg.DataDir, full, slack, runs = dir, dir, 1, 10
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var officer int64
	if full == "" {
		start := time.Now()
		if officer, err = db.GenerateProvince(ctx, store.ReducedProvince(time.Now()), nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("generated a reduced province in %s", time.Since(start).Round(time.Millisecond))
	} else if officer, err = db.GeneratedOfficer(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := db.IssueOfficerToken(ctx, officer, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := startWeb(t, cfg, WebConfig{})
	cookie := signIn(t, r.url, tok.Token)

	var pr struct {
		Communes []struct{ ID int64 } `json:"communes"`
	}
	if st := call(t, http.MethodGet, r.url+"/admin/api/progress", tok.Token, nil, &pr); st != http.StatusOK || len(pr.Communes) == 0 {
		t.Fatalf("progress: status %d, %d communes", st, len(pr.Communes))
	}
	commune := strconv.FormatInt(pr.Communes[len(pr.Communes)/2].ID, 10)
	sizes := map[string]int64{}
	get := func(path string, page bool) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodGet, r.url+path, nil)
			if page {
				req.Header.Set("Cookie", cookie)
			} else {
				req.Header.Set("Authorization", "Bearer "+tok.Token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			n, _ := io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK || n < 10 {
				return fmt.Errorf("GET %s: status %d, %d bytes", path, resp.StatusCode, n)
			}
			sizes[path] = n
			return nil
		}
	}
	ms := 300 * time.Millisecond
	var probes []scaleProbe
	for _, p := range []struct {
		path string
		page bool
	}{
		{"/admin", true}, {"/admin/communes/" + commune, true}, {"/admin/help", true}, {"/admin/calendar", true},
		{"/admin/visits", true},
		{"/admin/api/progress", false}, {"/admin/api/progress?commune=" + commune, false},
		{"/admin/api/indicators", false}, {"/admin/api/indicators?commune=" + commune, false},
		{"/admin/api/help-requests", false}, {"/admin/api/help-requests?commune=" + commune + "&status=open,taken", false},
		{"/admin/api/visits", false}, {"/admin/api/visits?commune=" + commune, false},
		{"/admin/api/deadlines", false}, {"/admin/api/deliveries", false}, {"/admin/api/schedule", false},
	} {
		probes = append(probes, scaleProbe{name: "GET " + p.path, budget: ms, runs: runs, do: get(p.path, p.page)})
	}
	loc := vietnam
	q := calendar.Quarter(time.Now().In(loc))
	for _, f := range []string{"xlsx", "csv"} {
		probes = append(probes,
			scaleProbe{name: "GET /admin/api/report?format=" + f, budget: 5 * time.Second, runs: max(2, runs/5),
				do: get("/admin/api/report?format="+f+"&quarter="+q, false)},
			scaleProbe{name: "GET /admin/api/report?format=" + f + "&commune=…", budget: time.Second, runs: max(3, runs/2),
				do: get("/admin/api/report?format="+f+"&quarter="+q+"&commune="+commune, false)})
	}

	// What the chat answers from: a leader's and a province officer's
	// "báo cáo quý", a leader's "tiến độ" and a member's "tuần của tôi".
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	rem := reminder.New(db, discardPusher{}, texts, reminder.Options{Location: loc})
	leaders, err := db.ResponsibleFor(ctx, calendar.LevelTeam)
	if err != nil || len(leaders) == 0 {
		t.Fatalf("leaders: %v (%d)", err, len(leaders))
	}
	leader := leaders[len(leaders)/2]
	officers, err := db.ResponsibleFor(ctx, calendar.LevelCommune)
	if err != nil || len(officers) == 0 {
		t.Fatalf("commune officers: %v (%d)", err, len(officers))
	}
	var member int64
	sqlDB, err := db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.QueryRowContext(ctx, `SELECT person_id FROM roles WHERE role = 'member' ORDER BY id LIMIT 1`).Scan(&member); err != nil {
		t.Fatal(err)
	}
	week := time.Now().In(loc).AddDate(0, 0, -3)
	probes = append(probes,
		scaleProbe{name: "chat: leader's báo cáo quý", budget: 200 * time.Millisecond, runs: runs, do: func() error {
			_, err := rem.QuarterReport(ctx, leader.PersonID, q, "vi")
			return err
		}},
		scaleProbe{name: "chat: commune officer's báo cáo quý", budget: 200 * time.Millisecond, runs: runs, do: func() error {
			_, err := rem.QuarterReport(ctx, officers[0].PersonID, q, "vi")
			return err
		}},
		scaleProbe{name: "chat: leader's tiến độ", budget: 200 * time.Millisecond, runs: runs, do: func() error {
			_, _, err := db.TeamProgress(ctx, *leader.TeamID)
			return err
		}},
		scaleProbe{name: "chat: member's tuần của tôi", budget: 200 * time.Millisecond, runs: runs, do: func() error {
			_, _, err := db.MemberWeek(ctx, member, week)
			return err
		}},
		scaleProbe{name: "nudges: last activity of every member", budget: ms, runs: max(3, runs/2), do: func() error {
			_, err := db.LastActivity(ctx)
			return err
		}},
	)
	// Progress per area of the plan (issue 16): a leader's lines of "tiến
	// độ", and the commune page's table of hamlets × areas.
	team, err := db.Team(ctx, *leader.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	communeID, _ := strconv.ParseInt(commune, 10, 64)
	probes = append(probes,
		scaleProbe{name: "chat: leader's tiến độ by area", budget: 200 * time.Millisecond, runs: runs, do: func() error {
			_, _, err := db.HamletAreaGuided(ctx, team.HamletID)
			return err
		}},
		scaleProbe{name: "commune page: progress by area", budget: ms, runs: runs, do: func() error {
			hs, err := db.AreaProgress(ctx, communeID, 0)
			if err == nil && len(hs) == 0 {
				err = fmt.Errorf("no hamlets in commune %d", communeID)
			}
			return err
		}},
	)
	// A reminder pass at a moment each team's leaders are reminded: once,
	// since it records what it sent. A dry run computes the same messages.
	sched, err := db.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	for _, d := range sched.QuarterDeadlines(q, loc) {
		if rs := sched.Reminders(d); d.From == calendar.LevelTeam && len(rs) > 0 {
			at = rs[len(rs)-1].At.Add(time.Minute)
			break
		}
	}
	if at.IsZero() {
		t.Fatalf("no team reminder in %s", q)
	}
	probes = append(probes, scaleProbe{name: "reminder pass (dry run), " + strconv.Itoa(len(leaders)) + " leaders",
		budget: 30 * time.Second, runs: 1, do: func() error {
			rep, err := rem.Pass(ctx, at, true)
			if err == nil && len(rep.Items) < len(leaders)/2 {
				err = fmt.Errorf("%d reminders for %d leaders", len(rep.Items), len(leaders))
			}
			return err
		}})

	t.Logf("| what | runs | p50 | p95 | budget | bytes |")
	t.Logf("|---|---|---|---|---|---|")
	for _, p := range probes {
		if err := p.do(); err != nil { // warm up, and check it works
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		var took []time.Duration
		for range p.runs {
			start := time.Now()
			if err := p.do(); err != nil {
				t.Errorf("%s: %v", p.name, err)
				break
			}
			took = append(took, time.Since(start))
		}
		if len(took) == 0 {
			continue
		}
		slices.Sort(took)
		p50, p95 := took[len(took)/2], took[min(len(took)-1, (len(took)*95+99)/100-1)]
		size := ""
		if n := sizes[strings.TrimPrefix(p.name, "GET ")]; n > 0 {
			size = strconv.FormatInt(n, 10)
		}
		t.Logf("| %s | %d | %s | %s | %s | %s |", p.name, len(took), round(p50), round(p95), p.budget, size)
		// On the reduced province, on a shared machine under -race, a
		// spike of the machine's is no regression of the code's: the
		// median is held to three budgets. A whole province is held to
		// the budget itself at p95.
		if slack > 1 {
			if limit := time.Duration(slack * float64(p.budget)); p50 > limit {
				t.Errorf("%s: p50 %s, over %s (%.0f× the budget of %s)", p.name, round(p50), limit, slack, p.budget)
			}
		} else if p95 > p.budget {
			t.Errorf("%s: p95 %s, over the budget of %s", p.name, round(p95), p.budget)
		}
	}
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// signIn opens a dashboard session with an officer token and returns its
// cookie, as a Cookie header.
func signIn(t *testing.T, base, token string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(base+"/admin/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var parts []string
	for _, ck := range resp.Cookies() {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if resp.StatusCode != http.StatusSeeOther || len(parts) == 0 {
		t.Fatalf("sign in: status %d, cookies %v", resp.StatusCode, parts)
	}
	return strings.Join(parts, "; ")
}

type discardPusher struct{}

func (discardPusher) Push(context.Context, ...cnsbot.Outgoing) error { return nil }
