package store

import (
	"context"
	"time"

	"waymark/audit"
	"waymark/records"
	"waymark/store/internal/accounts"
	"waymark/store/internal/auditlog"
	"waymark/store/internal/directory"
	"waymark/store/internal/live"
	"waymark/store/internal/pages"
	"waymark/store/internal/rotation"
	"waymark/store/internal/smsstatus"
)

// The aggregates: each is a small view of one DB that satisfies the
// interface its consumer declares, and nothing more; making one costs
// nothing. Those whose keys only they use live in packages under
// store/internal over the shared kv.Conn, and appear here under the names
// their users know.

// Alerts is the alert service's store (alert.Store): signals decided and
// committed atomically, check-ins and timers.
type Alerts struct{ *conn }

// Cases is the cases service's store (casework.CaseStore): case records,
// devices and enrolment.
type Cases struct{ *conn }

// Staff is the staff service's store (staff.Store): accounts, sessions,
// sign-in throttles and teams.
type Staff = accounts.Staff

// Outbox is escalation's store (alert.EscalationStore): the page outbox,
// its dead letters, leases and timer fences.
type Outbox = pages.Store

var _ records.RecordStore = (*Records)(nil)

// Records is the records service's store (records.RecordStore): handoffs,
// retention, sign-in failure reports and the audit chain, verified and
// rotated with the retired audit keys it was made with.
type Records struct {
	*conn
	chain *auditlog.Chain
}

// OnCall keeps rotas and escalation policies (oncall.OnCallStore).
type OnCall struct{ *conn }

// Gaps counts the coverage-gap samples (records.GapStore and
// records.UnmetStore).
type Gaps struct{ *conn }

// Directory is the service directory: its services, hidden services and
// refuge vacancies (signpost.DirectoryStore and the admin's stores).
type Directory = directory.Store

// Hub is what the live hub needs: the event stream, receipts, presence,
// the floor log, WebSocket tickets and session revocations.
type Hub = live.Store

// WebPush keeps staff members' Web Push subscriptions.
type WebPush = accounts.WebPush

// SMSStatuses keeps the delivery reports of texts.
type SMSStatuses = smsstatus.Store

// NewAlerts returns the alert service's store over db.
func NewAlerts(db *DB) *Alerts { return &Alerts{db.conn} }

// NewCases returns the cases service's store over db.
func NewCases(db *DB) *Cases { return &Cases{db.conn} }

// NewStaff returns the staff service's store over db.
func NewStaff(db *DB) *Staff { return accounts.NewStaff(db.Conn) }

// NewOutbox returns escalation's store over db.
func NewOutbox(db *DB) *Outbox { return pages.New(db.Conn) }

// NewRecords returns the records service's store over db, with the
// retired audit keys (WAYMARK_AUDIT_KEYS_RETIRED) it needs to rotate the
// chain and to verify what it trims.
func NewRecords(db *DB, retiredAuditKeys [][]byte) *Records {
	return &Records{conn: db.conn, chain: auditlog.New(db.Conn, retiredAuditKeys)}
}

// NewOnCall returns the rota and policy store over db.
func NewOnCall(db *DB) *OnCall { return &OnCall{db.conn} }

// NewGaps returns the coverage-gap store over db.
func NewGaps(db *DB) *Gaps { return &Gaps{db.conn} }

// NewDirectory returns the service directory over db.
func NewDirectory(db *DB) *Directory { return directory.New(db.Conn) }

// NewHub returns the live hub's store over db.
func NewHub(db *DB) *Hub { return live.New(db.Conn) }

// NewWebPush returns the Web Push subscription store over db.
func NewWebPush(db *DB) *WebPush { return accounts.NewWebPush(db.Conn) }

// NewSMSStatuses returns the text delivery report store over db.
func NewSMSStatuses(db *DB) *SMSStatuses { return smsstatus.New(db.Conn) }

// Set is one of each aggregate over one DB, for the wiring in cmd/waymark.
type Set struct {
	DB          *DB
	Alerts      *Alerts
	Cases       *Cases
	Staff       *Staff
	Outbox      *Outbox
	OnCall      *OnCall
	Gaps        *Gaps
	Directory   *Directory
	Hub         *Hub
	WebPush     *WebPush
	SMSStatuses *SMSStatuses
}

