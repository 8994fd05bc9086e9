// Package shape holds a test that keeps Waymark's package layout honest:
// one owner per dependency, and domain packages free of adapters and I/O.
package shape

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "waymark"

type pkg struct {
	path    string
	imports []string // direct, non-test
	deps    []string // transitive, non-test
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}|{{join .Deps \",\"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			continue
		}
		pkgs[parts[0]] = pkg{path: parts[0], imports: split(parts[1]), deps: split(parts[2])}
	}
	return pkgs
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

func within(path, owner string) bool {
	return path == owner || strings.HasPrefix(path, owner+"/")
}

// TestOneOwnerPerDependency: only store imports go-redis, only sms imports
// twilio-go, only push imports gorilla/websocket.
func TestOneOwnerPerDependency(t *testing.T) {
	owners := map[string]string{
		"github.com/redis/go-redis/v9":  module + "/store",
		"github.com/alicebob/miniredis": module + "/store",
		"github.com/twilio/twilio-go":   module + "/sms",
		"github.com/gorilla/websocket":  module + "/push",
		"rsc.io/qr":                     module + "/server",
	}
	for _, p := range listPackages(t) {
		for _, imp := range p.imports {
			for dep, owner := range owners {
				if within(imp, dep) && !within(p.path, owner) {
					t.Errorf("%s imports %s; only %s may", p.path, imp, owner)
				}
			}
		}
	}
}

// TestDomainIsPure: domain and leaf packages import no adapter, no
// third-party I/O library and no net/http, directly or indirectly.
func TestDomainIsPure(t *testing.T) {
	domain := []string{"alert", "audit", "auditor", "casework", "contact", "oncall", "outbox", "records", "wallclock", "staff", "signpost", "signpost/oruk", "signpost/lookup", "codeword", "postcode", "pii", "seal", "problem", "config", "disguise/words"}
	forbidden := []string{
		module + "/store", module + "/server", module + "/sms", module + "/push", module + "/web", module + "/cmd",
		"github.com/redis/go-redis/v9", "github.com/alicebob/miniredis/v2", "github.com/twilio/twilio-go",
		"github.com/gorilla/websocket", "github.com/chromedp", "net/http",
	}
	pkgs := listPackages(t)
	for _, d := range domain {
		for path, p := range pkgs {
			if !within(path, module+"/"+d) {
				continue
			}
			for _, dep := range p.deps {
				for _, f := range forbidden {
					if within(dep, f) {
						t.Errorf("domain package %s depends on %s", path, dep)
					}
				}
			}
		}
	}
}

// TestOnlyConfigReadsTheEnvironment: settings come through config.Load and
// its getenv, never from os.Getenv scattered through the code.
func TestOnlyConfigReadsTheEnvironment(t *testing.T) {
	root := moduleRoot(t)
	allowed := map[string]bool{
		"cmd/waymark/main.go": true, // hands os.Getenv to run
		"internal/testenv/":   true, // test helpers read CI=true
		"internal/shape/":     true,
	}
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if allowed[rel] || allowed[filepath.Dir(rel)+"/"] {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, bad := range []string{"os.Getenv(", "os.LookupEnv(", "os.Environ("} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s calls %s; settings belong in config", rel, bad)
			}
		}
		return nil
	})
}
