package flows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// The test flows use message ids that exist in no file: the bundle then
// renders the id itself, which keeps expectations short and exact.

func orderFlow() *flows.Flow {
	return &flows.Flow{
		Name: "order", Title: "t.order", Resumable: true,
		Entries: []flows.Entry{{Phrases: []string{"dat hang", "order"}}},
		Steps: []*flows.Step{
			{Name: "name", Ask: "t.ask.name", Help: "t.help.name", Input: flows.InputText, PersonName: true, Save: "name", Next: "phone"},
			{Name: "phone", Ask: "t.ask.phone", Input: flows.InputPhone, Save: "phone", Next: "count"},
			{Name: "count", Ask: "t.ask.count", Input: flows.InputNumber, Min: 1, Max: 9, Save: "count", Next: "size"},
			{Name: "size", Ask: "t.ask.size", Input: flows.InputChoice, Save: "size", Next: "ok", Choices: []flows.Choice{
				{ID: "nho", Label: "t.size.small", Words: []string{"nho", "small"}},
				{ID: "lon", Label: "t.size.large", Words: []string{"lon", "large", "to"}},
			}},
			{Name: "ok", Ask: "t.ask.ok", Input: flows.InputYesNo, Save: "ok", Then: func(c *flows.Ctx, in flows.Input) error {
				if in.Choice.ID == "no" {
					c.Goto("name")
					return nil
				}
				c.Menu(c.T("t.done", nil))
				return nil
			}},
		},
	}
}

func fruitFlow() *flows.Flow {
	var choices []flows.Choice
	for _, name := range []string{"Táo", "Cam", "Chuối", "Xoài", "Mít", "Ổi", "Sầu riêng"} {
		choices = append(choices, flows.Choice{ID: "f" + fmt.Sprint(len(choices)+1), Title: name})
	}
	return &flows.Flow{Name: "fruit", Title: "t.fruit", Steps: []*flows.Step{
		{Name: "pick", Ask: "t.ask.fruit", Input: flows.InputChoice, Choices: choices, Save: "fruit", Next: "note"},
		{Name: "note", Ask: "t.ask.note", Input: flows.InputChoice, Free: true, Save: "note", Choices: []flows.Choice{
			{ID: "sang", Label: "t.morning", Words: []string{"buoi sang"}},
		}},
	}}
}

