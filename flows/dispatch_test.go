package flows_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

// visitLike is a form declared the way the team's visit report is: no
// Next anywhere, a step skipped when an answer came early, a step that
// reads typed text in its own terms, and a choice that ends the form.
func visitLike() *flows.Flow {
	return &flows.Flow{Name: "form", Title: "t.form", Steps: []*flows.Step{
		{Name: "who", Ask: "t.ask.who", Input: flows.InputText, Save: "who"},
		{Name: "what", Ask: "t.ask.what", Input: flows.InputChoice, Save: "what",
			Skip:    func(c *flows.Ctx) bool { return c.Get("what") != "" },
			Choices: []flows.Choice{{ID: "a", Label: "t.what.a"}, {ID: "b", Label: "t.what.b"}}},
		{Name: "hours", Ask: "t.ask.hours", Input: flows.InputChoice, Save: "hours",
			// "2" typed is two hours, not the second button.
			Parse: func(_ *flows.Ctx, text string) (string, bool) {
				if text == "2" {
					return "120", true
				}
				return "", false
			},
			Choices: []flows.Choice{{ID: "30", Label: "t.hours.30"}, {ID: "60", Label: "t.hours.60"}}},
		{Name: "sure", Ask: "t.ask.sure", Input: flows.InputChoice, Choices: []flows.Choice{
			{ID: "yes", Label: "t.sure.yes"},
			{ID: "stop", Label: "t.sure.stop", Next: flows.End},
		}},
		{Name: "last", Ask: "t.ask.last", Input: flows.InputText, Save: "last"},
	}}
}

func dispatchFixture(t *testing.T) (*flows.Engine, *flowstest.Sessions, *flowstest.Clock) {
	t.Helper()
	f := newFixture(t)
	f.engine.Register(visitLike())
	f.engine.MenuItem(flows.MenuItem{ID: "form", Label: "t.menu.form", Flow: "form", Order: 3})
	// A command that yields to free text, and one that does not.
	f.engine.Command(flows.Command{Name: "note", Match: flows.Prefix("ghi chu"), Yield: true,
		Run: func(c *flows.Ctx, _ string) (bool, error) { c.Reply("NOTE-CMD"); return true, nil }})
	f.engine.Command(flows.Command{Name: "take", Match: flows.Prefix("nhan"),
		Run: func(c *flows.Ctx, _ string) (bool, error) { c.Reply("TAKE-CMD"); return true, nil }})
	return f.engine, f.sessions, f.clock
}

func TestNextStepFollowsStepsOrder(t *testing.T) {
	e, s, clock := dispatchFixture(t)
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: s, Clock: clock, UserID: "u1"}
	c.Say("menu")
	c.Say("#form")
	for _, tt := range []struct{ say, step string }{
		{"Lan", "what"}, {"#a", "hours"}, {"2", "sure"}, {"#yes", "last"},
	} {
		c.Say(tt.say)
		if got := c.Session().Step; got != tt.step {
			t.Fatalf("after %q: at %q, want %q", tt.say, got, tt.step)
		}
	}
	if h := c.Session().Data["hours"]; h != "120" {
		t.Errorf("typed 2 read by the step's Parse as %q, want 120 (minutes)", h)
	}
	c.Say("xong")
	if s := c.Session(); s.Flow != "" {
		t.Errorf("after the last step: in %s/%s, want the flow ended", s.Flow, s.Step)
	}
	// End ends the form where it is.
	c.Say("#form")
	c.Say("Lan")
	c.Say("#a")
	c.Say("#30")
	c.Say("#stop")
	if s := c.Session(); s.Flow != "" {
		t.Errorf("a choice with Next End: in %s/%s, want the flow ended", s.Flow, s.Step)
	}
}

