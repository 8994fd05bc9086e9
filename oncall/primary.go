package oncall

import (
	"context"
	"time"
)

// HasPrimary reports whether anyone is on call as primary in team at at:
// per its rota, or for a team without one, whoever is on duty on the
// dashboard (known only for now, as Who answers it).
func (o *OnCall) HasPrimary(ctx context.Context, team string, at time.Time) (bool, error) {
	r, err := o.store.Rota(ctx, team)
	if err != nil {
		return false, err
	}
	if r != nil {
		return len(r.OnCall(at)[TierPrimary]) > 0, nil
	}
	if o.presence == nil {
		return false, nil
	}
	on, err := o.presence.OnDashboard(ctx, team)
	if err != nil {
		return false, err
	}
	for _, duty := range on {
		if duty {
			return true, nil
		}
	}
	return false, nil
}
