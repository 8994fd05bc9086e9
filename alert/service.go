package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// Store is what the alert service needs from Redis. Package store
// implements it; every change goes through DecideCase or DecideAlert, which
// read, let the rules decide, and commit in one atomic step only if nothing
// read has changed meanwhile (retrying otherwise).
type Store interface {
	// Policies reads a team's policy set (nil when it set none). A new
	// alert's commit with Commit.GuardPolicies is refused as stale (and
	// decided again) when the team's stored set is no longer the version
	// snapshotted into the alert, so the intake may keep sets in memory.
	oncall.PolicySource
	// DecideSender is DecideCase for a number on no case: the open alert
	// its last text (within window) raised or joined is the state's Open.
	DecideSender(ctx context.Context, sender pii.Phone, window time.Duration, decide func(CaseState) (*Commit, error)) (Result, error)
	// DecideCase reads a case's open and last alert and check-in state,
	// and the case's plain record (CaseState.Record), in one round trip
	// (nothing for caseID ""), calls decide, and commits what it returns.
	// A nil Commit changes nothing.
	DecideCase(ctx context.Context, caseID string, decide func(CaseState) (*Commit, error)) (Result, error)
	// DecideAlert does the same for one alert; ErrNotFound if it is gone.
	DecideAlert(ctx context.Context, alertID string, decide func(*Alert) (*Commit, error)) (Result, error)
	// Alert reads an alert with its timeline and trail.
	Alert(ctx context.Context, id string) (*Alert, error)
	// OpenAlerts lists the open alerts (plain fields only), highest
	// priority first, then oldest.
	OpenAlerts(ctx context.Context) ([]*Alert, error)
	// TeamAlerts lists a team's alerts raised since since, newest first.
	TeamAlerts(ctx context.Context, team string, since time.Time) ([]*Alert, error)
	// OutcomeCounts counts a case's alert outcomes.
	OutcomeCounts(ctx context.Context, caseID string) (map[Outcome]int, error)
	// Checkins reads a case's check-in state (nil if none) and its log.
	Checkins(ctx context.Context, caseID string) (*casework.Checkins, []Entry, error)
	// ClaimTimers claims up to limit timers due at now, leasing each for
	// lease: another instance may claim it again only after that.
	ClaimTimers(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Timer, error)
	// FinishTimer removes a claimed timer if it still carries t's fence.
	FinishTimer(ctx context.Context, t Timer) error
}

// CaseSource is what alerts need from the cases service.
type CaseSource interface {
	// FactsFrom returns what raising needs about a case, decided on rec,
	// its record the store read with its alert state (CaseState.Record;
	// nil, and ErrNotFound, when the case does not exist), and checks pin
	// against its real and duress PINs, always computing both comparisons
	// (so which matched costs no time to tell).
	FactsFrom(ctx context.Context, caseID string, rec *casework.Case, pin string) (casework.CaseFacts, casework.PIN, error)
	// Brief returns the responder's view of a case.
	Brief(ctx context.Context, caseID string) (*casework.CaseBrief, error)
	// FlagReview flags the case for a caseworker's review.
	FlagReview(ctx context.Context, caseID string) error
}

// Config tunes a Service.
type Config struct {
	Rules Rules
	// TriageTeam receives alerts from unknown senders.
	TriageTeam string
	// Lease is how long a claimed timer is held before another instance
	// may take it over; default 30 s.
	Lease time.Duration
	// Batch is how many due timers one tick claims; default 100.
	Batch int
	// Escalation wires paging (escalation.go); nil pages nobody.
	Escalation *EscalationDeps
	// PINFloor is the least time an app signal carrying a PIN takes
	// (pinfloor.go); default DefaultPINFloor, negative for none.
	PINFloor time.Duration
}

// Service raises, joins, claims and resolves alerts. It is built by
// NewService and used by every intake (app, SMS, missed check-ins) and by
// the responder API. It keeps nothing timed in memory: any instance's
// scheduler loop can pick up any due timer.
type Service struct {
	store Store
	cases CaseSource
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	esc   *EscalationDeps
	// polCache keeps each team's policies for raising (intake.go).
	polCache policyCache
}

