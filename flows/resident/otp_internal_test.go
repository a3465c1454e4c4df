package resident

import (
	"testing"

	"github.com/camau-cns/cnsbot/flows"
)

func TestMatchOTP(t *testing.T) {
	for text, want := range map[string]bool{
		"123456": true, "4839": true, "12345678": true, " 483 912 ": true, "48-39-12": true, "1.2.3.4": true,
		"123": false, "5": false, "123456789": false, // too short, a rating, too long
		"0912345678": false, "0290 3831 234": false, // phone numbers
		"HT7K3Q": false, "ma 123456": false, "123456a": false, "": false,
	} {
		if _, got := matchOTP(flows.NewText(text)); got != want {
			t.Errorf("matchOTP(%q) = %v, want %v", text, got, want)
		}
	}
}
