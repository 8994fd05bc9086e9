package alert

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"waymark/codeword"
	"waymark/internal/randid"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
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
	maxReason      = 500
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
	AppendAudit(ctx context.Context, e AuditEntry) error
}

// CasesOptions configures Cases.
type CasesOptions struct {
	Store CaseStore
	PINs  PINHasher
	// CheckinWord is the deployment's SMS check-in word (WAYMARK_SMS_CHECKIN_WORD);
	// no code or duress word may clash with it.
	CheckinWord string
	// Lifetime is how long a case lasts after enrolment or renewal
	// (WAYMARK_CASE_LIFETIME); zero means DefaultCaseLifetime.
	Lifetime time.Duration
	// RevealLimit is reveals per staff member per hour; zero means
	// DefaultRevealLimit.
	RevealLimit int
	Now         func() time.Time
	Logger      *slog.Logger
}

// Cases enrols, updates, renews, reveals and erases survivors' cases, and
// answers the intake's questions about them (by phone, by device token, PIN
// checks). Methods taking a *staff.Principal enforce the access rules: staff
// act only on cases of their teams, and staff a case excludes see nothing of
// it anywhere (the answer is the same as for a case that does not exist).
type Cases struct {
	st          CaseStore
	pins        PINHasher
	checkin     string
	lifetime    time.Duration
	revealLimit int
	now         func() time.Time
	log         *slog.Logger
}