type fixture struct {
	engine   *flows.Engine
	sessions *flowstest.Sessions
	handoffs *flowstest.Handoffs
	clock    *flowstest.Clock
	texts    *locales.Bundle
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{sessions: flowstest.NewSessions(), handoffs: &flowstest.Handoffs{}, clock: flowstest.NewClock(t0), texts: texts}
	f.engine = flows.NewEngine(f.sessions, texts, flows.Options{Now: f.clock.Now, Handoffs: f.handoffs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.engine.Register(orderFlow())
	f.engine.Register(fruitFlow())
	f.engine.MenuItem(flows.MenuItem{ID: "order", Label: "t.menu.order", Flow: "order", Order: 1})
	f.engine.MenuItem(flows.MenuItem{ID: "fruit", Label: "t.menu.fruit", Flow: "fruit", Order: 2})
	return f
}

func (f *fixture) chat(t *testing.T, user string) *flowstest.Chat {
	return &flowstest.Chat{TB: t, Handler: f.engine, Sessions: f.sessions, Clock: f.clock, UserID: user}
}

// start puts the user past the welcome, at the main menu.
func (f *fixture) start(t *testing.T, user string) *flowstest.Chat {
	c := f.chat(t, user)
	c.Say("menu")
	return c
}

func TestConversation(t *testing.T) {
	type turn struct {
		say        string
		want       []string // substrings of the replies, in order
		flow, step string   // where the conversation must be after
		data       map[string]string
	}
	tests := []struct {
		name  string
		turns []turn
	}{
		{"order start to end", []turn{
			{say: "order", want: []string{"t.ask.name"}, flow: "order", step: "name"},
			{say: "Nguyễn Văn Năm", want: []string{"t.ask.phone"}, step: "phone", data: map[string]string{"name": "Nguyễn Văn Năm"}},
			{say: "0912 345 678", want: []string{"t.ask.count"}, step: "count", data: map[string]string{"phone": "+84912345678"}},
			{say: "2 cái", want: []string{"t.ask.size"}, step: "size", data: map[string]string{"count": "2"}},
			{say: "lớn", want: []string{"t.ask.ok"}, step: "ok", data: map[string]string{"size": "lon"}},
			{say: "có", want: []string{"t.done"}, flow: "", step: ""},
		}},
		{"typed without diacritics and typos", []turn{
			{say: "dat hang", flow: "order", step: "name"},
			// "Huy" is a name and, folded, the cancel word: asked, not obeyed.
			{say: "Huy", want: []string{"“Huy” phải không"}, step: "name"},
			{say: "dung", want: []string{"t.ask.phone"}, step: "phone", data: map[string]string{"name": "Huy"}},
			{say: "84912345678", step: "count"},
			{say: "3", step: "size"},
			{say: "larg", step: "ok", data: map[string]string{"size": "lon"}},
			{say: "khong", want: []string{"t.ask.name"}, step: "name"},
		}},
		{"landline and bad numbers re-prompt", []turn{
			{say: "#order", step: "name"},
			{say: "Lan", step: "phone"},
			{say: "0290 3831 234", want: []string{"Đây là số máy bàn", "t.ask.phone"}, step: "phone"},
			{say: "12345", want: []string{"t.ask.phone", "người thật"}, step: "phone"},
			{say: "sdt 0987654321 nhe", want: []string{"t.ask.count"}, step: "count", data: map[string]string{"phone": "+84987654321"}},
			{say: "42", want: []string{"từ 1 đến 9"}, step: "count"},
		}},
		{"back shows the previous answer", []turn{
			{say: "order", step: "name"},
			{say: "Lan", step: "phone"},
			{say: "quay lại", want: []string{"“Lan”", "t.ask.name"}, step: "name"},
			{say: "Lan Anh", step: "phone", data: map[string]string{"name": "Lan Anh"}},
		}},
		{"back from the first step goes to the menu", []turn{
			{say: "order", step: "name"},
			{say: "quay lại", want: []string{"Anh chị cần giúp gì?"}, flow: "", step: ""},
		}},
		{"help at a step", []turn{
			{say: "order", step: "name"},
			{say: "giúp", want: []string{"t.help.name", "quay lại", "t.ask.name"}, step: "name"},
		}},
		{"Huy as a name is not cancel, but hủy is", []turn{
			{say: "order", step: "name"},
			{say: "hủy", want: []string{"Đã hủy"}, flow: "", step: ""},
		}},
		{"unknown input twice offers a person", []turn{
			{say: "fruit", flow: "fruit", step: "pick"},
			{say: "xyz qwe", want: []string{"chưa hiểu", "t.ask.fruit"}, step: "pick"},
			{say: "abc", want: []string{"chưa hiểu", "người thật"}, step: "pick"},
		}},
		{"paging and typed names on another page", []turn{
			{say: "fruit", want: []string{"t.ask.fruit"}, step: "pick"},
			{say: "thêm", want: []string{"t.ask.fruit"}, step: "pick"},
			{say: "sau rieng", want: []string{"t.ask.note"}, step: "note", data: map[string]string{"fruit": "f7"}},
		}},
		{"free text step keeps what was typed", []turn{
			{say: "fruit", step: "pick"},
			{say: "1", step: "note", data: map[string]string{"fruit": "f1"}},
			{say: "sáng thứ Bảy", flow: "", data: map[string]string{}},
		}},
		{"english is kept", []turn{
			{say: "English", want: []string{"English from now on"}},
			{say: "order", step: "name"},
			{say: "quay lại", want: []string{"What do you need help with?"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.start(t, "u1")
			flow := ""
			for i, tu := range tt.turns {
				out := c.Say(tu.say)
				text := flowstest.Texts(out)
				pos := 0
				for _, w := range tu.want {
					j := strings.Index(text[pos:], w)
					if j < 0 {
						t.Fatalf("turn %d %q: replies lack %q (in order); got\n%s", i, tu.say, w, flowstest.Render(out, "u1"))
					}
					pos += j + len(w)
				}
				s := c.Session()
				if tu.flow != "" || tu.step == "" {
					flow = tu.flow
				}
				if tu.step != "" && s.Flow == "" {
					t.Fatalf("turn %d %q: at the menu, want step %s", i, tu.say, tu.step)
				}
				if s.Flow != flow && !(flow == "" && tu.step != "") {
					t.Errorf("turn %d %q: flow %q, want %q", i, tu.say, s.Flow, flow)
				}
				if s.Step != tu.step {
					t.Errorf("turn %d %q: step %q, want %q\n%s", i, tu.say, s.Step, tu.step, flowstest.Render(out, "u1"))
				}
				for k, v := range tu.data {
					if got := s.Data[k]; got != v {
						t.Errorf("turn %d %q: data[%s] = %q, want %q", i, tu.say, k, got, v)
					}
				}
			}
		})
	}
}

func TestWelcome(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "new")
	// One message: the menu, titled with the greeting.
	out := c.Say("alo")
	if len(out) != 1 || !strings.Contains(out[0].Text, "Chào anh chị") || len(out[0].Buttons) == 0 {
		t.Fatalf("first message: got\n%s, want the menu titled with the welcome", flowstest.Render(out, "new"))
	}
	if n := utf8.RuneCountInString(out[0].Text); n > bot.MaxListTitle {
		t.Errorf("welcome title has %d characters: over %d, the sender would split it in two messages", n, bot.MaxListTitle)
	}
	// "menu" as the first words: the same.
	if out := f.chat(t, "new3").Say("menu"); len(out) != 1 || !strings.Contains(out[0].Text, "Chào anh chị") {
		t.Fatalf("first message \"menu\": got\n%s", flowstest.Render(out, "new3"))
	}
	// Later menus carry the usual title.
	if out := c.Say("menu"); len(out) != 1 || strings.Contains(out[0].Text, "Chào anh chị") {
		t.Fatalf("second menu: got\n%s", flowstest.Render(out, "new"))
	}
	if p := flowstest.Payloads(out); !slices.Contains(p, "#order") || !slices.Contains(p, "#en") {
		t.Errorf("menu payloads %v, want #order and #en", p)
	}
	// A first message that asks for something gets the welcome and the answer.
	d := f.chat(t, "new2")
	out = d.Say("dat hang")
	if len(out) != 2 || !strings.Contains(out[0].Text, "Chào anh chị") || out[1].Text != "t.ask.name" {
		t.Fatalf("first message with intent: got\n%s", flowstest.Render(out, "new2"))
	}
	// Follow: the welcoming menu, even mid-flow; unfollow: nothing.
	out = d.Follow()
	if len(out) != 1 || !strings.Contains(out[0].Text, "Chào anh chị") || d.Session().Flow != "" {
		t.Fatalf("follow: got\n%s flow %q", flowstest.Render(out, "new2"), d.Session().Flow)
	}
	if out := d.Do(cnsbot.Event{Name: "unfollow", Kind: cnsbot.KindUnfollow}); len(out) != 0 {
		t.Errorf("unfollow replied %v", out)
	}
}

func TestReplayedEventIsSkipped(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, "u1")
	ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "dup-1", Text: "order"}
	if out := c.Do(ev); len(out) != 1 {
		t.Fatalf("first delivery: %d messages, want 1", len(out))
	}
	v := c.Session().Version
	if out := c.Do(ev); len(out) != 0 {
		t.Errorf("redelivery sent %d messages, want 0", len(out))
	}
	if got := c.Session().Version; got != v {
		t.Errorf("redelivery committed: version %d, want %d", got, v)
	}
	// The queue hands the engine JSON; a payload that is not an event is dropped.
	payload, _ := json.Marshal(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "dup-1", Route: "u:u1", UserID: "u1", Text: "order"})
	if err := f.engine.HandleEvent(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.HandleEvent(context.Background(), []byte("{not json")); err != nil {
		t.Errorf("bad payload: %v, want nil (dropped)", err)
	}
	if got := c.Session().Version; got != v {
		t.Errorf("HandleEvent redelivery committed: version %d, want %d", got, v)
	}
}

func TestOutgoingIDsAreDeterministic(t *testing.T) {
	ids := func() []string {
		f := newFixture(t)
		c := f.chat(t, "u1")
		var ids []string
		for _, m := range c.Do(cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k1", Text: "dat hang"}) {
			ids = append(ids, m.ID)
		}
		return ids
	}
	a, b := ids(), ids()
	if !slices.Equal(a, b) || len(a) != 2 || a[0] != "k1/0" || a[1] != "k1/1" {
		t.Errorf("ids %v and %v, want [k1/0 k1/1] twice", a, b)
	}
}

func TestConflictIsRetriedOnce(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, "u1")
	conflicts := 1
	f.sessions.BeforeCommit = func(s cnsbot.Session) {
		if conflicts == 0 {
			return
		}
		conflicts--
		// Someone else commits first: the engine must reload and decide again.
		other := f.sessions.Get(s.Key)
		other.Lang = "en"
		f.sessions.Put(cnsbot.Session{Key: other.Key, Lang: "en", Version: other.Version + 1, Data: other.Data})
	}
	out := c.Say("order")
	if len(out) != 1 || out[0].Lang != "en" {
		t.Fatalf("after conflict: %v, want one reply decided on the fresh (English) session", out)
	}
	f.sessions.BeforeCommit = func(s cnsbot.Session) {
		cur := f.sessions.Get(s.Key)
		cur.Version++
		f.sessions.Put(cur)
	}
	err := f.engine.Handle(context.Background(), cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "k-c", Route: "u:u1", UserID: "u1", Text: "x"})
	if cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
		t.Errorf("persistent conflict: %v, want ECONFLICT after one retry", err)
	}
}

