package web

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
)

// TestCommuneAreaTable: a commune's page shows, per hamlet and area of the
// plan, the households guided over the hamlet's households, in the page's
// language; a household visited twice in an area counts once, and the
// commune's row sums the hamlets.
func TestCommuneAreaTable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	officer := auth0{cookie: f.login(t, f.officer, nil)}
	path := "/admin/communes/" + itoa(f.tanThanh.ID)
	hamlet, err := f.db.FindUnit(ctx, cnsbot.UnitHamlet, &f.tanThanh.ID, "Cây Trâm")
	if err != nil {
		t.Fatal(err)
	}
	teams, err := f.db.TeamsOfHamlet(ctx, hamlet.ID)
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of Cây Trâm: %v %v", teams, err)
	}
	person, _, err := f.db.PersonByPhone(ctx, "+84900009001")
	if err != nil {
		t.Fatal(err)
	}
	// cells returns a row's cells (households, then each area) as text.
	cells := func(body, name string) []string {
		t.Helper()
		i := strings.Index(body, `id="area-progress"`)
		if i < 0 {
			t.Fatalf("no area table: %.300s", body)
		}
		body = body[i:]
		j := strings.Index(body, `<th scope="row">`+name+`</th>`)
		if j < 0 {
			t.Fatalf("no row %q in the area table: %s", name, body[:strings.Index(body, "</section>")])
		}
		row := body[j : j+strings.Index(body[j:], "</tr>")]
		var out []string
		for _, m := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row, -1) {
			out = append(out, strings.TrimSpace(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")))
		}
		return out
	}
	areas := planAreas()
	col := func(a string) int { return 1 + indexOf(areas, a) }
	page := func(lang string) string {
		_, b := f.do(t, "GET", path+"?lang="+lang, officer, "")
		return string(b)
	}
	before := cells(page("vi"), hamlet.Name)
	totalBefore := cells(page("vi"), "Cả xã")
	for i, v := range []struct{ household, areas string }{
		{"nhà thử Một", "vneid,dvc"}, {"Nhà Thử một", "vneid"}, {"nhà thử Hai", "yte"},
	} {
		visit := cnsbot.Visit{PersonID: person.ID, TeamID: teams[0].ID, Household: v.household, Areas: v.areas, People: 1,
			Minutes: 30, VisitedAt: f.now, SourceEvent: fmt.Sprintf("areas-%d", i)}
		if _, err := f.db.RecordVisit(ctx, &visit); err != nil {
			t.Fatal(err)
		}
	}
	vi := page("vi")
	after, totalAfter := cells(vi, hamlet.Name), cells(vi, "Cả xã")
	households := atoi(t, after[0])
	for _, a := range areas {
		want := atoi(t, strings.Fields(before[col(a)])[0])
		if a == cnsbot.AreaVNeIDInstall || a == cnsbot.AreaPublicSvc || a == cnsbot.AreaHealth {
			want++
		}
		wantCell := fmt.Sprintf("%d %s%%", want, number("vi", 100*float64(want)/float64(households)))
		if after[col(a)] != wantCell {
			t.Errorf("%s: %q, want %q", a, after[col(a)], wantCell)
		}
		if d := atoi(t, strings.Fields(totalAfter[col(a)])[0]) - atoi(t, strings.Fields(totalBefore[col(a)])[0]); d != want-atoi(t, strings.Fields(before[col(a)])[0]) {
			t.Errorf("commune's %s grew by %d", a, d)
		}
	}
	if !strings.Contains(vi, "<th>Cài, kích hoạt VNeID</th>") || !strings.Contains(vi, "Tiến độ theo lĩnh vực") {
		t.Errorf("vi: want the Vietnamese headers")
	}
	if en := page("en"); !strings.Contains(en, "<th>VNeID install and activation</th>") || !strings.Contains(en, "Progress by area") ||
		!strings.Contains(en, `<th scope="row">Whole commune</th>`) {
		t.Errorf("en: want the English headers")
	}
}

// TestOutcomeShownInReadersLanguage: a closed request's outcome stored as
// a code shows as words in the page's language, and typed words as they
// were typed; the API gives both the code and the words.
func TestOutcomeShownInReadersLanguage(t *testing.T) {
	f := newFixture(t)
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	for lang, want := range map[string]string{"vi": "Đã làm được", "en": "It worked"} {
		_, b := f.do(t, "GET", "/admin/help?lang="+lang, admin, "")
		body := string(b)
		i := strings.Index(body, "HTDM2D")
		if i < 0 {
			t.Fatalf("%s: no HTDM2D on the help page", lang)
		}
		row := body[i : i+strings.Index(body[i:], "</tr>")]
		if !strings.Contains(row, ">"+want+"</td>") || strings.Contains(row, ">done<") {
			t.Errorf("%s: HTDM2D's row %s, want %q", lang, row, want)
		}
		if !strings.Contains(body, ">Đã nộp hồ sơ cấp đổi giấy phép lái xe</td>") {
			t.Errorf("%s: want the typed outcome as typed", lang)
		}
	}
	_, b := f.do(t, "GET", "/admin/api/help-requests?status=closed&lang=en", auth0{bearer: testAdminToken}, "")
	var list struct {
		Items []struct {
			Code, Outcome string
			OutcomeText   string `json:"outcome_text"`
		}
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	found := false
	for _, it := range list.Items {
		if it.Code == "HTDM2D" {
			found = true
			if it.Outcome != cnsbot.OutcomeDone || it.OutcomeText != "It worked" {
				t.Errorf("API: %+v, want outcome done shown as “It worked”", it)
			}
		}
	}
	if !found {
		t.Errorf("API: no HTDM2D in %s", b)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestPreferredTimeText: a tapped time (a code) reads in the reader's
// language; a typed one as typed.
func TestPreferredTimeText(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, stored, want string }{
		{"vi", "afternoon", "Buổi chiều"},
		{"en", "afternoon", "Afternoon"},
		{"vi", "sau 5 giờ chiều", "sau 5 giờ chiều"},
	} {
		if got := preferredTimeText(texts, c.lang, c.stored); got != c.want {
			t.Errorf("preferredTimeText(%s, %q) = %q, want %q", c.lang, c.stored, got, c.want)
		}
	}
}
