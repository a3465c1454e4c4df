package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// logBuffer collects a dashboard's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve runs another dashboard on the fixture's database, configured by
// change, and returns its address. The fixture's f.srv stays as it was.
func (f *fixture) serve(t *testing.T, change func(*DashboardConfig)) string {
	t.Helper()
	cfg := f.d.cfg
	change(&cfg)
	d, err := NewDashboard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	d.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// signIn posts the sign-in form from client (an X-Forwarded-For address).
func signIn(t *testing.T, base, token, client string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", client)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestSignInLimitedPerClient makes ten wrong sign-ins from one client:
// the tenth is answered 429 with Retry-After, and then even the right
// token is refused from that client, on the form and on the API, while
// another client signs in. Each failure writes one log line that names
// neither the token nor the client's address.
func TestSignInLimitedPerClient(t *testing.T) {
	f := newFixture(t)
	var logs logBuffer
	base := f.serve(t, func(c *DashboardConfig) {
		c.SignInLimit = store.NewFailureLimit(storetest.MiniRedis(t), "t:", SignInFailures, SignInPeriod)
		c.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	const attacker, neighbour = "198.51.100.7", "203.0.113.9"
	wrong := testAdminToken + "-guess"
	for i := 1; i <= SignInFailures; i++ {
		resp := signIn(t, base, wrong+strconv.Itoa(i), attacker)
		want := http.StatusUnauthorized
		if i == SignInFailures {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("wrong sign-in %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	resp := signIn(t, base, testAdminToken, attacker)
	if resp.StatusCode != http.StatusTooManyRequests || len(resp.Cookies()) != 0 {
		t.Fatalf("the right token after ten failures: status %d with %d cookies, want 429 and none", resp.StatusCode, len(resp.Cookies()))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 60 || s > 90 {
		t.Errorf("Retry-After %q, want about 90 seconds", resp.Header.Get("Retry-After"))
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/progress", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("X-Forwarded-For", attacker)
	api, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	api.Body.Close()
	if api.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the API from the same client: status %d, want 429", api.StatusCode)
	}
	if resp := signIn(t, base, testAdminToken, neighbour); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another client: status %d, want 303", resp.StatusCode)
	}

	out := logs.String()
	if n := strings.Count(out, `"msg":"dashboard sign-in failed"`); n != SignInFailures {
		t.Errorf("%d log lines for failed sign-ins, want %d:\n%s", n, SignInFailures, out)
	}
	for _, secret := range []string{testAdminToken, wrong, attacker, neighbour} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}

// TestBearerFailuresCounted checks that wrong bearer tokens on the API
// count as failed sign-ins too.
func TestBearerFailuresCounted(t *testing.T) {
	f := newFixture(t)
	base := f.serve(t, func(c *DashboardConfig) {
		c.SignInLimit = store.NewFailureLimit(storetest.MiniRedis(t), "t:", SignInFailures, SignInPeriod)
	})
	var last int
	for i := range SignInFailures + 1 {
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/help-requests", nil)
		req.Header.Set("Authorization", "Bearer wrong-"+strconv.Itoa(i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("after %d wrong bearer tokens: status %d, want 429", SignInFailures+1, last)
	}
}

// TestSignOutEndsSessionOnServer replays a session cookie after its
// browser signed out: the copy is refused.
func TestSignOutEndsSessionOnServer(t *testing.T) {
	f := newFixture(t)
	c := f.login(t, testAdminToken, nil)
	if resp, _ := f.do(t, "GET", "/admin", auth0{cookie: c}, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: status %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "POST", "/admin/logout", auth0{cookie: c}, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: status %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/admin", auth0{cookie: c}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the cookie after sign-out: status %d, want 401", resp.StatusCode)
	}
}

// TestRevokedOrExpiredTokenEndsOpenSession revokes an officer's token
// through the administrator's page, and lets another expire: the
// sessions they opened are refused on their next request.
func TestRevokedOrExpiredTokenEndsOpenSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.login(t, testAdminToken, nil)
	oc := f.login(t, f.officer, nil)
	o, err := f.db.OfficerByToken(ctx, f.officer)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, "GET", "/admin/help", auth0{cookie: oc}, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("officer session: status %d", resp.StatusCode)
	}
	if resp, b := f.do(t, "POST", "/admin/officers/"+strconv.FormatInt(o.TokenID, 10)+"/revoke", auth0{cookie: admin}, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke on the page: status %d: %.200s", resp.StatusCode, b)
	}
	if resp, _ := f.do(t, "GET", "/admin/help", auth0{cookie: oc}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token's session: status %d, want 401", resp.StatusCode)
	}

	// A second token, let expire under an open session.
	person, _, _ := f.db.PersonByPhone(ctx, "+84900009001")
	tok, err := f.db.IssueOfficerToken(ctx, person.ID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	oc2 := f.login(t, tok.Token, nil)
	if resp, _ := f.do(t, "GET", "/admin/help", auth0{cookie: oc2}, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("second officer session: status %d", resp.StatusCode)
	}
	storetest.Exec(t, f.db, "UPDATE officer_tokens SET expires_at = $1 WHERE id = $2", time.Now().UTC().Add(-time.Second), tok.ID)
	if resp, _ := f.do(t, "GET", "/admin/help", auth0{cookie: oc2}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired token's session: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/admin/api/help-requests", auth0{bearer: tok.Token}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired token on the API: status %d, want 401", resp.StatusCode)
	}
}

// TestSignOutEverywhere ends every session from the administrator's
// page, and then from the API.
func TestSignOutEverywhere(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, testAdminToken, nil)
	other := f.login(t, testAdminToken, nil)
	officer := f.login(t, f.officer, nil)
	if resp, _ := f.do(t, "POST", "/admin/sessions/end", auth0{cookie: officer}, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an officer ending every session: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.do(t, "POST", "/admin/sessions/end", auth0{cookie: admin}, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end every session: status %d", resp.StatusCode)
	}
	for name, c := range map[string]*http.Cookie{"own": admin, "other browser": other, "officer": officer} {
		if resp, _ := f.do(t, "GET", "/admin", auth0{cookie: c}, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s session after sign-out everywhere: status %d, want 401", name, resp.StatusCode)
		}
	}
	again := f.login(t, f.officer, nil)
	resp, b := f.do(t, "DELETE", "/admin/api/sessions", auth0{bearer: testAdminToken}, "")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"ended":1`)) {
		t.Fatalf("DELETE /admin/api/sessions: status %d: %s", resp.StatusCode, b)
	}
	if resp, _ := f.do(t, "GET", "/admin", auth0{cookie: again}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session after the API ended them all: status %d, want 401", resp.StatusCode)
	}
}

// TestOfficerTokensAPI issues a token with a life, lists it and revokes
// it through the API; officers may do none of it.
func TestOfficerTokensAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	person, _, _ := f.db.PersonByPhone(ctx, "+84900009001")
	body := fmt.Sprintf(`{"person_id":%d,"days":7}`, person.ID)
	resp, b := f.do(t, "POST", "/admin/api/officer-tokens", auth0{bearer: testAdminToken}, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d: %s", resp.StatusCode, b)
	}
	issued := decode[store.IssuedToken](t, b)
	if d := time.Until(issued.ExpiresAt); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour {
		t.Errorf("a 7-day token expires in %v", d)
	}
	for _, bad := range []string{`{"person_id":%d,"days":-1}`, `{"person_id":%d,"days":367}`} {
		if resp, _ := f.do(t, "POST", "/admin/api/officer-tokens", auth0{bearer: testAdminToken}, fmt.Sprintf(bad, person.ID)); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, _ := f.do(t, "GET", "/admin/api/progress", auth0{bearer: issued.Token}, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new token: status %d", resp.StatusCode)
	}
	resp, b = f.do(t, "GET", "/admin/api/officer-tokens", auth0{bearer: testAdminToken}, "")
	list := decode[struct{ Tokens []store.OfficerTokenRow }](t, b)
	if resp.StatusCode != http.StatusOK || len(list.Tokens) != 2 || bytes.Contains(b, []byte(issued.Token)) {
		t.Fatalf("list: status %d: %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/admin/api/officer-tokens", "/admin/api/officer-tokens/" + strconv.FormatInt(issued.ID, 10), "/admin/api/access-log", "/admin/api/sessions"} {
		method := "GET"
		if strings.Count(path, "/") == 4 || strings.HasSuffix(path, "sessions") {
			method = "DELETE"
		}
		if resp, _ := f.do(t, method, path, auth0{bearer: f.officer}, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s as an officer: status %d, want 403", method, path, resp.StatusCode)
		}
	}
	if resp, _ := f.do(t, "DELETE", "/admin/api/officer-tokens/"+strconv.FormatInt(issued.ID, 10), auth0{bearer: testAdminToken}, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/admin/api/progress", auth0{bearer: issued.Token}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked token: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.do(t, "DELETE", "/admin/api/officer-tokens/"+strconv.FormatInt(issued.ID, 10), auth0{bearer: testAdminToken}, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoking twice: status %d, want 404", resp.StatusCode)
	}
}

// TestOfficersPage issues a token from the administrator's page: it is
// shown once, with its expiry, and listed after without the token.
func TestOfficersPage(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, testAdminToken, nil)
	officer := f.login(t, f.officer, nil)
	if resp, _ := f.do(t, "GET", "/admin/officers", auth0{cookie: officer}, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an officer on the officers' page: status %d, want 403", resp.StatusCode)
	}
	resp, b := f.do(t, "GET", "/admin/officers", auth0{cookie: admin}, "")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("Võ Minh Tâm")) || !bytes.Contains(b, []byte(`name="days"`)) {
		t.Fatalf("officers' page: status %d: %.300s", resp.StatusCode, b)
	}
	person, _, _ := f.db.PersonByPhone(context.Background(), "+84900009002")
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/officers",
		strings.NewReader(url.Values{"person_id": {strconv.FormatInt(person.ID, 10)}, "days": {"30"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(admin)
	created, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(created.Body)
	created.Body.Close()
	i := bytes.Index(page.Bytes(), []byte(`<code class="token">`))
	if created.StatusCode != http.StatusCreated || i < 0 || created.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create on the page: status %d, Cache-Control %q: %.300s", created.StatusCode, created.Header.Get("Cache-Control"), page.String())
	}
	token, _, _ := strings.Cut(page.String()[i+len(`<code class="token">`):], "<")
	if _, err := f.db.OfficerByToken(context.Background(), token); err != nil {
		t.Fatalf("the token the page showed does not sign in: %v", err)
	}
	if _, b := f.do(t, "GET", "/admin/officers", auth0{cookie: admin}, ""); bytes.Contains(b, []byte(token)) {
		t.Error("the token is shown again")
	}
}

// TestAccessLogRecordsPersonalData has an officer read and export personal
// data on the pages and the API, and the administrator read the log: one
// row per request, names resolved, exportable as CSV with formulas
// neutralised. Aggregates (progress) are not logged.
func TestAccessLogRecordsPersonalData(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	officer := f.login(t, f.officer, nil)
	admin := f.login(t, testAdminToken, nil)
	tt := strconv.FormatInt(f.tanThanh.ID, 10)
	ax := strconv.FormatInt(f.anXuyen.ID, 10)
	requests := []struct {
		path string
		a    auth0
		what string
	}{
		{"/admin/help", auth0{cookie: officer}, "help_requests"},
		{"/admin/communes/" + tt, auth0{cookie: officer}, "commune"},
		{"/admin/communes/" + ax, auth0{cookie: officer}, "commune"}, // refused, and logged as such
		{"/admin/export?format=csv&quarter=2026Q4", auth0{cookie: officer}, "report"},
		{"/admin/api/help-requests?status=open", auth0{bearer: f.officer}, "help_requests"},
		{"/admin/api/visits", auth0{bearer: f.officer}, "visits"},
		{"/admin/api/deliveries", auth0{bearer: testAdminToken}, "deliveries"},
		{"/admin/api/progress", auth0{bearer: f.officer}, ""},
		{"/admin/visits", auth0{cookie: admin}, "visits"},
	}
	var want []string
	for _, r := range requests {
		resp, _ := f.do(t, "GET", r.path, r.a, "")
		if r.what != "" {
			want = append(want, r.what+" "+strconv.Itoa(resp.StatusCode))
		}
	}
	// A row's status is written just after its answer: wait for the last.
	var rows []store.AccessRow
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var err error
		if rows, err = f.db.AccessLog(ctx, 0, 100); err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 || rows[0].Status != 0 || time.Now().After(deadline) {
			break
		}
	}
	var got []string
	for i := len(rows) - 1; i >= 0; i-- {
		got = append(got, rows[i].What+" "+strconv.Itoa(rows[i].Status))
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("access log:\n got %v\nwant %v", got, want)
	}
	o, _ := f.db.OfficerByToken(ctx, f.officer)
	first, last := rows[len(rows)-1], rows[0]
	if first.Admin || first.PersonID != o.PersonID || first.TokenID != o.TokenID || first.Name != "Võ Minh Tâm" {
		t.Errorf("the officer's row: %+v", first)
	}
	if !last.Admin || last.PersonID != 0 {
		t.Errorf("the administrator's row: %+v", last)
	}
	if r := rows[len(rows)-3]; r.CommuneID != f.anXuyen.ID || r.Status != http.StatusForbidden {
		t.Errorf("the refused commune page: %+v", r)
	}
	if r := rows[len(rows)-4]; r.Detail != "quarter=2026Q4 format=csv" {
		t.Errorf("the export's detail: %q", r.Detail)
	}

	// Only the administrator reads the log, on the page and as CSV.
	if resp, _ := f.do(t, "GET", "/admin/access-log", auth0{cookie: officer}, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an officer on the access log: status %d, want 403", resp.StatusCode)
	}
	resp, b := f.do(t, "GET", "/admin/access-log", auth0{cookie: admin}, "")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("Võ Minh Tâm")) || !bytes.Contains(b, []byte("Xuất báo cáo quý")) {
		t.Fatalf("access log page: status %d: %.300s", resp.StatusCode, b)
	}
	// A value that a spreadsheet would run.
	if _, err := f.db.RecordAccess(ctx, store.AccessEntry{Admin: true, What: "report", Detail: "=HYPERLINK(\"http://x\")", Status: 200}); err != nil {
		t.Fatal(err)
	}
	resp, b = f.do(t, "GET", "/admin/access-log.csv", auth0{cookie: admin}, "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The header, the rows above, the formula and the page views since.
	if len(recs) < len(want)+2 {
		t.Fatalf("CSV has %d records, want at least %d", len(recs), len(want)+2)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %q would run as a formula", cell)
			}
		}
	}
	if !bytes.Contains(b, []byte(`'=HYPERLINK`)) {
		t.Error("the formula is not in the CSV, neutralised")
	}
	resp, b = f.do(t, "GET", "/admin/api/access-log?limit=2", auth0{bearer: testAdminToken}, "")
	if resp.StatusCode != http.StatusOK || len(decode[struct{ Rows []store.AccessRow }](t, b).Rows) != 2 {
		t.Errorf("API access log: status %d: %.300s", resp.StatusCode, b)
	}
}

// failingLog is a store whose access log cannot be written.
type failingLog struct{ Store }

func (failingLog) RecordAccess(context.Context, store.AccessEntry) (int64, error) {
	return 0, errors.New("disk full")
}

// TestNoAccessLogNoData checks that a request whose access cannot be
// recorded gets no personal data.
func TestNoAccessLogNoData(t *testing.T) {
	f := newFixture(t)
	base := f.serve(t, func(c *DashboardConfig) { c.Store = failingLog{c.Store} })
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/help-requests", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || bytes.Contains(b.Bytes(), []byte(`"items"`)) {
		t.Errorf("help requests with no access log: status %d: %.200s", resp.StatusCode, b.String())
	}
}

// TestEveryAdminAnswerIsNoStore asks every route under /admin, signed in
// as the administrator and not, and checks that no answer may be cached.
func TestEveryAdminAnswerIsNoStore(t *testing.T) {
	f := newFixture(t)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	f.d.Register(r)
	admin := f.login(t, testAdminToken, nil)
	checked := 0
	for _, rt := range r.Routes() {
		if !strings.HasPrefix(rt.Path, "/admin") || rt.Path == "/admin/logout" || rt.Path == "/admin/sessions/end" ||
			rt.Method == http.MethodDelete {
			continue
		}
		path := strings.NewReplacer(":id", "1").Replace(rt.Path)
		for _, signedIn := range []bool{false, true} {
			req := httptest.NewRequest(rt.Method, path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			if signedIn {
				req.AddCookie(admin)
				req.Header.Set("Authorization", "Bearer "+testAdminToken)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s %s (signed in %v): status %d, Cache-Control %q, want no-store", rt.Method, path, signedIn, w.Code, got)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d requests checked", checked)
	}
}

// TestSafeCells checks each character that starts a formula.
func TestSafeCells(t *testing.T) {
	got := safeCells([]string{"=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "Xã Tân Thành", "", "a=b", "-3"})
	want := []string{"'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "Xã Tân Thành", "", "a=b", "-3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCheckTokenStrength refuses short and obviously weak tokens, and
// lets random ones through.
func TestCheckTokenStrength(t *testing.T) {
	for _, weak := range []string{
		"",
		"admin-token-for-tests",                 // short
		"changeme-changeme-please-0f3a9c2b7e1d", // a placeholder
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  // one character
		"abc1abc1abc1abc1abc1abc1abc1abc1abc1",  // few characters
		"k7QmZt2xW9pLk7QmZt2xW9pLk7QmZt2xW9pL",  // a pattern repeated
		"abcdefghijklmnopqrstuvwxyz0123456789",  // a run
	} {
		if err := CheckTokenStrength(weak); err == nil {
			t.Errorf("%q passed", weak)
		} else if weak != "" && strings.Contains(err.Error(), weak) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	for _, strong := range []string{adminSecret, "0b6f3c9e1a7d4f2b8c5e0a9d3f6b1c7e", "Zx8-pQ2_vL5mN9rT3wY6aB1cD4eF7gH0iJ"} {
		if err := CheckTokenStrength(strong); err != nil {
			t.Errorf("%q refused: %v", strong, err)
		}
	}
}

// TestAccessLogRecordsEnrolCodesAndTokens checks the routes that show a
// person's name to whoever makes an enrol code or an officer token.
func TestAccessLogRecordsEnrolCodesAndTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	person, _, _ := f.db.PersonByPhone(ctx, "+84900009001")
	body := fmt.Sprintf(`{"person_id":%d}`, person.ID)
	if resp, b := f.do(t, "POST", "/admin/api/enrol-codes", auth0{bearer: testAdminToken}, body); resp.StatusCode >= 300 {
		t.Fatalf("enrol code: status %d: %s", resp.StatusCode, b)
	}
	admin := f.login(t, testAdminToken, nil)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/officers",
		strings.NewReader(url.Values{"person_id": {strconv.FormatInt(person.ID, 10)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(admin)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rows, err := f.db.AccessLog(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.What)
	}
	if strings.Join(got, " ") != "officer_tokens enrol_code" {
		t.Errorf("access log: %v, want officer_tokens then enrol_code", got)
	}
}
