package shape

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeLayoutMatchesPackages: the README's layout table names every
// package of the module, and only packages that exist. A row's first
// cell names packages in backticks; `dir/...` covers dir's subpackages.
func TestReadmeLayoutMatchesPackages(t *testing.T) {
	root := moduleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	in := false
	tick := regexp.MustCompile("`([^`]+)`")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Layout"
		case in && strings.HasPrefix(line, "| `"):
			first := strings.SplitN(strings.TrimPrefix(line, "|"), "|", 2)[0]
			for _, m := range tick.FindAllStringSubmatch(first, -1) {
				named = append(named, m[1])
			}
		}
	}
	if len(named) == 0 {
		t.Fatal("README.md has no layout table under \"## Layout\"")
	}
	covers := func(name, pkg string) bool {
		if dir, ok := strings.CutSuffix(name, "/..."); ok {
			return pkg == dir || strings.HasPrefix(pkg, dir+"/")
		}
		return pkg == name
	}
	var pkgs []string
	for path := range listPackages(t) {
		pkgs = append(pkgs, strings.TrimPrefix(strings.TrimPrefix(path, module), "/"))
	}
	slices.Sort(pkgs)
	for _, p := range pkgs {
		if !slices.ContainsFunc(named, func(n string) bool { return covers(n, p) }) {
			t.Errorf("package %s is not in the README's layout table", p)
		}
	}
	for _, n := range named {
		if !slices.ContainsFunc(pkgs, func(p string) bool { return covers(n, p) }) {
			t.Errorf("the README's layout table names %s, which is no package", n)
		}
	}
}
