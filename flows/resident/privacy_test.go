package resident_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
)

// The notice comes before the name question, and nothing of the person
// is kept until they agree; the agreement is kept with its time and the
// notice's version, and is not asked for again.
func TestConsentBeforeName(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "r1")
	got := flowstest.Texts(c.Say("#dennha"))
	if !strings.Contains(got, "xóa thông tin của tôi") || !strings.Contains(got, "12 tháng") || strings.Contains(got, "họ và tên") {
		t.Fatalf("first answer %q: want the notice (how long, how to delete) and not the name question", got)
	}
	if s := c.Session(); s.Step != "consent" {
		t.Fatalf("at step %q, want consent", s.Step)
	}
	// A photo before the answer is not kept.
	c.Photo("https://img/early.jpg")
	if s := c.Session(); s.Data["attachments"] != "" || s.Step != "consent" {
		t.Errorf("photo before consent: data %v at %s, want nothing kept, still at consent", s.Data, s.Step)
	}
	if ok, _ := f.privacy.HasConsent(t.Context(), "r1", resident.ConsentVersion); ok {
		t.Fatal("consent recorded before the answer")
	}
	f.clock.Advance(time.Minute)
	if got := flowstest.Texts(c.Say("đồng ý")); !strings.Contains(got, "gọi sao cho phải") {
		t.Errorf("after agreeing: %q, want how to address them", got)
	}
	if got := flowstest.Texts(c.Say("#co")); !strings.Contains(got, "họ và tên") || !strings.Contains(got, "Cô") {
		t.Errorf("after the address: %q, want the name question, to “cô”", got)
	}
	if at, ok := f.privacy.Consents["r1/"+resident.ConsentVersion]; !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("consent %v (%v), want recorded at %v", at, ok, t0.Add(time.Minute))
	}
	for _, in := range []string{"Lan", "0912345678", "tan thanh", "cay tram", "vneid", "sang", "#gui"} {
		c.Say(in)
	}
	if len(f.desk.Requests) != 1 {
		t.Fatalf("%d requests, want 1", len(f.desk.Requests))
	}
	// The next request, once this one is closed, goes straight to the name,
	// even in a session that lost its notes (the store remembers).
	f.desk.SetStatus(f.desk.Requests[0].Code, cnsbot.HelpClosed)
	s := c.Session()
	s.Notes = map[string]string{flows.NoteAddress: "cô"} // the consent note is gone
	f.sessions.Put(s)
	if got := flowstest.Texts(c.Say("#dennha")); strings.Contains(got, "đồng ý không") || !strings.Contains(got, "họ và tên") {
		t.Errorf("second request: %q, want the name question without the notice", got)
	}
}

// Declining keeps nothing and offers what needs no personal data.
func TestDeclineStoresNothing(t *testing.T) {
	for _, say := range []string{"#khong", "không", "no"} {
		t.Run(say, func(t *testing.T) {
			f := newFixture(t)
			c := f.chat(t, "r1")
			c.Say("#dennha")
			out := c.Say(say)
			got := flowstest.Texts(out)
			if !strings.Contains(got, "UBND xã") && !strings.Contains(got, "commune office") {
				t.Errorf("decline: %q, want the commune's office offered", got)
			}
			var guides bool
			for _, m := range out {
				for _, b := range m.Buttons {
					guides = guides || b.Payload == "#vneid"
				}
			}
			if !guides {
				t.Errorf("decline: no guide buttons in %+v", out)
			}
			s := c.Session()
			if s.Flow != "" || len(s.Data) != 0 || s.Notes[""+"consent"] != "" {
				t.Errorf("session after decline %+v, want nothing kept", s)
			}
			if len(f.privacy.Consents) != 0 || len(f.desk.Requests) != 0 {
				t.Errorf("consents %v requests %d, want none", f.privacy.Consents, len(f.desk.Requests))
			}
		})
	}
}

