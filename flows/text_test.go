package flows_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
	"golang.org/x/text/unicode/norm"
)

// messages are the load test's corpus and texts that fold in odd ways:
// punctuation inside words, marks alone, Telex leftovers, case, spaces.
func messages(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../cmd/cnsbot-load/testdata/first-messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"", " ", "…", "#bc ấp 3, nhà ông Năm", "vneid+dvc bị lỗi", "— bc ấp 3", "bc! ấp 3", "NHẬN ht7k3q",
		"ddaang kys", "\u0301bc x", "Bc\tấp\n3", "gọi tôi là chú Tư", "#xungho co", "4*", "năm sao", "  báo   cáo  quý 3 ",
		"tra-loi HT7K3Q", "x.y z", "ĐĂNG KÝ ABCD2345", "한국어 bc", "báo cáo"}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "# ") {
			out = append(out, strings.ReplaceAll(line, `\n`, "\n"))
		}
	}
	return out
}

// Text.after relies on this: the folded words of a text are those of its
// typed words one after another.
func TestTextWordsByField(t *testing.T) {
	for _, m := range messages(t) {
		tx := flows.NewText(m)
		var byField []string
		for _, f := range strings.Fields(tx.Raw) {
			byField = append(byField, vn.Words(f)...)
		}
		if !slices.Equal(tx.Words(), byField) && len(byField)+len(tx.Words()) > 0 {
			t.Errorf("%q: words %q, by typed word %q", m, tx.Words(), byField)
		}
		if want := vn.Words(m); !slices.Equal(tx.Words(), want) {
			t.Errorf("%q: words %q, vn.Words %q", m, tx.Words(), want)
		}
		if tx.Folded != vn.Fold(tx.Raw) {
			t.Errorf("%q: folded %q", m, tx.Folded)
		}
	}
}

// refPrefix is Prefix as it was before Text: it folds the typed words of
// the raw text on every call.
func refPrefix(phrases ...string) func(string) (string, bool) {
	var folded [][]string
	for _, p := range phrases {
		if w := vn.Words(p); len(w) > 0 {
			folded = append(folded, w)
		}
	}
	return func(text string) (string, bool) {
		raw := strings.Fields(strings.TrimSpace(norm.NFC.String(text)))
	next:
		for _, want := range folded {
			var got []string
			for i := range raw {
				got = append(got, vn.Words(raw[i])...)
				if len(got) < len(want) {
					continue
				}
				if len(got) > len(want) || !slices.Equal(got, want) {
					continue next
				}
				return strings.Join(raw[i+1:], " "), true
			}
		}
		return "", false
	}
}

// TestPrefixAsBefore compares Prefix on the corpus with the fold-per-call
// version it replaced, for the phrases commands use.
func TestPrefixAsBefore(t *testing.T) {
	sets := [][]string{
		{"nhận", "bc"}, {"bao cao tham ho", "bao cao", "bc", "report"}, {"dang ky thanh vien", "dang ky", "ghi danh", "enrol"},
		{"tinh trang", "status"}, {"tra loi", "traloi", "reply"}, {"vneid", "vn eid"}, {"goi toi la", "call me"},
		{"xong", "done", "dong"}, {"cam on"}, {"alo"}, {"ok"}, {"huy", "huy bo", "cancel"},
	}
	msgs := messages(t)
	for _, set := range sets {
		got, want := flows.Prefix(set...), refPrefix(set...)
		hits := 0
		for _, m := range msgs {
			tx := flows.NewText(m)
			// Twice on one Text: what the first call learnt must not
			// change the second's answer.
			for range 2 {
				ga, gok := got(tx)
				wa, wok := want(m)
				if ga != wa || gok != wok {
					t.Errorf("Prefix(%q)(%q) = %q, %v; before: %q, %v", set, m, ga, gok, wa, wok)
				}
				if gok {
					hits++
				}
			}
		}
		t.Logf("%q: %d hits", set, hits/2)
	}
}
