package alert

import (
	"context"
	"fmt"
	"sync"

	"waymark/casework"
	"waymark/oncall"
)

// The intake's fast path. A signal is decided on three things read from
// the store: the case's record (team, risk, owner, PIN hashes), the case's
// alert state, and the team's escalation policies. Read one after the
// other they cost a round trip each before the commit; here the store
// reads the record in the same round trip as the state, and the policies
// come from memory with the commit guarding their version, so a signal
// costs one read and one commit. Both are optional capabilities of the
// Store: with a store that has neither, the intake reads as before.

// CaseRecordReader is implemented by a Store whose DecideCase fills
// CaseState.Record: the case's plain fields, read in the same round trip
// as its alert state (nil when the case does not exist).
type CaseRecordReader interface {
	ReadsCaseRecord()
}

// PolicyGuard is implemented by a Store whose commit of a new alert is
// refused as stale (and decided again) when the team's stored policy set
// is no longer the version snapshotted into the alert (Alert.Policy,
// Version 0 for a team that set none). With it the intake keeps each
// team's policies in memory and still never raises an alert under
// policies that were replaced before it was stored.
type PolicyGuard interface {
	GuardsPolicyVersions()
}

// RecordFacts is implemented by a CaseSource that decides a case's facts
// (expiry, PIN check) from a record the store already read.
type RecordFacts interface {
	// FactsFrom is CaseSource.Facts on rec; nil rec is ErrNotFound.
	FactsFrom(ctx context.Context, rec *casework.Case, pin string) (CaseFacts, PIN, error)
}

// intakeFacts returns the case's facts and, when pin is not nil, what the
// PIN was (PINNone for an empty one: both comparisons still run).
func (s *Service) intakeFacts(ctx context.Context, rec *casework.Case, caseID string, pin *string) (CaseFacts, PIN, error) {
	p := ""
	if pin != nil {
		p = *pin
	}
	var (
		facts CaseFacts
		got   PIN
		err   error
	)
	rf, ok := s.cases.(RecordFacts)
	if _, reads := s.store.(CaseRecordReader); ok && reads {
		facts, got, err = rf.FactsFrom(ctx, rec, p)
	} else {
		facts, got, err = s.cases.Facts(ctx, caseID, p)
	}
	if err != nil {
		return CaseFacts{}, PINNone, err
	}
	if p == "" {
		got = PINNone
	}
	return facts, got, nil
}

// intakePolicies returns team's policy set for raising. When the policy
// source is the store itself and the store guards policy versions, the
// set comes from memory (fresh reads it anew) and guard says the commit
// must check its version; otherwise it is read every time.
func (s *Service) intakePolicies(ctx context.Context, team string, fresh bool) (ps *oncall.PolicySet, guard bool, err error) {
	if s.esc == nil || s.esc.Policies == nil || team == "" {
		ps, err = s.policies(ctx, team)
		return ps, false, err
	}
	if _, ok := s.store.(PolicyGuard); !ok || any(s.esc.Policies) != any(s.store) {
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
// trusted blindly: a new alert's commit checks the version (PolicyGuard).
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
