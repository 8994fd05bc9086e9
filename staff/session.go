package staff

import (
	"context"
	"errors"
	"time"

	"waymark/internal/randid"
	"waymark/problem"
)

// Credentials are what a sign-in or re-authentication presents. Addr is the
// client's address and Device its sign-in device cookie ("" if none), for
// throttling.
type Credentials struct {
	Username string
	Password string
	TOTP     string
	Addr     string
	Device   string
}

// Login checks credentials and starts a session. Every failure is the same
// ErrUnauthorized, taking the same time whether or not the username exists
// (an unknown one is checked against a dummy hash); an attempt that comes
// too soon after failures is a *Throttled.
func (s *Service) Login(ctx context.Context, c Credentials) (SignIn, error) {
	username := NormalizeUsername(c.Username)
	a, device, err := s.authenticate(ctx, username, c)
	if err != nil {
		return SignIn{}, err
	}
	in, err := s.startSession(ctx, a)
	in.Device = device
	return in, err
}

// Reauth checks the password and a fresh code again for p's account and
// renews the session's AuthAt (a reveal needs one within ReauthWindow). It
// is throttled like Login.
func (s *Service) Reauth(ctx context.Context, p *Principal, c Credentials) (*Principal, error) {
	a, _, err := s.authenticate(ctx, p.Username, c)
	if err != nil {
		return nil, err
	}
	if a.ID != p.StaffID {
		return nil, ErrUnauthorized
	}
	now := s.now().Truncate(time.Millisecond) // as stored
	if err := s.store.SetSessionAuthAt(ctx, p.SessionTag, now); err != nil {
		return nil, err
	}
	return a.principal(p.SessionTag, now), nil
}

// authenticate is the shared check of Login and Reauth: throttle, password
// (against the dummy hash when there is no usable account), second factor.
// On success it returns the device cookie to set: the one presented if it
// vouches for username, else a new one.
func (s *Service) authenticate(ctx context.Context, username string, c Credentials) (*Account, string, error) {
	a, known, err := s.checkCredentials(ctx, username, c)
	if err != nil {
		return nil, "", err
	}
	device := c.Device
	if !known {
		device = randid.Token(32)
	}
	if err := s.store.TrustSignInDevice(ctx, device, username, DeviceLifetime); err != nil {
		return nil, "", err
	}
	return a, device, nil
}

// throttleSubjects are what an attempt counts against: the username on a
// device that signed in to it before (known), else the username at the
// address and the address.
func (s *Service) throttleSubjects(ctx context.Context, username string, c Credentials) (subjects []ThrottleSubject, known bool, err error) {
	if c.Device != "" {
		owner, err := s.store.SignInDevice(ctx, c.Device)
		if err != nil {
			return nil, false, err
		}
		if owner != "" && owner == username {
			return []ThrottleSubject{{Kind: ThrottleDevice, Value: username + " " + c.Device, Free: s.throttle.FreeUser}}, true, nil
		}
	}
	addr := AddrSubject(c.Addr)
	return []ThrottleSubject{
		{Kind: ThrottleUser, Value: username + " " + addr, Free: s.throttle.FreeUser},
		{Kind: ThrottleAddr, Value: addr, Free: s.throttle.FreeAddr},
	}, false, nil
}

