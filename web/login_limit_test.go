package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLoginRefusesLargeBodies checks that the sign-in form, which anyone
// can reach, is not parsed past a small size: the right token padded with
// a large field does not sign in.
func TestLoginRefusesLargeBodies(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"token": {testAdminToken}, "pad": {strings.Repeat("x", 2*maxLoginBody)}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/login", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSeeOther || len(resp.Cookies()) != 0 {
		t.Fatalf("a %d-byte sign-in form: status %d with %d cookies, want it refused", len(form), resp.StatusCode, len(resp.Cookies()))
	}
	// The same token in a normal form still signs in.
	f.login(t, testAdminToken, nil)
}
