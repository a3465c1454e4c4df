package flows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/camau-cns/cnsbot/locales"
)

var (
	// messageID is how a literal that names a message looks.
	messageID = regexp.MustCompile(`^(flows|resident|common)\.[a-z0-9_.]+$`)
	// sentence is an English sentence: three words or more that start with
	// a capital or end with a full stop, question or exclamation mark.
	sentence = regexp.MustCompile(`^(?:[A-Z][a-z']*(?:\s+\S+){2,}|\S+(?:\s+\S+){2,}[.!?])$`)
)

// TestNoUserTextInGo keeps every sentence a person reads in locales/: the
// Go code of the flows names message ids only. Typed synonyms are input,
// written folded (lower-case ASCII without punctuation), so they pass. It
// also checks that every message id the code names exists in both
// languages (or is the prefix the code builds ids from).
func TestNoUserTextInGo(t *testing.T) {
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	ids := texts.IDs("vi")
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "flowstest" {
			// Test support: it types what people type.
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		tags := make(map[*ast.BasicLit]bool)
		ast.Inspect(f, func(n ast.Node) bool {
			if fld, ok := n.(*ast.Field); ok && fld.Tag != nil {
				tags[fld.Tag] = true
			}
			return true
		})
		for _, imp := range f.Imports {
			tags[imp.Path] = true
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || tags[lit] {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			pos := fset.Position(lit.Pos())
			for _, r := range s {
				if r > unicode.MaxASCII && unicode.IsLetter(r) {
					t.Errorf("%s: %q has non-ASCII letters: user text belongs in locales/", pos, s)
					return true
				}
			}
			if sentence.MatchString(strings.TrimSpace(s)) {
				t.Errorf("%s: %q reads like a sentence: user text belongs in locales/", pos, s)
			}
			if messageID.MatchString(s) && !texts.Has("vi", s) {
				prefix := false
				for _, id := range ids {
					if strings.HasPrefix(id, s+".") || (strings.HasSuffix(s, ".") && strings.HasPrefix(id, s)) {
						prefix = true
						break
					}
				}
				if !prefix {
					t.Errorf("%s: message %s does not exist", pos, s)
				}
			}
			if messageID.MatchString(s) && texts.Has("vi", s) && !texts.Has("en", s) {
				t.Errorf("%s: message %s has no English", pos, s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 9 {
		t.Errorf("scanned %d Go files, want the engine's and the flows' (run from flows/)", files)
	}
}