// "xóa thông tin của tôi" asks once, then erases the stored data and
// everything the session knew, in the person's language.
func TestForgetMyData(t *testing.T) {
	for _, tc := range []struct{ lang, say, want string }{
		{"vi", "xóa thông tin của tôi", "đã xóa hết"},
		{"vi", "xoa thong tin cua toi", "đã xóa hết"},
		{"en", "delete my data", "deleted all your data"},
	} {
		t.Run(tc.say, func(t *testing.T) {
			f := newFixture(t)
			c := f.chat(t, "r1")
			if tc.lang == "en" {
				c.Say("English")
			}
			for _, in := range []string{"#dennha", "#dongy", "#co", "Lan", "0912345678", "tan thanh", "cay tram", "vneid", "sang", "#gui"} {
				c.Say(in)
			}
			c.Photo("https://img/after.jpg")
			if len(f.desk.Requests) != 1 || len(f.desk.Attachments) != 1 {
				t.Fatalf("requests %d attachments %d, want 1 and 1", len(f.desk.Requests), len(f.desk.Attachments))
			}
			c.Say("#dennha") // in the middle of something
			if got := flowstest.Texts(c.Say(tc.say)); len(f.privacy.Erased) != 0 || !strings.Contains(got, "#xoa") && !strings.Contains(strings.ToLower(got), "xóa") && !strings.Contains(got, "delete") {
				t.Fatalf("first ask: %q, erased %v: want a question and nothing erased yet", got, f.privacy.Erased)
			}
			got := flowstest.Texts(c.Say("#xoa"))
			if !strings.Contains(got, tc.want) {
				t.Errorf("done: %q, want %q", got, tc.want)
			}
			if len(f.privacy.Erased) != 1 || f.privacy.Erased[0] != "r1" {
				t.Errorf("erased %v, want [r1]", f.privacy.Erased)
			}
			// The open request was cancelled first: its team hears it.
			var told []string
			for _, m := range f.sessions.Outbox() {
				if strings.Contains(m.ID, ":cancelled:") {
					told = append(told, m.To.String())
				}
			}
			if len(told) == 0 {
				t.Error("the team of the open request was not told it is cancelled")
			}
			r := f.desk.Requests[0]
			if r.Name != "" || r.Phone != "" || r.ResidentUserID != "" || r.Problem != "" || r.Status != cnsbot.HelpCancelled || len(f.desk.Attachments) != 0 {
				t.Errorf("request after erasure %+v, attachments %d", r, len(f.desk.Attachments))
			}
			s := c.Session()
			if s.Flow != "" || len(s.Data) != 0 || len(s.Notes) != 0 || s.Lang != "" || len(s.History) != 0 {
				t.Errorf("session after erasure %+v, want nothing about the person", s)
			}
			// A new request asks for consent again.
			if got := flowstest.Texts(c.Say("#dennha")); !strings.Contains(got, "đồng ý không") {
				t.Errorf("after erasure: %q, want the notice again", got)
			}
		})
	}
}

func TestForgetKeepWhenAskedNotTo(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "r1")
	c.Say("#dennha")
	c.Say("#dongy")
	c.Say("xóa thông tin của tôi")
	if got := flowstest.Texts(c.Say("thôi, giữ lại")); !strings.Contains(got, "giữ nguyên") || len(f.privacy.Erased) != 0 {
		t.Errorf("keep: %q, erased %v", got, f.privacy.Erased)
	}
	if ok, _ := f.privacy.HasConsent(t.Context(), "r1", resident.ConsentVersion); !ok {
		t.Error("consent lost though the person kept their data")
	}
}

// Someone on the roster hears that their roster entry stays with the
// commune; only their chat data goes.
func TestForgetOnRoster(t *testing.T) {
	f := newFixture(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := flows.NewEngine(f.sessions, f.texts, flows.Options{Now: f.clock.Now, Log: log, Directory: f.desk})
	if err := resident.Register(e, f.deps); err != nil {
		t.Fatal(err)
	}
	c := &flowstest.Chat{TB: t, Handler: e, Sessions: f.sessions, Clock: f.clock, UserID: "z-mai"}
	got := flowstest.Texts(c.Say("xoá thông tin của tôi"))
	if !strings.Contains(got, "danh sách") || !strings.Contains(got, "chỉ xóa dữ liệu trò chuyện") {
		t.Errorf("roster member asked: %q, want the roster entry explained", got)
	}
	got = flowstest.Texts(c.Say("#xoa"))
	if !strings.Contains(got, "danh sách của xã, phường vẫn giữ") || len(f.privacy.Erased) != 1 {
		t.Errorf("roster member done: %q, erased %v", got, f.privacy.Erased)
	}
}

// Unfollow is recorded with its time, without a session or a reply; a
// follow again clears it.
func TestUnfollowRecorded(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "r1")
	c.Say("menu")
	before := c.Session()
	at := t0.Add(3 * time.Hour)
	if out := c.Do(cnsbot.Event{Name: "unfollow", Kind: cnsbot.KindUnfollow, Time: at}); len(out) != 0 {
		t.Errorf("unfollow answered %v", out)
	}
	if got, ok := f.privacy.Unfollowed["r1"]; !ok || !got.Equal(at) {
		t.Errorf("unfollow recorded %v (%v), want %v", got, ok, at)
	}
	if s := c.Session(); s.Version != before.Version {
		t.Errorf("unfollow committed the session (version %d → %d)", before.Version, s.Version)
	}
	c.Follow()
	if _, ok := f.privacy.Unfollowed["r1"]; ok {
		t.Error("follow again did not clear the unfollow")
	}
}
