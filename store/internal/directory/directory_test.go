package directory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"waymark/internal/testenv"
	"waymark/postcode"
	"waymark/problem"
	"waymark/signpost"
	"waymark/signpost/oruk"
	"waymark/store/internal/kv"
)

func TestDirectory(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()

	if v, err := s.DirectoryVersion(ctx); err != nil || v != 0 {
		t.Fatalf("empty version = %d, %v", v, err)
	}
	seed, err := oruk.Seed()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := oruk.DemoSeed()
	if err != nil {
		t.Fatal(err)
	}
	all := append(seed, demo...)
	res, err := s.PutServices(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != PutCreated {
			t.Fatalf("first put of %s: %v %v", r.ID, r.Outcome, r.Err)
		}
	}
	got, v, err := s.LoadDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != int64(len(all)) || len(got) != len(all) {
		t.Fatalf("loaded %d services at version %d, want %d", len(got), v, len(all))
	}
	byID := map[string]signpost.Service{}
	for _, svc := range got {
		byID[svc.ID] = svc
	}
	for _, want := range all {
		if diff := cmp.Diff(want, byID[want.ID]); diff != "" {
			t.Errorf("service %s after a round trip (-want +got):\n%s", want.ID, diff)
		}
	}

	// The same again changes nothing; one edit bumps the version once.
	edited := all[0]
	edited.Description += " Edited."
	bad := signpost.Service{ID: "no-name"}
	res, err = s.PutServices(ctx, []signpost.Service{all[1], edited, bad})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := []PutOutcome{res[0].Outcome, res[1].Outcome, res[2].Outcome}
	if diff := cmp.Diff([]PutOutcome{PutUnchanged, PutUpdated, PutRejected}, outcomes); diff != "" || res[2].Err == nil {
		t.Errorf("outcomes (-want +got):\n%s (err %v)", diff, res[2].Err)
	}
	if v2, _ := s.DirectoryVersion(ctx); v2 != v+1 {
		t.Errorf("version after one change = %d, want %d", v2, v+1)
	}

	// Delete.
	if err := s.DeleteService(ctx, edited.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteService(ctx, edited.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("second delete: %v, want not found", err)
	}
	if v3, _ := s.DirectoryVersion(ctx); v3 != v+2 {
		t.Errorf("version after delete = %d, want %d", v3, v+2)
	}

	// A store-level bad record is skipped, not fatal.
	if err := s.RDB.HSet(ctx, s.k.directory(), "broken", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	got, _, err = s.LoadDirectory(ctx)
	if err != nil || len(got) != len(all)-1 {
		t.Errorf("with a broken record: %d services, %v", len(got), err)
	}
}

// A confidential address given to the store never reaches Redis.
func TestDirectoryNeverStoresConfidentialAddress(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	refuge := signpost.Service{
		ID: "refuge-x", Name: "Refuge X", ConfidentialAddress: true, Gateway: &signpost.Gateway{Phone: "0808 157 0101"},
		Locations: []signpost.Location{{Name: "Hidden House", District: "SO15",
			Point:   &postcode.Point{Lat: 50.9171234, Lon: -1.4261234},
			Address: &signpost.Address{Line1: "12 Hidden Road", PostalCode: "SO15 2ZZ"}}},
	}
	if res, err := s.PutServices(ctx, []signpost.Service{refuge}); err != nil || res[0].Outcome != PutCreated {
		t.Fatalf("put: %v %+v", err, res)
	}
	if refuge.Locations[0].Address == nil {
		t.Error("PutServices changed its caller's service")
	}
	raw, err := s.RDB.HGetAll(ctx, s.k.directory()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"Hidden", "12 ", "SO15 2ZZ", "50.917", "-1.426"} {
		if strings.Contains(raw["refuge-x"], leak) {
			t.Errorf("stored JSON holds %q: %s", leak, raw["refuge-x"])
		}
	}
	if !strings.Contains(raw["refuge-x"], `"district":"SO15"`) {
		t.Errorf("stored JSON lost the district: %s", raw["refuge-x"])
	}
}

// Live, on a real store, sees a change made through another store client.
func TestDirectoryLive(t *testing.T) {
	s, r := newTestStore(t, testenv.RedisOptions{})
	other := New(testConn(t, r.URL(), kv.Crypto{}))
	ctx := context.Background()
	pc, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		t.Fatal(err)
	}
	live := signpost.NewLive(s, pc, hol)
	if err := live.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	demo, _ := oruk.DemoSeed()
	if _, err := other.PutServices(ctx, demo); err != nil {
		t.Fatal(err)
	}
	if err := live.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := live.Index().Len(); got != len(demo) {
		t.Errorf("live index holds %d services, want %d", got, len(demo))
	}
}
