package casework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"waymark/audit"
	"waymark/pii"
	"waymark/problem"
)

// Case errors. ErrReauth is a refusal that a fresh sign-in cures; the HTTP
// layer tells the client so. ErrCaseStale is the store's answer when what a
// change was decided on moved underneath it; Cases retries.
var (
	ErrReauth       = fmt.Errorf("alert: sign in again: %w", problem.ErrForbidden)
	ErrRevealLimit  = fmt.Errorf("alert: reveal limit reached: %w", problem.ErrTooMany)
	ErrCaseStale    = errors.New("alert: case changed concurrently")
	ErrCaseOpenWork = fmt.Errorf("alert: case has an open alert: %w", problem.ErrConflict)
)

// Limits of a case's fields.
const (
	maxAlias       = 80
	maxNotes       = 4000
	maxOpeningLine = 300
	maxLead        = 120
	maxWords       = 10
	maxWordLen     = 100
	maxExcluded    = 50
	maxWindows     = 14
	maxChildren    = 20
	MaxReason      = 500
)

// Case timings (DESIGN.md, Records and practice; issue 3 item 9).
const (
	// DefaultCaseLifetime is how long a case lasts after enrolment or
	// renewal when no lifetime is configured.
	DefaultCaseLifetime = 180 * 24 * time.Hour
	// DeviceActiveFor keeps a case alive while its app was used this recently.
	DeviceActiveFor = 90 * 24 * time.Hour
	// ExpiryWarning is how far ahead owners are warned of an expiry.
	ExpiryWarning = 14 * 24 * time.Hour
	// EnrolmentCodeLifetime is how long an app enrolment code stays usable.
	EnrolmentCodeLifetime = 15 * time.Minute
	// RevealReauth is how recent a sign-in a reveal needs.
	RevealReauth = 5 * time.Minute
	// DefaultRevealLimit is how many reveals one staff member may ask for
	// per RevealWindow.
	DefaultRevealLimit = 5
	RevealWindow       = time.Hour
)

// MARAC is a case's referral to a Multi-Agency Risk Assessment Conference.
type MARAC struct {
	Referred bool
	Date     time.Time // the referral date (midnight, London); zero if not referred
}

// TechSafetyCheck records the tech-safety conversation held before an app
// is installed: does anyone else have access to this phone or its accounts?
type TechSafetyCheck struct {
	OthersHaveAccess bool
	Notes            pii.Text
	RecordedAt       time.Time
	RecordedBy       string // staff id
}

// PracticeWindow is a time during which the survivor may try the app or
// their code word safely: what they raise reaches only the caseworker who
// opened the window, marked PRACTICE (state.go decides what stays practice).
type PracticeWindow struct {
	Until time.Time // zero: no window
	By    string    // staff id of the caseworker who opened it
}

// OpenAt reports whether the window covers t.
func (w PracticeWindow) OpenAt(t time.Time) bool {
	return w.By != "" && !w.Until.IsZero() && t.Before(w.Until)
}

// MaxPractice is the longest practice window a caseworker may open, and
// PracticeAckWait how long the caseworker has to acknowledge a practice
// alert before it is treated as real (issue 10).
const (
	MaxPractice     = 30 * time.Minute
	PracticeAckWait = 2 * time.Minute
)

// Device is an enrolled app installation of a case.
type Device struct {
	ID         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// RemovedAt is when the phone forgot itself ("forget this phone"):
	// the device no longer works, and only this mark remains.
	RemovedAt time.Time
}

// Case is an enrolled survivor. Personal fields are pii types so that they
// redact themselves anywhere but the store's sealing and the audited reveal;
// code and duress words are secrets of the case and appear only in the store
// (sealed) and in matching. PINs exist here only as keyed hashes.
type Case struct {
	ID            string
	Phone         pii.Phone
	Alias         pii.Text // the name shown to responders
	Team          string
	Risk          Risk
	RiskDate      time.Time // DASH assessment date; zero if not recorded
	MARAC         MARAC
	Communication Communication
	Children      Children
	CodeWords     []string
	DuressWords   []string
	// PINHash and DuressPINHash are PINHasher.Hash(ID, pin).
	PINHash       []byte
	DuressPINHash []byte
	Contact       ContactPlan
	ResponsePlan  pii.Text
	SafetyNotes   pii.Text
	Owner         string   // staff id of the owning caseworker
	Excluded      []string // staff ids who must never see the case
	LinkedCase    string   // the linked "other party" case, or ""
	Under18       bool
	// SafeguardingLead names the safeguarding lead; required when Under18.
	SafeguardingLead pii.Text
	TechSafety       *TechSafetyCheck
	LegalHold        bool
	CreatedAt        time.Time
	RenewedAt        time.Time
	ExpiresAt        time.Time
	SMSBlocked       bool // the survivor's network refuses our texts (they sent STOP)
	Review           bool // flagged for a caseworker's review
	// PhoneHeld: the phone is on a case the caseworker may not see, so it
	// waits for an administrator's review, out of the blind index: no
	// signal from it reaches this case, and the caseworker is not told.
	PhoneHeld bool
	// Practice is the case's practice window, if one was opened.
	Practice PracticeWindow
	// Bucket is the blind-index bucket of Phone, kept so the store can move
	// or drop the index entry without opening the phone.
	Bucket string
	// Version increases with every stored change; updates are refused
	// (ErrCaseStale) when it moved since the case was loaded.
	Version int64

	// Expired is decided when the case is loaded, not stored: the case is
	// past ExpiresAt and nothing keeps it alive. Its signals still raise
	// alerts, flagged "expired case".
	Expired bool
	// Devices are the enrolled app devices; filled by Cases.Get only.
	Devices []Device
}