func TestAdminEchoPausesTheBot(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, "u1")
	c.Say("order")
	commits := c.Session().Version
	// The bot's own echo: ignored, not even committed.
	if out := c.Do(cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, Text: "t.ask.name"}); len(out) != 0 || c.Session().Version != commits {
		t.Fatalf("bot echo: %d messages, version %d, want nothing", len(out), c.Session().Version)
	}
	// A human agent writes from the OA chat tool: silence for PauseFor.
	if out := c.Do(cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, AdminID: "admin-7", Text: "Chào chị"}); len(out) != 0 {
		t.Fatalf("admin echo replied: %v", out)
	}
	if got, want := c.Session().PausedUntil, t0.Add(30*time.Minute); !got.Equal(want) {
		t.Errorf("paused until %v, want %v", got, want)
	}
	f.clock.Advance(10 * time.Minute)
	if out := c.Say("Lan"); len(out) != 0 {
		t.Errorf("while paused the bot replied %v", out)
	}
	if s := c.Session(); !strings.HasSuffix(s.LastEvent, "-m5") || s.Step != "name" {
		t.Errorf("while paused: last event %q step %q, want the event recorded and the step unchanged", s.LastEvent, s.Step)
	}
	f.clock.Advance(21 * time.Minute)
	if out := c.Say("Lan"); len(out) != 1 || out[0].Text != "t.ask.phone" {
		t.Errorf("after the pause: %v, want the next question", flowstest.Texts(out))
	}
}