// NewCases returns the case service.
func NewCases(o CasesOptions) (*Cases, error) {
	if o.Store == nil || o.PINs == nil {
		return nil, errors.New("alert: cases need a store and a PIN hasher")
	}
	c := &Cases{st: o.Store, pins: o.PINs, checkin: o.CheckinWord, lifetime: o.Lifetime,
		revealLimit: o.RevealLimit, now: o.Now, log: o.Logger}
	if c.lifetime <= 0 {
		c.lifetime = DefaultCaseLifetime
	}
	if c.revealLimit <= 0 {
		c.revealLimit = DefaultRevealLimit
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// --- input -----------------------------------------------------------------

// MARACInput is the JSON form of a MARAC referral.
type MARACInput struct {
	Referred bool   `json:"referred"`
	Date     string `json:"date" validate:"omitempty,max=10"` // YYYY-MM-DD
}

// SafeContactInput is the JSON form of a ContactPlan.
type SafeContactInput struct {
	Windows     []Window `json:"windows" validate:"max=14,dive"`
	Channels    Channels `json:"channels"`
	OpeningLine string   `json:"opening_line" validate:"max=300"`
}

// CaseInput is a new case, or a change to one, as a caseworker sends it. In
// a change a nil (absent or null) field stays as it is, and an object
// (marac, communication, children, safe_contact) replaces the whole object.
// Struct tags check shapes; Cases checks everything else and names each bad
// field as the JSON spells it.
type CaseInput struct {
	Phone            *string           `json:"phone" validate:"omitnil,max=64"`
	Alias            *string           `json:"alias" validate:"omitnil,max=80"`
	Team             *string           `json:"team" validate:"omitnil,max=64"`
	RiskLevel        *string           `json:"risk_level" validate:"omitnil,oneof=standard medium high"`
	RiskDate         *string           `json:"risk_date" validate:"omitnil,max=10"`
	MARAC            *MARACInput       `json:"marac"`
	Communication    *Communication    `json:"communication"`
	Children         *Children         `json:"children"`
	CodeWords        []string          `json:"code_words" validate:"omitnil,max=10,dive,max=100"`
	DuressWords      []string          `json:"duress_words" validate:"omitnil,max=10,dive,max=100"`
	PIN              *string           `json:"pin" validate:"omitnil,max=8"`
	DuressPIN        *string           `json:"duress_pin" validate:"omitnil,max=8"`
	Notes            *string           `json:"notes" validate:"omitnil,max=4000"`
	SafeContact      *SafeContactInput `json:"safe_contact"`
	ResponsePlan     *string           `json:"response_plan" validate:"omitnil,max=4000"`
	Owner            *string           `json:"owner" validate:"omitnil,max=64"`
	ExcludedStaff    []string          `json:"excluded_staff" validate:"omitnil,max=50,dive,max=64"`
	LinkedCase       *string           `json:"linked_case" validate:"omitnil,max=64"`
	Under18          *bool             `json:"under_18"`
	SafeguardingLead *string           `json:"safeguarding_lead" validate:"omitnil,max=120"`
}

// TechSafetyInput is the tech-safety check sent with an enrolment request.
type TechSafetyInput struct {
	OthersHaveAccess bool   `json:"others_have_access"`
	Notes            string `json:"notes" validate:"max=4000"`
}

// ValidCaseID reports whether id has the shape of a case id ("c_" and 20
// letters), so malformed ids are answered without touching the store.
func ValidCaseID(id string) bool { return randid.Valid(id, "c_", 20) }

// ValidStaffID reports whether id has the shape of a staff id.
func ValidStaffID(id string) bool { return randid.Valid(id, "s_", 20) }

// ValidDeviceID reports whether id has the shape of a device id.
func ValidDeviceID(id string) bool { return randid.Valid(id, "d_", 12) }

// pinChange carries the PINs of an input, in the clear only for as long as
// hashing them takes.
type pinChange struct{ pin, duress *string }

// build applies in to a copy of base (nil for a new case) and checks every
// field, returning the resulting case or a *problem.Invalid naming each bad
// field. create requires the fields a new case must have.
func (s *Cases) build(p *staff.Principal, in CaseInput, base *Case, create bool) (*Case, *problem.Invalid) {
	inv := &problem.Invalid{}
	c := &Case{}
	if base != nil {
		cp := *base
		c = &cp
		c.CodeWords = slices.Clone(base.CodeWords)
		c.DuressWords = slices.Clone(base.DuressWords)
		c.Excluded = slices.Clone(base.Excluded)
	}
	required := func(name string, present bool) bool {
		if !present && create {
			inv.Add(name, "is required")
		}
		return present
	}

	if required("phone", in.Phone != nil) {
		ph, err := pii.ParsePhone(*in.Phone, "GB")
		if err != nil {
			inv.Add("phone", "must be a valid phone number")
		} else {
			c.Phone = ph
		}
	}
	if required("alias", in.Alias != nil) {
		a := strings.TrimSpace(*in.Alias)
		if msg := checkText(a, maxAlias, true); msg != "" {
			inv.Add("alias", msg)
		} else {
			c.Alias = pii.NewText(a)
		}
	}
	if required("team", in.Team != nil) {
		t := strings.TrimSpace(*in.Team)
		switch {
		case t == "":
			inv.Add("team", "is required")
		case !p.InTeam(t):
			inv.Add("team", "must be one of your teams")
		default:
			c.Team = t
		}
	}
	if required("risk_level", in.RiskLevel != nil) {
		if r := Risk(*in.RiskLevel); r.Valid() {
			c.Risk = r
		} else {
			inv.Add("risk_level", "must be one of: standard, medium, high")
		}
	}
	today := s.now()
	if in.RiskDate != nil {
		d, msg := parseDate(*in.RiskDate, today)
		if msg != "" {
			inv.Add("risk_date", msg)
		} else {
			c.RiskDate = d
		}
	}
	if in.MARAC != nil {
		m := MARAC{Referred: in.MARAC.Referred}
		switch {
		case in.MARAC.Referred && in.MARAC.Date == "":
			inv.Add("marac.date", "is required when referred")
		case !in.MARAC.Referred && in.MARAC.Date != "":
			inv.Add("marac.date", "must be empty unless referred")
		case in.MARAC.Date != "":
			d, msg := parseDate(in.MARAC.Date, today)
			if msg != "" {
				inv.Add("marac.date", msg)
			}
			m.Date = d
		}
		c.MARAC = m
	}
	if in.Communication != nil {
		checkCommunication(*in.Communication, inv)
		c.Communication = *in.Communication
		c.Communication.Needs = slices.Clone(in.Communication.Needs)
	}
	if in.Children != nil {
		checkChildren(*in.Children, inv)
		c.Children = Children{Count: in.Children.Count, AgeBands: slices.Clone(in.Children.AgeBands)}
	}
	if required("code_words", in.CodeWords != nil) {
		c.CodeWords = trimAll(in.CodeWords)
		if len(c.CodeWords) == 0 {
			inv.Add("code_words", "must hold at least one word")
		}
	}
	if in.DuressWords != nil {
		c.DuressWords = trimAll(in.DuressWords)
	}
	checkWordLists(c, inv)
	if in.CodeWords != nil || in.DuressWords != nil || create {
		s.checkWords(c.CodeWords, c.DuressWords, inv)
	}
	if in.Notes != nil {
		if msg := checkText(*in.Notes, maxNotes, false); msg != "" {
			inv.Add("notes", msg)
		} else {
			c.SafetyNotes = pii.NewText(strings.TrimSpace(*in.Notes))
		}
	}
	if in.SafeContact != nil {
		plan := ContactPlan{Windows: in.SafeContact.Windows, Channels: in.SafeContact.Channels}
		if len(plan.Windows) > maxWindows {
			inv.Add("safe_contact.windows", fmt.Sprintf("must have at most %d items", maxWindows))
		}
		plan.Validate(inv, "safe_contact")
		if msg := checkText(in.SafeContact.OpeningLine, maxOpeningLine, false); msg != "" {
			inv.Add("safe_contact.opening_line", msg)
		}
		plan.OpeningLine = pii.NewText(strings.TrimSpace(in.SafeContact.OpeningLine))
		plan.Windows = slices.Clone(plan.Windows)
		c.Contact = plan
	}
	if in.ResponsePlan != nil {
		if msg := checkText(*in.ResponsePlan, maxNotes, false); msg != "" {
			inv.Add("response_plan", msg)
		} else {
			c.ResponsePlan = pii.NewText(strings.TrimSpace(*in.ResponsePlan))
		}
	}
	if in.Owner != nil {
		if !ValidStaffID(*in.Owner) {
			inv.Add("owner", "must be a staff id")
		} else {
			c.Owner = *in.Owner
		}
	} else if create {
		c.Owner = p.StaffID
	}
	if in.ExcludedStaff != nil {
		c.Excluded = nil
		for i, id := range in.ExcludedStaff {
			name := fmt.Sprintf("excluded_staff[%d]", i)
			switch {
			case !ValidStaffID(id):
				inv.Add(name, "must be a staff id")
			case slices.Contains(c.Excluded, id):
				inv.Add(name, "is listed twice")
			case id == p.StaffID:
				inv.Add(name, "must not be yourself")
			default:
				c.Excluded = append(c.Excluded, id)
			}
		}
	}
	if c.Owner != "" && c.Excludes(c.Owner) {
		inv.Add("owner", "must not be an excluded member of staff")
	}
	if in.LinkedCase != nil {
		switch l := *in.LinkedCase; {
		case l == "":
			c.LinkedCase = ""
		case !ValidCaseID(l) || l == c.ID:
			inv.Add("linked_case", "must be the id of another case")
		default:
			c.LinkedCase = l
		}
	}
	if in.Under18 != nil {
		c.Under18 = *in.Under18
	}
	if in.SafeguardingLead != nil {
		lead := strings.TrimSpace(*in.SafeguardingLead)
		if msg := checkText(lead, maxLead, false); msg != "" {
			inv.Add("safeguarding_lead", msg)
		} else {
			c.SafeguardingLead = pii.NewText(lead)
		}
	}
	if c.Under18 && c.SafeguardingLead.IsZero() && !hasField(inv, "safeguarding_lead") {
		inv.Add("safeguarding_lead", "is required for a survivor under 18")
	}
	s.applyPINs(c, pinChange{in.PIN, in.DuressPIN}, create, inv)
	return c, inv
}

// applyPINs checks and hashes the PINs of an input. A new case needs both;
// a change may set either, and each must differ from the other, new or
// stored (compared through the keyed hash: the stored PINs are not known).
func (s *Cases) applyPINs(c *Case, ch pinChange, create bool, inv *problem.Invalid) {
	ok := true
	for _, f := range []struct {
		name string
		v    *string
	}{{"pin", ch.pin}, {"duress_pin", ch.duress}} {
		switch {
		case f.v == nil && create:
			inv.Add(f.name, "is required")
			ok = false
		case f.v != nil && !validPIN(*f.v):
			inv.Add(f.name, "must be 4 to 8 digits")
			ok = false
		}
	}
	if !ok || c.ID == "" {
		return
	}
	switch {
	case ch.pin != nil && ch.duress != nil:
		if *ch.pin == *ch.duress {
			inv.Add("duress_pin", "must differ from pin")
			return
		}
	case ch.pin != nil:
		if _, same := s.pins.Check(c.ID, *ch.pin, nil, c.DuressPINHash); same {
			inv.Add("pin", "must differ from duress_pin")
			return
		}
	case ch.duress != nil:
		if same, _ := s.pins.Check(c.ID, *ch.duress, c.PINHash, nil); same {
			inv.Add("duress_pin", "must differ from pin")
			return
		}
	}
	if ch.pin != nil {
		c.PINHash = s.pins.Hash(c.ID, *ch.pin)
	}
	if ch.duress != nil {
		c.DuressPINHash = s.pins.Hash(c.ID, *ch.duress)
	}
}

// validPIN is seal.ValidPIN, restated so the domain does not need the
// sealing package: 4 to 8 ASCII digits.
func validPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 8 {
		return false
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return false
		}
	}
	return true
}

