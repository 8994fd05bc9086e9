package main

import (
	"context"

	"waymark/records"
)

// startGapSampler samples rota gaps for the commissioners' report every
// WAYMARK_GAP_SAMPLE_INTERVAL until ctx ends (alert/gaps.go); every
// instance runs one and each slot still counts once. The returned function
// stops it and waits.
func (a *app) startGapSampler(ctx context.Context) func() {
	g, err := records.NewGapSampler(records.GapSamplerOptions{
		Store: a.store.Gaps,
		Teams: func(ctx context.Context) ([]string, error) {
			teams, err := a.store.Staff.Teams(ctx)
			ids := make([]string, len(teams))
			for i, t := range teams {
				ids[i] = t.ID
			}
			return ids, err
		},
		Primary: a.oncall.HasPrimary,
		Every:   a.cfg.GapSampleInterval,
		Now:     a.now,
		Logger:  a.log.With("component", "rotagaps"),
	})
	if err != nil {
		a.log.Error("rota gap sampler not started", "err", err)
		return func() {}
	}
	gctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { g.Run(gctx); close(done) }()
	return func() { stop(); <-done }
}
