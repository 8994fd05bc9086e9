package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/alert"
	"waymark/auditor"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/outbox"
	"waymark/pii"
	"waymark/push"
	"waymark/sms"
	"waymark/store"
)

const policyUsage = "usage: waymark policy set --team T FILE | show --team T (waymark policy set -h for flags)"

// policyCmd is `waymark policy`: a team's escalation policies.
func policyCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError(policyUsage)
	}
	switch args[0] {
	case "set":
		return policySet(ctx, c, args[1:])
	case "show":
		return policyShow(ctx, c, args[1:])
	default:
		return usageError("waymark policy: unknown command %q; %s", args[0], policyUsage)
	}
}

func policySet(ctx context.Context, c *cli, args []string) error {
	var f oncall.PolicyFile
	a, team, err := openTeamFile(ctx, c, "policy set", "escalation policies", &f, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	ps, err := a.oncall.SetPolicies(ctx, team, f, "admin-cli")
	if err != nil {
		return fileError("policy set", err)
	}
	if !a.oncall.Fallback().Set() {
		fmt.Fprintln(c.stderr, "warning: WAYMARK_FALLBACK_PHONE is not set: fallback steps page the whole team instead of a 24/7 service")
	}
	fmt.Fprintf(c.stdout, "policies of team %s are now version %d; new alerts follow them\n", team, ps.Version)
	return nil
}

func policyShow(ctx context.Context, c *cli, args []string) error {
	var team string
	cmd := adminCommand{
		name:  "policy show",
		usage: "policy show --team T [flags]",
		flags: func(fs *flag.FlagSet) { fs.StringVar(&team, "team", "", "team id") },
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if team == "" || len(rest) != 0 {
		return usageError("usage: waymark policy show --team T")
	}
	ps, err := a.oncall.Policies(ctx, team)
	if err != nil {
		return fileError("policy show", err)
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(ps)
}

// --- wiring escalation ---

// buildEscalation builds the on-call service and what escalation needs:
// rotas, policies, people, presence, receipts, the outbox and the pager.
func (a *app) buildEscalation() (*alert.EscalationDeps, error) {
	var fb oncall.Fallback
	if a.cfg.FallbackPhone != "" {
		ph, err := pii.ParsePhone(a.cfg.FallbackPhone, "GB")
		if err != nil {
			return nil, &exitError{code: 2, err: errors.New("waymark: WAYMARK_FALLBACK_PHONE is not a phone number")}
		}
		fb = oncall.Fallback{Phone: ph, Name: a.cfg.FallbackName}
	}
	pp := people{store: a.store.Staff, staff: a.staff}
	pr := presence{store: a.store.Hub}
	a.oncall = oncall.NewOnCall(a.store.OnCall, pp, pr, fb, a.now)
	metrics := newEscalationMetrics(a.registry, a.store)
	pages := a.cfg.TwilioAccountSID != "" && a.smsSender != nil // the sender is built before
	d := &alert.EscalationDeps{
		Rotas:      a.store.OnCall,
		People:     pp,
		Presence:   pr,
		Receipts:   a.store.Hub,
		PhonePages: pages,
		WebPush:    a.webPush != nil,
		Metrics:    metrics,
		Fallback:   fb,
		Tick:       time.Second,
	}
	host, _ := os.Hostname()
	// The service the outbox reports to is added by startEscalation: it is
	// built after this.
	a.pages = outbox.Options{
		Store:    a.store.Outbox,
		People:   pp,
		Fallback: fb,
		Metrics:  metrics,
		Consumer: fmt.Sprintf("%s.%d.%s", host, os.Getpid(), randid.New("", 6)),
		Logger:   a.log.With("component", "alerts"),
	}
	a.audits = auditor.Options{Alerts: a.store.Alerts, Store: a.store.Outbox, Metrics: metrics,
		Logger: a.log.With("component", "alerts")}
	if pages {
		d.Statuses = smsStatuses{s: a.store.SMSStatuses}
		a.pages.Pager = sms.Pager{Sender: a.smsSender}
		a.pages.Statuses = smsStatuses{s: a.store.SMSStatuses}
	}
	if a.webPush != nil {
		a.pages.WebPush = webPusher{wp: a.webPush, subs: webPushSubs{a.store.WebPush}}
	}
	return d, nil
}

// startEscalation runs this instance's outbox consumer and auditor until
// ctx ends; the returned function stops them and waits.
func (a *app) startEscalation(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	if !a.oncall.Fallback().Set() {
		a.log.Warn("WAYMARK_FALLBACK_PHONE is not set: escalations end by paging the whole team, not a 24/7 service")
	}
	if a.cfg.TwilioAccountSID == "" {
		a.log.Warn("Twilio is not configured: escalation pages by dashboard only; text and voice steps fall through")
	}
	o := a.pages
	o.Alerts, o.Now = a.alerts, a.now
	runner := outbox.New(o)
	go func() { runner.Run(ctx); done <- struct{}{} }()
	holder := randid.New("i", 12)
	beat := heartbeat(a.cfg.AuditorHeartbeatURL)
	ao := a.audits
	ao.Rules, ao.Now = a.alerts.Rules(), a.now
	aud := auditor.New(ao)
	go func() { aud.Run(ctx, a.cfg.AuditorInterval, holder, beat); done <- struct{}{} }()
	return func() { cancel(); <-done; <-done }
}

// heartbeat pings url (GET) after each clean auditor pass; nil when no URL
// is configured.
func heartbeat(url string) func(context.Context) error {
	if url == "" {
		return nil
	}
	client := &http.Client{Timeout: 5 * time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return errors.New("heartbeat: request failed")
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("heartbeat: answered %d", resp.StatusCode)
		}
		return nil
	}
}

// smsStatuses reads the delivery reports the SMS webhooks store.
type smsStatuses struct{ s *store.SMSStatuses }

func (st smsStatuses) RecordPage(ctx context.Context, sid, alertID string) error {
	// Twilio's first answer to a create is "queued", the least final.
	return st.s.RecordPage(ctx, sid, alertID, "queued", 1)
}

func (st smsStatuses) Undelivered(ctx context.Context, sid string) (bool, error) {
	s, ok, err := st.s.GetSMSStatus(ctx, sid)
	if err != nil || !ok {
		return false, err
	}
	return s.State == "undelivered" || s.State == "failed", nil
}

// webPusher sends Web Push pages through the sender to the store's
// subscriptions.
type webPusher struct {
	wp   *push.WebPush
	subs webPushSubs
}

func (w webPusher) Push(ctx context.Context, staffID, team, label string) error {
	// The payload names the team (and DRILL for a drill) only: no survivor
	// detail.
	msg := map[string]string{"type": "alert", "team": team}
	if label != "" {
		msg["label"] = label
	}
	payload, _ := json.Marshal(msg)
	n, err := w.wp.Notify(ctx, w.subs, staffID, payload)
	switch {
	case err != nil:
		return fmt.Errorf("%w: web push failed", outbox.ErrPageUndelivered)
	case n == 0:
		return fmt.Errorf("%w: no web push subscription", outbox.ErrPageRefused)
	}
	return nil
}

// escalationMetrics are escalation's Prometheus metrics (docs/operations.md
// says what each means).
type escalationMetrics struct {
	steps     *prometheus.CounterVec
	pages     *prometheus.CounterVec
	dead      prometheus.Counter
	repairs   *prometheus.CounterVec
	audits    *prometheus.CounterVec
	lastAudit prometheus.Gauge
	returned  prometheus.Counter
	raised    *prometheus.CounterVec
	lapsed    prometheus.Counter
}

func newEscalationMetrics(reg *prometheus.Registry, st *store.Set) *escalationMetrics {
	m := &escalationMetrics{
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waymark_escalation_steps_total",
			Help: "Escalation steps run, by whether the step paged the 24/7 fallback."}, []string{"fallback"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waymark_pages_total",
			Help: "Pages handled, by channel and outcome (sent, refused, failed, stale; undelivered texts; answered and unanswered calls)."}, []string{"channel", "outcome"}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{Name: "waymark_outbox_dead_letters_total",
			Help: "Pages moved to the dead-letter stream after repeated failures (each is an operator alert)."}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waymark_auditor_repairs_total",
			Help: "Open alerts the auditor found with no future step (step) or no owner (owner) and repaired."}, []string{"repair"}),
		audits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waymark_auditor_runs_total",
			Help: "Auditor passes run on this instance, by result (ok, error)."}, []string{"result"}),
		lastAudit: prometheus.NewGauge(prometheus.GaugeOpts{Name: "waymark_auditor_last_run_timestamp_seconds",
			Help: "Unix time of this instance's last complete auditor pass."}),
		returned: prometheus.NewCounter(prometheus.CounterOpts{Name: "waymark_handover_returned_total",
			Help: "Claimed alerts returned to the queue because their owner went off duty without handing them over."}),
		raised: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waymark_alerts_raised_total",
			Help: "New alerts raised through this instance, by what raised them (sms, app, checkin, drill)."}, []string{"source"}),
		lapsed: prometheus.NewCounter(prometheus.CounterOpts{Name: "waymark_claims_lapsed_total",
			Help: "Claims that lapsed on this instance's scheduler: the owner showed no progress within the acknowledgement timeout and the grace."}),
	}
	depth := func(name, help string, pick func(store.OutboxStats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			s, err := st.Outbox.Stats(ctx)
			if err != nil {
				return -1
			}
			return float64(pick(s))
		})
	}
	// The queue as it stands, read from Redis at each scrape (every
	// instance reports the same figures: take the max, not the sum).
	queue := func(name, help string, pick func(queueStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			q, err := readQueue(ctx, st.Alerts)
			if err != nil {
				return -1
			}
			return pick(q)
		})
	}
	reg.MustRegister(m.raised, m.lapsed,
		queue("waymark_alerts_unclaimed", "Open alerts nobody has claimed (-1: Redis unreachable).",
			func(q queueStats) float64 { return float64(q.unclaimed) }),
		queue("waymark_alerts_unclaimed_oldest_seconds", "Age of the oldest unclaimed open alert, 0 when none (-1: Redis unreachable).",
			func(q queueStats) float64 { return q.oldest.Seconds() }),
		queue("waymark_alerts_claim_lapsed", "Open alerts back in the queue because their claim lapsed, not claimed since (-1: Redis unreachable).",
			func(q queueStats) float64 { return float64(q.lapsed) }))
	reg.MustRegister(m.steps, m.pages, m.dead, m.repairs, m.audits, m.lastAudit, m.returned,
		depth("waymark_outbox_queued", "Pages waiting in the outbox, not yet handed to an instance (-1: Redis unreachable).",
			func(s store.OutboxStats) int64 { return s.Queued }),
		depth("waymark_outbox_pending", "Pages handed to an instance and not yet finished (-1: Redis unreachable).",
			func(s store.OutboxStats) int64 { return s.Pending }),
		depth("waymark_outbox_dead", "Pages in the dead-letter stream (-1: Redis unreachable).",
			func(s store.OutboxStats) int64 { return s.Dead }))
	return m
}

