package vn

import "testing"

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"nhà ông Năm", 20, "nhà ông Năm"},
		{"nhà ông Năm", 7, "nhà ông"},
		{"Nguyễn", 4, "Nguy"},
		{"", 3, ""},
	} {
		if got := Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
