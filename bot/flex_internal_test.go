package bot

import (
	"encoding/json"
	"testing"
)

// TestFlexStringMatchesJSON checks the quick path for strings without
// escapes against encoding/json's own decoding.
func TestFlexStringMatchesJSON(t *testing.T) {
	for _, in := range []string{`"abc"`, `""`, `"Tiếng Việt có dấu"`, `"a\"b"`, `"\u00e9t\u00e9"`, `"tab\tin"`,
		"\"bad \xff utf8\"", `"5510185758261927916"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var got flexString
		if err := got.UnmarshalJSON([]byte(in)); err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
}
