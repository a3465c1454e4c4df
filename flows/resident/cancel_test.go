package resident_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// to lists each message's recipient and id, for assertions on notices.
func to(out []cnsbot.Outgoing, self string) []string {
	var got []string
	for _, m := range out {
		if m.To.UserID == self && m.To.GroupID == "" {
			continue
		}
		got = append(got, m.To.String()+" "+m.ID)
	}
	return got
}

// TestCancelRequest: "hủy yêu cầu" asks once, cancels, and tells the
// member who took it, once; the 48-hour escalation then skips it.
func TestCancelRequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := cnsbot.HelpRequest{ResidentUserID: "r1", HamletID: 12, Problem: "Cài VNeID", SourceEvent: "e1",
		CreatedAt: t0.Add(-time.Hour)}
	if err := f.desk.CreateHelpRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	f.desk.Take(r.Code, 101) // Lê Thị Mai, z-mai
	c := f.chat(t, "r1")
	ask := c.Say("hủy yêu cầu")
	if got := flowstest.Texts(ask); !strings.Contains(got, r.Code) || !strings.Contains(got, "Cài VNeID") {
		t.Fatalf("confirmation %q does not name the request", got)
	}
	if got := to(ask, "r1"); len(got) != 0 {
		t.Errorf("told %v before the resident confirmed", got)
	}
	if got, _ := f.desk.HelpRequestByCode(ctx, r.Code); got.Status != cnsbot.HelpTaken {
		t.Fatalf("status before confirming: %s", got.Status)
	}
	done := c.Say("#dongyhuy")
	if got := flowstest.Texts(done); !strings.Contains(got, "đã hủy yêu cầu "+r.Code) {
		t.Errorf("after confirming: %q", got)
	}
	if got, want := to(done, "r1"), []string{"u:z-mai help:" + r.Code + ":cancelled:101"}; !slices.Equal(got, want) {
		t.Errorf("notices: got %v, want %v", got, want)
	}
	got, _ := f.desk.HelpRequestByCode(ctx, r.Code)
	if got.Status != cnsbot.HelpCancelled || got.CancelledAt == nil {
		t.Fatalf("after cancel: status %s at %v", got.Status, got.CancelledAt)
	}
	// "hủy yêu cầu" said again at the question is a yes.
	r2 := cnsbot.HelpRequest{ResidentUserID: "r1", HamletID: 12, Problem: "CaMau-G", SourceEvent: "e2"}
	if err := f.desk.CreateHelpRequest(ctx, &r2); err != nil {
		t.Fatal(err)
	}
	c.Say("hủy yêu cầu " + r2.Code)
	if got := flowstest.Texts(c.Say("hủy yêu cầu")); !strings.Contains(got, "đã hủy yêu cầu "+r2.Code) {
		t.Errorf("“hủy yêu cầu” at the question: %q", got)
	}
	// Saying it again finds nothing to cancel, and tells nobody.
	again := c.Say("huy yeu cau")
	if got := flowstest.Texts(again); !strings.Contains(got, "không có yêu cầu nào đang chờ") || len(to(again, "r1")) != 0 {
		t.Errorf("second cancel: %q to %v", got, to(again, "r1"))
	}
	if out, err := resident.EscalateStale(ctx, f.deps, t0.Add(72*time.Hour)); err != nil || len(out) != 0 {
		t.Errorf("escalation of a cancelled request: %d notices, %v", len(out), err)
	}
}

