package alert

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"waymark/casework"
)

// Tick runs one pass of the scheduler: it claims the timers due now (each
// claimed by exactly one instance, leased so a crashed claimer's timers
// come back) and acts on each. Acting re-checks the timer's fence against
// the target inside the same atomic commit, so a stale or duplicate worker
// changes nothing. It returns how many timers it claimed.
func (s *Service) Tick(ctx context.Context) (int, error) {
	now := s.now()
	timers, err := s.store.ClaimTimers(ctx, now, s.cfg.Lease, s.cfg.Batch)
	if err != nil {
		return 0, err
	}
	// Each commit is fenced and retried on conflict, as two instances' are:
	// run 16 at once, so a burst waits for Redis, not one timer after another.
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, t := range timers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := s.runTimer(ctx, t, now)
			if err != nil {
				// The lease brings the timer back: nothing is lost.
				s.log.Warn("scheduler: timer failed; retried after its lease", "timer", t.ID(), "err", err)
			} else {
				err = s.store.FinishTimer(ctx, t)
			}
			mu.Lock()
			firstErr = cmp.Or(firstErr, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	return len(timers), firstErr
}

func (s *Service) runTimer(ctx context.Context, t Timer, now time.Time) error {
	var err error
	switch t.Kind {
	case TimerCheckin:
		// As the intake: the record comes with the state in one read, the
		// policies from memory with their version guarded (intake.go).
		attempt := 0
		_, err = s.store.DecideCase(ctx, t.Target, func(st CaseState) (*Commit, error) {
			attempt++
			facts, _, err := s.intakeFacts(ctx, st.Record, t.Target, nil)
			if err != nil {
				return nil, err
			}
			pols, guard, err := s.intakePolicies(ctx, facts.Team, attempt > 1)
			if err != nil {
				return nil, err
			}
			st.Case, st.Policies = facts, pols
			c := s.cfg.Rules.OnCheckinTimer(st, t.Fence, now)
			if c != nil {
				c.GuardPolicies = guard
				withExclusions(c, st.Record)
			}
			return c, nil
		})
	case TimerStep:
		err = s.runStep(ctx, t, now)
	case TimerDeliver:
		err = s.runDeliver(ctx, t, now)
	case TimerAck, TimerExpire:
		lapsed := false
		_, err = s.store.DecideAlert(ctx, t.Target, func(a *Alert) (*Commit, error) {
			c := s.cfg.Rules.OnTimer(a, t, now)
			lapsed = c != nil && c.Alert != nil && a.Owner != "" && c.Alert.Owner == "" && !c.Alert.Esc.Lapsed.IsZero()
			return c, nil
		})
		if err == nil && lapsed {
			s.metrics().Lapsed()
		}
	default:
		// Unknown kinds (a newer instance's) are left for their owner.
		return errUnknownTimer
	}
	if errors.Is(err, casework.ErrNotFound) {
		// The case was erased or the alert expired: nothing left to do.
		return nil
	}
	return err
}

var errUnknownTimer = errors.New("alert: unknown timer kind")

// RunScheduler ticks every tick until ctx ends. Every instance runs one;
// the timers live in Redis, so any of them may act on any timer and a
// restart of all of them loses nothing.
func (s *Service) RunScheduler(ctx context.Context, tick time.Duration) error {
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		// Drain everything due before waiting again.
		for {
			n, err := s.Tick(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Warn("scheduler tick failed", "err", err)
				break
			}
			// Until a pass claims nothing: a step that reached nobody
			// arms the next one due now, which runs in this same tick.
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