// NewSet returns one of each aggregate over db. Records is left out: it
// needs the retired audit keys, so its user makes it with NewRecords.
func NewSet(db *DB) *Set {
	return &Set{
		DB:          db,
		Alerts:      NewAlerts(db),
		Cases:       NewCases(db),
		Staff:       NewStaff(db),
		Outbox:      NewOutbox(db),
		OnCall:      NewOnCall(db),
		Gaps:        NewGaps(db),
		Directory:   NewDirectory(db),
		Hub:         NewHub(db),
		WebPush:     NewWebPush(db),
		SMSStatuses: NewSMSStatuses(db),
	}
}

// The types of the moved aggregates, under the names their users know.
type (
	// WebPushSubscription is one browser's push subscription.
	WebPushSubscription = accounts.WebPushSubscription
	// PutOutcome is what PutServices did with one service.
	PutOutcome = directory.PutOutcome
	// PutResult reports one service of a PutServices call.
	PutResult = directory.PutResult
	// SMSStatus is the delivery report of one text.
	SMSStatus = smsstatus.Status
	// RotateReport is what a key rotation did and what it left.
	RotateReport = rotation.Report
	// Receipt is a responder's dashboard confirming an alert.
	Receipt = live.Receipt
	// Presence is one dashboard socket of a responder on a team.
	Presence = live.Presence
	// Present is a responder with a team's dashboard open.
	Present = live.Present
	// DeadLetter is a page that failed repeatedly, with why.
	DeadLetter = pages.DeadLetter
	// OutboxStats is the outbox's depth.
	OutboxStats = pages.Stats
	// AuditRecord is one audit entry as ReadAudit shows it.
	AuditRecord = auditlog.Record
)

// ErrAuditKey is an audit append refused because the chain's head is MAC'd
// under a key this instance does not hold.
var ErrAuditKey = auditlog.ErrAuditKey

// Outcomes of storing one service.
const (
	PutRejected  = directory.PutRejected
	PutCreated   = directory.PutCreated
	PutUpdated   = directory.PutUpdated
	PutUnchanged = directory.PutUnchanged
)

// Rotate moves everything sealed under a non-active key-encryption key to
// the active one (rotation.Rotator.Rotate).
func (s *DB) Rotate(ctx context.Context, progress func(done, total int)) (RotateReport, error) {
	return rotation.New(s.Conn).Rotate(ctx, progress)
}

// FormatRemaining renders a rotation's Remaining as "k1=0 k2=3".
func FormatRemaining(remaining map[string]int, ids []string) string {
	return rotation.FormatRemaining(remaining, ids)
}

// AppendAudit appends one entry to the audit chain, waiting while Redis
// loads its data (auditlog.Chain.AppendAuditWaiting).
func (s *Cases) AppendAudit(ctx context.Context, e audit.AuditEntry) error {
	return auditlog.New(s.Conn, nil).AppendAuditWaiting(ctx, e)
}

// AppendAudit appends one entry to the audit chain, rotating it to the
// current key first when its head is under a retired one.
func (s *Records) AppendAudit(ctx context.Context, e audit.AuditEntry) error {
	return s.chain.AppendAudit(ctx, e)
}

// AuditChain walks the audit chain from its checkpoint.
func (s *Records) AuditChain(ctx context.Context, fn func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error) error {
	return s.chain.AuditChain(ctx, fn)
}

// TrimAudit trims entries older than cutoff behind a checkpoint, keeping
// what held says is on legal hold.
func (s *Records) TrimAudit(ctx context.Context, cutoff time.Time, held func(caseID, alertID string) (bool, error)) (int, error) {
	return s.chain.TrimAudit(ctx, cutoff, held)
}

// ReadAudit reads the last n audit entries, reasons opened.
func (s *Records) ReadAudit(ctx context.Context, n int64) ([]AuditRecord, error) {
	return s.chain.ReadAudit(ctx, n)
}

// AuditKey returns k_audit as the store uses it, for verification and
// signing by the records service.
func (s *Records) AuditKey() []byte { return s.chain.AuditKey() }

// CountSignInFailure adds a failed sign-in to its window's count, for the
// audit summary.
func (s *Records) CountSignInFailure(ctx context.Context, f records.SignInFailures) error {
	return s.chain.CountSignInFailure(ctx, f)
}

// ClaimSignInFailures takes the counts of windows that started before
// before.
func (s *Records) ClaimSignInFailures(ctx context.Context, before time.Time) ([]records.SignInFailures, error) {
	return s.chain.ClaimSignInFailures(ctx, before)
}

// SeenBy returns each responder's first receipt of an alert, for its
// closing record.
func (s *Records) SeenBy(ctx context.Context, alertID string) (map[string]time.Time, error) {
	return live.New(s.Conn).SeenBy(ctx, alertID)
}
