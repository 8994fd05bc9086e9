package store

// The aggregates: each is a small view of one DB that satisfies the
// interface its consumer declares, and nothing more. They share the
// connection, keyspace, scripts and keys; making one costs nothing.

// Alerts is the alert service's store (alert.Store): signals decided and
// committed atomically, check-ins and timers.
type Alerts struct{ *conn }

// Cases is the cases service's store (alert.CaseStore): case records,
// devices and enrolment.
type Cases struct{ *conn }

// Staff is the staff service's store (staff.Store): accounts, sessions,
// sign-in throttles and teams.
type Staff struct{ *conn }

// Outbox is escalation's store (alert.EscalationStore): the page outbox,
// its dead letters, leases and timer fences.
type Outbox struct{ *conn }

// Records is the records service's store (alert.RecordStore): handoffs,
// retention, sign-in failure reports and the audit chain, verified and
// rotated with the retired audit keys it was made with.
type Records struct {
	*conn
	retired [][]byte
}

// OnCall keeps rotas and escalation policies (alert.OnCallStore).
type OnCall struct{ *conn }

// Gaps counts the coverage-gap samples (alert.GapStore, alert.UnmetStore).
type Gaps struct{ *conn }

// Directory is the service directory: its services, hidden services and
// refuge vacancies (signpost.DirectoryStore and the admin's stores).
type Directory struct{ *conn }

// Hub is what the live hub needs: the event stream, receipts, presence,
// the floor log, WebSocket tickets and session revocations.
type Hub struct{ *conn }

// WebPush keeps staff members' Web Push subscriptions.
type WebPush struct{ *conn }

// SMSStatuses keeps the delivery reports of texts.
type SMSStatuses struct{ *conn }

// NewAlerts returns the alert service's store over db.
func NewAlerts(db *DB) *Alerts { return &Alerts{db.conn} }

// NewCases returns the cases service's store over db.
func NewCases(db *DB) *Cases { return &Cases{db.conn} }

// NewStaff returns the staff service's store over db.
func NewStaff(db *DB) *Staff { return &Staff{db.conn} }

// NewOutbox returns escalation's store over db.
func NewOutbox(db *DB) *Outbox { return &Outbox{db.conn} }

// NewRecords returns the records service's store over db, with the
// retired audit keys (WAYMARK_AUDIT_KEYS_RETIRED) it needs to rotate the
// chain and to verify what it trims.
func NewRecords(db *DB, retiredAuditKeys [][]byte) *Records {
	return &Records{conn: db.conn, retired: retiredAuditKeys}
}

// NewOnCall returns the rota and policy store over db.
func NewOnCall(db *DB) *OnCall { return &OnCall{db.conn} }

// NewGaps returns the coverage-gap store over db.
func NewGaps(db *DB) *Gaps { return &Gaps{db.conn} }

// NewDirectory returns the service directory over db.
func NewDirectory(db *DB) *Directory { return &Directory{db.conn} }

// NewHub returns the live hub's store over db.
func NewHub(db *DB) *Hub { return &Hub{db.conn} }

// NewWebPush returns the Web Push subscription store over db.
func NewWebPush(db *DB) *WebPush { return &WebPush{db.conn} }

// NewSMSStatuses returns the text delivery report store over db.
func NewSMSStatuses(db *DB) *SMSStatuses { return &SMSStatuses{db.conn} }

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