func TestResumeAfterIdle(t *testing.T) {
	for _, tt := range []struct {
		answer    string
		wantStep  string
		wantText  string
		wantName  string
		wantFirst bool
	}{
		{answer: "tiếp tục", wantStep: "phone", wantText: "t.ask.phone", wantName: "Lan"},
		{answer: "#lamlai", wantStep: "name", wantText: "t.ask.name", wantName: ""},
		{answer: "0912345678", wantStep: "count", wantText: "t.ask.count", wantName: "Lan"},
	} {
		t.Run(tt.answer, func(t *testing.T) {
			f := newFixture(t)
			c := f.start(t, "u1")
			c.Say("order")
			c.Say("Lan")
			f.clock.Advance(29 * time.Minute)
			if out := c.Say("quay lại"); !strings.Contains(flowstest.Texts(out), "t.ask.name") {
				t.Fatalf("within ResumeAfter: %q, want no resume offer", flowstest.Texts(out))
			}
			c.Say("Lan")
			f.clock.Advance(31 * time.Minute)
			out := c.Say("0912345678")
			if !strings.Contains(flowstest.Texts(out), "t.order") || !slices.Contains(flowstest.Payloads(out), "#tieptuc") {
				t.Fatalf("after idle: got\n%s, want continue/start over", flowstest.Render(out, "u1"))
			}
			out = c.Say(tt.answer)
			s := c.Session()
			if s.Step != tt.wantStep || !strings.Contains(flowstest.Texts(out), tt.wantText) || s.Data["name"] != tt.wantName {
				t.Errorf("%q: step %s name %q replies %q; want %s %q %q", tt.answer, s.Step, s.Data["name"],
					flowstest.Texts(out), tt.wantStep, tt.wantName, tt.wantText)
			}
		})
	}
}