func hasField(inv *problem.Invalid, name string) bool {
	for _, f := range inv.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func trimAll(in []string) []string {
	out := make([]string, len(in))
	for i, w := range in {
		out[i] = strings.TrimSpace(w)
	}
	return out
}

func checkWordLists(c *Case, inv *problem.Invalid) {
	for _, l := range []struct {
		name  string
		words []string
	}{{"code_words", c.CodeWords}, {"duress_words", c.DuressWords}} {
		if len(l.words) > maxWords {
			inv.Add(l.name, fmt.Sprintf("must have at most %d items", maxWords))
		}
		for i, w := range l.words {
			if utf8.RuneCountInString(w) > maxWordLen || !utf8.ValidString(w) || hasControl(w) {
				inv.Add(fmt.Sprintf("%s[%d]", l.name, i), fmt.Sprintf("must be at most %d printable characters", maxWordLen))
			}
		}
	}
}

// checkWords applies the code-word rules (codeword.CheckWords) and names
// each refused word's field; the problem text names the word itself, as the
// caseworker needs to see which one.
func (s *Cases) checkWords(code, duress []string, inv *problem.Invalid) {
	err := codeword.CheckWords(code, duress, s.checkin)
	if err == nil {
		return
	}
	for _, we := range wordErrors(err) {
		list := "code_words"
		if we.Role == codeword.RoleDuress {
			list = "duress_words"
		}
		inv.Add(fmt.Sprintf("%s[%d]", list, we.Index), strings.TrimPrefix(we.Error(), "codeword: "))
	}
}

// wordErrors lists the *codeword.WordError values CheckWords joined.
func wordErrors(err error) []*codeword.WordError {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []*codeword.WordError
	for _, e := range errs {
		var we *codeword.WordError
		if errors.As(e, &we) {
			out = append(out, we)
		}
	}
	return out
}

// checkText checks free text: at most max characters, valid UTF-8, no
// control characters other than newlines and tabs.
func checkText(s string, max int, required bool) string {
	switch {
	case required && strings.TrimSpace(s) == "":
		return "is required"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("must have at most %d characters", max)
	case hasControl(s):
		return "must not hold control characters"
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return true
		}
	}
	return false
}

// parseDate reads a YYYY-MM-DD date in London that is not in the future.
func parseDate(s string, now time.Time) (time.Time, string) {
	d, err := time.ParseInLocation(time.DateOnly, s, London())
	if err != nil {
		return time.Time{}, "must be a date YYYY-MM-DD"
	}
	if d.After(now) {
		return time.Time{}, "must not be in the future"
	}
	if d.Year() < 2000 {
		return time.Time{}, "must be a date since 2000"
	}
	return d, ""
}

func checkCommunication(c Communication, inv *problem.Invalid) {
	if c.Language != "" {
		ok := len(c.Language) >= 2 && len(c.Language) <= 3
		for _, r := range c.Language {
			ok = ok && r >= 'a' && r <= 'z'
		}
		if !ok {
			inv.Add("communication.language", "must be an ISO 639 language code such as en, ur or pl")
		}
	}
	seen := map[CommNeed]bool{}
	for i, n := range c.Needs {
		switch n {
		case NeedVoice, NeedTextOnly, NeedBSL, NeedInterpreter:
		default:
			inv.Add(fmt.Sprintf("communication.needs[%d]", i), "must be one of: voice, text-only, bsl, interpreter")
		}
		if seen[n] {
			inv.Add(fmt.Sprintf("communication.needs[%d]", i), "is listed twice")
		}
		seen[n] = true
	}
	if len(c.Needs) > 4 {
		inv.Add("communication.needs", "must have at most 4 items")
	}
	switch c.InterpreterGender {
	case "":
	case "female", "male", "any":
		if !seen[NeedInterpreter] {
			inv.Add("communication.interpreter_gender", "is only for the interpreter need")
		}
	default:
		inv.Add("communication.interpreter_gender", "must be one of: female, male, any")
	}
	if seen[NeedVoice] && seen[NeedTextOnly] {
		inv.Add("communication.needs", "must not hold both voice and text-only")
	}
}

func checkChildren(c Children, inv *problem.Invalid) {
	if c.Count < 0 || c.Count > maxChildren {
		inv.Add("children.count", fmt.Sprintf("must be between 0 and %d", maxChildren))
	} else if len(c.AgeBands) > c.Count {
		inv.Add("children.age_bands", "must have no more items than count")
	}
	for i, b := range c.AgeBands {
		if !ValidAgeBand(b) {
			inv.Add(fmt.Sprintf("children.age_bands[%d]", i), "must be one of: 0-4, 5-10, 11-15, 16-17")
		}
	}
}

// --- access ------------------------------------------------------------------

