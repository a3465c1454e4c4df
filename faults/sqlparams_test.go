package faults

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sqlMethods are the calls that take SQL text: GORM's query builders and
// the database/sql and pgx entry points (whose SQL follows a context).
var sqlMethods = map[string]bool{
	"Raw": true, "Exec": true, "Where": true, "Or": true, "Not": true, "Order": true, "Having": true,
	"Joins": true, "Group": true, "Select": true, "Distinct": true,
	"Query": true, "QueryRow": true, "QueryContext": true, "QueryRowContext": true, "ExecContext": true,
}

// sqlAllowed are the places that build SQL text from something other than
// constants, each with the reason it is safe. The test fails for a new
// place (review it: use parameters, or add it here with its reason) and
// for a listed place that no longer exists (keep the list true).
var sqlAllowed = map[string]string{
	"cmd/cnsbot-load/service.go:pgSchema":            "the schema name is \"load_\" + hex of crypto/rand bytes, quoted; DDL takes no parameters",
	"store/calendar.go:figuresFrom":                  "each query is a constant passed to the function's count helper; team ids and times are parameters",
	"store/dashboard.go:HamletProgress":              "householdsOf(\"h\") is SQL made from constants and a constant alias; the commune id is a parameter",
	"store/households.go:HamletHouseholds":           "householdsOf and listedOf with the constant alias \"u\"; the hamlet id is a parameter",
	"store/handoffs.go:servesHandoff":                "servedHandoffSQL is the constant servedBySQL with one constant table name put for another; ids and roles are parameters",
	"store/province_gen.go:step":                     "the generator's statements are made from its own constants, counts and start time formatted by Go; nothing a person typed reaches them",
	"store/rollups.go:rollupMigrations":              "rollupTables is a fixed list of constant DDL statements",
	"store/listedcounts.go:reportHamletFiguresFrom":  "householdsOf and listedOf (households.go) are SQL made from constants and the constant alias \"u\"; ids are parameters",
	"store/listedcounts.go:rolledListedAdjustBy":     "group is one of two constant expressions, level.from one of two constant FROM clauses (hamletLevel, teamLevel), where a constant or the constant team scopes of communeRolledFigures and CommuneFiguresQuarters; ids and quarters are parameters",
	"store/listedrollups.go:listedCounterMigrations": "listedRollupTables is a fixed list of constant DDL statements",
	"store/listedrollups.go:recountListedWhere":      "where is one of two constants of recountListed, put into constant statements; hamlet ids are parameters",
	"store/listedrollups.go:see":                     "the table and column names come from the three constant distinctSets (typedSets, teamListedSets, hamletListedSets); ids and quarters are parameters",
	"store/rollups.go:insertNew":                     "query is a constant INSERT of rollVisit or an INSERT of distinctSets.see made from constant table and column names; values are parameters",
	"store/rollups.go:rebuildRollups":                "the table names come from rollupTableNames, a fixed list of constant names",
	"store/rollups.go:rebuildTeamRollups":            "the table names come from rollupTableNames, a fixed list of constant names; team ids are parameters",
	"store/rollups.go:CommuneFiguresQuarters":        "householdsOf and listedOf (households.go) are SQL made from constants and the constant alias \"u\"; ids and quarters are parameters",
	"store/rollups.go:communeRolledFigures":          "householdsOf and listedOf (households.go) are SQL made from constants and the constant alias \"u\"; ids and quarters are parameters",
	"store/rollups.go:rolledReportFigures":           "householdsOf and listedOf (households.go) are SQL made from constants and the constant alias \"u\"; ids and quarters are parameters",
	"store/rollups.go:rolledUpFigures":               "householdsOf and listedOf (households.go) are SQL made from constants and the constant alias \"u\"; ids and quarters are parameters",
	"store/storetest/storetest.go:PostgresURL":       "the schema name is \"t_\" + hex of crypto/rand bytes, quoted; DDL takes no parameters",
	"store/storetest/storetest.go:Exec":              "a test helper: only tests (which this scan skips) call it, with constant queries and $n parameters",
	"store/storetest/storetest.go:Scan":              "a test helper: only tests (which this scan skips) call it, with constant queries and $n parameters",
	"store/areas.go:AreaProgress":                    "householdsOf and listedOf with the constant alias \"u\", and a scope chosen between two constant subqueries; ids are parameters",
}

