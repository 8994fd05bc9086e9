package alert

import (
	"context"
	"errors"
	"time"

	"waymark/casework"
)

// AuditorLease names the auditor's lease.
const AuditorLease = "auditor"

// Audit checks once that every open alert has a future step or an owner,
// and repairs those that lost theirs (logging and counting each). It
// returns how many it repaired.
func (s *Service) Audit(ctx context.Context) (int, error) {
	if s.esc == nil || s.esc.Store == nil {
		return 0, nil
	}
	open, err := s.store.OpenAlerts(ctx)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, a := range open {
		if a.State == StateRaised && a.Owner == "" {
			ids = append(ids, a.ID)
		}
	}
	fences, err := s.esc.Store.TimerFences(ctx, TimerStep, ids)
	if err != nil {
		return 0, err
	}
	repaired := 0
	var errs []error
	for _, a := range open {
		var decide func(*Alert) (*Commit, error)
		what := ""
		switch {
		case a.State == StateRaised && a.Owner == "":
			if f := a.Fences[TimerStep]; f != "" && fences[a.ID] == f {
				continue
			}
			what = "step"
			decide = func(cur *Alert) (*Commit, error) {
				if cur.State != StateRaised || cur.Owner != "" || cur.Fences[TimerStep] != a.Fences[TimerStep] {
					return nil, nil // it moved on meanwhile
				}
				return s.cfg.Rules.Rearm(cur, s.now()), nil
			}
		case (a.State == StateAcknowledged || a.State == StateWorking) && a.Owner == "":
			what = "owner"
			decide = func(cur *Alert) (*Commit, error) {
				if cur.Owner != "" || !cur.State.Live() {
					return nil, nil
				}
				return s.cfg.Rules.Return(cur, "claimed but with no owner: returned to the queue by the auditor", s.now()), nil
			}
		default:
			continue
		}
		res, err := s.store.DecideAlert(ctx, a.ID, decide)
		if err != nil {
			if !errors.Is(err, casework.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if res.AlertID == "" {
			continue
		}
		repaired++
		s.metrics().Repaired(what)
		s.log.Warn("auditor: repaired an open alert with no future step or owner", "alert", a.ID, "repair", what)
	}
	return repaired, errors.Join(errs...)
}

// RunAuditor audits every interval on whichever instance holds the
// auditor's lease, and after each clean pass calls heartbeat (an outside
// monitor notices when the pings stop). holder names this instance.
func (s *Service) RunAuditor(ctx context.Context, interval time.Duration, holder string, heartbeat func(context.Context) error) error {
	if s.esc == nil || s.esc.Store == nil {
		return nil
	}
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.auditOnce(ctx, interval, holder, heartbeat)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) auditOnce(ctx context.Context, interval time.Duration, holder string, heartbeat func(context.Context) error) {
	// The lease outlives one interval, so its holder keeps it from pass to
	// pass and another instance takes over within two if it dies.
	ok, err := s.esc.Store.HoldLease(ctx, AuditorLease, holder, 2*interval)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("auditor: lease check failed", "err", err)
		}
		return
	}
	if !ok {
		return
	}
	n, err := s.Audit(ctx)
	s.metrics().Audited(n, err)
	if err != nil {
		s.log.Warn("auditor: pass incomplete", "repaired", n, "err", err)
		return
	}
	if heartbeat != nil {
		if err := heartbeat(ctx); err != nil {
			s.log.Warn("auditor: heartbeat ping failed", "err", err)
		}
	}
}
