package flows_test

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/locales"
)

// A flow is data: steps with a question (a message id), the input they
// expect, where the answer is saved and which step comes next. The engine
// handles buttons, typed answers, menu, cancel, back, help, language and
// handoff at every step. (The ids here exist in no message file, so the
// bundle prints them as they are.)
func ExampleFlow() {
	feedback := &flows.Flow{
		Name:  "feedback",
		Title: "ex.feedback.name",
		Steps: []*flows.Step{
			{Name: "score", Ask: "ex.feedback.score", Input: flows.InputChoice, Save: "score", Next: "comment",
				Choices: []flows.Choice{
					{ID: "good", Label: "ex.good", Words: []string{"tot", "good"}},
					{ID: "bad", Label: "ex.bad", Words: []string{"chua tot", "bad"}},
				}},
			{Name: "comment", Ask: "ex.feedback.comment", Input: flows.InputText, Save: "comment",
				Then: func(c *flows.Ctx, in flows.Input) error {
					fmt.Println("saved:", c.Get("score"), c.Get("comment"))
					c.Menu(c.T("ex.feedback.thanks", nil))
					return nil
				}},
		},
		Entries: []flows.Entry{{Phrases: []string{"gop y", "feedback"}}},
	}

	texts, _ := locales.New()
	sessions := flowstest.NewSessions()
	e := flows.NewEngine(sessions, texts, flows.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.Register(feedback)

	chat := &flowstest.Chat{TB: &testing.T{}, Handler: e, Sessions: sessions, UserID: "u1"}
	chat.Say("menu")
	for _, say := range []string{"góp ý", "#good", "Bot dễ dùng"} {
		for _, m := range chat.Say(say) {
			fmt.Println(m.Text, flowstest.Payloads([]cnsbot.Outgoing{m}))
		}
	}
	// Output:
	// ex.feedback.score [#good #bad]
	// ex.feedback.comment []
	// saved: good Bot dễ dùng
	// ex.feedback.thanks [#en]
}
