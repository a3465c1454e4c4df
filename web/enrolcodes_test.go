package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
)

// An enrol code can move a person to another Zalo account, so an officer
// makes them only for people of their own commune.
func TestEnrolCodesAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	member, _, _ := f.db.PersonByPhone(ctx, "+84900001004")   // Tân Thành, not linked
	ax, _, _ := f.db.PersonByPhone(ctx, "+84900009002")       // An Xuyên's officer
	province, _, _ := f.db.PersonByPhone(ctx, "+84900009003") // province officer
	body := func(id int64) string { return `{"person_id":` + strconv.FormatInt(id, 10) + `}` }

	for _, c := range []struct {
		who    string
		a      auth0
		person int64
		want   int
	}{
		{"nobody", auth0{}, member.ID, http.StatusUnauthorized},
		{"Tân Thành's officer, own member", auth0{bearer: f.officer}, member.ID, http.StatusCreated},
		{"Tân Thành's officer, An Xuyên's officer", auth0{bearer: f.officer}, ax.ID, http.StatusForbidden},
		{"Tân Thành's officer, the province officer", auth0{bearer: f.officer}, province.ID, http.StatusForbidden},
		{"administrator, An Xuyên's officer", auth0{bearer: testAdminToken}, ax.ID, http.StatusCreated},
		{"administrator, nobody", auth0{bearer: testAdminToken}, 999999, http.StatusNotFound},
	} {
		resp, b := f.do(t, "POST", "/admin/api/enrol-codes", c.a, body(c.person))
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.who, resp.StatusCode, c.want, b)
			continue
		}
		if c.want != http.StatusCreated {
			if strings.Contains(string(b), `"code"`) {
				t.Errorf("%s: a refusal carries a code: %s", c.who, b)
			}
			continue
		}
		got := decode[enrolCode](t, b)
		if _, ok := cnsbot.ParseEnrolCode(got.Code); !ok || got.PersonID != c.person || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: got %+v, cache %q", c.who, got, resp.Header.Get("Cache-Control"))
		}
		// The code works, once.
		p, _, _, err := f.db.RedeemEnrolCode(ctx, got.Code, "zalo-"+strconv.FormatInt(c.person, 10))
		if err != nil || p.ID != c.person {
			t.Errorf("%s: redeeming the code: %+v, %v", c.who, p, err)
		}
	}
	if resp, b := f.do(t, "POST", "/admin/api/enrol-codes", auth0{bearer: f.officer}, `{"person_id":0}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no person: status %d: %s", resp.StatusCode, b)
	}
}

func TestEnrolCodesPage(t *testing.T) {
	f := newFixture(t)
	officer := f.login(t, f.officer, nil)
	post := func(a auth0, person string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/enrol-codes", strings.NewReader(url.Values{"person": {person}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if a.cookie != nil {
			req.AddCookie(a.cookie)
		}
		if a.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+a.bearer)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, b.String()
	}
	// The commune page has the form.
	if resp, b := f.do(t, "GET", "/admin/communes/"+strconv.FormatInt(f.tanThanh.ID, 10), auth0{cookie: officer}, ""); resp.StatusCode != 200 ||
		!strings.Contains(string(b), `action="/admin/enrol-codes"`) {
		t.Errorf("commune page: status %d, no enrol code form", resp.StatusCode)
	}
	resp, page := post(auth0{cookie: officer}, "0900 001 004")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Trần Văn Bảy") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("make a code: status %d: %.300s", resp.StatusCode, page)
	}
	i := strings.Index(page, `id="enrol-code-value">`)
	if i < 0 {
		t.Fatalf("no code on the page: %.500s", page)
	}
	code := page[i+len(`id="enrol-code-value">`):]
	code = code[:strings.Index(code, "<")]
	if _, ok := cnsbot.ParseEnrolCode(code); !ok {
		t.Errorf("code %q", code)
	}
	if resp, _ := post(auth0{cookie: officer}, "0900 009 002"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another commune's officer: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := post(auth0{bearer: testAdminToken}, "0900 001 004"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a bearer token on the page: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := post(auth0{cookie: officer}, "hello"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no person: status %d, want 400", resp.StatusCode)
	}
}