func TestHandoff(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, "u1")
	c.Say("order")
	out := c.Say("gặp người hỗ trợ")
	if !strings.Contains(flowstest.Texts(out), "cán bộ") || c.Session().Flow != "" {
		t.Fatalf("handoff: %q flow %q", flowstest.Texts(out), c.Session().Flow)
	}
	if len(f.handoffs.Records) != 1 || f.handoffs.Records[0].UserID != "u1" || f.handoffs.Records[0].Reason != "asked at order/name" {
		t.Errorf("handoffs %+v", f.handoffs.Records)
	}
}

func TestCommandsGroupsAndHandlers(t *testing.T) {
	f := newFixture(t)
	var gotArgs string
	f.engine.Command(flows.Command{Name: "take", Match: flows.Prefix("nhận", "nhan"), Run: func(c *flows.Ctx, args string) (bool, error) {
		if args == "" {
			return false, nil
		}
		gotArgs = args
		c.Reply(c.T("t.taken", nil))
		return true, nil
	}})
	c := f.start(t, "u1")
	c.Say("order")
	if out := c.Say("Nhận HT7K3Q"); flowstest.Texts(out) != "t.taken" || gotArgs != "HT7K3Q" || c.Session().Step != "name" {
		t.Errorf("command mid-flow: %q args %q step %q", flowstest.Texts(out), gotArgs, c.Session().Step)
	}
	// "nhận" alone is not the command (Run declined): the flow takes it as a name.
	if c.Say("nhận"); c.Session().Data["name"] != "nhận" {
		t.Errorf("declined command: name %q, want the text kept as the answer", c.Session().Data["name"])
	}

	// Groups: silent by default, even when a command matches.
	g := cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, Key: "g1", Route: "g:G1", GroupID: "G1", UserID: "u1", Text: "menu"}
	before := len(f.sessions.Outbox())
	if err := f.engine.Handle(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if n := len(f.sessions.Outbox()) - before; n != 0 {
		t.Errorf("group without handler sent %d messages", n)
	}
	f.engine.OnGroup(func(c *flows.Ctx) error {
		if strings.HasPrefix(c.Event.Text, "#") {
			c.Reply(c.T("t.group", nil), c.Button("common.menu", "menu"))
		}
		return nil
	})
	for i, text := range []string{"chào cả nhà", "#tiendo"} {
		g := cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, Key: fmt.Sprint("g2-", i), Route: "g:G1", GroupID: "G1", UserID: "u1", Text: text}
		before := len(f.sessions.Outbox())
		if err := f.engine.Handle(context.Background(), g); err != nil {
			t.Fatal(err)
		}
		out := f.sessions.Outbox()[before:]
		switch {
		case i == 0 && len(out) != 0:
			t.Errorf("group chatter answered: %v", out)
		case i == 1 && (len(out) != 1 || out[0].To.GroupID != "G1" || len(out[0].Buttons) != 0 || out[0].Kind != cnsbot.MsgText):
			t.Errorf("group command: %+v, want one text to the group without buttons", out)
		}
	}

	// Event handlers: a media handler claims photos; submit_info outside a phone step is thanked.
	f.engine.OnEvent(cnsbot.KindMedia, func(c *flows.Ctx) (bool, error) {
		c.Reply(c.T("t.photo", nil))
		return true, nil
	})
	if out := c.Photo("https://x/p.jpg"); flowstest.Texts(out) != "t.photo" {
		t.Errorf("media handler: %q", flowstest.Texts(out))
	}
}

func TestPhoneFromForm(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, "u1")
	c.Say("order")
	c.Say("Lan")
	out := c.Say("#chiase")
	if len(out) != 2 || out[0].Kind != cnsbot.MsgRequestInfo {
		t.Fatalf("share: %+v, want a request_user_info form and a note", out)
	}
	out = c.Submit(cnsbot.UserInfo{Name: "Lan", Phone: "84912345678"})
	if s := c.Session(); s.Step != "count" || s.Data["phone"] != "+84912345678" {
		t.Fatalf("submit_info: step %s phone %q; replies %q", s.Step, s.Data["phone"], flowstest.Texts(out))
	}
	// A form without a phone, or with a landline, is re-asked.
	c.Say("quay lại")
	if out := c.Submit(cnsbot.UserInfo{Name: "Lan", Phone: "842903831234"}); !strings.Contains(flowstest.Texts(out), "máy bàn") {
		t.Errorf("landline form: %q", flowstest.Texts(out))
	}
}

