package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store"
)

// TestBrowserAnnouncement is issue 18's journey in headless Chromium: the
// resident Lan (who once asked the team of Ấp Cây Trâm for help) writes to
// the OA; the officer writes an announcement to Xã Tân Thành on the
// dashboard, previews who is reached how, and sends it. Lan sees it in her
// chat with the "Dừng nhận tin" button, the household group of Ấp Cây
// Trâm sees the post, a resident of Ấp Tân Hòa who has not written this
// week gets it as a kept copy the moment they write, and the delivery
// report says each.
func TestBrowserAnnouncement(t *testing.T) {
	exe := chromiumPath(t)
	dir := artifactsDir(t)
	cfg := embeddedConfig(t)
	cfg.PushQuietHours = "off" // the test runs at any hour; quiet hours would hold the pushes
	r := startWeb(t, cfg, WebConfig{})
	ctx := context.Background()
	cayTram, err := r.db.FindUnit(ctx, cnsbot.UnitHamlet, nil, "Ấp Cây Trâm")
	if err != nil {
		t.Fatal(err)
	}
	var lan, households string
	for _, p := range store.DemoPersonas() {
		switch p.Key {
		case store.DemoResident:
			lan = p.ZaloUserID
		case store.DemoHouseholds:
			households = p.GroupID
		}
	}
	// Lan's earlier request places her in Ấp Cây Trâm.
	if err := store.Insert(ctx, r.db, &cnsbot.HelpRequest{Code: "HTLAN001", ResidentUserID: lan, CommuneID: *cayTram.ParentID,
		HamletID: cayTram.ID, Status: cnsbot.HelpClosed, Topic: cnsbot.AreaVNeIDInstall, SourceEvent: "test-lan", Demo: true}); err != nil {
		t.Fatal(err)
	}

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancelTime := context.WithTimeout(bctx, 90*time.Second)
	defer cancelTime()
	p := &page{t: t, ctx: bctx, url: r.url, dir: dir}

	// Lan writes: her 7-day window is open.
	p.run("open simulator", chromedp.Navigate(r.url+"/#resident"), chromedp.WaitVisible(chromedp.ID("persona-resident")))
	p.poll("welcome menu", `!!document.querySelector('#chat .btn[data-payload="#vneid"]')`)
	p.say("alo")

	// The officer composes, previews and sends.
	const msg = "Thứ Bảy này UBND xã đổi căn cước miễn phí, bà con mang theo thẻ cũ."
	p.run("sign in", chromedp.Navigate(r.url+"/admin"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), r.web.generatedToken), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("svg.bar")))
	p.run("announcements", chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Thông báo"]`)),
		chromedp.WaitVisible(chromedp.ID("text")))
	p.run("compose", chromedp.SetValue(chromedp.ID("text"), msg),
		chromedp.SetValue(chromedp.ID("commune"), fmt.Sprint(*cayTram.ParentID)), chromedp.Click(chromedp.ID("preview")),
		chromedp.WaitVisible(chromedp.ID("preview-counts")))
	count := func(ch string) int {
		return eval[int](p, "count "+ch, fmt.Sprintf(`+document.querySelector('#preview-counts tr.ch-%s td.n').textContent`, ch))
	}
	if count("direct") != 1 || count("group") < 1 || count("later") < 1 {
		t.Errorf("preview: now %d, via group %d, later %d; want Lan now, Ấp Cây Trâm's residents via its group, Ấp Tân Hòa's later",
			count("direct"), count("group"), count("later"))
	}
	if body := text(p, "#preview-counts"); !strings.Contains(body, "quá 7 ngày chưa nhắn OA") {
		t.Errorf("preview does not say why: %q", body)
	}
	p.shot("admin-announce-preview")
	p.run("send", chromedp.Click(chromedp.ID("send")), chromedp.WaitVisible(chromedp.ID("delivery-report")))
	if err := r.dispatchAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}

	// Lan sees it, with the button to stop; the household group sees the post.
	p.run("back to Lan", chromedp.Navigate(r.url+"/#resident"), chromedp.WaitVisible(chromedp.ID("persona-resident")))
	p.sees("đổi căn cước miễn phí")
	p.poll("stop button", `!!document.querySelector('#chat .btn[data-payload="#dungnhantin"]')`)
	p.shot("sim-announce-resident")
	p.run("household group", chromedp.Click(chromedp.ID("persona-households")))
	p.sees("đổi căn cước miễn phí")
	if got := textsOf(r.web.fake.MessagesTo(households)); !strings.Contains(got, "đổi căn cước miễn phí") {
		t.Errorf("the household group got %q", got)
	}
	p.shot("sim-announce-households")

	// Someone of Ấp Tân Hòa who has not written this week writes now: the
	// kept copy comes before the answer.
	report := func(status string) int {
		p.run("report", chromedp.Navigate(r.url+"/admin"), chromedp.WaitVisible(chromedp.CSS("svg.bar")),
			chromedp.Navigate(r.url+"/admin/announcements/1"), chromedp.WaitVisible(chromedp.ID("delivery-report")))
		return eval[int](p, "report "+status, fmt.Sprintf(`+document.querySelector('#delivery-report tr.total td.st-%s').textContent`, status))
	}
	deadline := time.Now().Add(20 * time.Second)
	for report("pending") > 0 && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
	}
	if d, g, k := report("delivered"), report("via_group"), report("kept"); d != 1 || g < 1 || k < 1 {
		t.Errorf("report: delivered %d, via group %d, kept %d; want 1, at least 1, at least 1", d, g, k)
	}
	kept := report("kept")
	p.shot("admin-announce-report")
	const absent = "8190000000000000001" // the demo's request HTDM2A, Ấp Tân Hòa
	oa := zaloevent.OA{AppID: r.cfg.ZaloAppID, OAID: r.web.fake.OAID(), SecretKey: r.cfg.ZaloOASecretKey}
	body, mac := oa.Sign(oa.Text(absent, "m-absent-1", "alo", time.Now()))
	req, err := zaloevent.NewRequest(ctx, r.url+"/webhooks/zalo", body, mac)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %v %v", res, err)
	}
	res.Body.Close()
	for time.Now().Before(deadline) {
		if strings.Contains(textsOf(r.web.fake.MessagesTo(absent)), "đổi căn cước") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := textsOf(r.web.fake.MessagesTo(absent)); !strings.Contains(got, "đổi căn cước miễn phí") {
		t.Fatalf("the absent resident got %q, want the kept announcement", got)
	}
	if d, k := report("delivered"), report("kept"); d != 2 || k != kept-1 {
		t.Errorf("report after the absent resident wrote: delivered %d, kept %d; want 2 and %d", d, k, kept-1)
	}
	p.shot("admin-announce-report-after")
}

func textsOf(ms []zalotest.Sent) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Text)
		b.WriteString("\n")
	}
	return b.String()
}
