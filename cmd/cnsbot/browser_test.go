package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium. Locally a missing browser skips
// the browser tests; under CI it fails them, so that a CI without a
// browser cannot pass by testing nothing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; the browser tests need it under CI: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser tests")
	return ""
}

// artifactsDir is where screenshots go: $ARTIFACTS_DIR, or artifacts/ at
// the root of the module (ignored by git).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "artifacts")
				break
			}
			if filepath.Dir(d) == d {
				dir = filepath.Join(wd, "artifacts")
				break
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// page drives one browser tab.
type page struct {
	t   *testing.T
	ctx context.Context
	url string
	dir string
}

func (p *page) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a script and returns its value.
func eval[T any](p *page, what, script string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](script))
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// poll waits until a script is truthy.
func (p *page) poll(what, script string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](script, chromedp.WithPollingTimeout(15*time.Second),
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		var chat string
		chat, _ = chromedp.Run(p.ctx, chromedp.Evaluate[string](`(document.getElementById('chat')||document.body).innerText.slice(-1500)`))
		p.t.Fatalf("%s: %v\nthe page ends with:\n%s", what, err, chat)
	}
}

// botCount is how many bot bubbles the open chat shows.
func (p *page) botCount() int {
	p.t.Helper()
	return eval[int](p, "count replies", `document.querySelectorAll('#chat .msg.bot').length`)
}

// waitReply waits for the bot to answer after the chat held n replies.
func (p *page) waitReply(n int, what string) {
	p.t.Helper()
	p.poll(what, fmt.Sprintf(`document.querySelectorAll('#chat .msg.bot').length > %d`, n))
}

// tap taps the newest button with the payload and waits for the answer.
func (p *page) tap(payload string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll('#chat .btn[data-payload=%q]')]`, payload)
	p.poll("button "+payload, sel+`.length > 0`)
	n := p.botCount()
	eval[bool](p, "tap "+payload, sel+`.pop().click() || true`)
	p.waitReply(n, "reply to "+payload)
}

// tapTitle taps the newest button with the title and waits for the answer.
func (p *page) tapTitle(title string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll('#chat .btn')].filter(b => b.textContent === %q)`, title)
	p.poll("button "+title, sel+`.length > 0`)
	n := p.botCount()
	eval[bool](p, "tap "+title, sel+`.pop().click() || true`)
	p.waitReply(n, "reply to "+title)
}

// say types a message and waits for the answer.
func (p *page) say(text string) {
	p.t.Helper()
	n := p.botCount()
	p.run("say "+text, chromedp.SetValue(chromedp.ID("composer-input"), text), chromedp.Click(chromedp.ID("composer-send")))
	p.waitReply(n, "reply to "+text)
}

// sees waits until the chat shows text.
func (p *page) sees(text string) {
	p.t.Helper()
	p.poll("see "+text, fmt.Sprintf(`document.getElementById('chat').innerText.includes(%q)`, text))
}

// shot saves a screenshot of the whole page.
func (p *page) shot(name string) { p.t.Helper(); p.capture(name, chromedp.FullScreenshot(100)) }

// view saves a screenshot of what the screen shows, as a phone user sees it.
func (p *page) view(name string) { p.t.Helper(); p.capture(name, chromedp.CaptureScreenshot()) }

func (p *page) capture(name string, action chromedp.Action[[]byte]) {
	p.t.Helper()
	p.run("settle", chromedp.Sleep(150*time.Millisecond))
	png, err := chromedp.Run(p.ctx, action)
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot %s", path)
}