// TestSQLOnlyThroughParameters reads every Go source file of the module
// (tests excluded) and finds the SQL text handed to GORM, database/sql or
// pgx. The text must be constant: literals and named constants, or a local
// variable or parameter that only ever holds such (a query built up with
// += of constant clauses, a loop over constant statements, a helper whose
// every caller passes a constant). Values go in as parameters. Text built
// with fmt.Sprintf or from a variable of any other origin is reported
// unless sqlAllowed explains why it is safe.
func TestSQLOnlyThroughParameters(t *testing.T) {
	found, calls, nfiles, err := scanSQL("..")
	if err != nil {
		t.Fatal(err)
	}
	if nfiles < 20 {
		t.Fatalf("found only %d Go files: is the test running from faults/?", nfiles)
	}
	t.Logf("checked %d SQL calls in %d files; %d place(s) build SQL text from something else than constants", calls, nfiles, len(found))
	var places []string
	for p := range found {
		places = append(places, p)
	}
	slices.Sort(places)
	for _, p := range places {
		if reason, ok := sqlAllowed[p]; ok {
			t.Logf("allowed: %s: %s", p, reason)
			continue
		}
		t.Errorf("%s builds SQL from something other than constants: %s\n\tuse parameters (?, $1), or add it to sqlAllowed with why it is safe",
			p, strings.Join(found[p], "; "))
	}
	for p := range sqlAllowed {
		if _, ok := found[p]; !ok {
			t.Errorf("sqlAllowed lists %s, which no longer builds SQL text: remove it", p)
		}
	}
}

// TestSQLCheckFindsInjection makes sure the check above can fail.
func TestSQLCheckFindsInjection(t *testing.T) {
	tests := []struct {
		name, src string
		flagged   bool
	}{
		{"literal with parameters", `db.Where("name = ?", name).Find(&x)`, false},
		{"named constant", `db.Raw(byName, name).Scan(&x)`, false},
		{"constant clauses added up", `q := "SELECT 1 FROM t WHERE a = ?"; if b { q += " AND b = ?" }; db.Raw(q, a).Scan(&x)`, false},
		{"loop over constant statements", `for _, s := range []string{"CREATE INDEX a ON t (a)", "CREATE INDEX b ON t (b)"} { db.Exec(s) }`, false},
		{"helper called with constants", `helper(db, "id = ?")`, false},
		{"Sprintf", `db.Raw(fmt.Sprintf("SELECT * FROM t WHERE name = '%s'", name)).Scan(&x)`, true},
		{"concatenated value", `db.Where("name = '" + name + "'").Find(&x)`, true},
		{"order from input", `db.Order(sortBy + " DESC").Find(&x)`, true},
		{"context first", `conn.Exec(ctx, "DELETE FROM t WHERE id = " + id)`, true},
		{"helper called with a variable", `helper(db, cond)`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := "package p\n\nconst byName = \"SELECT * FROM t WHERE name = ?\"\n\n" +
				"func f(ctx Ctx, db DB, conn Conn, name, sortBy, id, cond string, a, b bool) {\n\tvar x int\n\t" + tt.src + "\n}\n"
			if strings.Contains(tt.src, "helper(") {
				src += "\nfunc helper(db DB, where string) { db.Where(where, 1).Find(nil) }\n"
			}
			if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			found, _, _, err := scanSQL(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(found) > 0; got != tt.flagged {
				t.Errorf("flagged %v (%v), want %v", got, found, tt.flagged)
			}
		})
	}
}

// scanSQL finds, under root, the functions that hand SQL text built from
// something other than constants to a database call.
func scanSQL(root string) (found map[string][]string, calls, nfiles int, err error) {
	fset := token.NewFileSet()
	pkgs := map[string]*sqlPackage{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules", "vendor", "faults":
				if path != root {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		dir := filepath.Dir(path)
		p := pkgs[dir]
		if p == nil {
			p = &sqlPackage{consts: map[string]bool{}}
			pkgs[dir] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				collectConsts(n, p.consts)
			case *ast.FuncDecl:
				if n.Body != nil {
					rel, _ := filepath.Rel(root, path)
					p.funcs = append(p.funcs, sqlFunc{decl: n, place: filepath.ToSlash(rel) + ":" + n.Name.Name})
				}
			}
			return true
		})
		nfiles++
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	found = map[string][]string{}
	for _, p := range pkgs {
		for i := range p.funcs {
			p.funcs[i].safe = localSafe(p.funcs[i].decl.Body, p.consts)
		}
		for _, fn := range p.funcs {
			safe := p.withParams(fn)
			ast.Inspect(fn.decl.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					arg, name, ok := sqlArg(n)
					if !ok {
						return true
					}
					calls++
					if !constant(arg, safe) {
						found[fn.place] = append(found[fn.place], fmt.Sprintf("%s(%s) at %s", name, exprString(fset, arg), fset.Position(n.Pos())))
					}
				case *ast.CompositeLit:
					// clause.Expr{SQL: …} and friends.
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "SQL" && !constant(kv.Value, safe) {
							found[fn.place] = append(found[fn.place], fmt.Sprintf("SQL: %s at %s", exprString(fset, kv.Value), fset.Position(kv.Pos())))
						}
					}
				}
				return true
			})
		}
	}
	return found, calls, nfiles, nil
}