func TestSkipPassesOverAnsweredStepInOrderOnly(t *testing.T) {
	e, s, clock := dispatchFixture(t)
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: s, Clock: clock, UserID: "u2"}
	c.Say("menu")
	c.Say("#form")
	sess := c.Session()
	sess.Data["what"] = "b"
	s.Put(sess)
	c.Say("Lan")
	if got := c.Session().Step; got != "hours" {
		t.Fatalf("answered step not skipped: at %q, want hours", got)
	}
	// Going back stops at it again.
	c.Say("quay lại")
	if got := c.Session().Step; got != "who" {
		t.Fatalf("back: at %q, want who (the step actually asked before)", got)
	}
}

func TestYieldingCommandLeavesFreeTextToTheQuestion(t *testing.T) {
	e, s, clock := dispatchFixture(t)
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: s, Clock: clock, UserID: "u3"}
	c.Say("menu")
	c.Say("#form")
	// At a free-text question, the yielding command's words are the answer.
	out := flowstest.Texts(c.Say("ghi chú nhà bên"))
	if strings.Contains(out, "NOTE-CMD") || c.Session().Data["who"] != "ghi chú nhà bên" {
		t.Fatalf("yielding command took free text: replies %q, who %q", out, c.Session().Data["who"])
	}
	// At a choice question it is a command again.
	if out := flowstest.Texts(c.Say("ghi chú nhà bên")); !strings.Contains(out, "NOTE-CMD") {
		t.Errorf("at a choice step the command did not run: %q", out)
	}
	// A command that does not yield runs even at a free-text question.
	c.Say("menu")
	c.Say("#form")
	if out := flowstest.Texts(c.Say("nhận HT7K3Q")); !strings.Contains(out, "TAKE-CMD") {
		t.Errorf("non-yielding command at free text: %q", out)
	}
}

func TestCheckSeesStepTexts(t *testing.T) {
	texts := newFixture(t).texts
	e := flows.NewEngine(flowstest.NewSessions(), texts, flows.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.Register(&flows.Flow{Name: "g", Steps: []*flows.Step{
		{Name: "s1", Ask: "resident.guide.step", Input: flows.InputChoice,
			Texts:   map[string]string{"text": "resident.vneid.install.99"},
			Choices: []flows.Choice{{ID: "ok", Label: "resident.btn.next"}}},
	}})
	err := e.Check()
	if err == nil || !strings.Contains(err.Error(), "resident.vneid.install.99") {
		t.Errorf("Check() = %v, want the missing step text named", err)
	}
}

func TestHuyCancelsUnlessANameIsAsked(t *testing.T) {
	e, s, clock := dispatchFixture(t)
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: s, Clock: clock, UserID: "u4"}
	c.Say("menu")
	// The form's first question takes free text but not a name: "huy"
	// without its tone mark cancels, as "hủy" does.
	c.Say("#form")
	c.Say("huy")
	if s := c.Session(); s.Flow != "" {
		t.Fatalf("“huy” at a free-text question: in %s/%s, want cancelled", s.Flow, s.Step)
	}
	// The order form asks a name: "Huy" is asked about; confirmed, it is
	// the name; another answer is read as usual; "hủy" still cancels.
	c.Say("#order")
	if out := flowstest.Texts(c.Say("Huy")); !strings.Contains(out, "“Huy” phải không") {
		t.Fatalf("“Huy” at a name question: %q, want it asked about", out)
	}
	c.Say("#tenla")
	if s := c.Session(); s.Step != "phone" || s.Data["name"] != "Huy" {
		t.Fatalf("confirmed name: at %s with name %q, want phone with Huy", s.Step, s.Data["name"])
	}
	c.Say("quay lại")
	c.Say("Huy")
	c.Say("Nguyễn Văn Huy")
	if s := c.Session(); s.Step != "phone" || s.Data["name"] != "Nguyễn Văn Huy" {
		t.Fatalf("a full name after the question: at %s with name %q", s.Step, s.Data["name"])
	}
	c.Say("quay lại")
	c.Say("hủy")
	if s := c.Session(); s.Flow != "" {
		t.Errorf("“hủy” with its tone mark at a name question: in %s/%s, want cancelled", s.Flow, s.Step)
	}
}
