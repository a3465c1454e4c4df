package vn

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"spaces only", "  \t\n ", ""},
		{"ascii", "cai vneid", "cai vneid"},
		{"diacritics", "Cài VNeID", "cai vneid"},
		{"d with stroke", "Đăng ký được", "dang ky duoc"},
		{"decomposed input", "ho\u0300a", "hoa"},
		{"old tone placement", "hoà", "hoa"},
		{"new tone placement", "hòa", "hoa"},
		{"y tone placement", "thuỷ thủy", "thuy thuy"},
		{"every vowel", "ăâêôơư ĂÂÊÔƠƯ", "aaeoou aaeoou"},
		{"punctuation to spaces", "Hủy!!! (quay-lại)...", "huy quay lai"},
		{"collapse and trim", "  Gặp   người\thỗ trợ  ", "gap nguoi ho tro"},
		{"digits kept", "SĐT: 0912.345.678", "sdt 0912 345 678"},
		{"emoji is a separator", "giúp😀mình", "giup minh"},
		{"invalid utf8 is a separator", "cai\xffdat", "cai dat"},
		{"telex dd", "ddi ddaau", "di dau"},
		{"telex dd run", "dddi", "di"},
		{"telex trailing tone", "caif ddawtj", "cai dat"},
		{"telex full words", "vieetj nam dduwowcj khoong", "viet nam duoc khong"},
		{"telex tooi", "tooi muoons", "toi muon"},
		{"telex lone w", "nhw the", "nhu the"},
		{"telex nguoi", "nguowif", "nguoi"},
		{"real syllable kept", "nghieng", "nghieng"},
		{"oo read as telex", "xoong", "xong"},
		{"vneid kept", "vneid", "vneid"},
		{"vneidj kept", "vneidj", "vneidj"},
		{"sms kept", "sms", "sms"},
		{"dvc kept", "dvc", "dvc"},
		{"ok kept", "ok", "ok"},
		{"yes kept", "yes", "yes"},
		{"ios kept", "iOS", "ios"},
		{"apps kept", "apps", "apps"},
		{"www kept", "www", "www"},
		{"wifi kept", "wifi", "wifi"},
		{"new kept", "new phone", "new phone"},
		{"password kept", "password", "password"},
		{"download kept", "download", "download"},
		{"telex w at start", "wf", "u"},
		{"help kept", "help", "help"},
		{"single tone letter kept", "s", "s"},
		{"camau-g", "CaMau-G", "camau g"},
		{"mixed digits kept", "4g 5s", "4g 5s"},
		{"other scripts lower-cased", "ÉCOLE Straße", "ecole straße"},
		{"dotted capital i", "İ", "i"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFoldSameForAllSpellings(t *testing.T) {
	groups := [][]string{
		{"hủy", "huy", "huỷ", "HỦY", "Hu\u0309y", "huyr"},
		{"quay lại", "quay lai", "Quay Lại", "quay laij"},
		{"gặp người hỗ trợ", "gap nguoi ho tro", "GẶP NGƯỜI HỖ TRỢ", "gaapj nguowif hoox trowj"},
		{"được", "duoc", "dduwowcj", "đươc"},
	}
	for _, g := range groups {
		want := Fold(g[0])
		for _, s := range g[1:] {
			if got := Fold(s); got != want {
				t.Errorf("Fold(%q) = %q, want %q (as Fold(%q))", s, got, want, g[0])
			}
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("  Cài, VNeID: không được!")
	want := []string{"cai", "vneid", "khong", "duoc"}
	if !slices.Equal(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
	if got := Words(" !? "); len(got) != 0 {
		t.Errorf("Words of punctuation = %q, want none", got)
	}
}

func TestIsSyllable(t *testing.T) {
	for _, w := range []string{"a", "cai", "nguoi", "nghieng", "khuya", "chuyen", "quy", "gi", "yeu", "ruou", "thuo", "hue", "oanh", "khuyu"} {
		if !isSyllable([]byte(w)) {
			t.Errorf("isSyllable(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"", "sms", "vneid", "ye", "io", "oo", "app", "plu", "wifi", "dd", "caif", "chuye"} {
		if isSyllable([]byte(w)) {
			t.Errorf("isSyllable(%q) = true, want false", w)
		}
	}
}

// checkFolded fails unless out has the properties every Fold result has.
func checkFolded(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Fold(%q) = %q: not valid UTF-8", in, out)
	}
	if strings.TrimSpace(out) != out || strings.Contains(out, "  ") {
		t.Fatalf("Fold(%q) = %q: stray spaces", in, out)
	}
	if strings.Contains(out, "dd") {
		t.Fatalf("Fold(%q) = %q: contains dd", in, out)
	}
	for _, r := range out {
		if unicode.Is(unicode.M, r) {
			t.Fatalf("Fold(%q) = %q: combining mark %U", in, out, r)
		}
		if unicode.ToLower(r) != r {
			t.Fatalf("Fold(%q) = %q: %U has a lower case", in, out, r)
		}
		if r != ' ' && unicode.IsSpace(r) {
			t.Fatalf("Fold(%q) = %q: space %U", in, out, r)
		}
	}
	if !norm.NFD.IsNormalString(out) {
		t.Fatalf("Fold(%q) = %q: not in NFD", in, out)
	}
	if again := Fold(out); again != out {
		t.Fatalf("Fold(Fold(%q)) = %q, want %q", in, again, out)
	}
	if whole := Fold(norm.NFD.String(in)); whole != out {
		t.Fatalf("Fold(NFD(%q)) = %q, want %q as without NFD", in, whole, out)
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "Cài VNeID", "ddaauf", "hoà hòa", "Ǆ ǅ", "ẞ", "İ", "\xff\xfe", "ϓ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFolded(t, s, Fold(s))
	})
}

func BenchmarkFold(b *testing.B) {
	inputs := []string{
		"cai vneid ko dc",
		"Tôi muốn cài đặt ứng dụng VNeID nhưng không được, nhờ tổ công nghệ số giúp",
		"ddawng kys taif khoanr vneid",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range inputs {
			Fold(s)
		}
	}
}

// TestFoldEveryRune checks the Fold invariants on every Unicode code point,
// alone and inside a word, since random fuzzing rarely reaches the
// corners of the case and decomposition tables.
func TestFoldEveryRune(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		checkFolded(t, s, Fold(s))
		s = "d" + s + "d"
		checkFolded(t, s, Fold(s))
	}
}

// isFolded lets Fold return its input as it is: it must never say so of
// a text that folding would change.
func TestIsFoldedOnlyWhenFolded(t *testing.T) {
	inputs := []string{"", "a", "cai dat", "cai  dat", " cai", "cai ", "ddi", "caif", "vieetj", "yes", "sms",
		"vneid", "khoong", "xoong", "new", "0912345678", "bc ap 3", "Cai", "cai-dat", "huy bo", "dd", "d"}
	for _, s := range corpus(t) {
		inputs = append(inputs, s, strings.ToLower(s), fold(s))
	}
	for _, s := range inputs {
		if isFolded(s) && fold(s) != s {
			t.Errorf("isFolded(%q), but it folds to %q", s, fold(s))
		}
	}
	for _, s := range []string{"cai dat", "bc ap 3", "0912345678", "huy bo"} {
		if !isFolded(s) {
			t.Errorf("isFolded(%q) = false, want the shortcut", s)
		}
	}
}

func FuzzIsFolded(f *testing.F) {
	for _, s := range []string{"cai dat", "caif", "dd", "khoong", "a  b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isFolded(s) && fold(s) != s {
			t.Errorf("isFolded(%q), but it folds to %q", s, fold(s))
		}
	})
}

// BenchmarkFoldFolded is folding what is folded already: choice ids and
// phrases, which the engine folds on every message.
func BenchmarkFoldFolded(b *testing.B) {
	inputs := []string{"0", "yes", "dong y", "khong phai", "bao cao tham ho"}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range inputs {
			Fold(s)
		}
	}
}

// BenchmarkFoldCorpus folds the load test's first messages, one per op.
func BenchmarkFoldCorpus(b *testing.B) {
	texts := corpus(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Fold(texts[i%len(texts)])
		i++
	}
}
