package contact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"waymark/alert"
	"waymark/audit"
	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// Alerts is what contact needs of the alert service.
type Alerts interface {
	// Get is the alert as p may see it, with its verdict at this moment.
	Get(ctx context.Context, p *staff.Principal, id string) (*alert.View, error)
	// Contacted puts the contact on the timeline as the owner's progress.
	Contacted(ctx context.Context, p *staff.Principal, id string, how alert.EntryType) error
}

// Cases finds the survivor's phone, which goes to Twilio only, never to
// the responder's screen (casework.Cases).
type Cases interface {
	ContactPhone(ctx context.Context, caseID string) (pii.Phone, error)
}

// People finds a member of staff, whose own phone Waymark rings.
type People interface {
	Person(ctx context.Context, ref string) (oncall.Person, error)
}

// Dialer places the call and sends the text (package sms's Sender).
type Dialer interface {
	// CallThrough rings responder from the page number and connects
	// them to survivor from the survivor-facing number.
	CallThrough(ctx context.Context, responder, survivor pii.Phone) (string, error)
	// TextSurvivor texts body from the survivor-facing number, checking
	// the verdict and channels again.
	TextSurvivor(ctx context.Context, to pii.Phone, v casework.Verdict, ch casework.Channels, body pii.Text) (string, error)
}

// Auditor appends to the audit trail.
type Auditor interface {
	AppendAudit(ctx context.Context, e audit.AuditEntry) error
}

// The audit actions of contact through Waymark.
const (
	ActionCall = "alert.call"
	ActionText = "alert.text"
)

// Deps is what a Service works with.
type Deps struct {
	Alerts Alerts
	Cases  Cases
	People People
	Dialer Dialer
	Audit  Auditor
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger nil discards.
	Logger *slog.Logger
}

// Service rings and texts survivors through Waymark.
type Service struct {
	alerts Alerts
	cases  Cases
	people People
	dialer Dialer
	audit  Auditor
	now    func() time.Time
	log    *slog.Logger
}

// NewService returns a Service over d.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{alerts: d.Alerts, cases: d.Cases, people: d.People, dialer: d.Dialer, audit: d.Audit, now: d.Now, log: d.Logger}
}

// Call rings p's own phone and connects them to the survivor of alert id,
// if p holds the alert's claim and the verdict now is SAFE TO CALL. It
// returns Twilio's id for the call.
func (s *Service) Call(ctx context.Context, p *staff.Principal, id string) (string, error) {
	v, err := s.check(ctx, p, id, ActionCall, casework.SafeToCall)
	if err != nil {
		return "", err
	}
	me, err := s.people.Person(ctx, p.StaffID)
	if err != nil {
		return "", err
	}
	mine := me.Phone
	if mine.IsZero() {
		s.record(ctx, p, ActionCall, v, "refused: no staff phone")
		return "", errNoStaffPhone
	}
	theirs, err := s.cases.ContactPhone(ctx, v.Alert.CaseID)
	if err != nil {
		return "", err
	}
	// A contact that cannot be recorded does not happen.
	if err := s.audit.AppendAudit(ctx, s.entry(p, ActionCall, v, "ok: verdict "+string(v.Verdict.Code))); err != nil {
		return "", err
	}
	sid, err := s.dialer.CallThrough(ctx, mine, theirs)
	if err != nil {
		s.record(ctx, p, ActionCall, v, "failed: twilio")
		return "", fmt.Errorf("contact: call on alert %s: %w", id, err)
	}
	s.timeline(ctx, p, id, alert.EntryCalled)
	return sid, nil
}

// Text sends the case's agreed wording to the survivor of alert id from
// the survivor-facing number, if p holds the alert's claim and the
// verdict now allows a text. It returns Twilio's id for the message.
func (s *Service) Text(ctx context.Context, p *staff.Principal, id string) (string, error) {
	v, err := s.check(ctx, p, id, ActionText, casework.TextOnly)
	if err != nil {
		return "", err
	}
	body := v.Case.Contact.OpeningLine
	if body.IsZero() {
		s.record(ctx, p, ActionText, v, "refused: no agreed wording")
		return "", errNoWording
	}
	theirs, err := s.cases.ContactPhone(ctx, v.Alert.CaseID)
	if err != nil {
		return "", err
	}
	if err := s.audit.AppendAudit(ctx, s.entry(p, ActionText, v, "ok: verdict "+string(v.Verdict.Code))); err != nil {
		return "", err
	}
	sid, err := s.dialer.TextSurvivor(ctx, theirs, v.Verdict, v.Case.Contact.Channels, body)
	if err != nil {
		s.record(ctx, p, ActionText, v, "failed: twilio")
		return "", fmt.Errorf("contact: text on alert %s: %w", id, err)
	}
	s.timeline(ctx, p, id, alert.EntryTexted)
	return sid, nil
}

