package casework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"waymark/audit"
	"waymark/codeword"
	"waymark/pii"
	"waymark/problem"
)

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
	if err := s.DecideExpiry(ctx, c); err != nil {
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
		if err := s.DecideExpiry(ctx, c); err != nil {
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
	s.auditAs(ctx, audit.ActorSystem, "case.review", id, "ok", pii.Text{})
	return nil
}

// SetSMSBlocked records that the survivor's network refuses texts from us
// (they sent an opt-out keyword), or that it no longer does.
func (s *Cases) SetSMSBlocked(ctx context.Context, id string, blocked bool) error {
	if err := s.st.SetCaseFlag(ctx, id, "sms_blocked", blocked); err != nil {
		return err
	}
	s.auditAs(ctx, audit.ActorSystem, "case.sms_blocked", id, fmt.Sprintf("ok: blocked=%t", blocked), pii.Text{})
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

func (s *Cases) DecideExpiry(ctx context.Context, c *Case) error {
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