// TestCancelOpenRequest: an open request posted to the team's Zalo group
// is cancelled there; "keep" leaves a request alone; English works.
func TestCancelOpenRequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := cnsbot.HelpRequest{ResidentUserID: "r-en", HamletID: 11, Problem: "CaMau-G", SourceEvent: "e1",
		CreatedAt: t0.Add(-time.Hour)}
	if err := f.desk.CreateHelpRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	c := f.chat(t, "r-en")
	c.Say("English")
	c.Say("cancel request")
	if got := flowstest.Texts(c.Say("#giulai")); !strings.Contains(got, "stays as it is") {
		t.Errorf("keep: %q", got)
	}
	if got, _ := f.desk.HelpRequestByCode(ctx, r.Code); got.Status != cnsbot.HelpOpen {
		t.Fatalf("kept request is %s", got.Status)
	}
	// From the status message's button, with its code.
	status := c.Say("status")
	if !slices.Contains(flowstest.Payloads(status), "#huyyeucau "+r.Code) {
		t.Fatalf("status offers %v, want a cancel button", flowstest.Payloads(status))
	}
	c.Say("#huyyeucau " + r.Code)
	done := c.Say("yes")
	if got, want := to(done, "r-en"), []string{"g:G-TANHOA help:" + r.Code + ":cancelled:group"}; !slices.Equal(got, want) {
		t.Errorf("notices: got %v, want %v", got, want)
	}
	if got, _ := f.desk.HelpRequestByCode(ctx, r.Code); got.Status != cnsbot.HelpCancelled {
		t.Errorf("status %s, want cancelled", got.Status)
	}
}

// TestOtherResidentsCode: another resident's code gets exactly the answer
// a code that does not exist gets, for status, rating and cancelling.
func TestOtherResidentsCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	theirs := cnsbot.HelpRequest{ResidentUserID: "r2", HamletID: 12, Problem: "x", SourceEvent: "e2"}
	if err := f.desk.CreateHelpRequest(ctx, &theirs); err != nil {
		t.Fatal(err)
	}
	const missing = "HT99ZZZZ"
	for _, say := range []string{"%s", "tình trạng %s", "#danhgia %s 1", "hủy yêu cầu %s", "#huyyeucau %s"} {
		a, b := f.chat(t, "r-a"), f.chat(t, "r-b")
		a.Say("menu")
		b.Say("menu")
		gotTheirs := flowstest.Render(a.Say(strings.ReplaceAll(say, "%s", theirs.Code)), "r-a")
		gotMissing := flowstest.Render(b.Say(strings.ReplaceAll(say, "%s", missing)), "r-b")
		if strings.ReplaceAll(gotTheirs, theirs.Code, missing) != gotMissing {
			t.Errorf("%q: someone else's code answers\n%s\na missing code answers\n%s", say, gotTheirs, gotMissing)
		}
	}
	if got, _ := f.desk.HelpRequestByCode(ctx, theirs.Code); got.Status != cnsbot.HelpOpen || got.Rating != 0 {
		t.Errorf("their request changed: %+v", got)
	}
}

// TestCodeLookupLimit: a resident who types codes by the dozen is told
// kindly to wait, and their own code is then not looked up either.
func TestCodeLookupLimit(t *testing.T) {
	f := newFixture(t)
	f.deps.Lookups = store.NewLookupLimiter(storetest.MiniRedis(t), "t:", 10, 30)
	f.engine = flows.NewEngine(f.sessions, f.texts, flows.Options{Now: f.clock.Now, Handoffs: f.handoffs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := resident.Register(f.engine, f.deps); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mine := cnsbot.HelpRequest{ResidentUserID: "r1", HamletID: 12, Problem: "Cài VNeID", SourceEvent: "e1"}
	if err := f.desk.CreateHelpRequest(ctx, &mine); err != nil {
		t.Fatal(err)
	}
	c := f.chat(t, "r1")
	c.Say("menu")
	for i := range 10 {
		if got := flowstest.Texts(c.Say("tình trạng HT" + strings.Repeat(string("23456789BC"[i]), 6))); strings.Contains(got, "nghỉ tay") {
			t.Fatalf("lookup %d refused: %q", i+1, got)
		}
	}
	got := flowstest.Texts(c.Say(mine.Code))
	if !strings.Contains(got, "tra mã hơi nhiều") || strings.Contains(got, "Cài VNeID") {
		t.Errorf("11th lookup in a minute: %q, want the kind refusal", got)
	}
	// Another resident is not slowed.
	if got := flowstest.Texts(f.chat(t, "r2").Say("tình trạng HT22222222")); strings.Contains(got, "tra mã hơi nhiều") {
		t.Errorf("another resident refused: %q", got)
	}
}