// check loads the alert as p sees it and refuses, audited, anyone but its
// owner and any verdict that does not allow want (SAFE TO CALL for a call;
// TEXT ONLY or SAFE TO CALL with texts allowed for a text).
func (s *Service) check(ctx context.Context, p *staff.Principal, id, action string, want casework.VerdictCode) (*alert.View, error) {
	if p == nil || !p.Has(staff.RoleResponder) {
		return nil, casework.ErrNotFound
	}
	v, err := s.alerts.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !v.Alert.State.Live() {
		return nil, alert.ErrClosed
	}
	if v.Alert.Owner != p.StaffID {
		s.record(ctx, p, action, v, "refused: not the owner")
		return nil, alert.ErrNotOwner
	}
	if r := Refusal(v, want); r != nil {
		s.record(ctx, p, action, v, "refused: verdict "+string(v.Verdict.Code))
		return nil, r
	}
	return v, nil
}

// Refusal is why contact of kind want (casework.SafeToCall for a call,
// casework.TextOnly for a text) is not allowed on v now, with what to do
// instead; nil when it is allowed.
func Refusal(v *alert.View, want casework.VerdictCode) *problem.Refused {
	code := v.Verdict.Code
	located := len(v.Alert.Trail) > 0
	switch {
	case v.Alert.Duress():
		return &problem.Refused{Detail: "Do not contact: duress signal, someone may be watching their phone. " + dangerStep(located)}
	case v.Case == nil:
		return &problem.Refused{Detail: "Do not contact: this alert is on no case, so nothing is agreed for contact. " + dangerStep(located)}
	case code == casework.DoNotContact:
		return &problem.Refused{Detail: "Do not contact: " + v.Verdict.Reason + ". " + dangerStep(located)}
	case want == casework.SafeToCall && code != casework.SafeToCall:
		return &problem.Refused{Detail: "Do not ring them: calls are not safe now (text only). Send the agreed text instead."}
	case want == casework.TextOnly && !v.Case.Contact.Channels.SMS:
		return &problem.Refused{Detail: "Do not text them: texts are not agreed for this case. Ring them through Waymark instead."}
	}
	return nil
}

// dangerStep is what to do when contact is not allowed.
func dangerStep(located bool) string {
	if located {
		return "If they are in danger, call 999 and give the location."
	}
	return "If they may be in danger now, call 999 with what you know; otherwise follow the response plan."
}

var (
	errNoStaffPhone = &problem.Refused{Detail: "Your account has no phone number for Waymark to ring. Ask a coordinator to add it, or send the agreed text if it is allowed."}
	errNoWording    = &problem.Refused{Detail: "No agreed wording is recorded for this case, and Waymark sends only the agreed text. Ask the caseworker to record an opening line, or follow the response plan."}
)

func (s *Service) entry(p *staff.Principal, action string, v *alert.View, outcome string) audit.AuditEntry {
	return audit.AuditEntry{At: s.now(), Actor: p.StaffID, Action: action, CaseID: v.Alert.CaseID, AlertID: v.Alert.ID, Outcome: outcome}
}

// record appends a refusal or failure to the audit trail. The refusal
// stands whether or not it is recorded; a failure to record is logged.
func (s *Service) record(ctx context.Context, p *staff.Principal, action string, v *alert.View, outcome string) {
	if err := s.audit.AppendAudit(ctx, s.entry(p, action, v, outcome)); err != nil {
		s.log.Error("audit append failed", "action", action, "alert", v.Alert.ID, "err", err)
	}
}

// timeline records a contact that has been made. The call is already
// ringing (or the text sent) and audited, so a failure to add the line
// is logged rather than reported as a failed contact.
func (s *Service) timeline(ctx context.Context, p *staff.Principal, id string, how alert.EntryType) {
	if err := s.alerts.Contacted(ctx, p, id, how); err != nil {
		level := slog.LevelError
		if errors.Is(err, problem.ErrConflict) {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "contact made but not on the timeline", "alert", id, "type", string(how), "err", err)
	}
}