// visible reports whether p may see c at all: never if excluded, else only
// within their teams.
func visible(p *staff.Principal, c *Case) bool {
	return p != nil && !c.Excludes(p.StaffID) && p.InTeam(c.Team)
}

// caseFor loads the plain fields of id for p, answering ErrNotFound for a
// case p may not see exactly as for one that does not exist.
func (s *Cases) caseFor(ctx context.Context, p *staff.Principal, id string) (*Case, error) {
	if !ValidCaseID(id) {
		return nil, ErrNotFound
	}
	c, err := s.st.LoadCaseMeta(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(p, c) {
		return nil, ErrNotFound
	}
	return c, nil
}

// Audit actors that are not staff.
const (
	ActorApp    = "app"    // the survivor's app
	ActorSystem = "system" // the intake and timers
)

func (s *Cases) audit(ctx context.Context, p *staff.Principal, action, caseID, outcome string, reason pii.Text) {
	actor := ActorSystem
	if p != nil {
		actor = p.StaffID
	}
	s.auditAs(ctx, actor, action, caseID, outcome, reason)
}

func (s *Cases) auditAs(ctx context.Context, actor, action, caseID, outcome string, reason pii.Text) {
	err := s.st.AppendAudit(ctx, AuditEntry{At: s.now(), Actor: actor, Action: action, CaseID: caseID, Reason: reason, Outcome: outcome})
	if err != nil {
		// The action already happened; the log keeps the failure visible
		// to operators without failing the caseworker's request.
		s.log.Error("audit append failed", "action", action, "case", caseID, "err", err)
	}
}

// --- caseworker operations -------------------------------------------------

// Create enrols a new case for p (a caseworker of its team).
func (s *Cases) Create(ctx context.Context, p *staff.Principal, in CaseInput) (*Case, error) {
	c, inv := s.build(p, in, &Case{ID: randid.New("c_", 20)}, true)
	if inv.Err() != nil {
		return nil, inv
	}
	now := s.now()
	c.CreatedAt, c.RenewedAt, c.ExpiresAt = now, now, now.Add(s.lifetime)
	if err := s.checkLinked(ctx, p, c, inv); err != nil {
		return nil, err
	}
	if inv.Err() != nil {
		return nil, inv
	}
	for attempt := 0; ; attempt++ {
		others, snap, err := s.st.CasesByPhone(ctx, c.Phone)
		if err != nil {
			return nil, err
		}
		s.placePhone(p, c, others, inv, false)
		if err := inv.Err(); err != nil {
			s.audit(ctx, p, "case.create", "", "refused: phone already on a case", pii.Text{})
			return nil, err
		}
		err = s.st.CreateCase(ctx, c, snap)
		if errors.Is(err, ErrCaseStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	outcome, err := s.afterPhone(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, p, "case.create", c.ID, outcome, pii.Text{})
	return c, nil
}

// placePhone decides where c's phone goes given the other cases it is on.
// A clash with a case p may not see (another team's, or one p is excluded
// from) must not change p's answer: the phone is held, out of the blind
// index, for an administrator's review, and p is answered as if there
// were no clash. A clash only with cases p can see follows phoneRule.
// backLink: see phoneRule.
func (s *Cases) placePhone(p *staff.Principal, c *Case, others []*Case, inv *problem.Invalid, backLink bool) {
	c.PhoneHeld = false
	for _, o := range others {
		if o.ID != c.ID && (!visible(p, o) || o.Team != c.Team) {
			c.PhoneHeld = true
			return
		}
	}
	s.phoneRule(c, others, inv, backLink)
}

// afterPhone queues or dequeues c's phone review and completes links: the
// case c now links to links back, and a case it no longer links to is
// unlinked (prev is c before the change, nil for a new case). It returns
// the audit outcome.
func (s *Cases) afterPhone(ctx context.Context, c, prev *Case) (string, error) {
	if prev == nil || prev.PhoneHeld != c.PhoneHeld {
		if err := s.st.SetPhoneReview(ctx, c.ID, s.now(), c.PhoneHeld); err != nil {
			return "", err
		}
	}
	if prev != nil && prev.LinkedCase != "" && prev.LinkedCase != c.LinkedCase {
		if err := s.st.SetCaseLink(ctx, prev.LinkedCase, c.ID, ""); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return "", err
		}
	}
	if c.LinkedCase != "" && (prev == nil || prev.LinkedCase != c.LinkedCase) {
		if err := s.st.SetCaseLink(ctx, c.LinkedCase, "", c.ID); err != nil && !errors.Is(err, ErrConflict) {
			return "", err
		}
	}
	if c.PhoneHeld {
		return "ok: phone held for review", nil
	}
	return "ok", nil
}

// checkLinked refuses a linked case that does not exist or that p may not
// know of, in the same words.
func (s *Cases) checkLinked(ctx context.Context, p *staff.Principal, c *Case, inv *problem.Invalid) error {
	if c.LinkedCase == "" || hasField(inv, "linked_case") {
		return nil
	}
	l, err := s.st.LoadCaseMeta(ctx, c.LinkedCase)
	// A case p may not see answers as one that does not exist.
	if errors.Is(err, problem.ErrNotFound) || (err == nil && (!visible(p, l) || l.ID == c.ID)) {
		inv.Add("linked_case", "must be the id of another case")
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case l.Team != c.Team:
		inv.Add("linked_case", "a link to another team's case is made by an administrator")
	case l.LinkedCase != "" && l.LinkedCase != c.ID:
		inv.Add("linked_case", "that case is already linked to another case")
	}
	return nil
}

// phoneRule allows a phone already on another case only when the two cases
// are linked and no word of one clashes with a word of the other: a signal
// from that phone then reaches both cases, and its word says which one.
//
// Links are kept on both cases; backLink also accepts a link held only by
// the other case (made before both sides were kept), for an update that
// leaves c's own link alone.
func (s *Cases) phoneRule(c *Case, all []*Case, inv *problem.Invalid, backLink bool) {
	var others []*Case
	for _, o := range all {
		if o.ID != c.ID {
			others = append(others, o)
		}
	}
	if len(others) == 0 {
		return
	}
	if len(others) > 1 {
		inv.Add("phone", "is already on two cases")
		return
	}
	o := others[0]
	if c.LinkedCase != o.ID && !(backLink && c.LinkedCase == "" && o.LinkedCase == c.ID) {
		inv.Add("phone", "is already on another case; it can be enrolled again only with linked_case naming that case")
		return
	}
	mine := append(slices.Clone(c.CodeWords), c.DuressWords...)
	theirs := append(slices.Clone(o.CodeWords), o.DuressWords...)
	for i, w := range mine {
		for _, v := range theirs {
			if errors.Is(codeword.CheckWords([]string{w, v}, nil, ""), codeword.ErrClash) {
				name := fmt.Sprintf("code_words[%d]", i)
				if i >= len(c.CodeWords) {
					name = fmt.Sprintf("duress_words[%d]", i-len(c.CodeWords))
				}
				// The other case's word is not named: the caseworker may
				// not be allowed to see that case.
				inv.Add(name, fmt.Sprintf("%q clashes with a word of the linked case on the same phone", w))
				break
			}
		}
	}
}

// Get returns the case for p, with its devices. Callers show no PIN hash,
// word, phone or safety note from it: those leave only through Reveal.
func (s *Cases) Get(ctx context.Context, p *staff.Principal, id string) (*Case, error) {
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return nil, err
	}
	c, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Devices, err = s.st.Devices(ctx, id); err != nil {
		return nil, err
	}
	return c, nil
}

// List returns the aliases and risk levels of team's cases that p may see.
func (s *Cases) List(ctx context.Context, p *staff.Principal, team string) ([]CaseSummary, error) {
	if !p.InTeam(team) {
		return nil, fmt.Errorf("alert: list cases of team %s: %w", team, ErrNotAllowed)
	}
	cs, err := s.st.TeamCases(ctx, team)
	if err != nil {
		return nil, err
	}
	out := make([]CaseSummary, 0, len(cs))
	for _, c := range cs {
		if c.Excludes(p.StaffID) {
			continue
		}
		out = append(out, CaseSummary{ID: c.ID, Alias: c.Alias, Risk: c.Risk})
	}
	return out, nil
}

// Update applies in to the case. A changed phone, word or link is checked
// against the one-phone-two-cases rule again.
func (s *Cases) Update(ctx context.Context, p *staff.Principal, id string, in CaseInput) (*Case, error) {
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		prev, err := s.st.LoadCase(ctx, id)
		if err != nil {
			return nil, err
		}
		c, inv := s.build(p, in, prev, false)
		if in.LinkedCase != nil && c.LinkedCase != prev.LinkedCase {
			if err := s.checkLinked(ctx, p, c, inv); err != nil {
				return nil, err
			}
		}
		if inv.Err() != nil {
			return nil, inv
		}
		var snap PhoneSnapshot
		if in.Phone != nil || in.CodeWords != nil || in.DuressWords != nil || in.LinkedCase != nil {
			others, sn, err := s.st.CasesByPhone(ctx, c.Phone)
			if err != nil {
				return nil, err
			}
			snap = sn
			s.placePhone(p, c, others, inv, in.LinkedCase == nil)
			if err := inv.Err(); err != nil {
				return nil, err
			}
		}
		err = s.st.UpdateCase(ctx, c, prev, snap)
		if errors.Is(err, ErrCaseStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		c.Version++
		outcome, err := s.afterPhone(ctx, c, prev)
		if err != nil {
			return nil, err
		}
		s.audit(ctx, p, "case.update", id, outcome, pii.Text{})
		return c, nil
	}
}

// Renew extends the case by the configured lifetime from now.
func (s *Cases) Renew(ctx context.Context, p *staff.Principal, id string) (*Case, error) {
	c, err := s.caseFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c.RenewedAt, c.ExpiresAt, c.Expired = now, now.Add(s.lifetime), false
	if err := s.st.RenewCase(ctx, id, c.RenewedAt, c.ExpiresAt); err != nil {
		return nil, err
	}
	s.audit(ctx, p, "case.renew", id, "ok", pii.Text{})
	return c, nil
}

// OpenPractice opens a practice window of d (at most MaxPractice) on the
// case, replacing any open one: until it ends, what the survivor raises
// (except duress or a missed check-in) reaches only p, marked PRACTICE, and
// turns real unless p acknowledges it within PracticeAckWait. Only a
// caseworker who may see the case opens one. The window's end is returned.
func (s *Cases) OpenPractice(ctx context.Context, p *staff.Principal, id string, d time.Duration) (PracticeWindow, error) {
	if p == nil || !p.Has(staff.RoleCaseworker) {
		return PracticeWindow{}, ErrNotAllowed
	}
	if d <= 0 || d > MaxPractice {
		return PracticeWindow{}, problem.Invalidf("minutes", "must be between 1 and 30")
	}
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return PracticeWindow{}, err
	}
	w := PracticeWindow{Until: s.now().Add(d), By: p.StaffID}
	if err := s.st.SetPractice(ctx, id, w); err != nil {
		return PracticeWindow{}, err
	}
	s.audit(ctx, p, "case.practice", id, fmt.Sprintf("ok: open for %d min", int(d/time.Minute)), pii.Text{})
	return w, nil
}

