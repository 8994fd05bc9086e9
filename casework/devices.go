package casework

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"unicode/utf8"

	"waymark/audit"
	"waymark/internal/randid"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

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
	if msg := CheckText(in.Notes, maxNotes, false); msg != "" {
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
	s.auditAs(ctx, audit.ActorApp, "device.enrol", caseID, "ok: "+deviceID, pii.Text{})
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
	s.auditAs(ctx, audit.ActorApp, "device.forget", caseID, "ok: "+deviceID, pii.Text{})
	return nil
}
