package resident

import (
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/locales"
)

// TestAnswersInReadersLanguage: a tapped time or topic, stored as a code,
// reads as words in each language; typed answers read as typed.
func TestAnswersInReadersLanguage(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	tr := texts.T
	for _, c := range []struct {
		lang, stored, want string
	}{
		{"vi", "any", "Lúc nào cũng được"}, {"en", "any", "Any time"}, {"vi", "morning", "Buổi sáng"},
		{"en", "evening", "Evening"}, {"en", "sau 5 giờ chiều", "sau 5 giờ chiều"}, {"vi", "", ""},
	} {
		if got := TimeText(tr, c.lang, c.stored); got != c.want {
			t.Errorf("TimeText(%s, %q) = %q, want %q", c.lang, c.stored, got, c.want)
		}
	}
	for _, c := range []struct {
		lang           string
		topic, problem string
		want           string
	}{
		{"vi", cnsbot.AreaEPayment, "", "Thanh toán, chuyển khoản"},
		{"en", cnsbot.AreaEPayment, "", "Payments, transfers"},
		{"en", "unknown", "", "Something else"},
		{"en", cnsbot.AreaOther, "máy không lên VNeID", "máy không lên VNeID"},
	} {
		r := cnsbot.HelpRequest{Topic: c.topic, Problem: c.problem}
		if got := ProblemText(tr, c.lang, r); got != c.want {
			t.Errorf("ProblemText(%s, %+v) = %q, want %q", c.lang, r, got, c.want)
		}
	}
	for _, code := range TimeCodes {
		if got := TimeText(tr, "en", code); got == code || got == "resident.time."+code {
			t.Errorf("time %q has no words", code)
		}
	}
}
