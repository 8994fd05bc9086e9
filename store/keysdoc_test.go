package store

import (
	stdflag "flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

var updateKeysDoc = stdflag.Bool("update-keys-doc", false, "rewrite docs/redis-keys.md from store/keys.go")

// TestRedisKeysDoc keeps docs/redis-keys.md the list of every key builder
// in keys.go, with the key it spells and its comment. After adding or
// changing a key: go test ./store -run TestRedisKeysDoc -update-keys-doc
func TestRedisKeysDoc(t *testing.T) {
	want := renderKeysDoc(t)
	const path = "../docs/redis-keys.md"
	if *updateKeysDoc {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/redis-keys.md is not what store/keys.go says; run: go test ./store -run TestRedisKeysDoc -update-keys-doc")
	}
}

const keysDocHead = `# Redis keys

Every key Waymark keeps is built by one method in ` + "`store/keys.go`" + `, under the
tenant prefix ` + "`wm:{tenant}:`" + ` (the hash tag keeps a tenant in one Cluster
slot). Names never hold personal data: ids are random letters, and tokens,
usernames and addresses appear only as letter-only HMAC tags. The lifetime
of each key is given with its area in ` + "`docs/decisions.md`" + `. This list is
generated from ` + "`store/keys.go`" + ` and the ` + "`keys.go`" + ` files under ` + "`store/internal`" + ` by ` + "`go test ./store -run TestRedisKeysDoc -update-keys-doc`" + `,
and that test fails when the two differ.

`

const keysDocTable = "\n| builder | key | what |\n|---|---|---|\n"

func renderKeysDoc(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(keysDocHead)
	b.WriteString(keysDocTable[1:])
	n := 0
	for _, path := range keysFiles {
		n += renderKeysFile(t, &b, path)
	}
	if n < 50 {
		t.Fatalf("only %d key builders found in %v", n, keysFiles)
	}
	return b.String()
}

// keysFiles are the files that build key names: the shared ones
// (internal/kv), package store's own, and those of the packages under
// store/internal that keep keys of their own.
var keysFiles = []string{"internal/kv/keys.go", "keys.go", "internal/live/keys.go", "internal/pages/keys.go",
	"internal/auditlog/keys.go", "internal/accounts/keys.go", "internal/directory/keys.go", "internal/smsstatus/keys.go"}

// renderKeysFile writes the sections and key builders of one keys.go and
// returns how many builders it found.
func renderKeysFile(t *testing.T, b *strings.Builder, path string) int {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	// Sections are the "// --- name ---" comments of keys.go.
	type section struct {
		pos  token.Pos
		name string
	}
	var sections []section
	for _, cg := range f.Comments {
		if name, ok := strings.CutPrefix(cg.List[0].Text, "// --- "); ok && len(cg.List) == 1 {
			name = strings.TrimSuffix(name, " ---")
			sections = append(sections, section{cg.Pos(), strings.ToUpper(name[:1]) + name[1:]})
		}
	}
	n := 0
	for _, d := range f.Decls {
		for len(sections) > 0 && sections[0].pos < d.Pos() {
			b.WriteString("\n## " + sections[0].name + "\n" + keysDocTable)
			sections = sections[1:]
		}
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Body.List) != 1 {
			continue
		}
		if id, ok := fn.Recv.List[0].Type.(*ast.Ident); !ok || (id.Name != "keyspace" && id.Name != "Keys") || fn.Name.Name == "prefix" {
			continue
		}
		ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			continue
		}
		key := spell(t, ret.Results[0])
		what := strings.Join(strings.Fields(fn.Doc.Text()), " ")
		if what == "" {
			what = "(see the line above)"
		}
		b.WriteString("| `" + fn.Name.Name + "` | `" + key + "` | " + strings.ReplaceAll(what, "|", "\\|") + " |\n")
		n++
	}
	return n
}

// spell renders a key expression: k.p is the tenant prefix, a string
// literal itself, any other name {name}.
func spell(t *testing.T, e ast.Expr) string {
	switch x := e.(type) {
	case *ast.BinaryExpr:
		return spell(t, x.X) + spell(t, x.Y)
	case *ast.SelectorExpr:
		return "wm:{t}:"
	case *ast.BasicLit:
		s, err := strconv.Unquote(x.Value)
		if err != nil {
			t.Fatal(err)
		}
		return s
	case *ast.Ident:
		return "{" + x.Name + "}"
	case *ast.ParenExpr:
		return spell(t, x.X)
	}
	t.Fatalf("key expression %T not understood", e)
	return ""
}
