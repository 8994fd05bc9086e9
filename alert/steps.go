package alert

import (
	"context"
	"errors"
	"slices"
	"time"

	"waymark/casework"
	"waymark/oncall"
	"waymark/problem"
	"waymark/staff"
)

// receiptWait is the dashboard's time to confirm: 5 s plus one tick.
func (s *Service) receiptWait() time.Duration {
	tick := time.Second
	if s.esc != nil {
		tick = s.esc.Tick
	}
	return ReceiptWait + tick
}

// policies reads the team's policy set to snapshot into a new alert; the
// defaults when it set none.
func (s *Service) policies(ctx context.Context, team string) (*oncall.PolicySet, error) {
	if s.esc == nil || team == "" {
		return oncall.DefaultPolicies(), nil
	}
	ps, err := s.store.Policies(ctx, team)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = oncall.DefaultPolicies()
		ps.Team = team
	}
	return ps, nil
}

// runStep runs a due escalation step.
func (s *Service) runStep(ctx context.Context, t Timer, now time.Time) error {
	ran := false
	fallback := false
	_, err := s.store.DecideAlert(ctx, t.Target, func(a *Alert) (*Commit, error) {
		ran = false
		if a.Fences[TimerStep] != t.Fence || a.State != StateRaised || a.Owner != "" || a.Mode == ModePractice {
			return s.cfg.Rules.OnTimer(a, t, now), nil
		}
		p, err := s.plan(ctx, a, now)
		if err != nil {
			return nil, err
		}
		ran, fallback = true, p.Fallback
		return s.cfg.Rules.Escalate(a, t, p, now), nil
	})
	if err == nil && ran {
		s.metrics().Step(fallback)
	}
	return err
}

func (s *Service) metrics() Metrics {
	if s.esc == nil || s.esc.Metrics == nil {
		return nopMetrics{}
	}
	return s.esc.Metrics
}

// plan resolves the alert's next step: whom it names, now, and through
// which of its channels each can be reached.
func (s *Service) plan(ctx context.Context, a *Alert, now time.Time) (Plan, error) {
	pol := policyOf(a)
	k := a.Esc.Next
	step, fb := pol.StepAt(k)
	p := Plan{K: k, Step: step, Fallback: fb, Policy: pol, ReceiptWait: s.receiptWait()}
	if s.esc == nil {
		return p, nil
	}
	d := s.esc
	p.Tracked = true
	var brief *casework.CaseBrief
	if a.CaseID != "" {
		b, err := s.brief(ctx, a)
		if err != nil {
			return Plan{}, err
		}
		brief = b
	}
	present := map[string]bool{}
	if d.Presence != nil {
		m, err := d.Presence.OnDashboard(ctx, a.Team)
		if err != nil {
			return Plan{}, err
		}
		present = m
	}
	var rota *oncall.Rota
	rotaRead := false
	var ids []string
	withFallback := false
	for _, w := range step.Whom {
		switch w {
		case oncall.WhomPrimary, oncall.WhomSecondary, oncall.WhomDutyManager:
			if !rotaRead && d.Rotas != nil {
				r, err := d.Rotas.Rota(ctx, a.Team)
				if err != nil {
					return Plan{}, err
				}
				rota, rotaRead = r, true
			}
			tier, _ := w.Tier()
			if rota == nil {
				// No rota: the primary tier is whoever is on duty on the
				// dashboard; the other tiers are empty (and so skipped).
				if tier == oncall.TierPrimary {
					for id, duty := range present {
						if duty {
							ids = append(ids, id)
						}
					}
				}
				continue
			}
			ids = append(ids, rota.OnCall(now)[tier]...)
		case oncall.WhomCaseOwner:
			if brief != nil && brief.Owner != "" {
				ids = append(ids, brief.Owner)
			}
		case oncall.WhomTeam:
			ps, err := d.People.TeamPeople(ctx, a.Team)
			if err != nil {
				return Plan{}, err
			}
			for _, pp := range ps {
				if pp.Active && slices.Contains(pp.Roles, staff.RoleResponder) {
					ids = append(ids, pp.ID)
				}
			}
		case oncall.WhomFallback:
			withFallback = true
		default:
			if id, ok := w.Staff(); ok {
				ids = append(ids, id)
			}
		}
	}
	if withFallback && !d.Fallback.Set() {
		// No 24/7 service configured: the whole team is the last resort.
		ps, err := d.People.TeamPeople(ctx, a.Team)
		if err != nil {
			return Plan{}, err
		}
		for _, pp := range ps {
			if pp.Active {
				ids = append(ids, pp.ID)
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if brief != nil && slices.Contains(brief.Excluded, id) {
			continue // a conflict of interest holds for pages too
		}
		pp, err := d.People.Person(ctx, id)
		if errors.Is(err, problem.ErrNotFound) {
			continue
		}
		if err != nil {
			return Plan{}, err
		}
		if !pp.Active {
			continue
		}
		var via []oncall.Channel
		for _, ch := range step.How {
			switch {
			case ch == oncall.ChannelDashboard && present[id]:
			case ch.Phone() && !pp.Phone.IsZero() && d.PhonePages:
			case ch == oncall.ChannelWebPush && d.WebPush:
			default:
				continue
			}
			via = append(via, ch)
		}
		p.Recipients = append(p.Recipients, Recipient{Who: id, Via: via})
	}
	if withFallback && d.Fallback.Set() {
		var via []oncall.Channel
		for _, ch := range step.How {
			if ch.Phone() && d.PhonePages {
				via = append(via, ch)
			}
		}
		p.Recipients = append(p.Recipients, Recipient{Who: FallbackWho, Via: via})
	}
	return p, nil
}

// runDeliver checks the dashboard receipts of the step last run.
func (s *Service) runDeliver(ctx context.Context, t Timer, now time.Time) error {
	_, err := s.store.DecideAlert(ctx, t.Target, func(a *Alert) (*Commit, error) {
		if a.Fences[TimerDeliver] != t.Fence {
			return nil, nil
		}
		dl := Delivery{Seen: map[string]bool{}, Undelivered: map[string]bool{}, Names: s.names(ctx, a)}
		if s.esc != nil && a.State == StateRaised {
			for _, tg := range a.Esc.Targets {
				switch {
				case tg.State == TargetWaiting && s.esc.Receipts != nil:
					at, ok, err := s.esc.Receipts.SeenAt(ctx, a.ID, tg.Who)
					if err != nil {
						return nil, err
					}
					dl.Seen[tg.Who] = ok && !at.After(now)
				case !tg.outcomeDue().IsZero() && s.esc.Statuses != nil:
					bad, err := s.esc.Statuses.Undelivered(ctx, tg.SID)
					if err != nil {
						return nil, err
					}
					dl.Undelivered[tg.SID] = bad
				}
			}
		}
		return s.cfg.Rules.OnDeliver(a, t, dl, s.receiptWait(), now), nil
	})
	return err
}

// PageResult takes a page's outcome to its alert (the outbox reports
// each page it handled).
func (s *Service) PageResult(ctx context.Context, res PageResult) error {
	_, err := s.store.DecideAlert(ctx, res.Page.Alert, func(a *Alert) (*Commit, error) {
		return s.cfg.Rules.OnPageResult(a, res, s.receiptWait(), s.now()), nil
	})
	if errors.Is(err, casework.ErrNotFound) {
		return nil
	}
	return err
}
