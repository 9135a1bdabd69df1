package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/mtauth/mtauth/pkg/app"
)

// Every functions/<name> is in the registry, and its main.go runs itself,
// not a copy-pasted neighbour.
func TestEachFunctionPackageRunsItsOwnEntry(t *testing.T) {
	dirs, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		names = append(names, d.Name())
		file, err := parser.ParseFile(token.NewFileSet(), filepath.Join("../../functions", d.Name(), "main.go"), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var runs []string
		ast.Inspect(file, func(n ast.Node) bool {
			if name, ok := runFunctionArg(n); ok {
				runs = append(runs, name)
			}
			return true
		})
		if !slices.Equal(runs, []string{d.Name()}) {
			t.Errorf("functions/%s/main.go runs %q, want app.RunFunction(%q)", d.Name(), runs, d.Name())
		}
	}
	var registered []string
	for name := range app.Functions {
		registered = append(registered, name)
	}
	slices.Sort(names)
	slices.Sort(registered)
	if !slices.Equal(names, registered) {
		t.Errorf("functions/ has %v, app.Functions %v", names, registered)
	}
}

// runFunctionArg returns the string literal n passes to RunFunction, if n
// is such a call.
func runFunctionArg(n ast.Node) (string, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "RunFunction" {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(lit.Value)
	return name, err == nil
}

func TestServes(t *testing.T) {
	for _, pkg := range []string{"./functions/get_token", "functions/get_token"} {
		if serves, err := app.Serves(pkg); err != nil || len(serves) != 1 || serves[0].ID != "get_token" {
			t.Errorf("Serves(%q) = %v, %v", pkg, serves, err)
		}
	}
	for _, pkg := range []string{"./functions/nope", "./cmd/get_token", "get_token", ""} {
		if _, err := app.Serves(pkg); err == nil {
			t.Errorf("Serves(%q) succeeded", pkg)
		}
	}
}