// sqlPackage is one directory's constants and functions.
type sqlPackage struct {
	consts map[string]bool
	funcs  []sqlFunc
}

type sqlFunc struct {
	decl  *ast.FuncDecl
	place string
	// safe are the names (constants, locals) that only hold constant text.
	safe map[string]bool
}

// sqlArg returns the SQL text argument of a call to one of sqlMethods.
func sqlArg(call *ast.CallExpr) (ast.Expr, string, bool) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || !sqlMethods[sel.Sel.Name] || len(call.Args) == 0 {
		return nil, "", false
	}
	// gin's c.Query reads a URL parameter.
	if x, ok := sel.X.(*ast.Ident); ok && x.Name == "c" && sel.Sel.Name == "Query" {
		return nil, "", false
	}
	arg := call.Args[0]
	if isContext(arg) {
		if len(call.Args) < 2 {
			return nil, "", false
		}
		arg = call.Args[1]
	}
	if !stringish(arg) {
		return nil, "", false
	}
	return arg, sel.Sel.Name, true
}

// withParams adds to fn's safe names its string parameters, and those of
// the function literals it calls by name, that every caller in the
// package passes constant text for.
func (p *sqlPackage) withParams(fn sqlFunc) map[string]bool {
	safe := maps.Clone(fn.safe)
	for i, name := range paramNames(fn.decl.Type) {
		if name != "" && p.calledWithConstant(fn.decl.Name.Name, i, fn.decl.Recv != nil) {
			safe[name] = true
		}
	}
	// count := func(dst *int, query string, …) { … }; count(&n, "SELECT …")
	ast.Inspect(fn.decl.Body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return true
		}
		lit, ok := as.Rhs[0].(*ast.FuncLit)
		id, ok2 := as.Lhs[0].(*ast.Ident)
		if !ok || !ok2 {
			return true
		}
		for i, name := range paramNames(lit.Type) {
			if name != "" && callsPassConstant(fn.decl.Body, id.Name, i, false, safe) {
				safe[name] = true
			}
		}
		return true
	})
	return safe
}

// calledWithConstant reports whether every call of the package to a
// function (or method) named name passes constant text as argument i.
func (p *sqlPackage) calledWithConstant(name string, i int, method bool) bool {
	n := 0
	for _, caller := range p.funcs {
		if !callsPassConstant(caller.decl.Body, name, i, method, caller.safe) {
			return false
		}
		n += countCalls(caller.decl.Body, name, method)
	}
	return n > 0
}

func callsPassConstant(body *ast.BlockStmt, name string, i int, method bool, safe map[string]bool) bool {
	ok := true
	ast.Inspect(body, func(n ast.Node) bool {
		call, isCall := n.(*ast.CallExpr)
		if !isCall || !callsName(call, name, method) {
			return true
		}
		if i >= len(call.Args) || !constant(call.Args[i], safe) {
			ok = false
		}
		return true
	})
	return ok
}

func countCalls(body *ast.BlockStmt, name string, method bool) int {
	n := 0
	ast.Inspect(body, func(node ast.Node) bool {
		if call, ok := node.(*ast.CallExpr); ok && callsName(call, name, method) {
			n++
		}
		return true
	})
	return n
}

func callsName(call *ast.CallExpr, name string, method bool) bool {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return !method && f.Name == name
	case *ast.SelectorExpr:
		return method && f.Sel.Name == name
	}
	return false
}

