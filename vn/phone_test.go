package vn

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		problem PhoneProblem
	}{
		{"0912345678", "+84912345678", ""},
		{"0912 345 678", "+84912345678", ""},
		{"0912.345.678", "+84912345678", ""},
		{"0912-345-678", "+84912345678", ""},
		{"(091) 234-5678", "+84912345678", ""},
		{" 0912345678 ", "+84912345678", ""},
		{"+84912345678", "+84912345678", ""},
		{"+84 912 345 678", "+84912345678", ""},
		{"84912345678", "+84912345678", ""},
		{"0084912345678", "+84912345678", ""},
		{"+84 0912 345 678", "+84912345678", ""},
		{"840912345678", "+84912345678", ""},
		{"\u202a+84 91 234 5678\u202c", "+84912345678", ""},
		{"0912\u00a0345\u00a0678", "+84912345678", ""},
		{"0321234567", "+84321234567", ""},
		{"0391234567", "+84391234567", ""},
		{"0301234567", "+84301234567", ""},
		{"0521234567", "+84521234567", ""},
		{"0551234567", "+84551234567", ""},
		{"0561234567", "+84561234567", ""},
		{"0581234567", "+84581234567", ""},
		{"0591234567", "+84591234567", ""},
		{"0701234567", "+84701234567", ""},
		{"0761234567", "+84761234567", ""},
		{"0791234567", "+84791234567", ""},
		{"0811234567", "+84811234567", ""},
		{"0861234567", "+84861234567", ""},
		{"0871234567", "+84871234567", ""},
		{"0891234567", "+84891234567", ""},
		{"0901234567", "+84901234567", ""},
		{"0951234567", "+84951234567", ""},
		{"0991234567", "+84991234567", ""},

		{"", "", PhoneEmpty},
		{"   ", "", PhoneEmpty},
		{"+", "", PhoneNotNumber},
		{"abc", "", PhoneNotNumber},
		{"0912345678a", "", PhoneNotNumber},
		{"09123+45678", "", PhoneNotNumber},
		{"++84912345678", "", PhoneNotNumber},
		{"0912/345/678", "", PhoneNotNumber},
		{"\xff0912345678", "", PhoneNotNumber},
		{"0290 3831 234", "", PhoneLandline},
		{"02903831234", "", PhoneLandline},
		{"+84 290 3831 234", "", PhoneLandline},
		{"(0290) 3.831.234", "", PhoneLandline},
		{"024 3825 1234", "", PhoneLandline},
		{"+1 202 555 0100", "", PhoneForeign},
		{"001 202 555 0100", "", PhoneForeign},
		{"091234567", "", PhoneLength},
		{"09123456789", "", PhoneLength},
		{"912345678", "", PhoneLength},
		{"8491234567", "", PhoneLength},
		{"+8491234567", "", PhoneLength},
		{"079123456789", "", PhoneLength},
		{"12345678901234567890", "", PhoneLength},
		{"0", "", PhoneLength},
		{"0123456789", "", PhonePrefix},
		{"0412345678", "", PhonePrefix},
		{"0512345678", "", PhonePrefix},
		{"0612345678", "", PhonePrefix},
		{"0712345678", "", PhonePrefix},
		{"0801234567", "", PhonePrefix},
	}
	for _, tt := range tests {
		got, err := ParsePhone(tt.in)
		if tt.problem == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParsePhone(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var pe *PhoneError
		if !errors.As(err, &pe) || pe.Problem != tt.problem || got != "" {
			t.Errorf("ParsePhone(%q) = %q, %v, want problem %q", tt.in, got, err, tt.problem)
			continue
		}
		if code := cnsbot.ErrorCode(err); code != cnsbot.EINVALID {
			t.Errorf("ErrorCode(ParsePhone(%q)) = %q, want %q", tt.in, code, cnsbot.EINVALID)
		}
		if msg := cnsbot.ErrorMessage(err); msg == "" || msg == "internal error" {
			t.Errorf("ErrorMessage(ParsePhone(%q)) = %q, want a reason", tt.in, msg)
		}
	}
}

func TestPhoneErrorHidesNumber(t *testing.T) {
	for _, in := range []string{"0290 3831 234", "0123456789", "+1 202 555 0100", "0912345678x"} {
		_, err := ParsePhone(in)
		if err == nil {
			t.Fatalf("ParsePhone(%q) = nil error", in)
		}
		if strings.ContainsAny(err.Error(), "0123456789") && strings.Contains(err.Error(), "3831") {
			t.Errorf("ParsePhone(%q) error %q shows the number", in, err)
		}
		if strings.Contains(err.Error(), in) {
			t.Errorf("ParsePhone(%q) error %q shows the input", in, err)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+84912345678", "+8491****678"},
		{"0912 345 678", "+8491****678"},
		{"0290 3831 234", "**** **** 234"},
		{"12", "12"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFindPhone(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"sdt toi la 0912 345 678", "+84912345678", true},
		{"SĐT: 0912.345.678 nhé", "+84912345678", true},
		{"sdt0912345678", "+84912345678", true},
		{"ấp 3 0912345678", "+84912345678", true},
		{"toi 65 tuoi, so +84 912 345 678, o ap 3", "+84912345678", true},
		{"goi 0912345678 hoac 0987654321", "+84912345678", true},
		{"0912345678 0987654321", "+84912345678", true},
		{"may ban 0290 3831 234, di dong 0987 654 321", "+84987654321", true},
		{"cccd 079123456789", "", false},
		{"cccd 079 123 456 789", "", false},
		{"may ban 0290 3831 234", "", false},
		{"khong co so", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := FindPhone(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("FindPhone(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestRedactPhones(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sdt toi la 0912 345 678 nhe", "sdt toi la +8491****678 nhe"},
		{"+84912345678", "+8491****678"},
		{"goi 0912345678 hoac 0987.654.321", "goi +8491****678 hoac +8498****321"},
		{"may ban (0290) 3831 234", "may ban (****) **** 234"},
		{"cccd 079123456789", "cccd *********789"},
		{"ap 3, 45 ho, 15/09/2023", "ap 3, 45 ho, 15/09/2023"},
		{"1.000.000 dong", "1.000.000 dong"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactPhones(tt.in); got != tt.want {
			t.Errorf("RedactPhones(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var e164 = regexp.MustCompile(`^\+84[35789]\d{8}$`)

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"0912345678", "+84 912 345 678", "0290 3831 234", "840912345678", "", "+", "0084912345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePhone(s)
		if err != nil {
			var pe *PhoneError
			if !errors.As(err, &pe) || cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Fatalf("ParsePhone(%q) error %v is not an EINVALID *PhoneError", s, err)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("ParsePhone(%q) = %q, not E.164 for a Vietnamese mobile", s, got)
		}
		again, err := ParsePhone(got)
		if err != nil || again != got {
			t.Fatalf("ParsePhone(%q) = %q, %v, want %q", got, again, err, got)
		}
		if found, ok := FindPhone(s); !ok || found != got {
			t.Fatalf("FindPhone(%q) = %q, %v, want %q", s, found, ok, got)
		}
		if red := RedactPhones(s); strings.Contains(red, got[3:]) {
			t.Fatalf("RedactPhones(%q) = %q still shows the number", s, red)
		}
	})
}

func BenchmarkParsePhone(b *testing.B) {
	inputs := []string{"0912345678", "+84 912 345 678", "(0290) 3831 234", "not a phone"}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range inputs {
			ParsePhone(s)
		}
	}
}

func BenchmarkFindPhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		FindPhone("toi 65 tuoi, o ap 3, sdt cua toi la 0912 345 678 nha")
	}
}
