package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserHandoff is "gặp người hỗ trợ" in the simulator on a phone: the
// resident asks for a person, the member answers from the team's group
// with "tra loi CODE …", the resident gets it signed; what she writes
// next gets no answer from the bot and reaches the member privately, who
// answers from his own chat. The last screen is the README's chat picture
// (docs/screenshots/chat-handoff.png is a copy of artifacts/sim-handoff-phone.png).
func TestBrowserHandoff(t *testing.T) {
	ctx := newBrowser(t)
	cfg := embeddedConfig(t)
	// The team's notices are pushes, which wait for the morning between
	// 22:00 and 6:00; the test runs at any hour.
	cfg.PushQuietHours = "off"
	r := startWeb(t, cfg, WebConfig{})
	p := &page{t: t, ctx: ctx, url: r.url, dir: artifactsDir(t)}
	p.run("open simulator", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(r.url+"/?lang=vi#resident"), chromedp.WaitVisible(chromedp.ID("persona-resident")))
	p.poll("welcome menu", `!!document.querySelector('#chat .btn[data-payload="#vneid"]')`)

	p.say("cài vneid tới bước quét mặt thì báo lỗi")
	p.sees("Vẫn chưa được") // the step's buttons come as a second bubble
	p.say("gặp người hỗ trợ")
	p.poll("the bot's answer", `(t => t.includes('xã, phường nào') || t.includes('Một người sẽ trả lời'))(document.getElementById('chat').innerText)`)
	if eval[bool](p, "asked where", `document.getElementById('chat').innerText.includes('xã, phường nào')`) {
		p.say("Tân Thành")
		p.sees("ấp, khóm nào")
		p.say("Cây Trâm")
	}
	p.sees("Một người sẽ trả lời")
	chat := eval[string](p, "chat", `document.getElementById('chat').innerText`)
	m := regexp.MustCompile(`mã ([2-9A-Z]{5})\)`).FindStringSubmatch(chat)
	if m == nil {
		t.Fatalf("no handoff code in the chat:\n%s", chat)
	}
	code := m[1]

	p.run("group", chromedp.Click(chromedp.ID("persona-group")))
	p.sees("cần người trả lời (mã " + code + ")")
	n := p.botCount()
	p.run("member answers in the group", chromedp.SetValue(chromedp.ID("speaker-group"), "member"),
		chromedp.SetValue(chromedp.ID("composer-input"), "tra loi "+code+" Dạ cô Lan, con là Hùng ở tổ. Cô đang vướng ở bước nào ạ?"),
		chromedp.Click(chromedp.ID("composer-send")))
	p.waitReply(n, "the group hears who answers")
	p.sees("Lê Văn Hùng đang trả lời")

	p.run("resident", chromedp.Click(chromedp.ID("persona-resident")))
	p.sees("— Lê Văn Hùng, Tổ công nghệ số")
	n = p.botCount()
	p.run("resident writes", chromedp.SetValue(chromedp.ID("composer-input"), "Tới bước quét khuôn mặt thì nó báo không khớp"),
		chromedp.Click(chromedp.ID("composer-send")))
	p.sees("Tới bước quét khuôn mặt thì nó báo không khớp")

	p.run("member", chromedp.Click(chromedp.ID("persona-member")))
	p.sees("Người dân (mã " + code + ") nhắn")
	p.say("trả lời " + code + " Cô ra chỗ sáng, bỏ kiếng rồi quét lại giúp con nha. Không được thì con ghé nhà.")
	p.sees("Đã gửi cho người dân")

	p.run("resident again", chromedp.Click(chromedp.ID("persona-resident")))
	p.sees("ghé nhà.")
	// The bot said nothing to what she wrote: the only new bot bubble is
	// the member's second answer.
	time.Sleep(300 * time.Millisecond)
	if got := p.botCount(); got != n+1 {
		t.Errorf("the resident's chat got %d new replies, want 1 (the member's answer; the bot keeps quiet)", got-n)
	}
	p.run("bottom", chromedp.Evaluate[chromedp.Void](`(c => c.scrollTop = c.scrollHeight)(document.getElementById('chat'))`))
	p.view("sim-handoff-phone")
}