// NewService builds a Service. now is the clock every decision is made
// against; nil means time.Now.
func NewService(st Store, cases CaseSource, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.PINFloor == 0 {
		cfg.PINFloor = DefaultPINFloor
	}
	def := DefaultRules()
	r := &cfg.Rules
	if r.CancelWindow <= 0 {
		r.CancelWindow = def.CancelWindow
	}
	if r.AckTimeout <= 0 {
		r.AckTimeout = def.AckTimeout
	}
	if r.MessageExpiry <= 0 {
		r.MessageExpiry = def.MessageExpiry
	}
	if r.WrongPINLimit <= 0 {
		r.WrongPINLimit = def.WrongPINLimit
	}
	if r.Retention <= 0 {
		r.Retention = def.Retention
	}
	if r.TrailRetention <= 0 {
		r.TrailRetention = def.TrailRetention
	}
	if r.EventRetention <= 0 {
		r.EventRetention = def.EventRetention
	}
	s := &Service{store: st, cases: cases, cfg: cfg, now: now, log: log}
	if cfg.Escalation != nil {
		d := *cfg.Escalation
		d.defaults()
		s.esc = &d
	}
	return s
}

// Rules returns the rules in force.
func (s *Service) Rules() Rules { return s.cfg.Rules }

// Raise records a signal: the intakes (SMS, the app through App) call it.
// It returns only once the alert is stored; Redis slow or down gives an
// error wrapping problem.ErrUnavailable, never a false success.
func (s *Service) Raise(ctx context.Context, sig Signal) (Result, error) {
	if sig.At.IsZero() {
		sig.At = s.now()
	}
	if sig.CaseID == "" && sig.Team == "" {
		sig.Team = s.cfg.TriageTeam
	}
	return s.raise(ctx, sig, nil)
}

// raise decides and commits one signal. The case's facts come from the
// record the store reads with the case's alert state (one round trip for
// both, intake.go), and pin, when not nil, is checked against that record
// (both comparisons, whatever the PIN); ErrNotFound when the case is gone.
func (s *Service) raise(ctx context.Context, sig Signal, pin *string) (Result, error) {
	return s.raiseSeen(ctx, sig, pin, nil)
}

// raiseSeen is raise, telling seen (when not nil) what the decision read:
// the case's state and what its PIN turned out to be. It may be called
// more than once (a retried decision); the last call stands.
func (s *Service) raiseSeen(ctx context.Context, sig Signal, pin *string, seen func(CaseState, casework.PIN)) (Result, error) {
	if err := sig.Validate(); err != nil {
		return Result{}, err
	}
	attempt := 0
	created := false
	decide := func(st CaseState) (*Commit, error) {
		attempt++
		sig := sig
		if sig.CaseID != "" {
			facts, p, err := s.intakeFacts(ctx, st.Record, sig.CaseID, pin)
			if err != nil {
				return nil, err
			}
			st.Case = facts
			if pin != nil {
				sig.PIN = p
			}
		}
		team := cmp.Or(st.Case.Team, sig.Team)
		// A retry (something read changed meanwhile, perhaps the team's
		// policies) reads the policies afresh.
		pols, guard, err := s.intakePolicies(ctx, team, attempt > 1)
		if err != nil {
			return nil, err
		}
		st.Policies = pols
		if seen != nil {
			seen(st, sig.PIN)
		}
		c, err := s.cfg.Rules.OnSignal(st, sig)
		if c != nil {
			c.GuardPolicies = guard
			withExclusions(c, st.Record)
		}
		created = c != nil && c.Created
		return c, err
	}
	var res Result
	var err error
	if sig.CaseID == "" && !sig.Sender.IsZero() {
		// One unknown number, one alert: its texts within the window
		// join the alert the first raised.
		res, err = s.store.DecideSender(ctx, sig.Sender, SenderJoinWindow, decide)
	} else {
		res, err = s.store.DecideCase(ctx, sig.CaseID, decide)
	}
	if err != nil {
		return Result{}, fmt.Errorf("alert: %s signal: %w", sig.Kind, err)
	}
	if created && !res.Duplicate {
		s.metrics().Raised(sig.Source)
	}
	return res, nil
}

// SenderJoinWindow is how long after a text from a number on no case the
// next one from that number joins its open triage alert instead of
// raising another (a flood of 400 texts is one alert, not 400).
const SenderJoinWindow = 30 * time.Minute

