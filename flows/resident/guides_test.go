package resident_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
)

// publishStep publishes the guide again with step n's Vietnamese text and
// picture changed, as an officer does in the dashboard.
func publishStep(t *testing.T, m *content.Memory, key string, n int, text, image string) {
	t.Helper()
	cur, _, err := m.Guides(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range cur {
		if v.Guide.Key() != key {
			continue
		}
		g := v.Guide
		g.Steps = append([]content.Step(nil), g.Steps...)
		st := g.Steps[n-1]
		st.Text = map[string]string{"vi": text, "en": st.Text["en"]}
		st.Image = image
		g.Steps[n-1] = st
		if _, err := m.Publish(g); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no guide %s", key)
}

const newPicture = "7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069"

// A resident half-way through a guide keeps the version they started when
// an officer publishes a new one; the next resident to open it, and the
// first one once they start it over, get the new text and its picture.
func TestGuideVersionPinned(t *testing.T) {
	f := newFixture(t)
	half := f.chat(t, "r-half")
	half.Say("quen mat khau")
	if out := flowstest.Texts(half.Say("xong")); !strings.Contains(out, "Bước 2/5: Nhập số định danh") {
		t.Fatalf("step 2 before the publish:\n%s", out)
	}
	if got := half.Session().Data["_guide"]; got != "vneid/password@1" {
		t.Errorf("pinned %q, want vneid/password@1", got)
	}

	publishStep(t, f.guides, "vneid/password", 3, "Bấm **Xác nhận**, xem [hướng dẫn](https://vneid.gov.vn) nếu cần.", newPicture)

	out := half.Say("xong")
	if texts := flowstest.Texts(out); !strings.Contains(texts, "Bước 3/5: Xác nhận họ tên") {
		t.Errorf("the resident half-way got\n%s\nwant version 1's step 3", texts)
	}
	for _, m := range out {
		if m.Kind == cnsbot.MsgImage {
			t.Errorf("version 1 has no picture, got %+v", m)
		}
	}

	next := f.chat(t, "r-next")
	next.Say("quen mat khau")
	next.Say("xong")
	out = next.Say("xong")
	if len(out) != 2 || out[0].Kind != cnsbot.MsgImage || out[0].Image != newPicture {
		t.Fatalf("the next resident got %+v, want the picture then the text", out)
	}
	if got, want := out[1].Text, "Bước 3/5: Bấm Xác nhận, xem hướng dẫn (https://vneid.gov.vn) nếu cần."; got != want {
		t.Errorf("step 3 is %q, want %q", got, want)
	}
	if got := next.Session().Data["_guide"]; got != "vneid/password@2" {
		t.Errorf("pinned %q, want vneid/password@2", got)
	}
	// Back to step 3 asks again without the picture: it is shown once,
	// when the step is entered.
	next.Say("xong")
	if out := next.Say("quay lai"); len(out) != 1 || out[0].Kind == cnsbot.MsgImage {
		t.Errorf("back to step 3: %+v, want its text alone", out)
	}

	// The first resident, starting over from the menu, gets the new one.
	half.Say("menu")
	half.Say("quen mat khau")
	half.Say("xong")
	if texts := flowstest.Texts(half.Say("xong")); !strings.Contains(texts, "Bấm Xác nhận") {
		t.Errorf("starting over got\n%s\nwant version 2's step 3", texts)
	}
}

// Words and titles that officers publish start the guide at once, without a
// restart: the engine's typed entries follow the library's generation.
func TestGuideWordsFollowPublish(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "r1")
	if texts := flowstest.Texts(c.Say("ma pin sau so")); strings.Contains(texts, "Bước 1/") {
		t.Fatalf("unknown words started a guide:\n%s", texts)
	}
	cur, _, _ := f.guides.Guides(context.Background())
	for _, v := range cur {
		if v.Guide.Key() == "vneid/passcode" {
			g := v.Guide
			g.Words = append(append([]string(nil), g.Words...), "ma pin sau so")
			g.Title = map[string]string{"vi": "Quên hoặc bị khóa passcode", "en": g.Title["en"]}
			if _, err := f.guides.Publish(g); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Say("menu")
	if texts := flowstest.Texts(c.Say("ma pin sau so")); !strings.Contains(texts, "Bước 1/4: Mở VNeID") {
		t.Errorf("the new words got\n%s\nwant the passcode guide", texts)
	}
	c.Say("menu")
	c.Say("#vneid")
	out := c.Say("Quên hoặc bị khóa passcode")
	if texts := flowstest.Texts(out); !strings.Contains(texts, "Bước 1/4") {
		t.Errorf("the new title typed got\n%s\nwant the passcode guide", texts)
	}
}

// useLog records guide use as the store counts it.
type useLog struct{ got []string }

func (u *useLog) RecordGuideUse(_ context.Context, guide string, version, step int, kind, _ string) error {
	u.got = append(u.got, fmt.Sprintf("%s@%d %d %s", guide, version, step, kind))
	return nil
}

// What residents do in a guide is counted per step, at the version they
// read: opening it, each step, "still stuck", asking a team member, and
// finishing.
func TestGuideUseCounted(t *testing.T) {
	f := newFixture(t)
	use := &useLog{}
	deps := f.deps
	deps.Use = use
	e := flows.NewEngine(f.sessions, f.texts, flows.Options{Now: f.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err := resident.Register(e, deps); err != nil {
		t.Fatal(err)
	}
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: f.sessions, Clock: f.clock, UserID: "r-use"}
	for _, in := range []string{"quen passcode", "xong", "chua duoc", "#dennha"} {
		c.Say(in)
	}
	c.Say("menu")
	for _, in := range []string{"#vneid", "#passcode", "xong", "xong", "xong", "#lamduoc"} {
		c.Say(in)
	}
	want := []string{
		"vneid/passcode@1 1 start", "vneid/passcode@1 1 step", "vneid/passcode@1 2 step", "vneid/passcode@1 2 stuck",
		"vneid/passcode@1 2 come",
		"vneid/passcode@1 1 start", "vneid/passcode@1 1 step", "vneid/passcode@1 2 step", "vneid/passcode@1 3 step",
		"vneid/passcode@1 4 step", "vneid/passcode@1 4 done",
	}
	if !slices.Equal(use.got, want) {
		t.Errorf("counted\n%s\nwant\n%s", strings.Join(use.got, "\n"), strings.Join(want, "\n"))
	}
}
