package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waymark/config"
	"waymark/internal/testenv"
	"waymark/signpost"
)

// directoryRun runs `waymark directory ...` as main would once run.go
// routes "directory" here.
func directoryRun(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := directoryCmd(context.Background(), &cli{
		getenv: func(k string) string { return env[k] },
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
	}, args)
	return out.String(), errOut.String(), err
}

func TestDirectoryImportExport(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"

	// The Open Referral UK examples import with warnings and exit 0.
	example := filepath.Join("..", "..", "signpost", "testdata", "oruk", "uk-profile-3.0_service_full.json")
	out, errOut, err := directoryRun(t, env, "", "import", example)
	if err != nil {
		t.Fatalf("import example: %v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{"service_at_locations[0].location.latitude", "imported 1: 1 new, 0 updated, 0 unchanged; rejected 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("import report lacks %q:\n%s", want, out)
		}
	}

	// A page from standard input with one bad record: the rest import, the
	// bad one is named with its reason, exit 1.
	demo, err := signpost.DemoSeed()
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := signpost.EncodeORUK(&page, demo); err != nil {
		t.Fatal(err)
	}
	input := strings.Replace(page.String(), `"opens_at": "09:00:00"`, `"opens_at": "25:00:00"`, 1)
	out, _, err = directoryRun(t, env, input, "import", "-")
	if exitCode(err) != 1 {
		t.Fatalf("import with a bad record: %v\n%s", err, out)
	}
	if !strings.Contains(out, "rejected record 1 (id demo-solent-harbour-refuge): schedules[0].opens_at") ||
		!strings.Contains(out, "new, 0 updated, 0 unchanged; rejected 1") {
		t.Errorf("report:\n%s", out)
	}
	// Again, fixed: one new, the rest unchanged.
	out, _, err = directoryRun(t, env, page.String(), "import", "-")
	if err != nil || !strings.Contains(out, "imported 1: 1 new, 0 updated, 12 unchanged; rejected 0") {
		t.Errorf("second import: %v\n%s", err, out)
	}

	// Export re-imports to the same directory, and holds no refuge address.
	exported, errOut, err := directoryRun(t, env, "", "export")
	if err != nil {
		t.Fatalf("export: %v %s", err, errOut)
	}
	if !strings.Contains(errOut, "exported 14 services") {
		t.Errorf("export stderr: %q", errOut)
	}
	out, _, err = directoryRun(t, env, exported, "import", "-")
	if err != nil || !strings.Contains(out, "0 new, 0 updated, 14 unchanged") {
		t.Errorf("re-import of the export: %v\n%s", err, out)
	}

	// Dry run stores nothing; bad usage exits 2.
	dir := t.TempDir()
	path := filepath.Join(dir, "one.json")
	os.WriteFile(path, []byte(`{"id":"new-one","name":"New One"}`), 0o600)
	out, _, err = directoryRun(t, env, "", "import", "--dry-run", path)
	if err != nil || !strings.Contains(out, "dry run: 1 valid, 0 rejected") {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	if _, _, err := directoryRun(t, env, "", "import"); exitCode(err) != 2 {
		t.Errorf("import without a file: %v", err)
	}
	if _, _, err := directoryRun(t, env, "not json", "import", "-"); exitCode(err) != 2 {
		t.Errorf("import of garbage: %v", err)
	}
}

func TestStartDirectorySeedsAnEmptyDirectory(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := buildApp(ctx, cfg, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	live, err := startDirectory(ctx, a, true)
	if err != nil {
		t.Fatal(err)
	}
	national, _ := signpost.Seed()
	demo, _ := signpost.DemoSeed()
	if got := live.Index().Len(); got != len(national)+len(demo) {
		t.Errorf("seeded index holds %d services, want %d", got, len(national)+len(demo))
	}
	// A directory already written is left alone, even when emptied.
	for _, s := range append(national, demo...) {
		if err := a.store.DeleteService(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := seedDirectory(ctx, a.store, false); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := a.store.LoadDirectory(ctx); len(got) != 0 {
		t.Errorf("an emptied directory was seeded again: %d services", len(got))
	}
}
