package main

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserGuideEditor is issue 17's "done when", in headless Chromium:
// a resident starts the VNeID password guide in the simulator; the
// administrator changes its third step's text and picture in the editor
// (the live preview shows both before publishing) and publishes; the
// resident half-way through still reads the version they started, while
// the next person to open the guide gets the new picture (uploaded to the
// fake Zalo) and text; after a rollback the guide is as before.
func TestBrowserGuideEditor(t *testing.T) {
	exe := chromiumPath(t)
	dir := artifactsDir(t)
	r := startWeb(t, embeddedConfig(t), WebConfig{})

	shotPath := filepath.Join(t.TempDir(), "vneid-buoc3.png")
	writePicture(t, shotPath)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 150*time.Second)
	defer cancelTime()
	p := &page{t: t, ctx: ctx, url: r.url, dir: dir}
	start := time.Now()
	defer func() { t.Logf("the guide editor's browser test took %v", time.Since(start).Round(time.Second)) }()

	const newText = "Bấm **Xác nhận thông tin** ở màn hình mới (xem hình)."
	const newChat = "Bước 3/5: Bấm Xác nhận thông tin ở màn hình mới (xem hình)."
	const oldChat = "Bước 3/5: Xác nhận họ tên, ngày sinh"

	// A resident half-way through the guide.
	p.run("open simulator", chromedp.Navigate(r.url+"/#resident"), chromedp.WaitVisible(chromedp.ID("persona-resident")))
	p.poll("welcome", `!!document.querySelector('#chat .btn[data-payload="#vneid"]')`)
	p.say("quen mat khau")
	p.sees("Bước 1/5: Mở VNeID")
	p.tap("#tiep")
	p.sees("Bước 2/5")

	// The administrator edits step 3 and publishes.
	p.run("sign in", chromedp.Navigate(r.url+"/admin"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), r.web.generatedToken), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("svg.bar")))
	p.run("guides", chromedp.Navigate(r.url+"/admin/guides"), chromedp.WaitVisible(chromedp.CSS("table.guides")))
	p.run("editor", chromedp.Click(chromedp.Search(`//table[contains(@class,"guides")]//a[normalize-space()="Quên mật khẩu"]`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="text_vi_3"]`)))
	p.run("edit text", chromedp.SetValue(chromedp.CSS(`textarea[name="text_vi_3"]`), newText),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('textarea[name="text_vi_3"]').dispatchEvent(new Event('input'))`),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name="image_3"]`), []string{shotPath}),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name="image_3"]').dispatchEvent(new Event('change'))`))
	p.poll("live preview", `(() => { const c = document.querySelector('.guide-step[data-step="3"]');
		const img = c.querySelector('.bubble-img');
		return c.querySelector('.bubble').innerText.includes(`+"`"+newChat+"`"+`) && !img.hidden && img.src.startsWith('data:image/png') })()`)
	p.run("scroll", chromedp.ScrollIntoView(chromedp.CSS(`.guide-step[data-step="3"]`)))
	p.view("admin-guide-editor")
	if b, err := os.ReadFile(filepath.Join(dir, "admin-guide-editor.png")); err == nil && os.Getenv("GUIDES_SCREENSHOT") != "" {
		_ = os.WriteFile(os.Getenv("GUIDES_SCREENSHOT"), b, 0o644)
	}
	p.run("publish", chromedp.Click(chromedp.CSS(`#guide-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("button.rollback")))
	if hist := text(p, "table.history"); !strings.Contains(hist, "v2") || !strings.Contains(hist, "admin") {
		t.Errorf("history after publish: %q, want v2 by admin", hist)
	}

	// The resident half-way keeps version 1.
	p.run("back to the chat", chromedp.Navigate(r.url+"/#resident"), chromedp.WaitVisible(chromedp.ID("persona-resident")))
	p.poll("chat restored", `document.getElementById('chat').innerText.includes('Bước 2/5')`)
	p.tap("#tiep")
	p.sees(oldChat)
	if eval[bool](p, "no new text", `document.getElementById('chat').innerText.includes('Xác nhận thông tin ở màn hình mới')`) {
		t.Errorf("the resident half-way got the new version")
	}

	// The next person to open the guide gets the new picture and text.
	p.run("member", chromedp.Click(chromedp.ID("persona-member")))
	p.poll("member chat", `!!document.querySelector('#chat .btn')`)
	p.say("quen mat khau")
	p.sees("Bước 1/5: Mở VNeID")
	p.tap("#tiep")
	p.tap("#tiep")
	p.sees(newChat)
	p.poll("the picture, shown", `[...document.querySelectorAll('#chat img.photo')].some(i => i.src.includes('/_sim/uploads/') && i.complete && i.naturalWidth > 0)`)
	if r.web.fake.Uploads() != 1 {
		t.Errorf("%d pictures uploaded to Zalo, want 1", r.web.fake.Uploads())
	}
	p.shot("sim-guide-new-picture")

	// Rollback: the guide is as it was for whoever opens it next.
	p.run("editor again", chromedp.Navigate(r.url+"/admin/guides/vneid/password"), chromedp.WaitVisible(chromedp.CSS("button.rollback")))
	p.run("rollback", chromedp.Click(chromedp.Search(`//button[normalize-space()="Dùng lại bản 1"]`)),
		chromedp.WaitVisible(chromedp.Search(`//table[contains(@class,"history")]//td[normalize-space()="rollback to 1"]`)))
	p.run("member again", chromedp.Navigate(r.url+"/#member"), chromedp.WaitVisible(chromedp.ID("persona-member")))
	p.poll("member chat", `!!document.querySelector('#chat .btn')`)
	p.say("menu")
	p.say("quen mat khau")
	p.tap("#tiep")
	n := eval[int](p, "pictures", `document.querySelectorAll('#chat img.photo').length`)
	p.tap("#tiep")
	p.sees(oldChat)
	if m := eval[int](p, "pictures", `document.querySelectorAll('#chat img.photo').length`); m != n {
		t.Errorf("after the rollback step 3 came with a picture")
	}
}

// writePicture writes a phone-screen-sized PNG, as an officer's screenshot.
func writePicture(t *testing.T, path string) {
	t.Helper()
	im := image.NewRGBA(image.Rect(0, 0, 360, 640))
	for y := range 640 {
		for x := range 360 {
			c := color.RGBA{R: 230, G: 238, B: 250, A: 255}
			if y > 260 && y < 320 && x > 40 && x < 320 {
				c = color.RGBA{R: 200, G: 30, B: 40, A: 255} // the button to tap
			}
			im.Set(x, y, c)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, im); err != nil {
		t.Fatal(err)
	}
}
