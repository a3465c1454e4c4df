package content_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/camau-cns/cnsbot/content"
)

func TestCheckMarkdown(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string // part of the refusal; "" means accepted
	}{
		{"Mở VNeID, bấm “Quên mật khẩu”. Ký tự đặc biệt như @ hay #.", ""},
		{"Bấm **Đăng ký**:\n- số định danh\n- số điện thoại\n1. một\n2. hai", ""},
		{"Xem [trang VNeID](https://vneid.gov.vn) nhé {{.ban}}. {{.Ban}} làm được.", ""},
		{"# Bước một", "headings"},
		{"Bấm **Đăng ký", "not closed"},
		{"![màn hình](a.png)", "picture"},
		{"Gõ `123`", "code"},
		{"> trích", "quotes"},
		{"| a | b |", "tables"},
		{"<b>đậm</b>", "HTML"},
		{"__nghiêng__", "__"},
		{"[trang](vneid.gov.vn)", "link"},
		{"{{.name}}", "{{.ban}}"},
		{"---", "rules"},
		{strings.Repeat("a", content.MaxTextLen+1), "longer"},
	} {
		err := content.CheckMarkdown(tc.text)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.text, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want a refusal about %q", tc.text, err, tc.want)
		}
	}
}

func TestChatText(t *testing.T) {
	got := content.ChatText("Bấm **Xác nhận**, xem [hướng dẫn](https://vneid.gov.vn).")
	if want := "Bấm Xác nhận, xem hướng dẫn (https://vneid.gov.vn)."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	plain := "Mở VNeID (ứng dụng)."
	if got := content.ChatText(plain); got != plain {
		t.Errorf("plain text changed: %q", got)
	}
}

// A guide folder in Markdown reads as its TOML twin would: title, steps
// under "## ", a step's picture and video lines taken out of its text.
func TestReadDirMarkdown(t *testing.T) {
	pic := []byte("\x89PNG fake")
	fsys := fstest.MapFS{
		"g/pass/guide.toml": {Data: []byte(`flow = "vneid"
id = "pass"
topic = "vneid"
order = 3
words = ["quen pass"]
source = "domain.md"
checked = "2026-12-01"
`)},
		"g/pass/vi.md":   {Data: []byte("# Quên passcode\n\n## Mở ứng dụng\nMở **VNeID**.\n\n## Bấm quên\n![](b2.png)\nvideo: https://example.org/v.mp4\nBấm “Quên passcode”.\n")},
		"g/pass/en.toml": {Data: []byte("title = \"Forgot passcode\"\n[[steps]]\ntext = \"Open VNeID.\"\n[[steps]]\ntext = \"Tap it.\"\n")},
		"g/pass/b2.png":  {Data: pic},
	}
	got, err := content.ReadDir(fsys, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d guides, want 1", len(got))
	}
	g := got[0].Guide
	if g.Title["vi"] != "Quên passcode" || len(g.Steps) != 2 || g.Steps[0].Text["vi"] != "Mở **VNeID**." ||
		g.Steps[1].Text["vi"] != "Bấm “Quên passcode”." || g.Steps[1].Image != "b2.png" ||
		g.Steps[1].Video != "https://example.org/v.mp4" || g.Steps[1].Text["en"] != "Tap it." {
		t.Errorf("read %+v", g)
	}
	if !bytes.Equal(got[0].Images["b2.png"], pic) {
		t.Errorf("picture not read")
	}
	// The file name is not yet a stored picture: Check says so.
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), "stored picture") {
		t.Errorf("check: %v", err)
	}
}

func TestCheckTwin(t *testing.T) {
	g := content.Guide{Flow: "vneid", ID: "x", Topic: "vneid", Words: []string{"x"}, Source: "s", Checked: "2026-12-01",
		Title: map[string]string{"vi": "X"}, Steps: []content.Step{{Text: map[string]string{"vi": "Mở."}}}}
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), "vi only") {
		t.Errorf("no English: %v, want a refusal offering “vi only”", err)
	}
	g.ViOnly = true
	if err := g.Check(); err != nil {
		t.Errorf("vi only: %v", err)
	}
}

// A photo too large for Zalo is scaled down and compressed under 1 MB; a
// small screenshot is kept as it is.
func TestFitImage(t *testing.T) {
	// A photo too wide for a phone: scaled down.
	wide := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	for i := range wide.Pix {
		wide.Pix[i] = byte(i / 4 % 3000 / 12)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, wide); err != nil {
		t.Fatal(err)
	}
	im, err := content.FitImage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if im.ContentType != "image/jpeg" || im.Width != 1280 || im.Height != 853 || len(im.SHA) != 64 {
		t.Errorf("wide photo fitted to %s %d×%d", im.ContentType, im.Width, im.Height)
	}
	// Noise, which nothing compresses, over 1 MB as PNG: compressed under it.
	noise := image.NewRGBA(image.Rect(0, 0, 800, 800))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(r.IntN(256))
	}
	b.Reset()
	if err := png.Encode(&b, noise); err != nil {
		t.Fatal(err)
	}
	if b.Len() <= content.MaxImageBytes {
		t.Fatalf("test picture is only %d bytes", b.Len())
	}
	if im, err = content.FitImage(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if len(im.Data) > content.MaxImageBytes || im.ContentType != "image/jpeg" {
		t.Errorf("noise fitted to %d bytes %s", len(im.Data), im.ContentType)
	}
	small := image.NewRGBA(image.Rect(0, 0, 30, 20))
	small.Set(1, 1, color.Black)
	b.Reset()
	_ = png.Encode(&b, small)
	im, err = content.FitImage(b.Bytes())
	if err != nil || !bytes.Equal(im.Data, b.Bytes()) || im.ContentType != "image/png" {
		t.Errorf("small picture changed: %v", err)
	}
	if _, err := content.FitImage([]byte("GIF89a......")); err == nil {
		t.Errorf("a GIF was accepted")
	}
}
