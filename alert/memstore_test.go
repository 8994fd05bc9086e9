package alert

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
)

// memStore is an in-memory Store with the same commit semantics as the
// Redis one: a commit applies whole or not at all, versions bump, timers
// are replaced by id, drops happen before sets, claims lease.
type memStore struct {
	mu       sync.Mutex
	alerts   map[string]*Alert
	timeline map[string][]Entry
	trail    map[string][]TrailPoint
	open     map[string]string // case → open alert
	last     map[string]string // case → last alert
	checkins map[string]*casework.Checkins
	log      map[string][]Entry
	timers   map[string]Timer
	dedupe   map[string]string
	counts   map[string]map[Outcome]int
	events   []Event
}

func newMemStore() *memStore {
	return &memStore{
		alerts: map[string]*Alert{}, timeline: map[string][]Entry{}, trail: map[string][]TrailPoint{},
		open: map[string]string{}, last: map[string]string{}, checkins: map[string]*casework.Checkins{},
		log: map[string][]Entry{}, timers: map[string]Timer{}, dedupe: map[string]string{},
		counts: map[string]map[Outcome]int{},
	}
}

var _ Store = (*memStore)(nil)

// Policies finds no team's policies: every alert follows the defaults, so
// the version a commit guards (Commit.GuardPolicies) never changes.
func (m *memStore) Policies(ctx context.Context, team string) (*oncall.PolicySet, error) {
	return nil, nil
}

func (m *memStore) copyAlert(id string) *Alert {
	a, ok := m.alerts[id]
	if !ok {
		return nil
	}
	return a.clone()
}

func (m *memStore) DecideCase(ctx context.Context, caseID string, decide func(CaseState) (*Commit, error)) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st CaseState
	if caseID != "" {
		st.Open = m.copyAlert(m.open[caseID])
		st.Last = m.copyAlert(m.last[caseID])
		if ci := m.checkins[caseID]; ci != nil {
			st.Checkins = ci.Clone()
		}
	}
	c, err := decide(st)
	if err != nil || c == nil {
		return Result{}, err
	}
	return m.apply(caseID, c), nil
}

func (m *memStore) DecideSender(ctx context.Context, sender pii.Phone, window time.Duration, decide func(CaseState) (*Commit, error)) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := "sender:" + sender.Reveal()
	st := CaseState{Open: m.copyAlert(m.open[key])}
	c, err := decide(st)
	if err != nil || c == nil {
		return Result{}, err
	}
	res := m.apply("", c)
	if a := c.Alert; a != nil && a.State.Live() {
		m.open[key] = a.ID
	}
	return res, nil
}

func (m *memStore) DecideAlert(ctx context.Context, id string, decide func(*Alert) (*Commit, error)) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.copyAlert(id)
	if a == nil {
		return Result{}, casework.ErrNotFound
	}
	c, err := decide(a)
	if err != nil || c == nil {
		return Result{}, err
	}
	return m.apply(a.CaseID, c), nil
}

func (m *memStore) apply(caseID string, c *Commit) Result {
	if c.DedupeKey != "" {
		if id, ok := m.dedupe[c.DedupeKey]; ok {
			return Result{AlertID: id, Duplicate: true}
		}
	}
	var res Result
	if a := c.Alert; a != nil {
		n := a.clone()
		n.Version++
		m.alerts[n.ID] = n
		m.timeline[n.ID] = append(m.timeline[n.ID], c.Entries...)
		m.trail[n.ID] = append(m.trail[n.ID], c.Trail...)
		if c.Created && n.CaseID != "" {
			m.open[n.CaseID] = n.ID
			m.last[n.CaseID] = n.ID
		}
		if !n.State.Live() && n.CaseID != "" && m.open[n.CaseID] == n.ID {
			delete(m.open, n.CaseID)
		}
		res.AlertID = n.ID
	}
	for _, t := range c.Drop {
		delete(m.timers, t.ID())
	}
	for _, t := range c.Timers {
		m.timers[t.ID()] = t
	}
	if c.Checkins != nil {
		n := c.Checkins.Clone()
		n.Version++
		m.checkins[caseID] = n
	}
	m.log[caseID] = append(m.log[caseID], c.CheckinLog...)
	if c.CountOutcome != "" && caseID != "" {
		if m.counts[caseID] == nil {
			m.counts[caseID] = map[Outcome]int{}
		}
		m.counts[caseID][c.CountOutcome]++
	}
	m.events = append(m.events, c.Events...)
	if c.DedupeKey != "" {
		m.dedupe[c.DedupeKey] = res.AlertID
	}
	return res
}

