package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
)

const testAdminToken = "admin-token-for-tests"

// fixture is a dashboard on a seeded demo database.
type fixture struct {
	db       *store.DB
	d        *Dashboard
	srv      *httptest.Server
	now      time.Time
	tanThanh cnsbot.Unit
	anXuyen  cnsbot.Unit
	officer  string // token of Tân Thành's officer
	zalo     ZaloAlerts
}

func vietnam(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	loc := vietnam(t)
	db, err := store.Open(ctx, "", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, loc)
	if err := db.SeedDemo(ctx, now); err != nil {
		t.Fatal(err)
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	export := func(ctx context.Context, w io.Writer, quarter, commune, format, lang string) error {
		r, err := report.Build(ctx, db, quarter, commune, loc)
		if err != nil {
			return err
		}
		switch format {
		case ExportCSV:
			return report.WriteCSV(w, r, texts, lang)
		case ExportCSVVietnamese:
			return report.WriteCSVVietnamese(w, r, texts, lang)
		}
		return report.WriteXLSX(w, r, texts, lang)
	}
	f := &fixture{db: db, now: now}
	d, err := NewDashboard(DashboardConfig{Store: db, Texts: texts, Location: loc, AdminToken: testAdminToken,
		Export: export, Now: func() time.Time { return f.now }, ZaloAlerts: func() ZaloAlerts { return f.zalo }})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	RegisterStatic(r)
	d.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	f.d, f.srv = d, srv
	f.tanThanh, _ = db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Tân Thành")
	f.anXuyen, _ = db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
	officer, _, err := db.PersonByPhone(ctx, "+84900009001")
	if err != nil {
		t.Fatal(err)
	}
	if f.officer, err = db.CreateOfficerToken(ctx, officer.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// secretOf returns the server-side session a cookie names.
func (f *fixture) secretOf(t *testing.T, c *http.Cookie) string {
	t.Helper()
	s, err := f.d.auth.unseal(c.Value, time.Now())
	if err != nil {
		t.Fatalf("unseal the session cookie: %v", err)
	}
	return s.Secret
}

// noRedirect keeps 303s visible to the test.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type auth0 struct {
	bearer string
	cookie *http.Cookie
}

func (f *fixture) do(t *testing.T, method, path string, a auth0, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	if a.cookie != nil {
		req.AddCookie(a.cookie)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// login signs in through the form and returns the session cookie.
func (f *fixture) login(t *testing.T, token string, header http.Header) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d, want 303", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

func TestEveryAdminRouteRefusesWithoutValidToken(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, testAdminToken, nil)
	officer := f.login(t, f.officer, nil)
	tt := strconv.FormatInt(f.tanThanh.ID, 10)
	ax := strconv.FormatInt(f.anXuyen.ID, 10)
	team, err := f.db.TeamByGroup(context.Background(), "8200000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	teamPath := "/admin/api/teams/" + strconv.FormatInt(team.ID, 10) + "/group"
	schedule, err := os.ReadFile("../examples/schedule-two-level.json")
	if err != nil {
		t.Fatal(err)
	}
	po, _, _ := f.db.PersonByPhone(context.Background(), "+84900009002")

	// Every route of the dashboard and the API, with what the
	// administrator and Tân Thành's officer get.
	routes := []struct {
		method, path, body string
		api                bool
		admin, officer     int
	}{
		{"GET", "/admin", "", false, 200, 200},
		{"GET", "/admin/communes/" + tt, "", false, 200, 200},
		{"GET", "/admin/communes/" + ax, "", false, 200, 403},
		{"GET", "/admin/help", "", false, 200, 200},
		{"GET", "/admin/help?commune=" + ax, "", false, 200, 403},
		{"GET", "/admin/calendar", "", false, 200, 200},
		{"GET", "/admin/calendar?quarter=2026Q3&commune=" + tt, "", false, 200, 200},
		{"GET", "/admin/visits", "", false, 200, 200},
		{"GET", "/admin/export?format=xlsx", "", false, 200, 200},
		{"GET", "/admin/export?format=csv&commune=" + ax, "", false, 200, 403},
		{"POST", "/admin/logout", "", false, 303, 303},
		{"GET", "/admin/api/progress", "", true, 200, 200},
		{"GET", "/admin/api/progress?commune=" + ax, "", true, 200, 403},
		{"GET", "/admin/api/indicators", "", true, 200, 200},
		{"GET", "/admin/api/help-requests?status=open", "", true, 200, 200},
		{"GET", "/admin/api/visits?limit=5", "", true, 200, 200},
		{"GET", "/admin/api/deadlines?quarter=2026Q3", "", true, 200, 200},
		{"GET", "/admin/api/deliveries", "", true, 200, 200},
		{"GET", "/admin/api/schedule", "", true, 200, 200},
		{"PUT", "/admin/api/schedule", string(schedule), true, 200, 403},
		{"PUT", teamPath, `{"group_id":"8200000000000000009"}`, true, 200, 403},
		{"POST", "/admin/api/officer-tokens", `{"person_id":` + strconv.FormatInt(po.ID, 10) + `}`, true, 201, 403},
		{"GET", "/admin/api/report?format=csv", "", true, 200, 200},
	}
	// The administrator's live session, in cookies that are forged,
	// signed with another key or expired.
	secret := f.secretOf(t, admin)
	forged := &http.Cookie{Name: sessionCookie, Value: f.d.auth.seal(session{Secret: secret, Expires: time.Now().Add(time.Hour).Unix()}) + "x"}
	other := newAuth("another-admin-token", nil)
	foreign := &http.Cookie{Name: sessionCookie, Value: other.seal(session{Secret: secret, Expires: time.Now().Add(time.Hour).Unix()})}
	expired := &http.Cookie{Name: sessionCookie, Value: f.d.auth.seal(session{Secret: secret, Expires: time.Now().Add(-time.Minute).Unix()})}
	for _, r := range routes {
		name := r.method + " " + r.path
		refusals := []struct {
			why string
			a   auth0
		}{
			{"no credentials", auth0{}},
			{"wrong bearer token", auth0{bearer: "wrong"}},
			{"bearer token one character short", auth0{bearer: testAdminToken[:len(testAdminToken)-1]}},
			{"unknown officer token", auth0{bearer: "cno_" + strings.Repeat("A", 43)}},
			{"forged session", auth0{cookie: forged}},
			{"session signed with another key", auth0{cookie: foreign}},
			{"expired session", auth0{cookie: expired}},
		}
		if r.api {
			refusals = append(refusals, struct {
				why string
				a   auth0
			}{"a page's session on the API", auth0{cookie: admin}})
		} else {
			refusals = append(refusals, struct {
				why string
				a   auth0
			}{"a bearer token on a page", auth0{bearer: testAdminToken}})
		}
		for _, ref := range refusals {
			if resp, _ := f.do(t, r.method, r.path, ref.a, r.body); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with %s: status %d, want 401", name, ref.why, resp.StatusCode)
			}
		}
		adminAuth, officerAuth := auth0{cookie: admin}, auth0{cookie: officer}
		if r.api {
			adminAuth, officerAuth = auth0{bearer: testAdminToken}, auth0{bearer: f.officer}
		}
		if resp, b := f.do(t, r.method, r.path, officerAuth, r.body); resp.StatusCode != r.officer {
			t.Errorf("%s as the officer: status %d, want %d: %.200s", name, resp.StatusCode, r.officer, b)
		}
		if resp, b := f.do(t, r.method, r.path, adminAuth, r.body); resp.StatusCode != r.admin {
			t.Errorf("%s as the administrator: status %d, want %d: %.200s", name, resp.StatusCode, r.admin, b)
		}
	}
}

func TestLoginSession(t *testing.T) {
	f := newFixture(t)
	// The sign-in page itself is open; a wrong token gets 401 and no cookie.
	if resp, b := f.do(t, "GET", "/admin/login", auth0{}, ""); resp.StatusCode != 200 || !bytes.Contains(b, []byte(`name="token"`)) {
		t.Fatalf("login page: status %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/login", strings.NewReader("token=nope"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !bytes.Contains(b, []byte("không đúng")) {
		t.Errorf("wrong token: status %d, %d cookies, want 401 with the message and none", resp.StatusCode, len(resp.Cookies()))
	}

	c := f.login(t, testAdminToken, nil)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/admin" {
		t.Errorf("cookie: HttpOnly %v, SameSite %v, Secure %v, Path %q; want HttpOnly, Strict, not Secure over plain HTTP, /admin",
			c.HttpOnly, c.SameSite, c.Secure, c.Path)
	}
	if strings.Contains(c.Value, testAdminToken) {
		t.Error("the cookie holds the raw token")
	}
	secure := f.login(t, testAdminToken, http.Header{"X-Forwarded-Proto": {"https"}})
	if !secure.Secure {
		t.Error("behind TLS the cookie is not Secure")
	}
	// Signing out clears the cookie.
	resp2, _ := f.do(t, "POST", "/admin/logout", auth0{cookie: c}, "")
	var cleared bool
	for _, k := range resp2.Cookies() {
		if k.Name == sessionCookie && k.MaxAge < 0 {
			cleared = true
		}
	}
	if resp2.StatusCode != http.StatusSeeOther || !cleared {
		t.Errorf("logout: status %d, cleared %v", resp2.StatusCode, cleared)
	}

	// A revoked officer token ends the officer's session at once.
	oc := f.login(t, f.officer, nil)
	if resp, _ := f.do(t, "GET", "/admin", auth0{cookie: oc}, ""); resp.StatusCode != 200 {
		t.Fatalf("officer session: status %d", resp.StatusCode)
	}
	o, err := f.db.OfficerByToken(context.Background(), f.officer)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.RevokeOfficerToken(context.Background(), o.TokenID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, "GET", "/admin", auth0{cookie: oc}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked officer's session: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/admin/api/progress", auth0{bearer: f.officer}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked officer's token: status %d, want 401", resp.StatusCode)
	}
}

func TestDashboardWithoutAdminToken(t *testing.T) {
	f := newFixture(t)
	d, err := NewDashboard(DashboardConfig{Store: f.db, Texts: f.d.cfg.Texts, Location: f.d.cfg.Location})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing signs in as the administrator, not even an empty token.
	for _, tok := range []string{"", " ", testAdminToken} {
		if _, err := d.auth.check(context.Background(), tok); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
			t.Errorf("token %q: got %v, want EUNAUTHORIZED", tok, err)
		}
	}
	secret, err := f.db.CreateSession(context.Background(), true, 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.auth.open(context.Background(), d.auth.seal(session{Secret: secret, Expires: time.Now().Add(time.Hour).Unix()}), time.Now()); err == nil {
		t.Error("an admin session opened on a dashboard without an admin token")
	}
	// Officers still sign in.
	if p, err := d.auth.check(context.Background(), f.officer); err != nil || p.Admin || !p.sees(f.tanThanh.ID) {
		t.Errorf("officer: got %+v, %v", p, err)
	}
}

func TestDashboardPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A reminder that cannot reach a leader without Zalo, and a message
	// Zalo refused: both show with their reasons in Vietnamese.
	loi, _, err := f.db.PersonByPhone(ctx, "+84900003001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ClaimReminder(ctx, "2026Q4:team:commune", loi.ID, "7"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetReminderState(ctx, "2026Q4:team:commune", loi.ID, "7", "undeliverable", "no Zalo account linked and no team group"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Undeliverable(ctx, cnsbot.Outgoing{ID: "m1", To: cnsbot.Recipient{UserID: "8100000000000000121"}, Purpose: "reminder"}, -230, "outside_window"); err != nil {
		t.Fatal(err)
	}
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	officer := auth0{cookie: f.login(t, f.officer, nil)}
	tt := strconv.FormatInt(f.tanThanh.ID, 10)
	pages := []struct {
		path string
		a    auth0
		want []string
		not  []string
	}{
		{"/admin", admin, []string{"Dữ liệu mẫu", "Xã Tân Thành", "Phường An Xuyên", `class="bar`, "HTDM2A", "Chờ quá 48 giờ", "Tải Excel"}, nil},
		{"/admin?lang=en", admin, []string{"Demo data", "Households guided", "Over 48 hours", "Sign out"}, []string{"Đăng xuất"}},
		{"/admin", officer, []string{"Xã Tân Thành", "Võ Minh Tâm"}, []string{"Phường An Xuyên"}},
		{"/admin/communes/" + tt, admin, []string{"Ấp Cây Trâm", "Ấp Tân Hòa", "Ấp Bà Điều", "Lê Văn Hùng", `id="export-xlsx"`}, []string{"Khóm 1"}},
		{"/admin/help", admin, []string{`class="st-open stale"`, "HTDM2A", "HTDM2C", "HTDM2D", "Đã hủy", "0912 ••• 101"}, []string{"+84912000101", "0912 000 101"}},
		{"/admin/calendar?quarter=2026Q3", admin, []string{"Tổ → Xã", "Trễ hạn", "Đã nộp", "Tổ CNSCĐ Ấp Bà Điều"}, nil},
		{"/admin/calendar", admin, []string{"Quý 4/2026", "16/12/2026", "Võ Văn Lợi", "nhắc trước 7 ngày",
			"chưa liên kết Zalo và tổ chưa có nhóm Zalo", "Huỳnh Văn Tài", "quá 7 ngày người nhận chưa nhắn cho OA", "Zalo -230"}, nil},
		{"/admin/calendar?lang=en", admin, []string{"Q4 2026", "reminder 7 days before", "the team has no Zalo group"}, nil},
		{"/admin/visits", admin, []string{"Lê Văn Hùng", "Ấp Cây Trâm, Xã Tân Thành"}, nil},
	}
	for _, p := range pages {
		resp, b := f.do(t, "GET", p.path, p.a, "")
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d, want 200", p.path, resp.StatusCode)
			continue
		}
		body := string(b)
		for _, w := range p.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: want %q on the page", p.path, w)
			}
		}
		for _, w := range p.not {
			if strings.Contains(body, w) {
				t.Errorf("%s: %q must not be on the page", p.path, w)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", p.path, csp)
		}
	}
	// The stylesheet is served without a sign-in.
	if resp, b := f.do(t, "GET", "/static/app.css", auth0{}, ""); resp.StatusCode != 200 || !bytes.Contains(b, []byte("svg.bar")) {
		t.Errorf("app.css: status %d", resp.StatusCode)
	}
	// Unknown commune, a hamlet's id, and nonsense.
	hamlets, _ := f.db.Hamlets(context.Background(), f.tanThanh.ID)
	for path, want := range map[string]int{"/admin/communes/999999": 404, "/admin/communes/x": 404,
		"/admin/communes/" + strconv.FormatInt(hamlets[0].ID, 10): 404, "/admin/calendar?quarter=2026Q9": 400,
		"/admin/export?format=pdf": 400} {
		if resp, _ := f.do(t, "GET", path, admin, ""); resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestExportDownloads(t *testing.T) {
	f := newFixture(t)
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	tt := strconv.FormatInt(f.tanThanh.ID, 10)
	for _, c := range []struct {
		path, ctype, name string
		magic             []byte
	}{
		{"/admin/export?quarter=2026Q4&format=xlsx&commune=" + tt, "spreadsheetml", "bao-cao-2026Q4-xa-tan-thanh.xlsx", []byte("PK")},
		{"/admin/export?format=csv", "text/csv", "bao-cao-2026Q4.csv", []byte("\xef\xbb\xbf")},
	} {
		resp, b := f.do(t, "GET", c.path, admin, "")
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), c.ctype) ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), c.name) || !bytes.HasPrefix(b, c.magic) {
			t.Errorf("%s: status %d, type %q, disposition %q, starts %q", c.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), b[:min(4, len(b))])
		}
	}
	// The CSV has the commune's hamlets.
	_, b := f.do(t, "GET", "/admin/export?format=csv&commune="+tt, admin, "")
	if !bytes.Contains(b, []byte("Ấp Cây Trâm")) || bytes.Contains(b, []byte("Khóm 1")) {
		t.Errorf("commune CSV: want Tân Thành's hamlets only")
	}
	// Without an exporter the buttons are gone and the route says so.
	d, err := NewDashboard(DashboardConfig{Store: f.db, Texts: f.d.cfg.Texts, Location: f.d.cfg.Location, AdminToken: testAdminToken})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	d.Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/admin/api/report", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("report without an exporter: status %d, want 503", resp.StatusCode)
	}
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %.200s: %v", b, err)
	}
	return v
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	admin := auth0{bearer: testAdminToken}
	officer := auth0{bearer: f.officer}
	ctx := context.Background()

	// Progress: the province is the sum of its communes, the communes of
	// their hamlets; the officer sees only Tân Thành.
	_, b := f.do(t, "GET", "/admin/api/progress", admin, "")
	pr := decode[struct {
		Target   float64 `json:"target_percent"`
		Province bar
		Communes []bar
	}](t, b)
	var sum, hamlets int
	for _, c := range pr.Communes {
		sum += c.Guided
		var hs int
		for _, h := range c.Hamlets {
			hs += h.Guided
			hamlets++
		}
		if hs != c.Guided {
			t.Errorf("commune %s: %d guided, its hamlets %d", c.Name, c.Guided, hs)
		}
	}
	if pr.Target != 80 || len(pr.Communes) != 2 || hamlets != 5 || sum != pr.Province.Guided || pr.Province.Name != "Cà Mau" {
		t.Errorf("progress: got %+v", pr)
	}
	_, b = f.do(t, "GET", "/admin/api/progress", officer, "")
	mine := decode[struct{ Communes []bar }](t, b)
	if len(mine.Communes) != 1 || mine.Communes[0].ID != f.tanThanh.ID {
		t.Errorf("officer's progress: got %+v", mine)
	}

	// Help requests, filtered; the stale one is first and flagged.
	_, b = f.do(t, "GET", "/admin/api/help-requests?status=open,taken", admin, "")
	hl := decode[helpList](t, b)
	if len(hl.Items) == 0 || !hl.Items[0].Stale || hl.Items[0].Code != "HTDM2A" || hl.Stale != 1 || hl.Open != 2 || hl.Taken != 1 {
		t.Errorf("help: got %d items, first %+v, counts open %d taken %d stale %d", len(hl.Items), hl.Items[0], hl.Open, hl.Taken, hl.Stale)
	}
	for _, it := range hl.Items {
		if strings.Contains(string(b), "+84912000101") || (it.Status != "open" && it.Status != "taken") {
			t.Errorf("help item %s: status %s; phone must be masked", it.Code, it.Status)
		}
	}
	if resp, _ := f.do(t, "GET", "/admin/api/help-requests?status=lost", admin, ""); resp.StatusCode != 400 {
		t.Errorf("bad status filter: %d, want 400", resp.StatusCode)
	}

	// Deadlines of last quarter: who submitted, who is late.
	_, b = f.do(t, "GET", "/admin/api/deadlines?quarter=2026Q3", admin, "")
	dl := decode[struct {
		Quarter   string
		Deadlines []deadlineView
	}](t, b)
	if len(dl.Deadlines) != 2 || dl.Deadlines[0].Submitted != 3 || dl.Deadlines[0].Late != 2 || !dl.Deadlines[0].Passed {
		t.Fatalf("deadlines 2026Q3: got %+v", dl)
	}
	_, b = f.do(t, "GET", "/admin/api/deadlines?quarter=2026Q3", officer, "")
	dl = decode[struct {
		Quarter   string
		Deadlines []deadlineView
	}](t, b)
	if len(dl.Deadlines) != 2 || len(dl.Deadlines[0].Reporters) != 3 || len(dl.Deadlines[1].Reporters) != 1 {
		t.Errorf("officer's deadlines: got %+v, want the team step with Tân Thành's 3 teams and the commune step with Tân Thành only", dl.Deadlines)
	}

	// Undelivered messages, scoped.
	if err := f.db.Undeliverable(ctx, cnsbot.Outgoing{ID: "m1", To: cnsbot.Recipient{UserID: "8100000000000000141"}, Purpose: "reminder"}, -230, "out of window"); err != nil {
		t.Fatal(err)
	}
	_, b = f.do(t, "GET", "/admin/api/deliveries", admin, "")
	if u := decode[struct{ Undelivered []store.Undelivered }](t, b); len(u.Undelivered) != 1 || u.Undelivered[0].Name != "Lý Thị Hạnh" {
		t.Errorf("deliveries: got %+v", u)
	}
	_, b = f.do(t, "GET", "/admin/api/deliveries", officer, "")
	if u := decode[struct{ Undelivered []store.Undelivered }](t, b); len(u.Undelivered) != 0 {
		t.Errorf("officer of another commune sees %+v", u)
	}

	// The schedule: read, save, refuse an invalid one.
	_, b = f.do(t, "GET", "/admin/api/schedule", admin, "")
	if sv := decode[store.ScheduleVersion](t, b); sv.Schedule.Name != "two-level" || sv.Version != 0 {
		t.Errorf("schedule: got %+v", sv)
	}
	two, _ := os.ReadFile("../examples/schedule-two-level.json")
	resp, b := f.do(t, "PUT", "/admin/api/schedule", admin, string(two))
	if sv := decode[store.ScheduleVersion](t, b); resp.StatusCode != 200 || sv.Schedule.Name != "two-level" || sv.Version != 1 {
		t.Errorf("save schedule: status %d, %+v", resp.StatusCode, sv)
	}
	for _, bad := range []string{`{`, `{"name":"x","steps":[{"from":"commune","to":"team","day":16}]}`, `{"name":"x","steps":[],"surprise":1}`} {
		if resp, _ := f.do(t, "PUT", "/admin/api/schedule", admin, bad); resp.StatusCode != 400 {
			t.Errorf("schedule %s: status %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, _ := f.do(t, "PUT", "/admin/api/schedule", admin, `{"name":"`+strings.Repeat("x", 70000)+`"}`); resp.StatusCode != 413 {
		t.Errorf("huge schedule: status %d, want 413", resp.StatusCode)
	}

	// Linking a group.
	team, _ := f.db.TeamByGroup(ctx, "8200000000000000002")
	path := "/admin/api/teams/" + strconv.FormatInt(team.ID, 10) + "/group"
	resp, b = f.do(t, "PUT", path, admin, `{"group_id":"8200000000000000077"}`)
	if got := decode[cnsbot.Team](t, b); resp.StatusCode != 200 || got.GroupID != "8200000000000000077" {
		t.Errorf("link group: status %d, %+v", resp.StatusCode, got)
	}
	for body, want := range map[string]int{`{"group_id":"abc"}`: 400, `{"group_id":""}`: 400, `{"group":"1"}`: 400, `nope`: 400} {
		if resp, _ := f.do(t, "PUT", path, admin, body); resp.StatusCode != want {
			t.Errorf("link group %s: status %d, want %d", body, resp.StatusCode, want)
		}
	}
	if resp, _ := f.do(t, "PUT", "/admin/api/teams/999999/group", admin, `{"group_id":"1"}`); resp.StatusCode != 404 {
		t.Errorf("unknown team: status %d, want 404", resp.StatusCode)
	}

	// Officer tokens: made for officers only; the new token works.
	po, _, _ := f.db.PersonByPhone(ctx, "+84900009002")
	resp, b = f.do(t, "POST", "/admin/api/officer-tokens", admin, `{"person_id":`+strconv.FormatInt(po.ID, 10)+`}`)
	tok := decode[struct {
		Token string `json:"token"`
	}](t, b)
	if resp.StatusCode != 201 || !strings.HasPrefix(tok.Token, "cno_") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create token: status %d, %+v", resp.StatusCode, tok)
	}
	_, b = f.do(t, "GET", "/admin/api/progress", auth0{bearer: tok.Token}, "")
	if p := decode[struct{ Communes []bar }](t, b); len(p.Communes) != 1 || p.Communes[0].ID != f.anXuyen.ID {
		t.Errorf("new officer's progress: got %+v", p)
	}
	member, _, _ := f.db.PersonByPhone(ctx, "+84900001002")
	for body, want := range map[string]int{`{"person_id":` + strconv.FormatInt(member.ID, 10) + `}`: 400, `{"person_id":999999}`: 404, `{}`: 400} {
		if resp, _ := f.do(t, "POST", "/admin/api/officer-tokens", admin, body); resp.StatusCode != want {
			t.Errorf("token for %s: status %d, want %d", body, resp.StatusCode, want)
		}
	}

	// Indicators: four quarters, newest first; the demo has reports in
	// the last two only, and the two before are marked as without data.
	_, b = f.do(t, "GET", "/admin/api/indicators?lang=en", admin, "")
	ind := decode[indicators](t, b)
	if len(ind.Quarters) != 4 || ind.Quarters[0] != "2026Q4" || ind.Quarters[3] != "2026Q1" || ind.Rows[0].Key != "guided" ||
		ind.Rows[0].Values[0]+ind.Rows[0].Values[1] == 0 || !slices.Equal(ind.NoData, []bool{false, false, true, true}) {
		t.Errorf("indicators: got %+v", ind)
	}
	// Visits.
	_, b = f.do(t, "GET", "/admin/api/visits?limit=3", officer, "")
	if v := decode[struct{ Visits []store.VisitRow }](t, b); len(v.Visits) != 3 || v.Visits[0].CommuneID != f.tanThanh.ID {
		t.Errorf("visits: got %+v", v)
	}
	if resp, _ := f.do(t, "GET", "/admin/api/visits?limit=0", admin, ""); resp.StatusCode != 400 {
		t.Errorf("visits limit 0: status %d, want 400", resp.StatusCode)
	}
}

