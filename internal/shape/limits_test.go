package shape

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The limits that keep every package a room with one job (issue #20).
const (
	maxPackageLines = 4000 // non-test Go lines in one package
	maxFileLines    = 800  // lines in one non-test Go file
	maxMethods      = 30   // exported methods declared on one named type
)

// goPackage is what `go list -json` says of one package of the module.
type goPackage struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string // excluded by build constraints (other OSes, tags)
	Imports        []string
}

// sources returns the package's non-test Go files, whatever their build
// constraints, as paths relative to the module root.
func (p goPackage) sources(root string) []string {
	var out []string
	for _, f := range slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles) {
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		rel, _ := filepath.Rel(root, filepath.Join(p.Dir, f))
		out = append(out, rel)
	}
	slices.Sort(out)
	return out
}

func goList(t *testing.T) (string, []goPackage) {
	t.Helper()
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,CgoFiles,IgnoredGoFiles,Imports", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return root, pkgs
}

// countLines counts lines as wc -l does, plus a last line without a newline.
func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// TestPackageSize: no package holds more than maxPackageLines lines of
// non-test Go.
func TestPackageSize(t *testing.T) {
	root, pkgs := goList(t)
	for _, p := range pkgs {
		total := 0
		for _, f := range p.sources(root) {
			total += countLines(t, filepath.Join(root, f))
		}
		if total > maxPackageLines {
			t.Errorf("package %s has %d lines of non-test Go, over %d: split it along a seam", p.ImportPath, total, maxPackageLines)
		}
	}
}

// TestFileSize: no non-test Go file is longer than maxFileLines lines.
func TestFileSize(t *testing.T) {
	root, pkgs := goList(t)
	for _, p := range pkgs {
		for _, f := range p.sources(root) {
			if n := countLines(t, filepath.Join(root, f)); n > maxFileLines {
				t.Errorf("file %s (package %s) has %d lines, over %d", f, p.ImportPath, n, maxFileLines)
			}
		}
	}
}

// TestMethodsPerType: no named type declares more than maxMethods
// exported methods (value and pointer receivers together) in non-test
// files. A type that embeds another is held to the limit through the
// embedded type, which is counted where it is declared.
func TestMethodsPerType(t *testing.T) {
	root, pkgs := goList(t)
	for _, p := range pkgs {
		fset := token.NewFileSet()
		counts := map[string]int{}
		for _, f := range p.sources(root) {
			af, err := parser.ParseFile(fset, filepath.Join(root, f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			for _, d := range af.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || len(fd.Recv.List) == 0 || !fd.Name.IsExported() {
					continue
				}
				if name := receiverType(fd.Recv.List[0].Type); name != "" {
					counts[name]++
				}
			}
		}
		for name, n := range counts {
			if n > maxMethods {
				t.Errorf("type %s.%s has %d exported methods, over %d: give each consumer a type of its own", p.ImportPath, name, n, maxMethods)
			}
		}
	}
}

// receiverType is the name of a method receiver's base type: T for T,
// *T, T[K] and *T[K].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// TestNoImportCycle: the module's packages import one way only. The
// compiler refuses a cycle too; this names every package along it.
func TestNoImportCycle(t *testing.T) {
	_, pkgs := goList(t)
	graph := map[string][]string{}
	for _, p := range pkgs {
		graph[p.ImportPath] = nil
	}
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			if _, ok := graph[imp]; ok {
				graph[p.ImportPath] = append(graph[p.ImportPath], imp)
			}
		}
	}
	for _, c := range cycles(graph) {
		t.Errorf("import cycle: %s", strings.Join(c, " -> "))
	}
}

// cycles returns the cycles a depth-first walk of graph meets, each as
// the packages along it, the first repeated at the end.
func cycles(graph map[string][]string) [][]string {
	const (
		unseen = iota
		onPath
		done
	)
	var found [][]string
	state := map[string]int{}
	var path []string
	var visit func(string)
	visit = func(p string) {
		state[p] = onPath
		path = append(path, p)
		for _, q := range graph[p] {
			switch state[q] {
			case onPath:
				i := slices.Index(path, q)
				found = append(found, append(slices.Clone(path[i:]), q))
			case unseen:
				visit(q)
			}
		}
		path = path[:len(path)-1]
		state[p] = done
	}
	names := make([]string, 0, len(graph))
	for p := range graph {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		if state[p] == unseen {
			visit(p)
		}
	}
	return found
}

// TestCyclesFindsACycle: the cycle check names the packages of a cycle
// and passes a graph without one.
func TestCyclesFindsACycle(t *testing.T) {
	got := cycles(map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
	if len(got) != 1 || strings.Join(got[0], " -> ") != "a -> b -> c -> a" {
		t.Errorf("cycles = %v, want [[a b c a]]", got)
	}
	if got := cycles(map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": nil}); len(got) != 0 {
		t.Errorf("cycles of a DAG = %v, want none", got)
	}
}