// AppSignal is one request of the disguised app, after its device token
// named the case.
type AppSignal struct {
	// RequestID is the app's random id (≥128 bits); it dedupes retries.
	RequestID string
	Kind      Kind
	PIN       string
	Location  pii.Location
	Message   pii.Text
	// Schedule is the new check-in schedule for KindSchedule; nil stops
	// check-ins.
	Schedule *casework.Schedule
	// SentAt is when the phone raised the signal (its outbox may have held
	// it while offline); zero when the app did not say.
	SentAt time.Time
}

// signal turns an app request into the signal it stands for.
func (s *Service) appSignal(caseID string, in AppSignal) Signal {
	id := in.RequestID
	if id == "" {
		id = randid.Token(18)
	}
	return Signal{
		Source:    SourceApp,
		Kind:      in.Kind,
		CaseID:    caseID,
		Location:  in.Location,
		Message:   in.Message,
		At:        s.now(),
		SentAt:    in.SentAt,
		DedupeKey: "app:" + caseID + "." + id,
		Schedule:  in.Schedule,
	}
}

// App records a signal from a case's app. Every accepted signal returns
// nil, whether the PIN was real, duress or wrong, and takes the same steps
// (one read of the case and its state, both PIN comparisons, one atomic
// commit), so nothing about the answer tells them apart.
func (s *Service) App(ctx context.Context, caseID string, in AppSignal) error {
	defer s.pinFloor(ctx, in.PIN)()
	_, err := s.raise(ctx, s.appSignal(caseID, in), &in.PIN)
	return err
}

// AppSettings is the disguised app opening its hidden settings with a PIN
// (KindSettings). With the real or the duress PIN it answers ok and the
// case's check-in schedule (nil when none is active): the duress PIN must
// look like success to whoever is watching, and raises a duress alert. A
// wrong PIN answers not ok and counts as wrong. A repeated request id
// answers not ok and changes nothing. pin says which PIN it was, for the
// caller's own use; the survivor's phone must not learn it.
func (s *Service) AppSettings(ctx context.Context, caseID string, in AppSignal) (sched *casework.Schedule, pin casework.PIN, err error) {
	in.Kind = KindSettings
	defer s.pinFloor(ctx, in.PIN)()
	var (
		got casework.PIN
		ci  *casework.Checkins
	)
	res, err := s.raiseSeen(ctx, s.appSignal(caseID, in), &in.PIN, func(st CaseState, p casework.PIN) {
		got, ci = p, st.Checkins
	})
	if err != nil || res.Duplicate {
		return nil, casework.PINNone, err
	}
	if got != casework.PINReal && got != casework.PINDuress {
		return nil, got, nil
	}
	if ci != nil && ci.Active {
		sc := ci.Schedule.Normalize()
		sched = &sc
	}
	return sched, got, nil
}

// SetSchedule sets (or, with sched nil, stops) a case's check-in schedule
// from the case screen: a caseworker of the case's team agrees it with the
// survivor. The check-in log names the caseworker.
func (s *Service) SetSchedule(ctx context.Context, p *staff.Principal, caseID string, sched *casework.Schedule) error {
	if p == nil || !p.Has(staff.RoleCaseworker) {
		return casework.ErrNotFound
	}
	b, err := s.cases.Brief(ctx, caseID)
	if err != nil {
		return err
	}
	if !p.InTeam(b.Team) || slices.Contains(b.Excluded, p.StaffID) {
		return casework.ErrNotFound
	}
	if sched != nil {
		inv := &problem.Invalid{}
		sched.Validate(inv)
		if err := inv.Err(); err != nil {
			return err
		}
	}
	sig := Signal{
		Source:    SourceApp,
		Kind:      KindSchedule,
		CaseID:    caseID,
		PIN:       casework.PINReal, // a caseworker's hand, not a PIN: trusted as the real one
		At:        s.now(),
		DedupeKey: "staff:" + caseID + "." + randid.Token(18),
		Schedule:  sched,
		By:        p.StaffID,
	}
	_, err = s.raise(ctx, sig, nil)
	return err
}

// --- responder API ---

// mayView reports whether p may see alerts of the case: a responder or
// caseworker of the alert's team, not excluded from the case.
func mayView(p *staff.Principal, a *Alert, brief *casework.CaseBrief) bool {
	if a.Mode == ModePractice {
		// A practice alert is its caseworker's alone.
		return p != nil && a.Only != "" && p.StaffID == a.Only
	}
	if p == nil || !p.InTeam(a.Team) || !(p.Has(staff.RoleResponder) || p.Has(staff.RoleCaseworker)) {
		return false
	}
	return brief == nil || !slices.Contains(brief.Excluded, p.StaffID)
}

