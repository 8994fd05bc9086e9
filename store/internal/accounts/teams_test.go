package accounts

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/internal/testenv"
	"waymark/problem"
	"waymark/staff"
)

func TestTeams(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	created := time.UnixMilli(time.Now().UnixMilli())
	south := staff.Team{ID: "south", Name: "Southampton outreach", Areas: []string{"SO14", "SO15"}, Created: created}
	triage := staff.Team{ID: "triage", Name: "Triage", Created: created}
	for _, tm := range []staff.Team{south, triage} {
		if err := s.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTeam(ctx, staff.Team{ID: "south", Name: "Again"}); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("duplicate team: %v, want conflict", err)
	}
	got, err := s.Team(ctx, "south")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(south, got); diff != "" {
		t.Errorf("Team (-want +got):\n%s", diff)
	}
	if _, err := s.Team(ctx, "north"); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("missing team: %v", err)
	}
	all, err := s.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("Teams = %v", all)
	}
}
