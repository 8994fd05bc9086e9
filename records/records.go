package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"waymark/alert"
	"waymark/audit"
	"waymark/casework"
	"waymark/staff"
)

// NeedsHandoff reports whether a commit that leaves a with newEntries new
// timeline entries must queue its closing record (again): when the alert
// closes for good (terminal, no welfare follow-up outstanding), and when
// anything is added to a closed alert's record afterwards.
func NeedsHandoff(a *alert.Alert, newEntries int) bool {
	if !a.State.Terminal() || a.FollowUp {
		return false
	}
	return a.Record.Handoff == alert.HandoffNone || newEntries > 0
}

// PossibleRepeat reports whether an alert raised at `at` on a case with brief
// b is a possible repeat: the case was referred to MARAC within the 12
// months before (SafeLives' definition of a repeat incident).
func PossibleRepeat(b *casework.CaseBrief, at time.Time) bool {
	if b == nil || !b.MARAC.Referred || b.MARAC.Date.IsZero() {
		return false
	}
	return at.Before(b.MARAC.Date.AddDate(1, 0, 0))
}

// RepeatWindow is how far back another alert on the same case makes an
// alert count as a repeat in the report.
const RepeatWindow = 365 * 24 * time.Hour

// --- the closing record -----------------------------------------------------

// RecordFormat names the closing record's JSON layout.
const RecordFormat = "waymark-closing-record-v1"

// ClosingRecord is what the case-management system receives when an alert
// closes: who the alert was about (alias and case reference), what
// happened (timeline), who did what and when (actions), and how it ended.
// Location fixes are not included: location trails end with their alert.
type ClosingRecord struct {
	Format        string `json:"format"`
	RecordID      string `json:"record_id"` // alert id + "." + revision: the receiver's idempotency key
	Revision      int    `json:"revision"`
	AlertID       string `json:"alert_id"`
	CaseReference string `json:"case_reference,omitempty"`
	Alias         string `json:"alias,omitempty"`
	Team          string `json:"team"`
	Source        string `json:"source"`
	// Mode is "practice" or "drill" for an alert that was not real (the
	// receiver may file or discard it); absent for a real alert.
	Mode    string `json:"mode,omitempty"`
	Kind    string `json:"kind"`
	Duress  bool   `json:"duress"`
	Risk    string `json:"risk"`
	State   string `json:"state"`
	Outcome string `json:"outcome,omitempty"`
	// PossibleRepeat: the case was referred to MARAC within 12 months.
	PossibleRepeat             bool           `json:"possible_repeat"`
	RaisedAt                   time.Time      `json:"raised_at"`
	AcknowledgedAt             time.Time      `json:"acknowledged_at,omitzero"`
	ClosedAt                   time.Time      `json:"closed_at,omitzero"`
	PoliceIncidentNumber       string         `json:"police_incident_number,omitempty"`
	ChildrensServicesReference string         `json:"childrens_services_reference,omitempty"`
	Timeline                   []RecordEntry  `json:"timeline"`
	Actions                    []RecordAction `json:"actions"`
	// SealedUnavailable says the case was erased before the record was
	// built: its sealed timeline no longer opens, only plain facts remain.
	SealedUnavailable bool      `json:"sealed_unavailable,omitempty"`
	GeneratedAt       time.Time `json:"generated_at"`
}