func TestEngineCheck(t *testing.T) {
	f := newFixture(t)
	// The test flows use ids that exist nowhere, which Check must report.
	if err := f.engine.Check(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Check() = %v, want a missing message", err)
	}
	bad := []*flows.Flow{
		{Name: "x"},
		{Name: "x", Steps: []*flows.Step{{Name: "a", Next: "nope", Input: flows.InputText}}},
		{Name: "x", Steps: []*flows.Step{{Name: "a", Input: flows.InputChoice}}},
		{Name: "x", Steps: []*flows.Step{{Name: "a"}, {Name: "a"}}},
		{Name: "x", Steps: []*flows.Step{{Name: "a", Input: flows.InputChoice, Choices: []flows.Choice{{ID: "b c", Label: "l"}}}}},
	}
	for i, fl := range bad {
		if err := fl.Validate(); err == nil {
			t.Errorf("bad flow %d validated", i)
		}
	}
}

func TestEveryStepOfTestFlows(t *testing.T) {
	f := newFixture(t)
	flowstest.EveryStep(t, f.engine, f.sessions, map[string]string{"name": "Lan"}, t0)
}

func TestPrefix(t *testing.T) {
	m := flows.Prefix("nhận", "bc")
	for _, tt := range []struct {
		in, args string
		ok       bool
	}{
		{"nhận HT7K3Q", "HT7K3Q", true},
		{"NHAN ht7k3q", "ht7k3q", true},
		{"#bc ấp 3, nhà ông Năm", "ấp 3, nhà ông Năm", true},
		{"bc", "", true},
		{"bcd", "", false},
		{"nhà ông Năm", "", false},
	} {
		args, ok := m(flows.NewText(tt.in))
		if args != tt.args || ok != tt.ok {
			t.Errorf("Prefix(%q) = %q, %v; want %q, %v", tt.in, args, ok, tt.args, tt.ok)
		}
	}
}

func TestMenuByRoleAndRemovedStep(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	dir := &flowstest.HelpDesk{
		People: []cnsbot.Person{{ID: 1, FullName: "Bảy", ZaloUserID: ptr("member")}},
		Roles:  []cnsbot.Role{{PersonID: 1, Role: cnsbot.RoleMember, UnitID: 9, Approved: true}},
	}
	e := flows.NewEngine(sessions, texts, flows.Options{Directory: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.Register(orderFlow())
	e.MenuItem(flows.MenuItem{ID: "order", Label: "t.menu.order", Flow: "order", Order: 1})
	e.MenuItem(flows.MenuItem{ID: "visit", Label: "t.menu.visit", Flow: "order", Order: 2,
		Show: func(c *flows.Ctx) bool { ok, _ := c.HasRole(cnsbot.RoleMember); return ok }})
	for user, want := range map[string]bool{"member": true, "resident": false} {
		c := &flowstest.Chat{TB: t, Handler: e, Sessions: sessions, UserID: user}
		out := c.Say("menu")
		if got := slices.Contains(flowstest.Payloads(out), "#visit"); got != want {
			t.Errorf("%s sees the members' item: %v, want %v", user, got, want)
		}
		// Typing a hidden item's name does not open it either.
		c.Say("t menu visit")
		if got := c.Session().Flow == "order"; got != want {
			t.Errorf("%s typed the members' item: in flow %v, want %v", user, got, want)
		}
	}
	// A session left at a step that a deploy removed starts over at the menu.
	sessions.Put(cnsbot.Session{Key: "u:old", Flow: "order", Step: "gone", Version: 1, LastEvent: "x"})
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: sessions, UserID: "old"}
	c.Say("menu")
	if s := c.Session(); s.Flow != "" || s.Step != "" {
		t.Errorf("removed step: at %s/%s, want the menu", s.Flow, s.Step)
	}
}

func ptr[T any](v T) *T { return &v }
