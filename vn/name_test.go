package vn

import "testing"

func TestNameCase(t *testing.T) {
	for in, want := range map[string]string{
		"tran thi lan":     "Tran Thi Lan",
		"trần thị lan":     "Trần Thị Lan",
		"TRẦN  THỊ   LAN ": "Trần Thị Lan",
		"ấp cây trâm":      "Ấp Cây Trâm",
		"đỗ văn út":        "Đỗ Văn Út",
		"Nguyễn Văn A":     "Nguyễn Văn A",
		"bà McDonald":      "Bà McDonald",
		"":                 "",
	} {
		if got := NameCase(in); got != want {
			t.Errorf("NameCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShowPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+84912345678": "0912 ••• 678",
		"0912345678":   "0912 ••• 678",
		"02903831234":  "********234",
	} {
		if got := ShowPhone(in); got != want {
			t.Errorf("ShowPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