// ClosePractice ends the case's practice window now: from then on every
// signal is real. Closing a case with no window open is not an error.
func (s *Cases) ClosePractice(ctx context.Context, p *staff.Principal, id string) error {
	if p == nil || !p.Has(staff.RoleCaseworker) {
		return ErrNotAllowed
	}
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return err
	}
	if err := s.st.SetPractice(ctx, id, PracticeWindow{}); err != nil {
		return err
	}
	s.audit(ctx, p, "case.practice", id, "ok: closed", pii.Text{})
	return nil
}

// Erase destroys the case and everything that leads to it. A case on legal
// hold, or with an alert still open, is refused with a conflict.
func (s *Cases) Erase(ctx context.Context, p *staff.Principal, id string) error {
	c, err := s.caseFor(ctx, p, id)
	if err != nil {
		return err
	}
	if c.LegalHold {
		s.audit(ctx, p, "case.erase", id, "refused: legal hold", pii.Text{})
		return ErrLegalHold
	}
	state, _, err := s.st.OpenAlertClaim(ctx, id)
	if err != nil {
		return err
	}
	if openState(state) {
		s.audit(ctx, p, "case.erase", id, "refused: open alert", pii.Text{})
		return ErrCaseOpenWork
	}
	if err := s.st.EraseCase(ctx, id); err != nil {
		if errors.Is(err, ErrLegalHold) {
			s.audit(ctx, p, "case.erase", id, "refused: legal hold", pii.Text{})
		}
		return err
	}
	// The erased case leaves no review and no half link behind.
	if err := s.st.SetPhoneReview(ctx, id, s.now(), false); err != nil {
		return err
	}
	if c.LinkedCase != "" {
		if err := s.st.SetCaseLink(ctx, c.LinkedCase, id, ""); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	s.audit(ctx, p, "case.erase", id, "ok", pii.Text{})
	return nil
}

// PhoneReviews lists, for an administrator, the cases whose phone is held
// because it is on another case its caseworker may not see: ids and teams,
// nothing about the survivor.
func (s *Cases) PhoneReviews(ctx context.Context, p *staff.Principal) ([]PhoneReview, error) {
	if p == nil || !p.Has(staff.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	rs, err := s.st.PhoneReviews(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PhoneReview, 0, len(rs))
	for _, r := range rs {
		c, err := s.st.LoadCase(ctx, r.Case)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Team = c.Team
		others, _, err := s.st.CasesByPhone(ctx, c.Phone)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if o.ID != c.ID {
				r.Others = append(r.Others, CaseRef{ID: o.ID, Team: o.Team})
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// DecidePhoneReview is an administrator's decision on a held phone. link
// links the case with the one other case the phone is on (across teams if
// need be; both then show the link) and releases the phone, so signals
// from it reach both cases, each by its own words; otherwise the cases are
// kept apart and the phone stays held (the caseworkers are told by the
// administrator, not by Waymark).
func (s *Cases) DecidePhoneReview(ctx context.Context, p *staff.Principal, id string, link bool) error {
	if p == nil || !p.Has(staff.RoleAdmin) {
		return ErrNotAllowed
	}
	if !ValidCaseID(id) {
		return ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		prev, err := s.st.LoadCase(ctx, id)
		if err != nil {
			return err
		}
		if !prev.PhoneHeld {
			return ErrNotFound
		}
		if !link {
			if err := s.st.SetPhoneReview(ctx, id, s.now(), false); err != nil {
				return err
			}
			s.audit(ctx, p, "case.phone_review", id, "ok: kept apart", pii.Text{})
			return nil
		}
		others, snap, err := s.st.CasesByPhone(ctx, prev.Phone)
		if err != nil {
			return err
		}
		c := *prev
		c.PhoneHeld = false
		var o *Case
		for _, x := range others {
			if x.ID != id {
				if o != nil {
					return fmt.Errorf("alert: phone of case %s is on two cases: %w", id, ErrConflict)
				}
				o = x
			}
		}
		if o != nil {
			if (o.LinkedCase != "" && o.LinkedCase != id) || (prev.LinkedCase != "" && prev.LinkedCase != o.ID) {
				return fmt.Errorf("alert: case %s or %s links elsewhere: %w", id, o.ID, ErrConflict)
			}
			c.LinkedCase = o.ID
			// The administrator sees no word: a clash is a conflict.
			inv := &problem.Invalid{}
			if s.phoneRule(&c, others, inv, false); inv.Err() != nil {
				return fmt.Errorf("alert: words of cases %s and %s clash: %w", id, o.ID, ErrConflict)
			}
		}
		err = s.st.UpdateCase(ctx, &c, prev, snap)
		if errors.Is(err, ErrCaseStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.afterPhone(ctx, &c, prev); err != nil {
			return err
		}
		s.audit(ctx, p, "case.phone_review", id, "ok: linked", pii.Text{})
		return nil
	}
}

func openState(state string) bool {
	return state == "raised" || state == "acknowledged" || state == "working"
}

// SetLegalHold puts the case on legal hold or lifts it (admin): a held case
// neither expires nor can be erased. Admins see no survivor data, so nothing
// of the case is returned.
func (s *Cases) SetLegalHold(ctx context.Context, p *staff.Principal, id string, hold bool) error {
	if !p.Has(staff.RoleAdmin) {
		return ErrNotAllowed
	}
	if !ValidCaseID(id) {
		return ErrNotFound
	}
	c, err := s.st.LoadCaseMeta(ctx, id)
	if err != nil {
		return err
	}
	if c.Excludes(p.StaffID) {
		return ErrNotFound
	}
	if err := s.st.SetCaseFlag(ctx, id, "legal_hold", hold); err != nil {
		return err
	}
	s.audit(ctx, p, "case.legal_hold", id, fmt.Sprintf("ok: hold=%t", hold), pii.Text{})
	return nil
}

// Reveal returns the phone number and safety notes of the case to a
// responder who has claimed its open alert (acknowledged or working, owned
// by them) or to its owner caseworker, after a sign-in within the last five
// minutes, within the reveal rate limit, with a reason. Every reveal and
// every refusal goes to the audit trail.
func (s *Cases) Reveal(ctx context.Context, p *staff.Principal, id, reason string) (Revealed, error) {
	reason = strings.TrimSpace(reason)
	why := pii.NewText(reason)
	refuse := func(outcome string, err error) (Revealed, error) {
		s.audit(ctx, p, "case.reveal", auditID(id), "refused: "+outcome, why)
		return Revealed{}, err
	}
	if p == nil {
		return Revealed{}, ErrNotAllowed
	}
	if msg := checkText(reason, maxReason, true); msg != "" {
		return Revealed{}, problem.Invalidf("reason", msg)
	}
	ok, err := s.st.TakeReveal(ctx, p.StaffID, s.revealLimit, RevealWindow)
	if err != nil {
		return Revealed{}, err
	}
	if !ok {
		return refuse("rate limit", ErrRevealLimit)
	}
	if !ValidCaseID(id) {
		return refuse("not found", ErrNotFound)
	}
	meta, err := s.st.LoadCaseMeta(ctx, id)
	if errors.Is(err, problem.ErrNotFound) {
		return refuse("not found", ErrNotFound)
	}
	if err != nil {
		return Revealed{}, err
	}
	if meta.Excludes(p.StaffID) {
		return refuse("excluded", ErrNotFound)
	}
	allowed := p.StaffID == meta.Owner && p.Has(staff.RoleCaseworker) && p.InTeam(meta.Team)
	if !allowed && p.Has(staff.RoleResponder) {
		state, owner, err := s.st.OpenAlertClaim(ctx, id)
		if err != nil {
			return Revealed{}, err
		}
		allowed = (state == "acknowledged" || state == "working") && owner == p.StaffID
	}
	if !allowed && !p.InTeam(meta.Team) {
		// Another team's case answers as a missing one (docs/roles.md).
		return refuse("other team", ErrNotFound)
	}
	if !allowed {
		return refuse("no claim", ErrNotAllowed)
	}
	if p.AuthAt.IsZero() || s.now().Sub(p.AuthAt) > RevealReauth {
		return refuse("sign-in too old", ErrReauth)
	}
	c, err := s.st.LoadCase(ctx, id)
	if err != nil {
		return Revealed{}, err
	}
	// A reveal that cannot be recorded does not happen.
	if err := s.st.AppendAudit(ctx, AuditEntry{At: s.now(), Actor: p.StaffID, Action: "case.reveal",
		CaseID: id, Reason: why, Outcome: "ok"}); err != nil {
		return Revealed{}, err
	}
	return Revealed{Phone: c.Phone, SafetyNotes: c.SafetyNotes}, nil
}

// auditID keeps a malformed id from the path out of the audit trail.
func auditID(id string) string {
	if ValidCaseID(id) {
		return id
	}
	return "(malformed)"
}

// --- app enrolment ---------------------------------------------------------

// enrolAlphabet has no 0/O, 1/I/L: codes are read aloud and typed on a phone.
const enrolAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// EnrolmentCodeLen is the length of an app enrolment code.
const EnrolmentCodeLen = 8

// IssueEnrolment records the tech-safety check and returns a single-use
// app enrolment code valid for 15 minutes.
func (s *Cases) IssueEnrolment(ctx context.Context, p *staff.Principal, id string, in TechSafetyInput) (Enrolment, error) {
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return Enrolment{}, err
	}
	if msg := checkText(in.Notes, maxNotes, false); msg != "" {
		return Enrolment{}, problem.Invalidf("tech_safety_check.notes", msg)
	}
	now := s.now()
	check := TechSafetyCheck{OthersHaveAccess: in.OthersHaveAccess, Notes: pii.NewText(strings.TrimSpace(in.Notes)),
		RecordedAt: now, RecordedBy: p.StaffID}
	e := Enrolment{Code: newEnrolmentCode(), ExpiresAt: now.Add(EnrolmentCodeLifetime)}
	if err := s.st.IssueEnrolment(ctx, id, e.Code, check, e.ExpiresAt); err != nil {
		return Enrolment{}, err
	}
	s.audit(ctx, p, "case.enrolment", id, fmt.Sprintf("ok: others_have_access=%t", in.OthersHaveAccess), pii.Text{})
	return e, nil
}

// newEnrolmentCode draws EnrolmentCodeLen symbols uniformly from
// enrolAlphabet (31 symbols, about 40 bits in all: enough for a code that
// lives 15 minutes and is used once).
func newEnrolmentCode() string {
	const limit = 256 - 256%len(enrolAlphabet) // reject the top values to stay uniform
	out := make([]byte, 0, EnrolmentCodeLen)
	var buf [16]byte
	for len(out) < EnrolmentCodeLen {
		rand.Read(buf[:]) // never fails (Go 1.24+)
		for _, b := range buf {
			if int(b) < limit && len(out) < EnrolmentCodeLen {
				out = append(out, enrolAlphabet[int(b)%len(enrolAlphabet)])
			}
		}
	}
	return string(out)
}

// NormalizeEnrolmentCode upper-cases a typed code and drops spaces and
// dashes; it returns "" for anything that cannot be a code.
func NormalizeEnrolmentCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
		case r < utf8.RuneSelf && strings.IndexByte(enrolAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != EnrolmentCodeLen {
		return ""
	}
	return b.String()
}

// Enrol redeems an app enrolment code for a device token (256 bits) and
// device id. A wrong, expired or already used code is ErrNotFound, the same
// for all three, and changes nothing.
func (s *Cases) Enrol(ctx context.Context, code string) (token, deviceID string, err error) {
	code = NormalizeEnrolmentCode(code)
	if code == "" {
		return "", "", ErrNotFound
	}
	// The app listener serves both: drawn so that they can spell no word
	// that gives the app away (randid.Neutral*).
	token, deviceID = randid.NeutralToken(32), randid.NeutralID("d_", 12)
	caseID, err := s.st.RedeemEnrolment(ctx, code, token, deviceID)
	if err != nil {
		return "", "", err
	}
	s.auditAs(ctx, ActorApp, "device.enrol", caseID, "ok: "+deviceID, pii.Text{})
	return token, deviceID, nil
}

// RevokeDevice removes one of the case's app devices; its token stops working at once.
func (s *Cases) RevokeDevice(ctx context.Context, p *staff.Principal, id, deviceID string) error {
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return err
	}
	if !ValidDeviceID(deviceID) {
		return ErrNotFound
	}
	if err := s.st.RevokeDevice(ctx, id, deviceID); err != nil {
		return err
	}
	s.audit(ctx, p, "device.revoke", id, "ok: "+deviceID, pii.Text{})
	return nil
}

// ForgetDevice is the app's "forget this phone", after its real PIN: the
// device's token stops working at once, and the case screen shows that the
// phone removed it.
func (s *Cases) ForgetDevice(ctx context.Context, caseID, deviceID string) error {
	if !ValidDeviceID(deviceID) {
		return ErrNotFound
	}
	if err := s.st.ForgetDevice(ctx, caseID, deviceID); err != nil {
		return err
	}
	s.auditAs(ctx, ActorApp, "device.forget", caseID, "ok: "+deviceID, pii.Text{})
	return nil
}

// --- intake (no principal: the survivor's own signals) ---------------------

// Load returns the case with every field and its expiry decided. It makes
// no access check: it is for the intake and for callers that checked.
func (s *Cases) Load(ctx context.Context, id string) (*Case, error) {
	if !ValidCaseID(id) {
		return nil, ErrNotFound
	}
	c, err := s.st.LoadCase(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.decideExpiry(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadMeta is Load without the sealed fields: team, risk, owner, excluded
// staff, flags, timestamps and the PIN hashes, with expiry decided. It
// unwraps no data key, so the app's hot path (a PIN check and routing) stays
// one round trip cheaper. Alias, phone, words and notes are left zero.
func (s *Cases) LoadMeta(ctx context.Context, id string) (*Case, error) {
	if !ValidCaseID(id) {
		return nil, ErrNotFound
	}
	c, err := s.st.LoadCaseMeta(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.decideExpiry(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// CasesByPhone returns every case enrolled with phone (two at most, linked),
// each with its expiry decided: an expired case still resolves, so its
// signals raise alerts flagged "expired case". A phone on no case, or on an
// erased one, gives an empty list and no error.
func (s *Cases) CasesByPhone(ctx context.Context, phone pii.Phone) ([]*Case, error) {
	if phone.IsZero() {
		return nil, nil
	}
	cs, _, err := s.st.CasesByPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if err := s.decideExpiry(ctx, c); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// DeviceByToken resolves an app's bearer token to its case and device and
// records the use (which keeps the case alive). Unknown or revoked tokens
// are ErrNotFound.
func (s *Cases) DeviceByToken(ctx context.Context, token string) (caseID, deviceID string, err error) {
	if token == "" || len(token) > 128 {
		return "", "", ErrNotFound
	}
	return s.st.DeviceByToken(ctx, token)
}

// LookupDevice resolves an app's bearer token to its case and device and
// records nothing: a request refused afterwards must leave no trace.
// TouchDevice records the use once the request has succeeded; due says
// whether a use would be recorded now.
func (s *Cases) LookupDevice(ctx context.Context, token string) (caseID, deviceID string, due bool, err error) {
	if token == "" || len(token) > 128 {
		return "", "", false, ErrNotFound
	}
	caseID, deviceID, last, err := s.st.LookupDevice(ctx, token)
	if err != nil {
		return "", "", false, err
	}
	return caseID, deviceID, s.now().Sub(last) >= DeviceTouchEvery, nil
}

// TouchDevice records a use of the device (which keeps the case alive).
func (s *Cases) TouchDevice(ctx context.Context, token string) error {
	return s.st.TouchDevice(ctx, token)
}

// DeviceTouchEvery limits writes of a device's last use: the liveness rule
// needs days, not milliseconds, and the app API should cost one round
// trip that rarely writes.
const DeviceTouchEvery = time.Minute

// CheckPIN compares pin with the case's real and duress PINs, always both,
// in the same time whichever matches.
func (s *Cases) CheckPIN(c *Case, pin string) (isReal, isDuress bool) {
	return s.pins.Check(c.ID, pin, c.PINHash, c.DuressPINHash)
}

// Matcher compiles the case's words, with the deployment's check-in word,
// for matching an SMS.
func (s *Cases) Matcher(c *Case) (*codeword.Matcher, error) {
	return codeword.Compile(codeword.Words{Code: c.CodeWords, Duress: c.DuressWords, CheckIn: s.checkin})
}

// FlagReview flags the case for a caseworker's review (repeated
// suspected-third-party or accidental outcomes); it never lowers anything.
func (s *Cases) FlagReview(ctx context.Context, id string) error {
	if err := s.st.SetCaseFlag(ctx, id, "review", true); err != nil {
		return err
	}
	s.auditAs(ctx, ActorSystem, "case.review", id, "ok", pii.Text{})
	return nil
}

// SetSMSBlocked records that the survivor's network refuses texts from us
// (they sent an opt-out keyword), or that it no longer does.
func (s *Cases) SetSMSBlocked(ctx context.Context, id string, blocked bool) error {
	if err := s.st.SetCaseFlag(ctx, id, "sms_blocked", blocked); err != nil {
		return err
	}
	s.auditAs(ctx, ActorSystem, "case.sms_blocked", id, fmt.Sprintf("ok: blocked=%t", blocked), pii.Text{})
	return nil
}

// ExpiringCases lists cases that expire within the given time from now (and
// those already expired) and that nothing keeps alive, for warning owners
// 14 days ahead (ExpiryWarning). Cases on legal hold are left out: they do
// not expire.
func (s *Cases) ExpiringCases(ctx context.Context, within time.Duration) ([]ExpiringCase, error) {
	now := s.now()
	ids, err := s.st.ExpiringCaseIDs(ctx, now.Add(within))
	if err != nil {
		return nil, err
	}
	var out []ExpiringCase
	for _, id := range ids {
		c, err := s.st.LoadCaseMeta(ctx, id)
		if errors.Is(err, problem.ErrNotFound) {
			continue // erased meanwhile
		}
		if err != nil {
			return nil, err
		}
		if c.LegalHold {
			continue
		}
		act, err := s.st.CaseActivity(ctx, id)
		if err != nil {
			return nil, err
		}
		if c.exempt(now, act) {
			continue
		}
		out = append(out, ExpiringCase{ID: id, Team: c.Team, Owner: c.Owner, ExpiresAt: c.ExpiresAt, Expired: !now.Before(c.ExpiresAt)})
	}
	return out, nil
}

func (s *Cases) decideExpiry(ctx context.Context, c *Case) error {
	now := s.now()
	if now.Before(c.ExpiresAt) || c.LegalHold {
		c.Expired = false
		return nil
	}
	act, err := s.st.CaseActivity(ctx, c.ID)
	if err != nil {
		return err
	}
	c.Expired = c.ExpiredAt(now, act)
	return nil
}
