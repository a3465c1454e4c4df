package flowstest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// recorder keeps what Golden reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestGolden(t *testing.T) {
	if Update() {
		t.Skip("compares, and -update is on")
	}
	path := filepath.Join(t.TempDir(), "chat.golden")
	if err := os.WriteFile(path, []byte("> menu\n< Chào bạn!\n    [menu]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Golden(r, path, "> menu\n< Chào bạn!\n    [menu]\n")
	if len(r.errs) != 0 {
		t.Errorf("same text: %v", r.errs)
	}
	Golden(r, path, "> menu\n< Xin chào!\n    [menu]\n")
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "line 2:\n  want: < Chào bạn!\n  got:  < Xin chào!") {
		t.Errorf("changed line: got %q, want the first differing line", r.errs)
	}
	r.errs = nil
	Golden(r, filepath.Join(t.TempDir(), "missing.golden"), "x")
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "-update") {
		t.Errorf("missing file: got %q, want a hint at -update", r.errs)
	}

	t.Setenv("UPDATE_GOLDEN", "1")
	Golden(r, path, "new\n")
	if b, _ := os.ReadFile(path); string(b) != "new\n" {
		t.Errorf("UPDATE_GOLDEN=1 left %q", b)
	}
}

// TestOneUpdateFlag keeps -update registered once, here: a test file that
// registered it again would panic in every package whose tests import
// flowstest, and one with another name would be a second way to update.
func TestOneUpdateFlag(t *testing.T) {
	root := filepath.Join("..", "..")
	own := regexp.MustCompile(`flag\.(Bool|String)\("update`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || d.Name() == "golden.go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if own.Match(b) {
			t.Errorf("%s registers its own update flag: use flowstest.Golden or flowstest.Update", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