func (m *escalationMetrics) Step(fallback bool) {
	m.steps.WithLabelValues(fmt.Sprint(fallback)).Inc()
}

func (m *escalationMetrics) Page(ch oncall.Channel, o alert.PageOutcome) {
	m.pages.WithLabelValues(string(ch), string(o)).Inc()
}

func (m *escalationMetrics) DeadLetter() { m.dead.Inc() }

func (m *escalationMetrics) Repaired(what string) { m.repairs.WithLabelValues(what).Inc() }

func (m *escalationMetrics) Audited(_ int, err error) {
	if err != nil {
		m.audits.WithLabelValues("error").Inc()
		return
	}
	m.audits.WithLabelValues("ok").Inc()
	m.lastAudit.SetToCurrentTime()
}

func (m *escalationMetrics) Returned() { m.returned.Inc() }

func (m *escalationMetrics) Raised(src alert.Source) { m.raised.WithLabelValues(string(src)).Inc() }

func (m *escalationMetrics) Lapsed() { m.lapsed.Inc() }

// queueStats is the open queue at one moment.
type queueStats struct {
	unclaimed, lapsed int
	oldest            time.Duration
}

// readQueue reads every open alert and counts the unclaimed ones (live,
// no owner, not a practice alert), the oldest's age and the lapsed ones.
func readQueue(ctx context.Context, st *store.Alerts) (queueStats, error) {
	open, err := st.OpenAlerts(ctx)
	if err != nil {
		return queueStats{}, err
	}
	var q queueStats
	now := time.Now()
	for _, a := range open {
		if !a.State.Live() || a.Owner != "" || a.Mode == alert.ModePractice {
			continue
		}
		q.unclaimed++
		if !a.Esc.Lapsed.IsZero() {
			q.lapsed++
		}
		q.oldest = max(q.oldest, now.Sub(a.RaisedAt))
	}
	return q, nil
}