// String names the case by id only.
func (c Case) String() string { return "case " + c.ID }

// Format prints String for every verb, so no %v or %+v of a Case can show
// its words or hashes.
func (c Case) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue logs the id and team only.
func (c Case) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("team", c.Team))
}

// Excludes reports whether staffID must never see the case.
func (c *Case) Excludes(staffID string) bool { return slices.Contains(c.Excluded, staffID) }

// MARACActive reports whether a MARAC referral within the last 12 months
// keeps the case alive at now.
func (c *Case) MARACActive(now time.Time) bool {
	return c.MARAC.Referred && !c.MARAC.Date.IsZero() && now.Before(c.MARAC.Date.AddDate(1, 0, 0))
}

// CaseActivity is what, besides renewal, keeps a case alive.
type CaseActivity struct {
	CheckinsActive bool      // an active check-in schedule
	LastDeviceUse  time.Time // the latest use of any enrolled device
}

// ExpiredAt decides expiry against the stored timestamps: a case is expired
// once past ExpiresAt unless an active check-in schedule, a device used in
// the last 90 days or a MARAC referral in the last 12 months keeps it.
func (c *Case) ExpiredAt(now time.Time, act CaseActivity) bool {
	if now.Before(c.ExpiresAt) {
		return false
	}
	return !c.exempt(now, act)
}

func (c *Case) exempt(now time.Time, act CaseActivity) bool {
	return c.MARACActive(now) || act.CheckinsActive ||
		(!act.LastDeviceUse.IsZero() && now.Sub(act.LastDeviceUse) < DeviceActiveFor)
}

// CaseSummary is what a team's case list shows: alias and risk only.
type CaseSummary struct {
	ID    string
	Alias pii.Text
	Risk  Risk
}

// ExpiringCase is a case its owner must be warned about.
type ExpiringCase struct {
	ID        string
	Team      string
	Owner     string
	ExpiresAt time.Time
	Expired   bool
}

// Revealed is what an audited reveal returns.
type Revealed struct {
	Phone       pii.Phone
	SafetyNotes pii.Text
}

// Enrolment is a one-time app enrolment code.
type Enrolment struct {
	Code      string
	ExpiresAt time.Time
}

// AuditEntry (one line of the audit trail) is in audit.go.

// PhoneReview is a case whose phone is held for an administrator's review.
type PhoneReview struct {
	Case   string
	Team   string
	HeldAt time.Time
	// Others are the cases the phone is on (ids and teams only).
	Others []CaseRef
}

// CaseRef names a case without anything about its survivor.
type CaseRef struct {
	ID   string `json:"id"`
	Team string `json:"team"`
}

// PhoneSnapshot is an opaque token for the state of a phone's blind-index
// bucket as CasesByPhone saw it; a create or update that changes the phone
// is refused with ErrCaseStale if the bucket changed since.
type PhoneSnapshot string

// PINHasher hashes and checks case PINs; *seal.PINKey satisfies it. Check
// must compare with both hashes every time.
type PINHasher interface {
	Hash(caseID, pin string) []byte
	Check(caseID, pin string, realHash, duressHash []byte) (isReal, isDuress bool)
}

