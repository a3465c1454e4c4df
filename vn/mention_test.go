package vn

import "testing"

func TestNoMention(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Cài VNeID giúp tôi", "Cài VNeID giúp tôi"},
		{"[@5510185758261927916]", "(@5510185758261927916)"},
		{"Lan [@f414c8f76fa586fbdfb4] ơi", "Lan (@f414c8f76fa586fbdfb4) ơi"},
		{"a [@1] b [@2]", "a (@1) b (@2)"},
		{"[ @1]", "( @1)"},
		{"[\u200b@1]", "(\u200b@1)"},
		{"[＠1]", "(＠1)"},
		{"[﹫1]", "(﹫1)"},
		{"[@1", "(@1"},
		{"[@1\n] sau", "(@1\n] sau"},
		{"[@1 [x] y]", "(@1 [x) y]"},
		{"[1] và [ghi chú]", "[1] và [ghi chú]"},
		{"email a@b.vn [x]", "email a@b.vn [x]"},
		{"[[@1]]", "[(@1)]"},
		{"[", "["},
	}
	for _, tt := range tests {
		got := NoMention(tt.in)
		if got != tt.want {
			t.Errorf("NoMention(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if again := NoMention(got); again != got {
			t.Errorf("NoMention is not idempotent on %q: %q", got, again)
		}
		if len(got) != len(tt.in) {
			t.Errorf("NoMention(%q) changed the length: %d, want %d", tt.in, len(got), len(tt.in))
		}
	}
}

func FuzzNoMention(f *testing.F) {
	for _, s := range []string{"[@1]", "[ @1]", "a [＠b] c", "[[@", "]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NoMention(s)
		if len(got) != len(s) {
			t.Fatalf("length changed: %d, want %d", len(got), len(s))
		}
		for i := 0; i < len(got); i++ {
			if got[i] == '[' && atFollows(got[i+1:]) {
				t.Fatalf("NoMention(%q) = %q still has a mention at %d", s, got, i)
			}
		}
	})
}
