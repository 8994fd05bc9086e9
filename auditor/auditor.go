// Package auditor re-checks that every open alert has a future escalation
// step or an owner, and repairs those that lost theirs (a bug, a botched
// restore): every instance runs the loop, and whichever holds the
// auditor's lease audits. It declares the Store it needs; package store
// implements it.
package auditor

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"waymark/alert"
	"waymark/casework"
)

// Lease names the auditor's lease.
const Lease = "auditor"

// Alerts is what the auditor reads and repairs (alert.Store has both).
type Alerts interface {
	// OpenAlerts lists the open alerts (plain fields only).
	OpenAlerts(ctx context.Context) ([]*alert.Alert, error)
	// DecideAlert reads an alert, lets decide repair it, and commits
	// atomically.
	DecideAlert(ctx context.Context, alertID string, decide func(*alert.Alert) (*alert.Commit, error)) (alert.Result, error)
}

// Store is the auditor's lease and the step timers it checks. Package
// store implements it.
type Store interface {
	// TimerFences returns, for each target id, the fence of its pending
	// timer of kind (absent when it has none).
	TimerFences(ctx context.Context, kind alert.TimerKind, targets []string) (map[string]string, error)
	// HoldLease takes or keeps the named lease for holder until ttl from
	// now; false when someone else holds it.
	HoldLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// Metrics counts what the auditor does. cmd/waymark implements it with
// Prometheus; nil counts nothing.
type Metrics interface {
	Repaired(what string)
	Audited(repairs int, err error)
}

// Options wire an Auditor.
type Options struct {
	Alerts Alerts
	Store  Store
	// Rules are the alert rules in force (alert.Service.Rules), which
	// re-arm a lost step or return an alert claimed by nobody.
	Rules   alert.Rules
	Metrics Metrics
	// Now is the clock repairs are decided against; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Auditor audits open alerts. Build it with New.
type Auditor struct {
	alerts  Alerts
	store   Store
	rules   alert.Rules
	metrics Metrics
	now     func() time.Time
	log     *slog.Logger
}

// New builds an Auditor.
func New(o Options) *Auditor {
	a := &Auditor{alerts: o.Alerts, store: o.Store, rules: o.Rules, metrics: o.Metrics, now: o.Now, log: o.Logger}
	if a.metrics == nil {
		a.metrics = nopMetrics{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a
}

type nopMetrics struct{}

func (nopMetrics) Repaired(string)    {}
func (nopMetrics) Audited(int, error) {}

// Audit checks once that every open alert has a future step or an owner,
// and repairs those that lost theirs (logging and counting each). It
// returns how many it repaired.
func (au *Auditor) Audit(ctx context.Context) (int, error) {
	open, err := au.alerts.OpenAlerts(ctx)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, a := range open {
		if a.State == alert.StateRaised && a.Owner == "" {
			ids = append(ids, a.ID)
		}
	}
	fences, err := au.store.TimerFences(ctx, alert.TimerStep, ids)
	if err != nil {
		return 0, err
	}
	repaired := 0
	var errs []error
	for _, a := range open {
		var decide func(*alert.Alert) (*alert.Commit, error)
		what := ""
		switch {
		case a.State == alert.StateRaised && a.Owner == "":
			if f := a.Fences[alert.TimerStep]; f != "" && fences[a.ID] == f {
				continue
			}
			what = "step"
			decide = func(cur *alert.Alert) (*alert.Commit, error) {
				if cur.State != alert.StateRaised || cur.Owner != "" || cur.Fences[alert.TimerStep] != a.Fences[alert.TimerStep] {
					return nil, nil // it moved on meanwhile
				}
				return au.rules.Rearm(cur, au.now()), nil
			}
		case (a.State == alert.StateAcknowledged || a.State == alert.StateWorking) && a.Owner == "":
			what = "owner"
			decide = func(cur *alert.Alert) (*alert.Commit, error) {
				if cur.Owner != "" || !cur.State.Live() {
					return nil, nil
				}
				return au.rules.Return(cur, "claimed but with no owner: returned to the queue by the auditor", au.now()), nil
			}
		default:
			continue
		}
		res, err := au.alerts.DecideAlert(ctx, a.ID, decide)
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
		au.metrics.Repaired(what)
		au.log.Warn("auditor: repaired an open alert with no future step or owner", "alert", a.ID, "repair", what)
	}
	return repaired, errors.Join(errs...)
}

// Run audits every interval on whichever instance holds the auditor's
// lease, and after each clean pass calls heartbeat (an outside monitor
// notices when the pings stop). holder names this instance.
func (au *Auditor) Run(ctx context.Context, interval time.Duration, holder string, heartbeat func(context.Context) error) error {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		au.once(ctx, interval, holder, heartbeat)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (au *Auditor) once(ctx context.Context, interval time.Duration, holder string, heartbeat func(context.Context) error) {
	// The lease outlives one interval, so its holder keeps it from pass to
	// pass and another instance takes over within two if it dies.
	ok, err := au.store.HoldLease(ctx, Lease, holder, 2*interval)
	if err != nil {
		if ctx.Err() == nil {
			au.log.Warn("auditor: lease check failed", "err", err)
		}
		return
	}
	if !ok {
		return
	}
	n, err := au.Audit(ctx)
	au.metrics.Audited(n, err)
	if err != nil {
		au.log.Warn("auditor: pass incomplete", "repaired", n, "err", err)
		return
	}
	if heartbeat != nil {
		if err := heartbeat(ctx); err != nil {
			au.log.Warn("auditor: heartbeat ping failed", "err", err)
		}
	}
}