// checkCredentials throttles the attempt and checks password and code;
// known says the attempt came from a device that signed in to username
// before.
func (s *Service) checkCredentials(ctx context.Context, username string, c Credentials) (*Account, bool, error) {
	subjects, known, err := s.throttleSubjects(ctx, username, c)
	if err != nil {
		return nil, false, err
	}
	wait, err := s.store.Throttle(ctx, s.throttle, s.now(), subjects...)
	if err != nil {
		return nil, false, err
	}
	if wait > 0 {
		return nil, false, &Throttled{Wait: wait}
	}

	a, err := s.store.StaffByUsername(ctx, username)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		a = nil
	case err != nil:
		return nil, false, err
	}
	hash := s.dummy
	if a != nil && a.PasswordHash != "" {
		hash = a.PasswordHash.Reveal()
	}
	ok, err := VerifyPassword(hash, c.Password)
	if err != nil {
		// A stored hash that does not parse is a bug or tampering: log
		// the account id, answer as for a wrong password.
		id := ""
		if a != nil {
			id = a.ID
		}
		s.log.Error("stored password hash unreadable", "staff_id", id, "err", err)
		ok = false
	}
	if !ok || !a.Active() {
		return nil, false, ErrUnauthorized
	}
	step, ok := matchTOTP(a.TOTPSecret, c.TOTP, s.now())
	if !ok {
		return nil, false, ErrUnauthorized
	}
	fresh, err := s.store.UseTOTPStep(ctx, a.ID, step)
	if err != nil {
		return nil, false, err
	}
	if !fresh {
		// A replayed code (or one older than the last used) is refused.
		return nil, false, ErrUnauthorized
	}

	if err := s.store.ClearThrottle(ctx, subjects[0]); err != nil {
		return nil, false, err
	}
	if !known {
		if err := s.store.ForgiveAttempt(ctx, subjects[1]); err != nil {
			return nil, false, err
		}
	}
	if needsRehash(hash, s.params) {
		if err := s.store.SetPassword(ctx, a.ID, Secret(HashPassword(c.Password, s.params))); err != nil {
			s.log.Warn("password rehash failed", "staff_id", a.ID, "err", err)
		}
	}
	return a, known, nil
}

// Authenticate returns the Principal of the session whose token is in the
// cookie. A missing, expired or ended session, or a disabled account, is
// ErrUnauthorized. Expiry is decided here against the stored timestamps
// (Redis TTLs only clean up): the absolute lifetime from Created, the idle
// timeout from Seen.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if len(token) != tokenLen {
		return nil, ErrUnauthorized
	}
	return s.Resume(ctx, s.store.SessionTag(Secret(token)))
}

// Resume is Authenticate by session tag: the WebSocket hub holds the tag
// (from a ticket), never the token.
func (s *Service) Resume(ctx context.Context, tag string) (*Principal, error) {
	sess, err := s.store.Session(ctx, tag)
	if errors.Is(err, problem.ErrNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !now.Before(sess.Created.Add(s.lifetime)) || !now.Before(sess.Seen.Add(s.idle)) {
		return nil, s.end(ctx, sess)
	}
	a, err := s.store.StaffByID(ctx, sess.StaffID)
	if errors.Is(err, problem.ErrNotFound) || (err == nil && a.Disabled) {
		return nil, s.end(ctx, sess)
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.Seen) >= touchEvery {
		if err := s.store.TouchSession(ctx, tag, now); err != nil {
			return nil, err
		}
	}
	return a.principal(tag, sess.AuthAt), nil
}

// end deletes a session found dead and answers ErrUnauthorized.
func (s *Service) end(ctx context.Context, sess Session) error {
	if err := s.store.EndSession(ctx, sess.StaffID, sess.Tag); err != nil {
		return err
	}
	return ErrUnauthorized
}

// Logout ends p's session at once (and, through the revocation channel,
// its WebSocket connections).
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.store.EndSession(ctx, p.StaffID, p.SessionTag)
}

// IssueTicket returns a single-use WebSocket ticket for p's session, good
// for TicketLifetime. The hub redeems it with the store's ConsumeTicket and
// then Resume(sessionTag).
func (s *Service) IssueTicket(ctx context.Context, p *Principal) (Secret, time.Time, error) {
	ticket := Secret(randid.Token(tokenBytes))
	expires := s.now().Add(TicketLifetime)
	if err := s.store.PutTicket(ctx, ticket, p.StaffID, p.SessionTag, expires); err != nil {
		return "", time.Time{}, err
	}
	return ticket, expires, nil
}