// text returns the text of the first element a CSS selector finds.
func text(p *page, sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// TestBrowser drives the simulator and the dashboard in headless Chromium:
// a resident's VNeID journey, a member's visit report, a leader's
// reminder after the clock jump, and the dashboard's sign-in, a commune
// drill-down and an export download. Each page is kept as a screenshot.
func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	dir := artifactsDir(t)
	r := startWeb(t, embeddedConfig(t), WebConfig{})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()
	p := &page{t: t, ctx: ctx, url: r.url, dir: dir}
	start := time.Now()

	t.Run("resident VNeID journey", func(t *testing.T) {
		p.t = t
		p.run("open simulator", chromedp.Navigate(r.url+"/#resident"), chromedp.WaitVisible(chromedp.ID("persona-resident")))
		p.poll("welcome menu", `!!document.querySelector('#chat .btn[data-payload="#vneid"]')`)
		p.tap("#vneid")
		p.tap("#install")
		p.sees("Bước 1/5")
		for i := 2; i <= 5; i++ {
			p.tap("#tiep")
			p.sees(fmt.Sprintf("Bước %d/5", i))
		}
		p.tap("#lamduoc")
		p.tap("#5")
		p.sees("Cảm ơn anh chị!")
		p.shot("sim-resident-vneid")
	})

	t.Run("resident shares phone through the form", func(t *testing.T) {
		p.t = t
		p.say("nhờ tổ đến nhà")
		p.tap("#dongy") // the personal-data notice, once
		p.tap("#co")    // how to address her, once
		p.say("Trần Thị Lan")
		p.tap("#chiase")
		p.poll("form card", `!!document.querySelector('#chat .card.form .share-btn')`)
		n := p.botCount()
		eval[bool](p, "share", `[...document.querySelectorAll('#chat .share-btn')].pop().click() || true`)
		p.waitReply(n, "after sharing")
		p.sees("Đã chia sẻ: Trần Thị Lan, 0912 000 001")
		p.shot("sim-resident-share")
	})

	t.Run("member visit report", func(t *testing.T) {
		p.t = t
		p.run("member", chromedp.Click(chromedp.ID("persona-member")))
		p.poll("member menu", `!!document.querySelector('#chat .btn[data-payload="#bc"]')`)
		p.tap("#bc")
		p.say("nhà bà Ba Mới")
		p.say("1 4")
		p.sees("Mấy người")
		p.tap("#2")
		p.tap("#30")
		p.tapTitle("Bỏ qua") // no photo
		p.tapTitle("Bỏ qua") // no note
		p.sees("Bạn xem lại giúp mình")
		p.tapTitle("Lưu báo cáo")
		p.sees("Đã lưu báo cáo")
		p.shot("sim-member-visit")
	})

	t.Run("leader reminder after the clock jump", func(t *testing.T) {
		p.t = t
		p.run("leader", chromedp.Click(chromedp.ID("persona-leader")))
		p.poll("leader menu", `!!document.querySelector('#chat .btn[data-payload="#bc"]')`)
		n := p.botCount()
		p.run("jump", chromedp.Click(chromedp.ID("clock-7d")))
		p.poll("clock moved", `document.body.dataset.clockShifted === "1"`)
		p.run("remind", chromedp.Click(chromedp.ID("run-reminders")))
		p.waitReply(n, "the reminder")
		p.sees("Đã nộp")
		p.shot("sim-leader-reminder")
		// "Đã nộp" records the submission; the dashboard shows it below.
		p.tapTitle("Đã nộp")
		p.run("back to now", chromedp.Click(chromedp.ID("clock-now-btn")))
		p.poll("clock back", `document.body.dataset.clockShifted === "0"`)
	})

	t.Run("group chat", func(t *testing.T) {
		p.t = t
		p.run("group", chromedp.Click(chromedp.ID("persona-group")),
			chromedp.SetValue(chromedp.ID("composer-input"), "Chiều nay tổ đi ấp Cây Trâm nhé"),
			chromedp.Click(chromedp.ID("composer-send")))
		p.sees("Chiều nay tổ đi ấp Cây Trâm nhé")
		p.run("leader speaks", chromedp.SetValue(chromedp.ID("speaker-group"), "leader"),
			chromedp.SetValue(chromedp.ID("composer-input"), "#tiendo"), chromedp.Click(chromedp.ID("composer-send")))
		p.poll("progress in the group", `document.querySelectorAll('#chat .msg.bot').length > 0`)
		p.shot("sim-group")
	})

	t.Run("dashboard sign-in, drill-down and export", func(t *testing.T) {
		p.t = t
		p.run("login page", chromedp.Navigate(r.url+"/admin"), chromedp.WaitVisible(chromedp.ID("token")))
		p.shot("admin-login")
		p.run("sign in", chromedp.SetValue(chromedp.ID("token"), r.web.generatedToken),
			chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(chromedp.CSS("svg.bar")))
		body := text(p, "main")
		for _, want := range []string{"Xã Tân Thành", "Phường An Xuyên", "Chờ quá 48 giờ", "Dữ liệu mẫu"} {
			if !strings.Contains(body, want) {
				t.Errorf("overview: want %q", want)
			}
		}
		p.shot("admin-overview")
		p.run("drill down", chromedp.Click(chromedp.Search(`//a[normalize-space()="Xã Tân Thành"]`)),
			chromedp.WaitVisible(chromedp.ID("export-xlsx")))
		body = text(p, "main")
		for _, want := range []string{"Ấp Cây Trâm", "Ấp Tân Hòa", "Ấp Bà Điều", "nhà bà Ba Mới"} {
			if !strings.Contains(body, want) {
				t.Errorf("commune page: want %q", want)
			}
		}
		p.shot("admin-commune")

		downloads := t.TempDir()
		dctx, cancelDownload := context.WithTimeout(ctx, 20*time.Second)
		defer cancelDownload()
		progress := chromedp.Events(dctx, browser.DownloadProgress)
		events := true
		p.run("export", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &events})
			return err
		}), chromedp.Click(chromedp.ID("export-xlsx")))
		var guid string
		for ev, err := range progress {
			if err != nil {
				t.Fatalf("the export did not download: %v", err)
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				guid = ev.GUID
				break
			}
		}
		b, err := os.ReadFile(filepath.Join(downloads, guid))
		if err != nil || len(b) < 1000 || string(b[:2]) != "PK" {
			t.Errorf("downloaded report: %d bytes, err %v, want an XLSX (a zip)", len(b), err)
		}

		p.run("calendar", chromedp.Navigate(r.url+"/admin/calendar"), chromedp.WaitVisible(chromedp.CSS(".deadline")))
		if !eval[bool](p, "submitted", `[...document.querySelectorAll('ul.reporters li.ok .rname')].some(e => e.textContent.includes('Ấp Cây Trâm'))`) {
			t.Errorf("calendar: want Ấp Cây Trâm's report submitted after the leader tapped “Đã nộp”")
		}
		p.shot("admin-calendar")
		p.run("help", chromedp.Navigate(r.url+"/admin/help"), chromedp.WaitVisible(chromedp.CSS("table.help")))
		p.shot("admin-help")
		// The administrator issues an officer token, shown once, and
		// reads the access log, where the export above is a row.
		p.run("officers", chromedp.Navigate(r.url+"/admin/officers"), chromedp.WaitVisible(chromedp.ID("days")),
			chromedp.Submit(chromedp.ID("days")), chromedp.WaitVisible(chromedp.CSS("code.token")))
		if tok := text(p, "code.token"); !strings.HasPrefix(tok, "cno_") {
			t.Errorf("officers: the new token shows as %q", tok)
		}
		p.shot("admin-officers")
		p.run("access log", chromedp.Navigate(r.url+"/admin/access-log"), chromedp.WaitVisible(chromedp.CSS("table.access")))
		if body := text(p, "table.access"); !strings.Contains(body, "Xuất báo cáo quý") || !strings.Contains(body, "Mã cán bộ") {
			t.Errorf("access log: want the export and the officers' page among the rows")
		}
		p.shot("admin-access-log")
		p.run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Navigate(r.url+"/admin?lang=en"),
			chromedp.WaitVisible(chromedp.CSS("svg.bar")))
		p.view("admin-overview-phone-en")
		p.run("scroll to requests", chromedp.ScrollIntoView(chromedp.CSS("table.help")))
		p.view("admin-help-phone-en")
		p.run("phone simulator", chromedp.Navigate(r.url+"/?lang=vi#resident"), chromedp.WaitVisible(chromedp.CSS("#chat .msg")))
		p.view("sim-phone")
	})
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("the browser suite took %v, want under 60 s", d)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the browser suite timed out")
	}
}
