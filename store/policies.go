package store

import (
	"context"

	"waymark/oncall"
)

// Policies: stored like rotas (rotas.go), at keys.policy(team).

// Policies reads a team's policy set in force; nil when it set none.
func (s *OnCall) Policies(ctx context.Context, team string) (*oncall.PolicySet, error) {
	var p oncall.PolicySet
	ok, err := s.loadVersioned(ctx, "policies of "+team, s.k.policy(team), &p)
	if err != nil || !ok {
		return nil, err
	}
	return &p, nil
}

// SavePolicies puts p in force for its team if the team's policies are
// still at version p.Version-1; ErrConflict otherwise.
func (s *OnCall) SavePolicies(ctx context.Context, p *oncall.PolicySet) error {
	return s.saveVersioned(ctx, "save policies of "+p.Team, s.k.policy(p.Team), p, p.Version)
}
