package records

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"waymark/staff"
)

// Rota gaps and unmet directory searches, for the commissioners' report.
//
// Rotas change, so the past is never recomputed from today's rota: a
// sampler asks, every few minutes, whether each team has anyone on call as
// primary now, and if not counts the sampling slot (its length in seconds)
// against the team and the London day the slot starts on. The slot is
// counted once however many instances sample it and across restarts (the
// store keeps which slots it has counted). Once a gap slot has ended, the
// real alerts the team raised within it are counted once too ("alerts
// during a gap", derived at sample time from the team's alert index by
// raise time: no identity is kept). Time in which no instance ran is not
// sampled, so the figure is a lower bound.
//
// An unmet search is a directory search that named a category and found no
// local service in reach. It is counted per London day, area (the team
// whose areas cover the searched district; "" when none does) and category
// code: nothing of the search itself is kept.

// The report's counters are named by the functions below (and by
// CountFields); BuildReport reads them back. The samplers pass typed values
// (a team, a slot, a time, categories) and the store names the counters
// they add to.

// GapField is the report counter of a team's sampled gap seconds on a
// London day (YYYY-MM-DD).
func GapField(day, team string) string { return "g|" + day + "|" + team }

// GapAlertsField is the report counter of a team's real alerts raised
// during sampled gaps on a London day.
func GapAlertsField(day, team string) string { return "ga|" + day + "|" + team }

// UnmetField is the report counter of unmet searches for category in area
// on a London day.
func UnmetField(day, area, category string) string { return "u|" + day + "|" + area + "|" + category }

// GapSlot is one sampled slot in which a team had nobody on call as
// primary.
type GapSlot struct {
	Start  time.Time
	Length time.Duration
}

// GapStore keeps the sampled gaps. Package store implements it.
type GapStore interface {
	// CountGapSlot adds the slot's length in seconds to the team's gap
	// counter of the slot's London day (GapField), once per (team, slot
	// start) however many samplers call it; true if this call counted it.
	CountGapSlot(ctx context.Context, team string, slot GapSlot) (bool, error)
	// PendingGapSlots lists the team's counted gap slots that ended at or
	// before now and whose alerts are not counted yet (up to a week back).
	PendingGapSlots(ctx context.Context, team string, now time.Time) ([]GapSlot, error)
	// CountGapAlerts adds n to the team's counter of alerts during gaps on
	// the slot's London day (GapAlertsField) once per (team, slot start);
	// true if this call counted it.
	CountGapAlerts(ctx context.Context, team string, slot GapSlot, n int64) (bool, error)
	// RealAlertsRaised counts the team's real (not practice or drill)
	// alerts raised in [from, to).
	RealAlertsRaised(ctx context.Context, team string, from, to time.Time) (int64, error)
}

// GapSamplerOptions configures a GapSampler.
type GapSamplerOptions struct {
	Store GapStore
	// Teams lists the team ids to sample.
	Teams func(ctx context.Context) ([]string, error)
	// Primary reports whether anyone is on call as primary in team at at
	// (OnCall.HasPrimary).
	Primary func(ctx context.Context, team string, at time.Time) (bool, error)
	// Every is the sampling interval (WAYMARK_GAP_SAMPLE_INTERVAL);
	// default 5 minutes.
	Every  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// GapSampler samples rota gaps. Build it with NewGapSampler.
type GapSampler struct {
	o GapSamplerOptions
}

// NewGapSampler builds a sampler.
func NewGapSampler(o GapSamplerOptions) (*GapSampler, error) {
	if o.Store == nil || o.Teams == nil || o.Primary == nil {
		return nil, errors.New("alert: gap sampler needs a store, teams and an on-call source")
	}
	if o.Every <= 0 {
		o.Every = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &GapSampler{o: o}, nil
}

// GapSample is what one pass did.
type GapSample struct {
	Teams      int // teams sampled
	Gaps       int // teams with nobody primary, slot counted by this pass
	GapAlerts  int // ended gap slots whose alerts this pass counted
	AlertsSeen int64
}

// Sample runs one pass at the clock's now: every team's current slot,
// then the alerts of its ended gap slots. A team that fails is skipped
// (the first error is returned) so one bad rota does not stop the others.
func (g *GapSampler) Sample(ctx context.Context) (GapSample, error) {
	var out GapSample
	now := g.o.Now()
	slot := GapSlot{Start: now.Truncate(g.o.Every), Length: g.o.Every}
	teams, err := g.o.Teams(ctx)
	if err != nil {
		return out, err
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, team := range teams {
		out.Teams++
		on, err := g.o.Primary(ctx, team, now)
		if err != nil {
			keep(err)
			continue
		}
		if !on {
			counted, err := g.o.Store.CountGapSlot(ctx, team, slot)
			if err != nil {
				keep(err)
				continue
			}
			if counted {
				out.Gaps++
			}
		}
		pending, err := g.o.Store.PendingGapSlots(ctx, team, now)
		if err != nil {
			keep(err)
			continue
		}
		for _, p := range pending {
			n, err := g.o.Store.RealAlertsRaised(ctx, team, p.Start, p.Start.Add(p.Length))
			if err != nil {
				keep(err)
				break
			}
			counted, err := g.o.Store.CountGapAlerts(ctx, team, p, n)
			if err != nil {
				keep(err)
				break
			}
			if counted {
				out.GapAlerts++
				out.AlertsSeen += n
			}
		}
	}
	return out, first
}

// Run samples at the start of every slot (and once at once) until ctx
// ends. Failures are logged; the next pass tries again.
func (g *GapSampler) Run(ctx context.Context) {
	for {
		if _, err := g.Sample(ctx); err != nil && ctx.Err() == nil {
			g.o.Logger.Warn("rota gap sample failed", "err", err)
		}
		now := g.o.Now()
		// A little after the next slot starts, so the slot is the next one.
		wait := now.Truncate(g.o.Every).Add(g.o.Every).Sub(now) + time.Second
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// UnmetArea is the area an unmet search in a postcode district is counted
// under: the team (lowest id first) whose areas list the district, or ""
// ("other") when none does.
func UnmetArea(district string, teams []staff.Team) string {
	district = strings.ToUpper(strings.TrimSpace(district))
	var ids []string
	for _, t := range teams {
		if district != "" && slices.Contains(t.Areas, district) {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return slices.Min(ids)
}

// UnmetStore counts unmet searches. Package store implements it.
type UnmetStore interface {
	// CountUnmet adds one to the unmet-search counter (UnmetField) of
	// each category in area on at's London day.
	CountUnmet(ctx context.Context, at time.Time, area string, categories []string) error
}

// maxUnmetCategories bounds how many counters one search can touch.
const maxUnmetCategories = 8

// CountUnmetSearch counts one directory search at at that named
// categories and found no service in reach in area (a team id, or "").
// Only the London day, the area and the category codes are kept.
func (r *Records) CountUnmetSearch(ctx context.Context, at time.Time, area string, categories []string) error {
	var cats []string
	for _, c := range categories {
		if c == "" || strings.ContainsAny(c, "|\x00") || len(c) > 40 || slices.Contains(cats, c) {
			continue
		}
		cats = append(cats, c)
		if len(cats) == maxUnmetCategories {
			break
		}
	}
	if len(cats) == 0 || strings.ContainsAny(area, "|\x00") {
		return nil
	}
	return r.st.CountUnmet(ctx, at, area, cats)
}
