package alert

import (
	"context"
	"fmt"
	"sync"

	"waymark/casework"
	"waymark/oncall"
)

// The intake's one path. A signal is decided on three things read from
// the store: the case's record (team, risk, owner, PIN hashes), the case's
// alert state, and the team's escalation policies. Read one after the
// other they would cost a round trip each before the commit; instead the
// store reads the record in the same round trip as the state (DecideCase
// fills CaseState.Record), and the policies come from memory with the
// commit guarding their version (Commit.GuardPolicies), so a signal costs
// one read and one commit.

// intakeFacts returns the case's facts, decided on rec, the record the
// store read with the case's state, and, when pin is not nil, what the PIN
// was (PINNone for an empty one: both comparisons still run).
func (s *Service) intakeFacts(ctx context.Context, rec *casework.Case, caseID string, pin *string) (casework.CaseFacts, casework.PIN, error) {
	p := ""
	if pin != nil {
		p = *pin
	}
	facts, got, err := s.cases.FactsFrom(ctx, caseID, rec, p)
	if err != nil {
		return casework.CaseFacts{}, casework.PINNone, err
	}
	if p == "" {
		got = casework.PINNone
	}
	return facts, got, nil
}

// intakePolicies returns team's policy set for raising and whether the
// commit must guard its version. With escalation wired the set comes from
// memory (fresh reads it anew) and the commit checks its version; without
// it every alert follows the defaults.
func (s *Service) intakePolicies(ctx context.Context, team string, fresh bool) (ps *oncall.PolicySet, guard bool, err error) {
	if s.esc == nil || team == "" {
		ps, err = s.policies(ctx, team)
		return ps, false, err
	}
	if !fresh {
		if ps, ok := s.polCache.get(team); ok {
			return ps, true, nil
		}
	}
	if ps, err = s.policies(ctx, team); err != nil {
		return nil, false, fmt.Errorf("alert: policies of team %s: %w", team, err)
	}
	s.polCache.put(team, ps)
	return ps, true, nil
}

// maxCachedTeams bounds the policy cache; teams are few, and past the
// bound the cache simply starts again.
const maxCachedTeams = 4096

// policyCache holds the last policy set read per team. Entries are never
// trusted blindly: a new alert's commit checks the version (GuardPolicies).
type policyCache struct {
	mu sync.Mutex
	m  map[string]*oncall.PolicySet
}

func (c *policyCache) get(team string) (*oncall.PolicySet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.m[team]
	return ps, ok
}

func (c *policyCache) put(team string, ps *oncall.PolicySet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTeams {
		c.m = make(map[string]*oncall.PolicySet)
	}
	c.m[team] = ps
}
