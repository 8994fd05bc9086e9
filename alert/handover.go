package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// GoOffDuty ends p's duty: each of their claimed or working alerts named
// in hs passes to the named colleague with the note; every other one
// returns to the queue at once, loudly (an event, a log line, a count).
// Every hand-over is checked before anything changes: a bad one refuses
// the whole request.
func (s *Service) GoOffDuty(ctx context.Context, p *staff.Principal, hs []oncall.Handover) ([]oncall.HandoverResult, error) {
	if p == nil || !p.Has(staff.RoleResponder) {
		return nil, casework.ErrForbidden
	}
	open, err := s.store.OpenAlerts(ctx)
	if err != nil {
		return nil, err
	}
	mine := map[string]*Alert{}
	var order []string
	for _, a := range open {
		if a.Owner == p.StaffID && (a.State == StateAcknowledged || a.State == StateWorking) {
			mine[a.ID] = a
			order = append(order, a.ID)
		}
	}
	inv := &problem.Invalid{}
	to := map[string]Actor{}
	seen := map[string]bool{}
	for i, h := range hs {
		at := fmt.Sprintf("handovers[%d].", i)
		a, ok := mine[h.Alert]
		switch {
		case seen[h.Alert]:
			inv.Add(at+"alert", "is handed over twice")
			continue
		case !ok:
			inv.Add(at+"alert", "is not an alert you have claimed")
			continue
		}
		seen[h.Alert] = true
		if h.Note.IsZero() {
			inv.Add(at+"note", "is required: what the colleague needs to know")
		}
		if s.esc == nil || s.esc.People == nil {
			inv.Add(at+"to", "cannot be checked: staff lookup is not configured")
			continue
		}
		pp, err := s.esc.People.Person(ctx, strings.TrimSpace(h.To))
		if errors.Is(err, problem.ErrNotFound) {
			inv.Add(at+"to", "is not a known colleague")
			continue
		}
		if err != nil {
			return nil, err
		}
		brief, err := s.brief(ctx, a)
		if err != nil {
			return nil, err
		}
		switch {
		case pp.ID == p.StaffID:
			inv.Add(at+"to", "must be someone else")
		case !pp.Active || !slices.Contains(pp.Roles, staff.RoleResponder) || !slices.Contains(pp.Teams, a.Team):
			inv.Add(at+"to", "must be an active responder of the alert's team")
		case brief != nil && slices.Contains(brief.Excluded, pp.ID):
			inv.Add(at+"to", "may not see this case")
		default:
			name := pp.Name
			if name == "" {
				name = pp.Username
			}
			to[h.Alert] = Actor{ID: pp.ID, Name: name}
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	from := actor(p)
	notes := map[string]pii.Text{}
	for _, h := range hs {
		notes[h.Alert] = h.Note
	}
	var out []oncall.HandoverResult
	var errs []error
	for _, id := range order {
		if who, ok := to[id]; ok {
			_, err := s.store.DecideAlert(ctx, id, func(a *Alert) (*Commit, error) {
				return s.cfg.Rules.HandOver(a, from, who, notes[id], s.now())
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, oncall.HandoverResult{Alert: id, To: who.ID})
			continue
		}
		_, err := s.store.DecideAlert(ctx, id, func(a *Alert) (*Commit, error) {
			if a.Owner != p.StaffID {
				return nil, nil
			}
			return s.cfg.Rules.Return(a, "returned to the queue: its owner went off duty without handing it over", s.now()), nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.metrics().Returned()
		s.log.Warn("alert returned to the queue: its owner went off duty without handing it over", "alert", id, "staff", p.StaffID)
		out = append(out, oncall.HandoverResult{Alert: id, Returned: true})
	}
	return out, errors.Join(errs...)
}
