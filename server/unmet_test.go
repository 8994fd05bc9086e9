package server

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"waymark/casework"
	"waymark/records"
	"waymark/server/directory"
	"waymark/staff"
	"waymark/wallclock"
)

// TestUnmetDirectorySearchIsCounted: a search naming a category that finds
// no local service counts once per search under the area covering the
// district, keeps no postcode, and answers exactly as it would uncounted,
// even with Redis gone.
func TestUnmetDirectorySearchIsCounted(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	if _, err := env.Staff.AddTeam(ctx, staff.Team{ID: "highland", Name: "Highland", Areas: []string{"IV1", "IV2"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := records.NewRecords(records.RecordsOptions{Store: env.Store, Cases: casework.NewSource(env.Cases),
		AuditKey: env.Store.AuditKey(), Now: env.Clock.Now, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	plain, ix := directoryServer(t)
	counted := newServer(Deps{Logger: plain.Logger, Now: plain.Now, Records: recs, Staff: env.Staff})
	day := counted.Now().In(wallclock.London()).Format(time.DateOnly)

	for _, tc := range []struct {
		name  string
		query string
		want  map[string]int64 // counters after the search
	}{
		{"local service found", "near=SO14+7DU&category=refuge", map[string]int64{}},
		{"no category named", "near=IV1+1AA", map[string]int64{}},
		{"unmet in a team's area", "near=IV1+1AA&category=refuge", map[string]int64{"u|" + day + "|highland|refuge": 1}},
		{"again, two categories", "near=IV2+3BW&category=refuge&category=lgbt", map[string]int64{"u|" + day + "|highland|refuge": 2, "u|" + day + "|highland|lgbt": 1}},
		{"unmet where no team covers", "near=KW1+4AA&category=refuge", map[string]int64{"u|" + day + "|highland|refuge": 2, "u|" + day + "|highland|lgbt": 1, "u|" + day + "||refuge": 1}},
		{"the need in everyday words", "near=IV1+1AA&q=somewhere+safe", map[string]int64{"u|" + day + "|highland|refuge": 3, "u|" + day + "|highland|lgbt": 1, "u|" + day + "||refuge": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := "/v1/directory/search?" + tc.query
			want := serveDirectory(plain, ix, "GET /v1/directory/search", plain.dir.Search, url)
			got := serveDirectory(counted, ix, "GET /v1/directory/search", counted.dir.Search, url)
			if got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Fatalf("answer %d differs from the uncounted one:\n%s\n%s", got.Code, got.Body, want.Body)
			}
			m, err := env.Store.ReportCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for k := range m {
				if !strings.HasPrefix(k, "u|") {
					delete(m, k)
				}
				if strings.Contains(k, "IV1") || strings.Contains(k, "IV2") || strings.Contains(k, "KW1") || strings.Contains(k, "1AA") {
					t.Errorf("counter %q holds the postcode", k)
				}
			}
			if len(m) != len(tc.want) {
				t.Fatalf("counters %v, want %v", m, tc.want)
			}
			for k, v := range tc.want {
				if m[k] != v {
					t.Errorf("%s = %d, want %d", k, m[k], v)
				}
			}
		})
	}

	// Redis gone: the search answers all the same.
	env.Store.Close()
	url := "/v1/directory/search?near=IV1+1AA&category=refuge"
	want := serveDirectory(plain, ix, "GET /v1/directory/search", plain.dir.Search, url)
	start := time.Now()
	got := serveDirectory(counted, ix, "GET /v1/directory/search", counted.dir.Search, url)
	if got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
		t.Errorf("with Redis gone: %d %s", got.Code, got.Body)
	}
	if d := time.Since(start); d > 2*directory.UnmetCountTimeout {
		t.Errorf("with Redis gone the handler took %v", d)
	}
}