// TestWaitingForAPerson: a resident who asked for a person and has had no
// answer is on the dashboard's "Cần người trả lời" list with how long they
// have waited; an officer sees only their commune's; once answered, the
// resident leaves the list.
func TestWaitingForAPerson(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hamlets, err := f.db.Hamlets(ctx, f.tanThanh.ID)
	if err != nil || len(hamlets) == 0 {
		t.Fatalf("hamlets: %v", err)
	}
	h := cnsbot.Handoff{UserID: "res-w", Reason: "asked", HamletID: hamlets[0].ID, Recent: "cài vneid bị lỗi quét mặt",
		SourceEvent: "ev-w", CreatedAt: f.now.Add(-95 * time.Minute)}
	if err := f.db.OpenHandoff(ctx, &h); err != nil {
		t.Fatal(err)
	}
	ax := cnsbot.Handoff{UserID: "res-ax", Reason: "asked", CommuneID: f.anXuyen.ID, SourceEvent: "ev-ax", CreatedAt: f.now.Add(-time.Hour)}
	if err := f.db.OpenHandoff(ctx, &ax); err != nil {
		t.Fatal(err)
	}
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	officer := auth0{cookie: f.login(t, f.officer, nil)}
	for _, p := range []struct {
		path string
		a    auth0
		want []string
		not  []string
	}{
		{"/admin", admin, []string{"Cần người trả lời", h.Code, ax.Code, "cài vneid bị lỗi quét mặt", hamlets[0].Name}, nil},
		{"/admin/help", officer, []string{"Cần người trả lời", h.Code}, []string{ax.Code}},
		{"/admin/help?lang=en", admin, []string{"Waiting for a person", h.Code}, nil},
	} {
		resp, b := f.do(t, "GET", p.path, p.a, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", p.path, resp.StatusCode)
		}
		for _, w := range p.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: want %q on the page", p.path, w)
			}
		}
		for _, w := range p.not {
			if strings.Contains(string(b), w) {
				t.Errorf("%s: %q must not be on the page", p.path, w)
			}
		}
	}
	resp, b := f.do(t, "GET", "/admin/api/help-requests", auth0{bearer: testAdminToken}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("api: status %d", resp.StatusCode)
	}
	list := decode[helpList](t, b)
	if len(list.Waiting) != 2 || list.Waiting[0].Code != h.Code || list.Waiting[0].Minutes != 95 {
		t.Errorf("api waiting %+v: want %s first, waited 95 minutes", list.Waiting, h.Code)
	}
	officerPerson, _, err := f.db.PersonByPhone(ctx, "+84900009001")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.AnswerHandoff(ctx, h.ID, officerPerson.ID, "Dạ", "ev-a", f.now); err != nil {
		t.Fatal(err)
	}
	if _, b := f.do(t, "GET", "/admin/help", admin, ""); strings.Contains(string(b), h.Code) {
		t.Errorf("an answered handoff is still on the list")
	}
}