// paramNames lists a function type's parameter names by position; names
// of parameters that are not strings are left empty.
func paramNames(ft *ast.FuncType) []string {
	var out []string
	for _, field := range ft.Params.List {
		isString := false
		if id, ok := field.Type.(*ast.Ident); ok && id.Name == "string" {
			isString = true
		}
		if len(field.Names) == 0 {
			out = append(out, "")
			continue
		}
		for _, n := range field.Names {
			if isString {
				out = append(out, n.Name)
			} else {
				out = append(out, "")
			}
		}
	}
	return out
}

// localSafe returns consts plus the local variables of body whose every
// assignment is constant text: q := "SELECT …"; q += " AND x = ?"; and
// for _, stmt := range []string{"CREATE …", …}.
func localSafe(body *ast.BlockStmt, consts map[string]bool) map[string]bool {
	values := map[string][]ast.Expr{}
	tainted := map[string]bool{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				id, ok := lhs.(*ast.Ident)
				if !ok {
					continue
				}
				if len(n.Rhs) != len(n.Lhs) {
					tainted[id.Name] = true
					continue
				}
				values[id.Name] = append(values[id.Name], n.Rhs[i])
			}
		case *ast.RangeStmt:
			id, ok := n.Value.(*ast.Ident)
			if !ok {
				return true
			}
			if lit, ok := n.X.(*ast.CompositeLit); ok {
				values[id.Name] = append(values[id.Name], lit.Elts...)
			} else {
				tainted[id.Name] = true
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if i < len(n.Values) {
					values[id.Name] = append(values[id.Name], n.Values[i])
				}
			}
		}
		return true
	})
	safe := maps.Clone(consts)
	for changed := true; changed; {
		changed = false
		for name, vs := range values {
			if safe[name] || tainted[name] {
				continue
			}
			all := true
			for _, v := range vs {
				if !constant(v, safe) {
					all = false
					break
				}
			}
			if all {
				safe[name] = true
				changed = true
			}
		}
	}
	return safe
}

func collectConsts(gd *ast.GenDecl, into map[string]bool) {
	if gd.Tok != token.CONST {
		return
	}
	for _, spec := range gd.Specs {
		for _, name := range spec.(*ast.ValueSpec).Names {
			into[name.Name] = true
		}
	}
}

// isContext guesses that an argument is a context: ctx, c.Request.Context(),
// context.Background().
func isContext(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "ctx" || strings.HasSuffix(e.Name, "Ctx") || strings.HasSuffix(e.Name, "ctx")
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok {
			return sel.Sel.Name == "Context" || sel.Sel.Name == "Background" || sel.Sel.Name == "TODO"
		}
	}
	return false
}

// stringish reports whether e may be SQL text: string literals, names,
// concatenations, calls (fmt.Sprintf); not numbers, structs or maps
// (GORM turns those into parameters).
func stringish(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.Ident:
		return e.Name != "nil" && e.Name != "true" && e.Name != "false"
	case *ast.BinaryExpr:
		return e.Op == token.ADD
	case *ast.ParenExpr:
		return stringish(e.X)
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && (x.Name == "fmt" || x.Name == "strings") {
				return true
			}
		}
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "string" {
			return true
		}
	}
	return false
}

// constant reports whether e is built of string literals and constants.
func constant(e ast.Expr, consts map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return consts[e.Name]
	case *ast.BinaryExpr:
		return e.Op == token.ADD && constant(e.X, consts) && constant(e.Y, consts)
	case *ast.ParenExpr:
		return constant(e.X, consts)
	case *ast.SelectorExpr:
		// A constant of another package (pkg.Name) is exported and upper
		// case; variables of other packages are rare in SQL and caught by
		// review of sqlAllowed.
		x, ok := e.X.(*ast.Ident)
		return ok && x.Name != "" && strings.ToUpper(e.Sel.Name[:1]) == e.Sel.Name[:1] && isPackageName(x.Name)
	}
	return false
}

// isPackageName guesses that a selector's left side is an imported package.
func isPackageName(s string) bool {
	switch s {
	case "store", "cnsbot", "calendar", "clause", "gorm":
		return true
	}
	return false
}

func exprString(fset *token.FileSet, e ast.Expr) string {
	start, end := fset.Position(e.Pos()), fset.Position(e.End())
	b, err := os.ReadFile(start.Filename)
	if err != nil || start.Offset >= len(b) || end.Offset > len(b) {
		return "?"
	}
	s := string(b[start.Offset:end.Offset])
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
