package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/locales"
)

// nobodySeen is a chat store where nobody wrote lately.
type nobodySeen struct{}

func (nobodySeen) LastSeen(context.Context, []string) (map[string]announce.Seen, error) {
	return map[string]announce.Seen{}, nil
}

// TestAnnouncementsScope checks that an officer announces to their own
// commune only, never to the province or another commune, reads only the
// reports of their commune's announcements, and that the preview and the
// CSV (with ';' for Excel in Vietnamese) work.
func TestAnnouncementsScope(t *testing.T) {
	f := newFixture(t)
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	base := f.serve(t, func(c *DashboardConfig) {
		c.Announcements = Announcements{Planner: announce.New(f.db, nobodySeen{}, nil, nil, texts, announce.Options{}), Store: f.db}
	})
	post := func(c *http.Cookie, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/admin/announcements", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(c)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	get := func(c *http.Cookie, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.AddCookie(c)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	form := func(commune int64, action string) url.Values {
		return url.Values{"text": {"Thứ Bảy đổi căn cước miễn phí"}, "commune": {strconv.FormatInt(commune, 10)},
			"audience": {"residents", "groups"}, "action": {action}}
	}
	officer := f.login(t, f.officer, nil)
	admin := f.login(t, testAdminToken, nil)

	if code, body := get(officer, "/admin/announcements"); code != http.StatusOK || strings.Contains(body, `value="0"`) ||
		strings.Contains(body, "An Xuyên") {
		t.Errorf("officer's page: status %d; it must offer neither the province nor another commune", code)
	}
	for name, c := range map[string]int64{"another commune": f.anXuyen.ID, "the province": 0} {
		if resp, _ := post(officer, form(c, "send")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("officer sending to %s: status %d, want 403", name, resp.StatusCode)
		}
	}
	bad := form(f.tanThanh.ID, "preview")
	bad.Set("hamlet", "999999")
	if resp, _ := post(officer, bad); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a hamlet of no commune of theirs: status %d, want 400", resp.StatusCode)
	}
	resp, body := post(officer, form(f.tanThanh.ID, "preview"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="preview-counts"`) || !strings.Contains(body, "quá 7 ngày chưa nhắn OA") {
		t.Fatalf("preview: status %d, no counts or reasons", resp.StatusCode)
	}
	resp, _ = post(officer, form(f.tanThanh.ID, "send"))
	own := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(own, "/admin/announcements/") {
		t.Fatalf("send: status %d, location %q", resp.StatusCode, own)
	}
	a, err := f.db.Announcement(context.Background(), mustID(t, own))
	if err != nil || a.CreatorPersonID == nil || a.State != announce.StateScheduled || a.CommuneID == nil || *a.CommuneID != f.tanThanh.ID {
		t.Errorf("stored announcement %+v, %v: want scheduled for Tân Thành, by the officer", a, err)
	}
	resp, _ = post(admin, form(f.anXuyen.ID, "send"))
	other := resp.Header.Get("Location")
	if code, _ := get(officer, own); code != http.StatusOK {
		t.Errorf("officer's own report: status %d", code)
	}
	for _, path := range []string{other, other + "/report.csv"} {
		if code, _ := get(officer, path); code != http.StatusForbidden {
			t.Errorf("officer reading %s of another commune: status %d, want 403", path, code)
		}
	}
	if code, body := get(officer, own+"/report.csv?format=csv-vn"); code != http.StatusOK || !strings.Contains(body, "Ấp, khóm;Đã nhận;") {
		t.Errorf("CSV: status %d, body %q: want ';' separators", code, body)
	}
	if code, body := get(admin, "/admin/announcements"); code != http.StatusOK || !strings.Contains(body, "An Xuyên") || !strings.Contains(body, "Tân Thành") {
		t.Errorf("administrator's list: status %d, want both communes' announcements", code)
	}
}

func mustID(t *testing.T, location string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(location, "/admin/announcements/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