func (m *memStore) Alert(ctx context.Context, id string) (*Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.copyAlert(id)
	if a == nil {
		return nil, casework.ErrNotFound
	}
	a.Timeline = slices.Clone(m.timeline[id])
	a.Trail = slices.Clone(m.trail[id])
	return a, nil
}

func (m *memStore) OpenAlerts(ctx context.Context) ([]*Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Alert
	for _, a := range m.alerts {
		if a.Open() {
			out = append(out, a.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority > out[j].Priority
		}
		return out[i].RaisedAt.Before(out[j].RaisedAt)
	})
	return out, nil
}

func (m *memStore) TeamAlerts(ctx context.Context, team string, since time.Time) ([]*Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Alert
	for _, a := range m.alerts {
		if a.Team == team && !a.RaisedAt.Before(since) {
			out = append(out, a.clone())
		}
	}
	return out, nil
}

func (m *memStore) OutcomeCounts(ctx context.Context, caseID string) (map[Outcome]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[Outcome]int{}
	for k, v := range m.counts[caseID] {
		out[k] = v
	}
	return out, nil
}

func (m *memStore) Checkins(ctx context.Context, caseID string) (*casework.Checkins, []Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ci := m.checkins[caseID]
	if ci == nil {
		return nil, slices.Clone(m.log[caseID]), nil
	}
	return ci.Clone(), slices.Clone(m.log[caseID]), nil
}

func (m *memStore) ClaimTimers(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Timer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []Timer
	for _, t := range m.timers {
		if !t.Due.After(now) {
			due = append(due, t)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].Due.Before(due[j].Due) })
	if len(due) > limit {
		due = due[:limit]
	}
	for i := range due {
		t := m.timers[due[i].ID()]
		t.Due = now.Add(lease)
		t.Claim++
		m.timers[t.ID()] = t
		due[i].Claim = t.Claim
	}
	return due, nil
}

func (m *memStore) FinishTimer(ctx context.Context, t Timer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.timers[t.ID()]; ok && cur.Fence == t.Fence {
		delete(m.timers, t.ID())
	}
	return nil
}

// fakeCases answers for any case id: PIN "1111" is real, "2222" duress.
type fakeCases struct {
	mu       sync.Mutex
	risk     casework.Risk
	children int
	excluded []string
	flagged  map[string]bool
}

func (f *fakeCases) Facts(ctx context.Context, caseID, pin string) (casework.CaseFacts, casework.PIN, error) {
	p := casework.PINWrong
	switch pin {
	case "1111":
		p = casework.PINReal
	case "2222":
		p = casework.PINDuress
	}
	risk := f.risk
	if risk == "" {
		risk = casework.RiskMedium
	}
	return casework.CaseFacts{ID: caseID, Team: "south", Risk: risk, Owner: "s_owner"}, p, nil
}

// FactsFrom answers as Facts: memStore reads no case records.
func (f *fakeCases) FactsFrom(ctx context.Context, caseID string, rec *casework.Case, pin string) (casework.CaseFacts, casework.PIN, error) {
	return f.Facts(ctx, caseID, pin)
}

func (f *fakeCases) Brief(ctx context.Context, caseID string) (*casework.CaseBrief, error) {
	facts, _, _ := f.Facts(ctx, caseID, "")
	return &casework.CaseBrief{
		CaseFacts: facts,
		Alias:     pii.NewText("Robin"),
		Children:  casework.Children{Count: f.children},
		Excluded:  f.excluded,
		Contact: casework.ContactPlan{
			Windows:  []casework.Window{{Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, From: "00:00", To: "24:00"}},
			Channels: casework.Channels{Call: true},
		},
	}, nil
}

func (f *fakeCases) FlagReview(ctx context.Context, caseID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.flagged == nil {
		f.flagged = map[string]bool{}
	}
	f.flagged[caseID] = true
	return nil
}
