package seal

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps seal a domain package: the standard library, x/crypto and pii.
func TestImports(t *testing.T) {
	assertImports(t, map[string]bool{"golang.org/x/crypto/chacha20poly1305": true, "waymark/pii": true})
}

func assertImports(t *testing.T, allowed map[string]bool) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first := strings.SplitN(path, "/", 2)[0]
			std := !strings.Contains(first, ".") && first != "waymark" && first != "net"
			if std || allowed[path] {
				continue
			}
			t.Errorf("%s imports %s", name, path)
		}
	}
}
