package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/camau-cns/cnsbot"
)

const webHouseholds = "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ,Số điện thoại\n" +
	"Tân Thành,Cây Trâm,12,Trần Văn Năm,0912 000 112\n" +
	"Tân Thành,Cây Trâm,3,Nguyễn Văn Năm,\n"

// upload posts a household list as the dashboard's form does.
func (f *fixture) upload(t *testing.T, a auth0, name, content string) (*http.Response, string) {
	t.Helper()
	return f.uploadTo(t, a, "/admin/households/import", name, content)
}

// uploadTo posts a household list to path (the import, with a query).
func (f *fixture) uploadTo(t *testing.T, a auth0, path, name, content string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write([]byte(content))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if a.cookie != nil {
		req.AddCookie(a.cookie)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// TestHouseholdPages: the administrator uploads a list; the hamlet's page
// lists its houses not visited by number, phones masked, and exports them;
// an officer of another commune is refused; a bad file is refused whole.
func TestHouseholdPages(t *testing.T) {
	f := newFixture(t)
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	officer := auth0{cookie: f.login(t, f.officer, nil)}

	if resp, _ := f.upload(t, officer, "ho.csv", webHouseholds); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an officer's upload: status %d, want 403", resp.StatusCode)
	}
	resp, page := f.upload(t, admin, "ho.csv", webHouseholds)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "2 hộ mới") {
		t.Fatalf("upload: status %d, page %.300s", resp.StatusCode, page)
	}
	bad := webHouseholds + "Tân Thành,Không Có,5,Lê Văn Ba,\n"
	if resp, page := f.upload(t, admin, "ho.csv", bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Dòng 4: ") {
		t.Errorf("a bad upload: status %d, want 422 with line 4: %.300s", resp.StatusCode, page)
	}

	hamlet, err := f.db.FindUnit(context.Background(), cnsbot.UnitHamlet, &f.tanThanh.ID, "Cây Trâm")
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/hamlets/" + strconv.FormatInt(hamlet.ID, 10) + "/households"
	resp, b := f.do(t, "GET", path, officer, "")
	body := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Nguyễn Văn Năm") ||
		strings.Index(body, "Nguyễn Văn Năm") > strings.Index(body, "Trần Văn Năm") {
		t.Errorf("hamlet page: status %d, want both Năm, number 3 first: %.300s", resp.StatusCode, body)
	}
	if strings.Contains(body, "0912000112") || strings.Contains(body, "912000112") {
		t.Error("the page shows a phone unmasked")
	}
	resp, b = f.do(t, "GET", path+".xlsx", officer, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: status %d", resp.StatusCode)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, _ := x.GetRows(x.GetSheetList()[0])
	if len(rows) != 4 || rows[2][2] != "Nguyễn Văn Năm" || rows[3][1] != "12" || strings.Contains(rows[3][3], "000") {
		t.Errorf("export rows %q, want a title, a header and the two households by number, phones masked", rows)
	}

	other, err := f.db.Hamlets(context.Background(), f.anXuyen.ID)
	if err != nil || len(other) == 0 {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, "GET", "/admin/hamlets/"+strconv.FormatInt(other[0].ID, 10)+"/households", officer, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another commune's hamlet: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", path, auth0{}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no session: status %d, want 401", resp.StatusCode)
	}
}

// TestHouseholdUploadRefusedInVietnamese: a refused upload lists each row's
// problem in the officer's language, Vietnamese unless they chose English,
// with its code, and without repeating a phone.
func TestHouseholdUploadRefusedInVietnamese(t *testing.T) {
	f := newFixture(t)
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	bad := webHouseholds +
		"Tân Thành,Không Có,5,Lê Văn Ba,\n" +
		"Tân Thành,Cây Trâm,6,,\n" +
		"Tân Thành,Cây Trâm,7,Võ Thị Tám,0290 3831 234\n"
	resp, page := f.upload(t, admin, "ho.csv", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %.300s", resp.StatusCode, page)
	}
	for _, want := range []string{
		"Không nhập được: 3 dòng có lỗi, chưa ghi gì.",
		`<li data-code="imports.row.unknown_hamlet">Dòng 4: xã/phường này chưa có ấp/khóm “Không Có”. Nhập tệp đơn vị trước, hoặc ghi tên như trong tệp đó, rồi nhập lại.</li>`,
		`<li data-code="imports.row.empty">Dòng 5: thiếu “Chủ hộ”. Điền vào rồi nhập lại.</li>`,
		`<li data-code="imports.row.phone_landline">Dòng 6: đây là số máy bàn, không phải số di động. Ghi số di động rồi nhập lại.</li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the refused upload's page lacks %q: %.2000s", want, page)
		}
	}
	if strings.Contains(page, "3831") {
		t.Error("the page repeats a phone number")
	}
	// An officer who chose English reads the same problems in English.
	_, page = f.uploadTo(t, admin, "/admin/households/import?lang=en", "ho.csv", bad)
	if want := `<li data-code="imports.row.empty">Line 5: “Head of household” is empty. Fill it in and import again.</li>`; !strings.Contains(page, want) {
		t.Errorf("the English page lacks %q: %.2000s", want, page)
	}
}

// TestHouseholdUploadRefusesOldWorkbook: a file refused whole says why and
// what to do, in the officer's language, with its code.
func TestHouseholdUploadRefusesOldWorkbook(t *testing.T) {
	f := newFixture(t)
	admin := auth0{cookie: f.login(t, testAdminToken, nil)}
	resp, page := f.upload(t, admin, "ho.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
	want := `<p class="error" data-code="imports.file.old_xls">Không nhập được ho.xls: máy chưa đọc được tệp .xls đời cũ.`
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, want) {
		t.Errorf("status %d, want 422 and %q: %.2000s", resp.StatusCode, want, page)
	}
}