// RecordEntry is one timeline line of a closing record.
type RecordEntry struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	By     string    `json:"by,omitempty"`
	ByName string    `json:"by_name,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Text   string    `json:"text,omitempty"`
}

// RecordAction is one thing a member of staff did on the alert.
type RecordAction struct {
	At        time.Time `json:"at"`
	StaffID   string    `json:"staff_id"`
	StaffName string    `json:"staff_name,omitempty"`
	Action    string    `json:"action"`
}

// staffActions are the timeline entry types a member of staff makes.
var staffActions = map[alert.EntryType]bool{
	alert.EntryAcknowledged: true, alert.EntryWorking: true, alert.EntryNote: true, alert.EntryResolved: true, alert.EntryFollowUp: true,
	alert.EntryCalled: true, alert.EntryTexted: true,
}

// BuildClosingRecord assembles a's closing record at now. b is the case's
// brief (nil for an unknown sender or an erased case).
func BuildClosingRecord(a *alert.Alert, b *casework.CaseBrief, now time.Time) ClosingRecord {
	rev := max(a.Record.Rev, 1)
	r := ClosingRecord{
		Format: RecordFormat, RecordID: a.ID + "." + strconv.Itoa(rev), Revision: rev,
		AlertID: a.ID, CaseReference: a.CaseID, Team: a.Team, Source: string(a.Source), Mode: string(a.Mode), Kind: a.Class.String(),
		Duress: a.Duress(), Risk: string(a.Risk), State: string(a.State), Outcome: string(a.Outcome),
		PossibleRepeat: PossibleRepeat(b, a.RaisedAt),
		RaisedAt:       a.RaisedAt.UTC(), AcknowledgedAt: utcOrZero(a.AckedAt), ClosedAt: utcOrZero(a.ClosedAt),
		PoliceIncidentNumber: a.PoliceRef.Reveal(), ChildrensServicesReference: a.ChildrenRef.Reveal(),
		Timeline: []RecordEntry{}, Actions: []RecordAction{}, GeneratedAt: now.UTC(),
	}
	if b != nil {
		r.Alias = b.Alias.Reveal()
	}
	if a.CaseID != "" && b == nil && len(a.Timeline) == 0 {
		r.SealedUnavailable = true
	}
	for _, e := range a.Timeline {
		re := RecordEntry{Seq: e.Seq, At: e.At.UTC(), Type: string(e.Type), By: e.By, ByName: e.ByName,
			Detail: e.Detail, Text: e.Text.Reveal()}
		if !e.Location.IsZero() {
			re.Detail = strings.TrimSpace(re.Detail + " (location fix not included in the record)")
		}
		r.Timeline = append(r.Timeline, re)
		if staffActions[e.Type] && e.By != "" && e.By != alert.BySystem && e.By != alert.BySurvivor {
			r.Actions = append(r.Actions, RecordAction{At: e.At.UTC(), StaffID: e.By, StaffName: e.ByName, Action: string(e.Type)})
		}
	}
	return r
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// JSON is the record's exact bytes as sent and signed.
func (r ClosingRecord) JSON() []byte {
	b, _ := json.Marshal(r)
	return b
}

// Filer delivers a closing record to the case-management system. body is
// the exact JSON to send (and sign); recordID is its idempotency key. A nil
// error means the system acknowledged it (2xx). Errors must be fixed
// wording without personal data: they are stored and shown.
type Filer interface {
	File(ctx context.Context, recordID string, body []byte) error
}

// --- the records service ----------------------------------------------------

// RecordStore is what Records needs from Redis.
type RecordStore interface {
	UnmetStore
	// CountSignInFailure adds f.Count (at least 1) failed sign-ins to f's
	// window; ClaimSignInFailures removes and returns the counts of every
	// window that started before before, each once across instances.
	CountSignInFailure(ctx context.Context, f SignInFailures) error
	ClaimSignInFailures(ctx context.Context, before time.Time) ([]SignInFailures, error)
	// Alert reads an alert with its timeline (ErrNotFound if gone).
	Alert(ctx context.Context, id string) (*alert.Alert, error)
	// SeenBy returns every responder's first receipt of an alert.
	SeenBy(ctx context.Context, alertID string) (map[string]time.Time, error)
	// ClaimHandoffs leases up to limit alert ids whose hand-off is due at
	// now until now+lease.
	ClaimHandoffs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error)
	// HandoffDone records that revision rev of the alert's record was
	// filed or exported at `at` and starts the retention clock; false (and
	// nothing changed) if a newer revision was queued meanwhile.
	HandoffDone(ctx context.Context, alertID string, rev int, how alert.Handoff, at time.Time) (bool, error)
	// HandoffFailed records a failed delivery of rev and when to try again.
	HandoffFailed(ctx context.Context, alertID string, rev, tries int, next time.Time, problem string) error
	// HandoffLater leaves the hand-off pending until next (no endpoint).
	HandoffLater(ctx context.Context, alertID string, next time.Time) error
	// HandoffStats counts pending hand-offs.
	HandoffStats(ctx context.Context) (HandoffStats, error)
	// PriorAlert reports whether the case has another alert raised in
	// [from, before).
	PriorAlert(ctx context.Context, caseID, alertID string, from, before time.Time) (bool, error)
	// Summarize adds one to each counter in fields (CountFields), once per
	// alert, and drops its location trail unless a hold keeps it.
	Summarize(ctx context.Context, alertID string, fields []string) error
	// RetentionDue lists alerts whose record was filed at or before
	// cutoff, oldest first, skipping the first offset.
	RetentionDue(ctx context.Context, cutoff time.Time, offset, limit int) ([]string, error)
	// EraseAlert deletes a closed alert whose record was filed at or
	// before cutoff, unless it or its case is on legal hold.
	EraseAlert(ctx context.Context, alertID string, cutoff time.Time) (EraseResult, error)
	// SetAlertHold puts an alert on legal hold or lifts it.
	SetAlertHold(ctx context.Context, alertID string, on bool) error
	// CaseAlertIDs lists the alerts Waymark still holds for a case.
	CaseAlertIDs(ctx context.Context, caseID string) ([]string, error)
	// ReportCounts returns every anonymous counter.
	ReportCounts(ctx context.Context) (map[string]int64, error)
	// AppendAudit appends to the audit chain.
	AppendAudit(ctx context.Context, e audit.AuditEntry) error
	// AuditChain calls fn with the checkpoint (nil if none) and then every
	// entry in order with its reason opened.
	AuditChain(ctx context.Context, fn func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error) error
	// TrimAudit drops entries older than cutoff (stopping at the first one
	// about a held case or alert) and leaves a checkpoint; it returns how
	// many went.
	TrimAudit(ctx context.Context, cutoff time.Time, held func(caseID, alertID string) (bool, error)) (int, error)
	// Held reports whether a case or an alert is on legal hold.
	Held(ctx context.Context, caseID, alertID string) (bool, error)
}

// EraseResult is what EraseAlert did.
type EraseResult string

// Erase results.
const (
	Erased      EraseResult = "erased"
	EraseHeld   EraseResult = "held"
	EraseNotDue EraseResult = "not-due" // re-queued for hand-off, or filed again since
	EraseGone   EraseResult = "gone"
)

// HandoffStats is what the dashboard shows about records not yet filed.
type HandoffStats struct {
	Pending int       `json:"pending"`
	Failing int       `json:"failing"` // pending with at least one failed try
	Oldest  time.Time `json:"oldest_closed_at,omitzero"`
}

// CaseLoader loads a whole case; *Cases satisfies it.
type CaseLoader interface {
	Load(ctx context.Context, id string) (*casework.Case, error)
}

// RecordsOptions configures Records.
type RecordsOptions struct {
	Store RecordStore
	Cases alert.CaseSource
	Case  CaseLoader
	// Filer delivers closing records; nil leaves them pending for
	// `waymark export alert`.
	Filer Filer
	// AuditKey is k_audit: it keys the chain and derives the signing key.
	AuditKey []byte
	// RetiredAuditKeys are earlier audit keys (WAYMARK_AUDIT_KEYS_RETIRED):
	// verification and case bundles check entries made before a rotation
	// with them.
	RetiredAuditKeys [][]byte
	// Retention keeps an alert's details after its record is filed
	// (WAYMARK_RETENTION_ALERTS); AuditRetention the audit trail.
	Retention      time.Duration
	AuditRetention time.Duration
	// Lease holds a claimed hand-off; default 2 minutes (longer than a
	// delivery's timeout).
	Lease time.Duration
	// Batch is how many hand-offs one tick claims; default 20.
	Batch  int
	Now    func() time.Time
	Logger *slog.Logger
}

// Backoff schedule for failed deliveries: 30 s doubling to at most an hour,
// for ever. A record is never dropped.
const (
	firstBackoff = 30 * time.Second
	maxBackoff   = time.Hour
	// noFilerRecheck is how often a pending hand-off is looked at again
	// when no endpoint is configured (it waits for an export).
	noFilerRecheck = time.Hour
)

// Backoff is the wait after the n-th failed delivery (n ≥ 1).
func Backoff(n int) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// Records hands closing records off, applies retention and legal holds,
// keeps the audit chain and builds exports and the commissioners' report.
type Records struct {
	st     RecordStore
	cases  alert.CaseSource
	loader CaseLoader
	filer  Filer
	key    []byte
	o      RecordsOptions
	now    func() time.Time
	log    *slog.Logger
}

// NewRecords builds the records service.
func NewRecords(o RecordsOptions) (*Records, error) {
	if o.Store == nil || o.Cases == nil {
		return nil, errors.New("alert: records need a store and a case source")
	}
	if len(o.AuditKey) < 32 {
		return nil, errors.New("alert: records need an audit key of at least 32 bytes")
	}
	if o.Retention <= 0 {
		o.Retention = alert.DefaultRules().Retention
	}
	if o.AuditRetention <= 0 {
		o.AuditRetention = 2 * 365 * 24 * time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Records{st: o.Store, cases: o.Cases, loader: o.Case, filer: o.Filer, key: o.AuditKey, o: o, now: o.Now, log: o.Logger}, nil
}

// Audit appends an entry, stamping the time if unset. A failure is logged:
// the action it records already happened.
func (r *Records) Audit(ctx context.Context, e audit.AuditEntry) {
	if e.At.IsZero() {
		e.At = r.now()
	}
	if err := r.st.AppendAudit(ctx, e); err != nil {
		r.log.Error("audit append failed", "action", e.Action, "case", e.CaseID, "alert", e.AlertID, "err", err)
	}
}

// SignInWindow is the span over which failed sign-ins are summarised in
// the audit trail: one entry per account (or unknown username), address,
// outcome and window, not one per attempt.
const SignInWindow = 15 * time.Minute

// SignInFailures counts failed sign-ins of one kind. Addr is the store's
// keyed tag of the client address, never the address itself.
type SignInFailures struct {
	Window  time.Time // its start
	Action  string    // staff.login or staff.reauth
	Actor   string    // the account, or "(unknown)"
	Addr    string
	Outcome string // "bad credentials" or "throttled"
	Count   int64
}

// SignInFailed counts a failed sign-in towards its window's summary; a
// guesser's thousands of attempts cost the two-year audit trail one entry
// per account, address, outcome and window (FlushSignInFailures).
func (r *Records) SignInFailed(ctx context.Context, action, actor, addr, outcome string) {
	f := SignInFailures{Window: r.now().Truncate(SignInWindow), Action: action, Actor: actor, Addr: addr, Outcome: outcome}
	if err := r.st.CountSignInFailure(ctx, f); err != nil {
		r.log.Error("audit: counting a failed sign-in failed", "action", action, "err", err)
	}
}

// FlushSignInFailures appends the summary of every window of failed
// sign-ins that has ended, and returns how many entries it appended.
func (r *Records) FlushSignInFailures(ctx context.Context) (int, error) {
	fs, err := r.st.ClaimSignInFailures(ctx, r.now().Add(-SignInWindow))
	if err != nil {
		return 0, err
	}
	for i, f := range fs {
		end := f.Window.Add(SignInWindow)
		e := audit.AuditEntry{At: end, Actor: f.Actor, Action: f.Action, Outcome: fmt.Sprintf("refused: %s ×%d from address %s, %s to %s",
			f.Outcome, f.Count, f.Addr, f.Window.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))}
		if err := r.st.AppendAudit(ctx, e); err != nil {
			// Put back what was not appended, for the next tick.
			for _, g := range fs[i:] {
				if rerr := r.st.CountSignInFailure(ctx, g); rerr != nil {
					r.log.Error("audit: sign-in summary lost", "action", g.Action, "actor", g.Actor, "count", g.Count, "err", rerr)
				}
			}
			return i, fmt.Errorf("alert: append sign-in summary: %w", err)
		}
	}
	return len(fs), nil
}

func actorOf(p *staff.Principal) string {
	if p == nil {
		return audit.ActorSystem
	}
	return p.StaffID
}

// Tick runs one pass of the hand-off queue: it claims due hand-offs, counts
// newly closed alerts into the report, and delivers their records. It
// returns how many it claimed. A failure leaves the hand-off queued with
// its backoff: nothing is dropped.
func (r *Records) Tick(ctx context.Context) (int, error) {
	now := r.now()
	ids, err := r.st.ClaimHandoffs(ctx, now, r.o.Lease, r.o.Batch)
	if err != nil {
		return 0, err
	}
	var first error
	for _, id := range ids {
		if err := r.process(ctx, id, now); err != nil {
			r.log.Warn("records: hand-off step failed; retried after its lease", "alert", id, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return len(ids), first
}

func (r *Records) process(ctx context.Context, id string, now time.Time) error {
	a, err := r.st.Alert(ctx, id)
	if errors.Is(err, casework.ErrNotFound) {
		_, err = r.st.HandoffDone(ctx, id, 0, alert.HandoffNone, now) // drops the queue entry
		return err
	}
	if err != nil {
		return err
	}
	if !a.Record.Summarized {
		if err := r.summarize(ctx, a); err != nil {
			return err
		}
	}
	if a.Record.Handoff != alert.HandoffPending {
		_, err := r.st.HandoffDone(ctx, id, a.Record.Rev, a.Record.Handoff, a.Record.FiledAt)
		return err
	}
	if r.filer == nil {
		return r.st.HandoffLater(ctx, id, now.Add(noFilerRecheck))
	}
	b, err := r.brief(ctx, a)
	if err != nil {
		return err
	}
	rec := BuildClosingRecord(a, b, now)
	if ferr := r.filer.File(ctx, rec.RecordID, rec.JSON()); ferr != nil {
		tries := a.Record.Tries + 1
		next := now.Add(Backoff(tries))
		r.log.Warn("records: closing record not filed", "alert", id, "tries", tries, "next", next, "err", ferr)
		return r.st.HandoffFailed(ctx, id, a.Record.Rev, tries, next, problemText(ferr))
	}
	ok, err := r.st.HandoffDone(ctx, id, a.Record.Rev, alert.HandoffFiled, r.now())
	if err != nil || !ok {
		return err
	}
	r.Audit(ctx, audit.AuditEntry{Actor: audit.ActorSystem, Action: "alert.handoff", CaseID: a.CaseID, AlertID: id,
		Outcome: "ok: filed revision " + strconv.Itoa(rec.Revision)})
	return nil
}

// problemText bounds what a failure stores.
func problemText(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (r *Records) brief(ctx context.Context, a *alert.Alert) (*casework.CaseBrief, error) {
	if a.CaseID == "" {
		return nil, nil
	}
	b, err := r.cases.Brief(ctx, a.CaseID)
	if errors.Is(err, casework.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// summarize counts a closed alert into the report.
func (r *Records) summarize(ctx context.Context, a *alert.Alert) error {
	seen, err := r.st.SeenBy(ctx, a.ID)
	if err != nil {
		return err
	}
	var first time.Time
	for _, t := range seen {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	repeat := false
	if a.CaseID != "" {
		if repeat, err = r.st.PriorAlert(ctx, a.CaseID, a.ID, a.RaisedAt.Add(-RepeatWindow), a.RaisedAt); err != nil {
			return err
		}
	}
	return r.st.Summarize(ctx, a.ID, CountFields(Summarize(a, first, repeat)))
}

// Run ticks the hand-off queue every tick and sweeps retention every
// sweep until ctx ends.
func (r *Records) Run(ctx context.Context, tick, sweep time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	lastSweep := time.Time{}
	for {
		for {
			n, err := r.Tick(ctx)
			if err != nil || n < r.o.Batch {
				break
			}
		}
		if _, err := r.FlushSignInFailures(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("records: sign-in summaries not flushed; retried next tick", "err", err)
		}
		if now := r.now(); now.Sub(lastSweep) >= sweep {
			if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("records: retention sweep failed", "err", err)
			}
			lastSweep = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepReport is what a retention sweep did.
type SweepReport struct {
	Erased       int
	Held         int
	AuditTrimmed int
}

// Sweep applies retention, decided against the stored filing times and
// the injected clock: alerts whose record was filed more than the
// retention ago are erased unless held, and audit entries older than the
// audit retention are trimmed behind a checkpoint.
func (r *Records) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	now := r.now()
	cutoff := now.Add(-r.o.Retention)
	for {
		// Held alerts stay in the list: skip past them.
		ids, err := r.st.RetentionDue(ctx, cutoff, rep.Held, 200)
		if err != nil {
			return rep, err
		}
		for _, id := range ids {
			res, err := r.st.EraseAlert(ctx, id, cutoff)
			if err != nil {
				return rep, err
			}
			switch res {
			case Erased:
				rep.Erased++
				r.Audit(ctx, audit.AuditEntry{At: now, Actor: audit.ActorSystem, Action: "alert.erase", AlertID: id, Outcome: "ok: retention"})
			case EraseHeld:
				rep.Held++
			}
		}
		if len(ids) < 200 {
			break
		}
	}
	n, err := r.st.TrimAudit(ctx, now.Add(-r.o.AuditRetention), func(caseID, alertID string) (bool, error) {
		return r.st.Held(ctx, caseID, alertID)
	})
	rep.AuditTrimmed = n
	return rep, err
}

// SetAlertHold puts an alert on legal hold or lifts it (admin). Nothing of
// the alert is returned. The change is audited.
func (r *Records) SetAlertHold(ctx context.Context, p *staff.Principal, id string, hold bool) error {
	if !p.Has(staff.RoleAdmin) {
		return casework.ErrNotAllowed
	}
	if !alert.ValidAlertID(id) {
		return casework.ErrNotFound
	}
	if err := r.st.SetAlertHold(ctx, id, hold); err != nil {
		return err
	}
	r.Audit(ctx, audit.AuditEntry{Actor: p.StaffID, Action: "alert.legal_hold", AlertID: id, Outcome: fmt.Sprintf("ok: hold=%t", hold)})
	return nil
}

// HandoffStats reports records not yet filed, for the admin screen.
func (r *Records) HandoffStats(ctx context.Context) (HandoffStats, error) {
	return r.st.HandoffStats(ctx)
}