// brief reads the case of an alert; nil for an unknown sender or an erased
// case (its alert then shows no case detail).
func (s *Service) brief(ctx context.Context, a *Alert) (*casework.CaseBrief, error) {
	if a.CaseID == "" {
		return nil, nil
	}
	b, err := s.cases.Brief(ctx, a.CaseID)
	if errors.Is(err, casework.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// List returns the alerts p may see: state "open" (the queue: highest
// priority first, then oldest) or "recent" (every alert of p's teams within
// retention, newest first).
func (s *Service) List(ctx context.Context, p *staff.Principal, state string) ([]*Alert, error) {
	ls, err := s.ListBriefs(ctx, p, state)
	if err != nil {
		return nil, err
	}
	out := make([]*Alert, len(ls))
	for i, l := range ls {
		out[i] = l.Alert
	}
	return out, nil
}

// Listed is one line of an alert list: the alert's plain fields and its
// case's brief (nil for an unknown sender or an erased case).
type Listed struct {
	Alert *Alert
	Case  *casework.CaseBrief
}

// ListBriefs is List with each alert's case brief, for the dashboard.
func (s *Service) ListBriefs(ctx context.Context, p *staff.Principal, state string) ([]Listed, error) {
	if p == nil {
		return nil, nil
	}
	var all []*Alert
	switch state {
	case "", "open":
		open, err := s.store.OpenAlerts(ctx)
		if err != nil {
			return nil, err
		}
		all = open
	case "recent":
		since := s.now().Add(-s.cfg.Rules.Retention)
		for _, t := range p.Teams {
			as, err := s.store.TeamAlerts(ctx, t, since)
			if err != nil {
				return nil, err
			}
			all = append(all, as...)
		}
		slices.SortStableFunc(all, func(a, b *Alert) int { return b.RaisedAt.Compare(a.RaisedAt) })
	default:
		return nil, errBadState()
	}
	briefs := map[string]*casework.CaseBrief{}
	out := make([]Listed, 0, len(all))
	for _, a := range all {
		if !p.InTeam(a.Team) {
			continue
		}
		b, ok := briefs[a.CaseID]
		if !ok {
			var err error
			if b, err = s.brief(ctx, a); err != nil {
				return nil, err
			}
			briefs[a.CaseID] = b
		}
		if mayView(p, a, b) {
			out = append(out, Listed{Alert: a, Case: b})
		}
	}
	return out, nil
}

// View is everything a responder sees on one alert.
type View struct {
	Alert *Alert
	// Case is nil for an unknown sender or an erased case.
	Case    *casework.CaseBrief
	Verdict casework.Verdict
	// Review says the case is flagged for review by repeated accidental
	// or suspected-third-party outcomes.
	Review bool
	// Checkins is the case's check-in state, nil if none.
	Checkins *casework.Checkins
}

// Get returns the full view of an alert p may see; anyone else's alert is
// ErrNotFound, exactly as one that does not exist.
func (s *Service) Get(ctx context.Context, p *staff.Principal, id string) (*View, error) {
	a, err := s.store.Alert(ctx, id)
	if err != nil {
		return nil, err
	}
	b, err := s.brief(ctx, a)
	if err != nil {
		return nil, err
	}
	if !mayView(p, a, b) {
		return nil, casework.ErrNotFound
	}
	v := &View{Alert: a, Case: b}
	if b != nil {
		v.Verdict = b.Contact.VerdictAt(s.now(), a.Duress())
		counts, err := s.store.OutcomeCounts(ctx, a.CaseID)
		if err != nil {
			return nil, err
		}
		v.Review = b.Review || Review(counts)
		if v.Checkins, _, err = s.store.Checkins(ctx, a.CaseID); err != nil {
			return nil, err
		}
	} else {
		v.Verdict = casework.ContactPlan{}.VerdictAt(s.now(), a.Duress())
	}
	return v, nil
}

// act runs one responder action on an alert p may see (a caseworker's
// own practice alert counts).
func (s *Service) act(ctx context.Context, p *staff.Principal, id string, decide func(a *Alert, b *casework.CaseBrief, now time.Time) (*Commit, error)) error {
	if p == nil {
		return casework.ErrNotFound
	}
	var brief *casework.CaseBrief
	var briefCase string
	_, err := s.store.DecideAlert(ctx, id, func(a *Alert) (*Commit, error) {
		if a.CaseID != briefCase || brief == nil {
			// Read once per case: the retry loop may call decide again.
			b, err := s.brief(ctx, a)
			if err != nil {
				return nil, err
			}
			brief, briefCase = b, a.CaseID
		}
		// Responders act on alerts; a caseworker acts only on the
		// practice alerts of their own practice windows.
		mayAct := p.Has(staff.RoleResponder) || (a.Mode == ModePractice && a.Only == p.StaffID)
		if !mayAct || !mayView(p, a, brief) {
			return nil, casework.ErrNotFound
		}
		return decide(a, brief, s.now())
	})
	return err
}

func actor(p *staff.Principal) Actor {
	name := p.DisplayName
	if name == "" {
		name = p.Username
	}
	return Actor{ID: p.StaffID, Name: name}
}

// Ack claims an alert for p; the first claim wins, and anyone else gets a
// *problem.Claimed naming who has it.
func (s *Service) Ack(ctx context.Context, p *staff.Principal, id string) error {
	return s.act(ctx, p, id, func(a *Alert, _ *casework.CaseBrief, now time.Time) (*Commit, error) {
		return s.cfg.Rules.Ack(a, actor(p), now)
	})
}

// Working marks p's alert as being worked on.
func (s *Service) Working(ctx context.Context, p *staff.Principal, id string) error {
	return s.act(ctx, p, id, func(a *Alert, _ *casework.CaseBrief, now time.Time) (*Commit, error) {
		return s.cfg.Rules.Working(a, actor(p), now)
	})
}

// Contacted records that p rang the survivor through Waymark (EntryCalled)
// or sent the agreed text (EntryTexted): a timeline line, and progress on
// p's claim. ErrNotOwner unless p holds the claim.
func (s *Service) Contacted(ctx context.Context, p *staff.Principal, id string, how EntryType) error {
	return s.act(ctx, p, id, func(a *Alert, _ *casework.CaseBrief, now time.Time) (*Commit, error) {
		return s.cfg.Rules.Contacted(a, actor(p), how, now)
	})
}

// Note adds p's note to an alert.
func (s *Service) Note(ctx context.Context, p *staff.Principal, id string, text pii.Text) error {
	return s.act(ctx, p, id, func(a *Alert, _ *casework.CaseBrief, now time.Time) (*Commit, error) {
		return s.cfg.Rules.Note(a, actor(p), text, now)
	})
}

// Resolve closes an alert with an outcome.
func (s *Service) Resolve(ctx context.Context, p *staff.Principal, id string, res Resolution) error {
	err := s.act(ctx, p, id, func(a *Alert, b *casework.CaseBrief, now time.Time) (*Commit, error) {
		children := 0
		if b != nil {
			children = b.Children.Count
		}
		return s.cfg.Rules.Resolve(a, actor(p), res, children, now)
	})
	if err != nil || !res.Outcome.Review() {
		return err
	}
	s.review(ctx, id)
	return nil
}

// review flags the alert's case once repeated accidental or
// suspected-third-party outcomes add up. The resolve already stood; a
// failure here is logged and the flag is set by the next such outcome.
func (s *Service) review(ctx context.Context, alertID string) {
	a, err := s.store.Alert(ctx, alertID)
	if err != nil || a.CaseID == "" {
		return
	}
	counts, err := s.store.OutcomeCounts(ctx, a.CaseID)
	if err == nil && Review(counts) {
		err = s.cases.FlagReview(ctx, a.CaseID)
	}
	if err != nil {
		s.log.Warn("flagging case for review failed", "case", a.CaseID, "err", err)
	}
}

// CheckinLog returns a case's check-in state and the log of changes the
// case owner sees.
func (s *Service) CheckinLog(ctx context.Context, caseID string) (*casework.Checkins, []Entry, error) {
	return s.store.Checkins(ctx, caseID)
}

func errBadState() error { return problem.Invalidf("state", "must be open or recent") }

// withExclusions puts the case's exclusion list, read with the signal, on
// the commit's events of that case, so the hub need not read it again
// before delivering them (the read would sit between the commit and the
// responder's screen).
func withExclusions(c *Commit, rec *casework.Case) {
	if rec == nil {
		return
	}
	for i := range c.Events {
		if c.Events[i].Case == rec.ID {
			c.Events[i].Excluded, c.Events[i].ExcludedKnown = slices.Clone(rec.Excluded), true
		}
	}
}
