package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newBrowser starts a headless Chromium for one test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTime)
	return ctx
}

// TestBrowserDashboardPhone looks at the dashboard as an officer does on
// a phone (390 × 844): the indicators start with this quarter, their
// labels stay while the quarters scroll under them, a quarter without
// reports shows "—", and the tabs show, by a shadow at the edge, that
// there are more of them to scroll to.
func TestBrowserDashboardPhone(t *testing.T) {
	ctx := newBrowser(t)
	r := startWeb(t, embeddedConfig(t), WebConfig{})
	p := &page{t: t, ctx: ctx, url: r.url, dir: artifactsDir(t)}
	p.run("sign in", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(r.url+"/admin?lang=vi"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), r.web.generatedToken),
		chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(chromedp.CSS("table.ind")))

	// Newest quarter first: the simulator's clock is today's.
	now := time.Now().In(vietnam)
	want := fmt.Sprintf("Quý %d/%d", (int(now.Month())+2)/3, now.Year())
	if got := eval[string](p, "first quarter", `document.querySelector('table.ind thead th:nth-child(2)').textContent.trim()`); got != want {
		t.Errorf("the indicators start with %q, want this quarter, %q", got, want)
	}
	if n := eval[int](p, "no data", `[...document.querySelectorAll('table.ind td')].filter(td => td.textContent.trim() === '—').length`); n == 0 {
		t.Errorf("no cell shows — for a quarter without reports")
	}

	// The table scrolls sideways on a phone, and its labels stay.
	p.run("to the indicators", chromedp.ScrollIntoView(chromedp.CSS("table.ind")))
	p.view("admin-indicators-phone")
	type geometry struct {
		Scrolls   bool    `json:"scrolls"`
		Box       float64 `json:"box"`
		Label     float64 `json:"label"`
		Cell      float64 `json:"cell"`
		Scrolled  float64 `json:"scrolled"`
		LabelThen float64 `json:"labelThen"`
		CellThen  float64 `json:"cellThen"`
	}
	g := eval[geometry](p, "scroll the indicators", `(() => {
		const box = document.querySelector('.ind-scroll');
		const label = box.querySelector('tbody th[scope=row]');
		const cell = box.querySelector('tbody td:last-child');
		const g = {scrolls: box.scrollWidth > box.clientWidth + 10, box: box.getBoundingClientRect().left,
			label: label.getBoundingClientRect().left, cell: cell.getBoundingClientRect().left};
		box.scrollLeft = box.scrollWidth;
		g.scrolled = box.scrollLeft;
		g.labelThen = label.getBoundingClientRect().left;
		g.cellThen = cell.getBoundingClientRect().left;
		return g;
	})()`)
	if !g.Scrolls || g.Scrolled < 10 {
		t.Fatalf("the indicators do not scroll sideways on a phone: %+v", g)
	}
	if g.CellThen > g.Cell-10 {
		t.Errorf("the quarters did not move when scrolled: %+v", g)
	}
	if d := g.LabelThen - g.Box; d < -1 || d > 1 {
		t.Errorf("the row labels moved with the quarters (%.0f px from the table's edge): %+v", d, g)
	}
	p.view("admin-indicators-phone-scrolled")

	// The tabs: a shadow on the side where more tabs are, none at an end.
	p.run("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	if !eval[bool](p, "tabs overflow", `(n => n.scrollWidth > n.clientWidth + 10)(document.querySelector('.nav'))`) {
		t.Fatalf("the tabs fit on a 390 px screen: nothing to show")
	}
	edges := func(what string) (left, right int) {
		t.Helper()
		rect := eval[[]float64](p, "nav box", `(r => [r.left, r.top, r.right])(document.querySelector('.nav').getBoundingClientRect())`)
		shot, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatal(err)
		}
		// Three CSS pixels in from each edge, above the tabs' text.
		y := int((rect[1] + 3) * 2)
		return darkness(img, int((rect[0]+2)*2), y), darkness(img, int((rect[2]-3)*2), y)
	}
	left, right := edges("start")
	if right < left+40 {
		t.Errorf("at the start the tabs' right edge is not shaded (darkness left %d, right %d)", left, right)
	}
	p.run("scroll the tabs", chromedp.Evaluate[chromedp.Void](`(n => { n.scrollLeft = n.scrollWidth })(document.querySelector('.nav'))`))
	left, right = edges("end")
	if left < right+40 {
		t.Errorf("at the end the tabs' left edge is not shaded (darkness left %d, right %d)", left, right)
	}
	p.run("tabs and table back", chromedp.Evaluate[chromedp.Void](`document.querySelector('.nav').scrollLeft = 0; document.querySelector('.ind-scroll').scrollLeft = 0`))
	p.view("admin-overview-phone")
}

// darkness is how much darker than white a pixel is, 0 to 765.
func darkness(img image.Image, x, y int) int {
	r, g, b, _ := img.At(x, y).RGBA()
	return 765 - int(r>>8+g>>8+b>>8)
}
