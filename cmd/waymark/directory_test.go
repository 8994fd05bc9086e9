package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/config"
	"waymark/internal/orukschema"
	"waymark/internal/testenv"
	"waymark/signpost"
	"waymark/signpost/oruk"
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
	example := filepath.Join("..", "..", "signpost", "oruk", "testdata", "oruk", "uk-profile-3.0_service_full.json")
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
	demo, err := oruk.DemoSeed()
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := oruk.Encode(&page, demo); err != nil {
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
	// 14 local services and the shipped national ones, merged in by the
	// import: importing a local file never loses the national lines.
	national, _ := oruk.Seed()
	if !strings.Contains(errOut, fmt.Sprintf("exported %d services", 14+len(national))) {
		t.Errorf("export stderr: %q", errOut)
	}
	// What `waymark directory export` writes is a valid UK-profile page.
	violations := orukschema.Load(t).Page([]byte(exported), true)
	for _, v := range violations {
		t.Errorf("export: %s", v)
	}
	t.Logf("waymark directory export: %d services, %d violations", 14+len(national), len(violations))
	out, _, err = directoryRun(t, env, exported, "import", "-")
	if err != nil || !strings.Contains(out, "0 new, 0 updated, 14 unchanged") || !strings.Contains(out, "skipped  record 1 (id 999-bsl): a shipped national service") {
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
	ctx, a := directoryApp(t, env)
	live, err := startDirectory(ctx, a, true)
	if err != nil {
		t.Fatal(err)
	}
	national, _ := oruk.Seed()
	demo, _ := oruk.DemoSeed()
	if got := live.Index().Len(); got != len(national)+len(demo) {
		t.Errorf("seeded index holds %d services, want %d", got, len(national)+len(demo))
	}
	// A directory already written gets the national services back (an
	// upgrade brings them up to date), never the demo's again.
	for _, s := range append(national, demo...) {
		if err := a.store.Directory.DeleteService(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := seedDirectory(ctx, a.store.Directory, true); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := a.store.Directory.LoadDirectory(ctx); len(got) != len(national) {
		t.Errorf("an emptied directory holds %d services after a start, want the %d national ones", len(got), len(national))
	}
}

// TestNationalLinesSurviveALocalImport: a council imports its own ORUK
// file into a directory never served, then serves; the search still
// offers the national lines, and hiding one keeps it out across starts.
func TestNationalLinesSurviveALocalImport(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"
	local := filepath.Join("..", "..", "signpost", "oruk", "testdata", "oruk", "uk-profile-3.0_service_full.json")
	out, _, err := directoryRun(t, env, "", "import", local)
	national, _ := oruk.Seed()
	if want := fmt.Sprintf("national services: %d shipped, %d brought up to date", len(national), len(national)); err != nil || !strings.Contains(out, want) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	ctx, a := directoryApp(t, env)
	search := func() []string {
		t.Helper()
		live, err := startDirectory(ctx, a, false)
		if err != nil {
			t.Fatal(err)
		}
		res, err := live.Index().Search(signpost.Query{Near: "SO14 7DU", Categories: []signpost.Category{signpost.CategoryDomesticAbuse}, Limit: 50}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range res.Results {
			ids = append(ids, x.ID)
		}
		return ids
	}
	if got := search(); !slices.Contains(got, "national-da-helpline") || !slices.Contains(got, "mens-advice-line") {
		t.Errorf("after a local import the search offers %v, without the national lines", got)
	}
	out, _, err = directoryRun(t, env, "", "hide", "mens-advice-line")
	if err != nil || out != "mens-advice-line hidden\n" {
		t.Fatalf("hide: %v %q", err, out)
	}
	if got := search(); slices.Contains(got, "mens-advice-line") || !slices.Contains(got, "national-da-helpline") {
		t.Errorf("a hidden national line is offered after a start: %v", got)
	}
	if out, _, _ := directoryRun(t, env, "", "hidden"); out != "mens-advice-line\n" {
		t.Errorf("hidden lists %q", out)
	}
	if _, _, err := directoryRun(t, env, "", "hide", "no-such-service"); exitCode(err) != 1 {
		t.Errorf("hiding an unknown id: %v", err)
	}
	out, _, err = directoryRun(t, env, "", "show", "mens-advice-line")
	if err != nil || out != "mens-advice-line shown\n" {
		t.Errorf("show: %v %q", err, out)
	}
}

// TestNationalLinesUpdatedOnUpgrade: a directory written by an older
// release (a national line with an old number, one missing, one hidden, a
// local service an operator added) is started by this release: the old
// number is replaced by the shipped one, the missing line is back, the
// hidden one stays out of search and the ORUK API, and the local service
// is untouched.
func TestNationalLinesUpdatedOnUpgrade(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"
	ctx, a := directoryApp(t, env)
	st := a.store.Directory
	if _, err := startDirectory(ctx, a, false); err != nil {
		t.Fatal(err)
	}

	// What an older release left behind.
	national, _ := oruk.Seed()
	var stalking signpost.Service
	for _, s := range national {
		if s.ID == "national-stalking-helpline" {
			stalking = s
		}
	}
	shipped := stalking.Phones[0].Number
	old := stalking
	old.Phones = []signpost.Phone{{Number: "0808 157 0997", Type: signpost.PhoneVoice}}
	old.Description = "An older release's words."
	local := signpost.Service{ID: "local-council-idva", Name: "Council IDVA Service", Status: signpost.StatusActive,
		Categories: []signpost.Category{signpost.CategoryIDVAISVA}, Area: signpost.ServiceArea{Districts: []string{"SO14"}},
		Phones: []signpost.Phone{{Number: "023 8049 6998", Type: signpost.PhoneVoice}}}
	if err := putAll(ctx, st, []signpost.Service{old, local}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteService(ctx, "hourglass-helpline"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetServiceHidden(ctx, "samaritans", true); err != nil {
		t.Fatal(err)
	}

	// This release starts.
	live, err := startDirectory(ctx, a, false)
	if err != nil {
		t.Fatal(err)
	}
	ix := live.Index()
	if s, ok := ix.Service("national-stalking-helpline"); !ok || s.Phones[0].Number != shipped || s.Description != stalking.Description {
		t.Errorf("the old national line was not brought up to date: %+v", s)
	}
	if _, ok := ix.Service("hourglass-helpline"); !ok {
		t.Error("a national line missing from the older directory is not back")
	}
	if _, ok := ix.ORUKService("samaritans"); ok {
		t.Error("a hidden national line is served after an upgrade")
	}
	if _, ok := ix.ORUKService(signpost.ORUKID("samaritans")); ok {
		t.Error("a hidden national line is served by its ORUK id after an upgrade")
	}
	if s, ok := ix.Service("local-council-idva"); !ok || s.Phones[0].Number != "023 8049 6998" {
		t.Errorf("the operator's local service changed: %+v %v", s, ok)
	}
	res, err := ix.Search(signpost.Query{Near: "SO14 7DU", Text: "idva", Limit: 50}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || res.Results[0].ID != "local-council-idva" {
		t.Errorf("the local service is not found near SO14: %+v", res.Results)
	}
	if hidden, _ := st.HiddenServices(ctx); !slices.Equal(hidden, []string{"samaritans"}) {
		t.Errorf("hidden after the upgrade: %v", hidden)
	}
}

// directoryApp builds the app serve would build from env, for tests that
// drive the directory's start directly; it is closed when the test ends.
func directoryApp(t *testing.T, env map[string]string) (context.Context, *app) {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, err := buildApp(ctx, cfg, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return ctx, a
}
