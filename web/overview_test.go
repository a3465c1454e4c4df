package web

import (
	"context"
	"encoding/csv"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
)

// section returns the HTML from the first match of start to the next
// match of end after it, or "" when start is not on the page.
func section(body, start, end string) string {
	i := strings.Index(body, start)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest[len(start):], end); j >= 0 {
		return rest[:len(start)+j]
	}
	return rest
}

// TestOfficerOverviewNamesCommune: a commune officer's overview puts the
// commune's name, not the province's, above the commune's figures.
func TestOfficerOverviewNamesCommune(t *testing.T) {
	f := newFixture(t)
	province, err := f.db.ProvinceName(context.Background())
	if err != nil || province == "" {
		t.Fatalf("province name %q, %v", province, err)
	}
	head := regexp.MustCompile(`<div class="province">\s*<div class="pname"><b>([^<]*)</b>`)
	for _, c := range []struct {
		who  string
		a    auth0
		want string
	}{
		{"officer", auth0{cookie: f.login(t, f.officer, nil)}, "Xã Tân Thành"},
		{"admin", auth0{cookie: f.login(t, testAdminToken, nil)}, province},
	} {
		_, b := f.do(t, "GET", "/admin", c.a, "")
		m := head.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no figures' heading on the overview", c.who)
		}
		if got := string(m[1]); got != c.want {
			t.Errorf("%s: the overview's figures are headed %q, want %q", c.who, got, c.want)
		}
	}
}

