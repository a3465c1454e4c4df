package web

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/content"
)

// postGuide publishes the editor's form of a guide with step 3's Vietnamese
// text and a picture, as the page's form sends it.
func postGuide(t *testing.T, f *fixture, cookie *http.Cookie, key string, fields map[string]string, picture []byte) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if picture != nil {
		fw, _ := w.CreateFormFile("image_3", "man-hinh.png")
		_, _ = fw.Write(picture)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/guides/"+key, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.AddCookie(cookie)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.String()
}

// formOf is the editor's form for a guide as it stands.
func formOf(g content.Guide) map[string]string {
	m := map[string]string{"title_vi": g.Title["vi"], "title_en": g.Title["en"], "source": g.Source, "checked": g.Checked,
		"words": strings.Join(g.Words, "\n")}
	for i, st := range g.Steps {
		n := string(rune('1' + i))
		m["text_vi_"+n], m["text_en_"+n], m["video_"+n] = st.Text["vi"], st.Text["en"], st.Video
	}
	return m
}

// TestGuideEditor: officers see the guides and their editor; only the
// administrator publishes, with a picture; a text outside the Markdown
// subset, or without its English twin, is refused with the reason; the
// history records who published, and a rollback works.
func TestGuideEditor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seed, err := content.Seed()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SeedGuides(ctx, seed); err != nil {
		t.Fatal(err)
	}
	published := 0
	f.d.cfg.Guides, f.d.cfg.OnGuidePublished = f.db, func() { published++ }
	officer := f.login(t, f.officer, nil)
	admin := f.login(t, testAdminToken, nil)

	if resp, b := f.do(t, "GET", "/admin/guides", auth0{cookie: officer}, ""); resp.StatusCode != 200 ||
		!strings.Contains(string(b), "Quên mật khẩu") || !strings.Contains(string(b), "/admin/guides/vneid/password") {
		t.Fatalf("guides list: %d", resp.StatusCode)
	}
	resp, b := f.do(t, "GET", "/admin/guides/vneid/password", auth0{cookie: officer}, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Xác nhận họ tên") || !strings.Contains(string(b), "<fieldset disabled>") {
		t.Fatalf("officer's editor: %d, want the guide read-only", resp.StatusCode)
	}
	cur, _, _ := f.db.CurrentGuides(ctx)
	var g content.Guide
	for _, v := range cur {
		if v.Guide.Key() == "vneid/password" {
			g = v.Guide
		}
	}
	form := formOf(g)
	form["text_vi_3"] = "Bấm **Xác nhận** ở màn hình mới."
	var pic bytes.Buffer
	_ = png.Encode(&pic, image.NewGray(image.Rect(0, 0, 12, 20)))

	if resp, _ := postGuide(t, f, officer, "vneid/password", form, pic.Bytes()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an officer published: %d, want 403", resp.StatusCode)
	}
	bad := formOf(g)
	bad["text_vi_2"] = "# Tiêu đề"
	bad["text_en_4"] = ""
	resp, body := postGuide(t, f, admin, "vneid/password", bad, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "headings (#)") ||
		!strings.Contains(body, "step 4: no text in en") || !strings.Contains(body, "# Tiêu đề") {
		t.Errorf("bad form: %d, want 422 naming both problems and keeping the text", resp.StatusCode)
	}
	if resp, _ := postGuide(t, f, admin, "vneid/password", form, pic.Bytes()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d, want 303", resp.StatusCode)
	}
	hist, err := f.db.GuideHistory(ctx, "vneid/password")
	if err != nil || len(hist) != 2 || hist[0].By != "admin" || hist[0].Guide.Steps[2].Text["vi"] != form["text_vi_3"] ||
		len(hist[0].Guide.Steps[2].Image) != 64 || published != 1 {
		t.Fatalf("after publish: %v, %+v, %d refreshes", err, hist, published)
	}
	if _, err := f.db.GuideImage(ctx, hist[0].Guide.Steps[2].Image); err != nil {
		t.Errorf("picture not stored: %v", err)
	}
	_, b = f.do(t, "GET", "/admin/guides/vneid/password", auth0{cookie: admin}, "")
	if !strings.Contains(string(b), GuideImagePath+hist[0].Guide.Steps[2].Image) || !strings.Contains(string(b), "Dùng lại bản 1") {
		t.Errorf("editor after publish lacks the picture or the rollback")
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/guides/vneid/password/rollback", strings.NewReader("version=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(admin)
	rr, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rr.Body.Close()
	hist, _ = f.db.GuideHistory(ctx, "vneid/password")
	if rr.StatusCode != http.StatusSeeOther || len(hist) != 3 || hist[0].Note != "rollback to 1" || hist[0].Guide.Steps[2].Image != "" {
		t.Errorf("rollback: %d, %+v", rr.StatusCode, hist[0])
	}
}