// CaseStore is what Cases needs from storage. Sealing, the blind index and
// tags are the store's business: Cases hands it and gets back plain domain
// values.
type CaseStore interface {
	// CreateCase stores a new case with a fresh data key, its team and
	// expiry entries and its blind-index entry. ErrCaseStale if the phone's
	// bucket moved since snap.
	CreateCase(ctx context.Context, c *Case, snap PhoneSnapshot) error
	// LoadCase returns the case with every sealed field opened; ErrNotFound.
	LoadCase(ctx context.Context, id string) (*Case, error)
	// LoadCaseMeta returns the plain fields only (no data key unwrapped).
	LoadCaseMeta(ctx context.Context, id string) (*Case, error)
	// UpdateCase stores c over the version it was loaded at (ErrCaseStale if
	// it moved) and moves its team and blind-index entries if they changed
	// from prev. snap is checked when the phone changed.
	UpdateCase(ctx context.Context, c, prev *Case, snap PhoneSnapshot) error
	// CasesByPhone returns every case enrolled with phone (opened) and a
	// snapshot of its bucket.
	CasesByPhone(ctx context.Context, phone pii.Phone) ([]*Case, PhoneSnapshot, error)
	// TeamCases returns the team's cases with ID, Alias, Risk and Excluded.
	TeamCases(ctx context.Context, team string) ([]*Case, error)
	// RenewCase sets the renewal and expiry times.
	RenewCase(ctx context.Context, id string, renewedAt, expiresAt time.Time) error
	// SetCaseLink sets the case's linked case to to if it is now from;
	// ErrConflict if it links elsewhere.
	SetCaseLink(ctx context.Context, id, from, to string) error
	// SetPhoneReview queues the case's held phone for review, or dequeues it.
	SetPhoneReview(ctx context.Context, id string, at time.Time, on bool) error
	// PhoneReviews lists the queued cases (Case and HeldAt), oldest first.
	PhoneReviews(ctx context.Context) ([]PhoneReview, error)
	// SetCaseFlag sets a plain flag: "legal_hold", "sms_blocked" or "review".
	SetCaseFlag(ctx context.Context, id, flag string, on bool) error
	// SetPractice stores the case's practice window (a zero window closes
	// it); ErrNotFound if the case does not exist.
	SetPractice(ctx context.Context, id string, w PracticeWindow) error
	// EraseCase destroys the case: data key, record, blind-index entry,
	// team and expiry entries, devices, enrolment codes and check-in
	// schedule. ErrLegalHold if the case is on hold.
	EraseCase(ctx context.Context, id string) error
	// CaseActivity reports what keeps a case alive besides renewal.
	CaseActivity(ctx context.Context, id string) (CaseActivity, error)
	// ExpiringCaseIDs lists cases whose expiry is at or before until.
	ExpiringCaseIDs(ctx context.Context, until time.Time) ([]string, error)
	// OpenAlertClaim returns the state and owner of the case's open alert
	// ("", "" if none).
	OpenAlertClaim(ctx context.Context, caseID string) (state, owner string, err error)
	// OpenAlertDuress reports whether the case's open alert carries a
	// duress signal (false if there is no open alert).
	OpenAlertDuress(ctx context.Context, caseID string) (bool, error)
	// TakeReveal counts one reveal attempt of staffID and reports whether
	// it is within limit per window.
	TakeReveal(ctx context.Context, staffID string, limit int, window time.Duration) (bool, error)
	// IssueEnrolment records the tech-safety check on the case and stores
	// the one-time code until expiresAt.
	IssueEnrolment(ctx context.Context, caseID, code string, check TechSafetyCheck, expiresAt time.Time) error
	// RedeemEnrolment consumes code, if valid and unexpired, and enrols a
	// device with token; ErrNotFound otherwise, changing nothing.
	RedeemEnrolment(ctx context.Context, code, token, deviceID string) (caseID string, err error)
	// Devices lists the case's devices.
	Devices(ctx context.Context, caseID string) ([]Device, error)
	// RevokeDevice removes a device; ErrNotFound if the case has none by that id.
	RevokeDevice(ctx context.Context, caseID, deviceID string) error
	// ForgetDevice removes a device as RevokeDevice does, leaving the mark
	// that the phone itself asked for it.
	ForgetDevice(ctx context.Context, caseID, deviceID string) error
	// DeviceByToken resolves an app token and records its use.
	DeviceByToken(ctx context.Context, token string) (caseID, deviceID string, err error)
	// LookupDevice resolves an app token and writes nothing: lastUsed is
	// when its use was last recorded.
	LookupDevice(ctx context.Context, token string) (caseID, deviceID string, lastUsed time.Time, err error)
	// TouchDevice records a use of the device with token, if the last one
	// recorded is a minute old or more.
	TouchDevice(ctx context.Context, token string) error
	// AppendAudit appends an entry to the audit trail.
	AppendAudit(ctx context.Context, e audit.AuditEntry) error
}