// TestHelpListAsPeopleRead: residents' names as names are written, their
// numbers as Vietnamese write them with the middle hidden, and finished
// requests in their own list below the ones still waiting.
func TestHelpListAsPeopleRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hamlet, err := f.db.FindUnit(ctx, cnsbot.UnitHamlet, &f.tanThanh.ID, "Cây Trâm")
	if err != nil {
		t.Fatal(err)
	}
	typed := cnsbot.HelpRequest{ResidentUserID: "8190000000000000999", Name: "  TRẦN văn   tám ", Phone: "+84987654321",
		HamletID: hamlet.ID, Topic: cnsbot.AreaCaMauG, Problem: "Muốn gửi phản ánh", CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.db.CreateHelpRequest(ctx, &typed); err != nil {
		t.Fatal(err)
	}
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	for _, path := range []string{"/admin/help", "/admin/communes/" + itoa(f.tanThanh.ID)} {
		_, b := f.do(t, "GET", path, admin, "")
		body := string(b)
		for _, w := range []string{"Trần Văn Tám", "0987 ••• 321", "Nguyễn Văn Tư", "0912 ••• 101"} {
			if !strings.Contains(body, w) {
				t.Errorf("%s: want %q", path, w)
			}
		}
		for _, w := range []string{"TRẦN văn", "+84987654321", "8498****321", "0987654321"} {
			if strings.Contains(body, w) {
				t.Errorf("%s: %q must not show", path, w)
			}
		}
		// Waiting requests in the first table, finished ones (HTDM2D,
		// closed) only in the second.
		waiting := section(body, `<table class="list help">`, `</table>`)
		done := section(body, `<table class="list help done">`, `</table>`)
		if !strings.Contains(waiting, "HTDM2A") || strings.Contains(waiting, "HTDM2D") {
			t.Errorf("%s: the waiting requests' table must hold HTDM2A and not the closed HTDM2D", path)
		}
		if !strings.Contains(done, "HTDM2D") || strings.Contains(done, "HTDM2A") {
			t.Errorf("%s: the finished requests' table must hold HTDM2D and not the open HTDM2A", path)
		}
		if !strings.Contains(body, "Đã xong hoặc đã hủy") {
			t.Errorf("%s: want the finished requests' heading", path)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestIndicatorsNewestFirst: the indicators' table starts with this
// quarter and marks the quarters without reports with "—", not 0.
func TestIndicatorsNewestFirst(t *testing.T) {
	f := newFixture(t)
	_, b := f.do(t, "GET", "/admin", auth0{cookie: f.login(t, testAdminToken, nil)}, "")
	table := section(string(b), `<table class="ind">`, `</table>`)
	q4, q3, q1 := strings.Index(table, "Quý 4/2026"), strings.Index(table, "Quý 3/2026"), strings.Index(table, "Quý 1/2026")
	if q4 < 0 || q3 < 0 || q1 < 0 || !(q4 < q3 && q3 < q1) {
		t.Errorf("indicators: want Quý 4/2026, Quý 3/2026 … Quý 1/2026 in that order; positions %d %d %d", q4, q3, q1)
	}
	// 14 measures × the two quarters before the demo's first reports.
	if n := strings.Count(table, `<td class="nodata">`); n != 2*14 || !strings.Contains(table, ">—</span>") {
		t.Errorf("indicators: %d cells marked without data, want 28 showing —", n)
	}
}

// TestExportCSVForVietnameseExcel: the dashboard's CSV is, for a
// Vietnamese reader, separated by ';' with decimal commas (Excel set to
// Vietnamese opens it in columns); sep=comma, or an English reader, gets
// the comma-separated file.
func TestExportCSVForVietnameseExcel(t *testing.T) {
	f := newFixture(t)
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	header := func(path string) string {
		t.Helper()
		resp, b := f.do(t, "GET", path, admin, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		line, _, _ := strings.Cut(strings.TrimPrefix(string(b), "\ufeff"), "\n")
		return line
	}
	for path, sep := range map[string]string{
		"/admin/export?format=csv&quarter=2026Q4":                       ";",
		"/admin/export?format=csv&quarter=2026Q4&sep=comma":             ",",
		"/admin/export?format=csv&quarter=2026Q4&lang=en":               ",",
		"/admin/export?format=csv&quarter=2026Q4&lang=en&sep=semicolon": ";",
	} {
		cr := csv.NewReader(strings.NewReader(header(path)))
		cr.Comma = rune(sep[0])
		if rec, err := cr.Read(); err != nil || len(rec) != 25 {
			t.Errorf("%s: the header read with %q has %d fields (%v), want 25", path, sep, len(rec), err)
		}
	}
	_, b := f.do(t, "GET", "/admin/export?format=csv&quarter=2026Q4", admin, "")
	if !regexp.MustCompile(`;\d+,\d;`).Match(b) || regexp.MustCompile(`;\d+\.\d;`).Match(b) {
		t.Errorf("the Vietnamese CSV: want decimal commas and no decimal points:\n%s", b)
	}
	if resp, _ := f.do(t, "GET", "/admin/export?format=csv&sep=tab", admin, ""); resp.StatusCode != 400 {
		t.Errorf("sep=tab: status %d, want 400", resp.StatusCode)
	}
}

// TestZaloAlertBanner: while Zalo refuses the refresh token or an OA setup
// fault holds messages, every page says so at the top, in the reader's
// language; otherwise no banner.
func TestZaloAlertBanner(t *testing.T) {
	f := newFixture(t)
	a := auth0{cookie: f.login(t, f.officer, nil)}
	if _, b := f.do(t, "GET", "/admin/help", a, ""); strings.Contains(string(b), "zalo-alert") {
		t.Fatal("a banner with nothing wrong")
	}
	f.zalo = ZaloAlerts{Reauthorise: f.now.Add(-time.Hour), SetupCode: -224, SetupSince: f.now.Add(-time.Minute)}
	for _, path := range []string{"/admin", "/admin/help", "/admin/calendar"} {
		_, b := f.do(t, "GET", path, a, "")
		body := string(b)
		if !strings.Contains(body, "cấp quyền lại") || !strings.Contains(body, "mã -224") {
			t.Errorf("%s: no Zalo banner (re-authorise and setup fault -224)", path)
		}
	}
}
