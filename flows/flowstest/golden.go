package flowstest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update is the one flag that rewrites golden files, in every package. It
// is registered here, in a package only tests import, so that a test
// binary has it exactly once: a _test.go file must not register its own
// -update (the flag package panics on a second one); it calls Golden, or
// Update for files Golden does not write.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (UPDATE_GOLDEN=1 does the same)")

// Update reports whether golden files are to be rewritten rather than
// compared: go test -update, or UPDATE_GOLDEN=1 in the environment. The
// variable serves a run over several packages (go test ./...), where a
// package whose tests do not import flowstest would refuse -update.
func Update() bool { return *update || os.Getenv("UPDATE_GOLDEN") == "1" }

// Golden compares got with the file at path, or writes got there when
// Update is on. A difference fails the test with the first line that
// differs, so that a wording change reads as one line in the log.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if Update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
		return
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, a, b)
		}
	}
	return ""
}
