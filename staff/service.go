package staff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"waymark/internal/randid"
	"waymark/pii"
	"waymark/problem"
)

// Lifetimes of the one-time things this package hands out.
const (
	// SetupLinkLifetime is how long a setup link from `waymark staff add`
	// works.
	SetupLinkLifetime = 24 * time.Hour
	// TicketLifetime is how long a WebSocket ticket works (once).
	TicketLifetime = 30 * time.Second
	// ReauthWindow is how recent a sign-in a reveal needs.
	ReauthWindow = 5 * time.Minute
	// DefaultSessionLifetime is one shift; DefaultSessionIdle the idle
	// timeout. Configuration overrides both.
	DefaultSessionLifetime = 12 * time.Hour
	DefaultSessionIdle     = time.Hour
	// touchEvery limits last-seen writes to one per session per this long:
	// the idle timeout is exact to within it.
	touchEvery = 10 * time.Second
	// tokenBytes is the size of session, setup and ticket secrets.
	tokenBytes = 32
)

// Store is what the staff service keeps in Redis; package store implements
// it. Lookups that find nothing return an error wrapping ErrNotFound. Tokens
// are passed in the clear and stored only as keyed tags.
type Store interface {
	// CreateStaff stores a new account; ErrConflict when its username is
	// taken.
	CreateStaff(ctx context.Context, a *Account) error
	StaffByID(ctx context.Context, id string) (*Account, error)
	StaffByUsername(ctx context.Context, username string) (*Account, error)
	// StaffByPhone finds the account whose page phone is p, through the
	// blind index.
	StaffByPhone(ctx context.Context, p pii.Phone) (*Account, error)
	ListStaff(ctx context.Context) ([]*Account, error)
	SetPassword(ctx context.Context, id string, hash Secret) error
	SetPendingTOTP(ctx context.Context, id string, secret Secret) error
	// EnrolTOTP makes secret the account's second factor, drops any
	// pending one and records step as used.
	EnrolTOTP(ctx context.Context, id string, secret Secret, step int64) error
	// UseTOTPStep records step as the account's last used TOTP step if it
	// is later than the one recorded, atomically; false means the code
	// (or an earlier one) was already used.
	UseTOTPStep(ctx context.Context, id string, step int64) (bool, error)
	// DisableStaff marks the account disabled and ends its sessions,
	// announcing each on the revocation channel.
	DisableStaff(ctx context.Context, id string) error
	// UpdateStaffAccess sets roles and teams (nil keeps them) and, with
	// enable, lifts a disabling; it ends the account's sessions.
	UpdateStaffAccess(ctx context.Context, id string, roles []Role, teams []string, enable bool) error

	PutSetupToken(ctx context.Context, token Secret, staffID string, expires time.Time) error
	SetupToken(ctx context.Context, token Secret) (staffID string, expires time.Time, err error)
	DeleteSetupToken(ctx context.Context, token Secret) error

	// SessionTag is the keyed tag a session token is stored under.
	SessionTag(token Secret) string
	// CreateSession stores s; Redis drops it after keep at the latest.
	CreateSession(ctx context.Context, s Session, keep time.Duration) error
	Session(ctx context.Context, tag string) (Session, error)
	TouchSession(ctx context.Context, tag string, seen time.Time) error
	SetSessionAuthAt(ctx context.Context, tag string, at time.Time) error
	// EndSession deletes the session and announces its tag on the
	// revocation channel.
	EndSession(ctx context.Context, staffID, tag string) error

	PutTicket(ctx context.Context, ticket Secret, staffID, sessionTag string, expires time.Time) error

	// Throttle checks every subject against p at now and, when none must
	// wait, counts this attempt against each, atomically. It returns the
	// longest wait (0: go ahead).
	Throttle(ctx context.Context, p ThrottlePolicy, now time.Time, subjects ...ThrottleSubject) (time.Duration, error)
	// ClearThrottle forgets a subject's failures; ForgiveAttempt takes one
	// attempt back.
	ClearThrottle(ctx context.Context, s ThrottleSubject) error
	ForgiveAttempt(ctx context.Context, s ThrottleSubject) error
	// SignInDevice returns the username a sign-in device cookie vouches
	// for ("" if none); TrustSignInDevice makes it vouch for username for
	// ttl from now.
	SignInDevice(ctx context.Context, token string) (string, error)
	TrustSignInDevice(ctx context.Context, token, username string, ttl time.Duration) error

	// CreateTeam stores a new team; ErrConflict when the id is taken.
	CreateTeam(ctx context.Context, t Team) error
	Team(ctx context.Context, id string) (Team, error)
	Teams(ctx context.Context) ([]Team, error)
}

// Options configure a Service.
type Options struct {
	Store Store
	// Now is the clock every expiry is decided against; nil is time.Now.
	Now func() time.Time
	// SessionLifetime and SessionIdle bound sessions; zero takes the
	// defaults (12 h, 1 h).
	SessionLifetime time.Duration
	SessionIdle     time.Duration
	// Argon2 is the password hashing cost; zero is DefaultParams. Anything
	// weaker is refused, except Cheap parameters in a test.
	Argon2 Params
	// Throttle is the sign-in throttling policy; zero is DefaultThrottle.
	Throttle ThrottlePolicy
	// Districts validates team areas (a *postcode.Directory).
	Districts Districts
	// Issuer names the service in authenticator apps; "" is "Waymark".
	Issuer string
	Logger *slog.Logger
}

// Service manages staff accounts, teams, sign-in and sessions. It is safe
// for concurrent use.
type Service struct {
	store     Store
	now       func() time.Time
	lifetime  time.Duration
	idle      time.Duration
	params    Params
	throttle  ThrottlePolicy
	districts Districts
	issuer    string
	log       *slog.Logger
	// dummy is a hash of a random password under params: unknown
	// usernames are checked against it, so they cost what known ones do.
	dummy string
}

// NewService checks o and returns a Service.
func NewService(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("staff: no store")
	}
	if o.Districts == nil {
		return nil, errors.New("staff: no postcode districts to check team areas against")
	}
	s := &Service{
		store: o.Store, now: o.Now, lifetime: o.SessionLifetime, idle: o.SessionIdle,
		params: o.Argon2, throttle: o.Throttle, districts: o.Districts, issuer: o.Issuer, log: o.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultSessionLifetime
	}
	if s.idle == 0 {
		s.idle = DefaultSessionIdle
	}
	if s.lifetime < 0 || s.idle < 0 || s.idle > s.lifetime {
		return nil, errors.New("staff: session idle timeout must be positive and at most the lifetime")
	}
	if s.params == (Params{}) {
		s.params = DefaultParams()
	}
	if err := s.params.check(); err != nil {
		return nil, err
	}
	if s.throttle == (ThrottlePolicy{}) {
		s.throttle = DefaultThrottle()
	}
	if s.throttle.Base <= 0 || s.throttle.Cap < s.throttle.Base || s.throttle.Window < s.throttle.Cap {
		return nil, errors.New("staff: throttle policy needs 0 < base <= cap <= window")
	}
	if s.issuer == "" {
		s.issuer = "Waymark"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.dummy = HashPassword(randid.Token(24), s.params)
	return s, nil
}

// SessionLifetime is the absolute lifetime of a session.
func (s *Service) SessionLifetime() time.Duration { return s.lifetime }

// NewAccount is what an administrator gives to create an account.
type NewAccount struct {
	Username    string
	DisplayName string
	Roles       []Role
	Teams       []string
	Phone       pii.Phone
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{2,63}$`)

// NormalizeUsername is how usernames are compared: trimmed, lower case.
func NormalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// check validates n into a new Account (no credentials yet).
func (s *Service) check(ctx context.Context, n NewAccount) (*Account, error) {
	inv := &problem.Invalid{}
	a := &Account{ID: randid.New("s_", 20), Username: NormalizeUsername(n.Username), Phone: n.Phone, Created: s.now()}
	if !usernamePattern.MatchString(a.Username) {
		inv.Add("username", "must be 3 to 64 of a-z, 0-9 and . _ @ -, starting with a letter or digit")
	}
	a.DisplayName = strings.TrimSpace(n.DisplayName)
	if a.DisplayName == "" {
		a.DisplayName = a.Username
	}
	if n := utf8.RuneCountInString(a.DisplayName); n > 80 || !utf8.ValidString(a.DisplayName) || strings.ContainsFunc(a.DisplayName, unicode.IsControl) {
		inv.Add("display_name", "must be at most 80 printable characters")
	}
	a.Roles = checkRoles(inv, n.Roles)
	teams, err := s.checkTeams(ctx, inv, n.Teams)
	if err != nil {
		return nil, err
	}
	a.Teams = teams
	if !a.Phone.IsZero() {
		if _, err := s.store.StaffByPhone(ctx, a.Phone); err == nil {
			inv.Add("phone", "is already the page phone of another account")
		} else if !errors.Is(err, problem.ErrNotFound) {
			return nil, err
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

// checkRoles checks an account's roles (at least one, all known) and
// returns them sorted without repeats.
func checkRoles(inv *problem.Invalid, roles []Role) []Role {
	if len(roles) == 0 {
		inv.Add("roles", "must name at least one role: admin, coordinator, caseworker, responder, helpline, refuge")
	}
	for _, r := range roles {
		if !r.Valid() {
			inv.Add("roles", "must be among admin, coordinator, caseworker, responder, helpline, refuge")
			break
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(roles)))
}

// checkTeams checks an account's teams (ids of teams that exist) and
// returns them sorted without repeats; an error is a failure to look.
func (s *Service) checkTeams(ctx context.Context, inv *problem.Invalid, teams []string) ([]string, error) {
	for _, t := range teams {
		if !ValidTeamID(t) {
			inv.Add("teams", "holds something that is not a team id")
			continue
		}
		if _, err := s.store.Team(ctx, t); errors.Is(err, problem.ErrNotFound) {
			inv.Add("teams", "team "+t+" does not exist; add it with `waymark team add`")
		} else if err != nil {
			return nil, err
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(teams))), nil
}

// Add creates an account to be set up by its owner through a one-time link:
// it returns the account and the link's token, good for SetupLinkLifetime.
func (s *Service) Add(ctx context.Context, n NewAccount) (*Account, Secret, error) {
	a, err := s.check(ctx, n)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateStaff(ctx, a); err != nil {
		return nil, "", err
	}
	token := Secret(randid.Token(tokenBytes))
	if err := s.store.PutSetupToken(ctx, token, a.ID, s.now().Add(SetupLinkLifetime)); err != nil {
		return nil, "", err
	}
	return a, token, nil
}

// AddWithPassword creates an account with password set and a second factor
// enrolled at once (for administrators who hand both over in person, and
// for scripts). The caller shows the enrolment to the account's owner.
func (s *Service) AddWithPassword(ctx context.Context, n NewAccount, password string) (*Account, Enrolment, error) {
	a, err := s.check(ctx, n)
	if err != nil {
		return nil, Enrolment{}, err
	}
	if err := CheckPassword(password, a.Username); err != nil {
		return nil, Enrolment{}, err
	}
	e, err := newEnrolment(s.issuer, a.Username)
	if err != nil {
		return nil, Enrolment{}, err
	}
	a.PasswordHash = Secret(HashPassword(password, s.params))
	a.TOTPSecret = e.Secret
	// Codes from before the account existed are no good.
	a.TOTPStep = totpStep(s.now()) - totpSkew - 1
	if err := s.store.CreateStaff(ctx, a); err != nil {
		return nil, Enrolment{}, err
	}
	return a, e, nil
}

// Disable disables the account of username and ends its sessions at once.
func (s *Service) Disable(ctx context.Context, username string) error {
	a, err := s.store.StaffByUsername(ctx, NormalizeUsername(username))
	if err != nil {
		return err
	}
	return s.store.DisableStaff(ctx, a.ID)
}

// AccessChange changes what an account may do. Nil Roles or Teams keep
// them; Enable lifts a disabling.
type AccessChange struct {
	Roles  []Role
	Teams  []string
	Enable bool
}

// ChangeAccess applies ch to the account of username, checked as Add
// checks a new account (known roles, at least one; existing teams). The
// account's sessions end at once, so the change applies everywhere from
// its next sign-in.
func (s *Service) ChangeAccess(ctx context.Context, username string, ch AccessChange) (*Account, error) {
	a, err := s.store.StaffByUsername(ctx, NormalizeUsername(username))
	if err != nil {
		return nil, err
	}
	inv := &problem.Invalid{}
	if ch.Roles != nil {
		ch.Roles = checkRoles(inv, ch.Roles)
	}
	if ch.Teams != nil {
		teams, err := s.checkTeams(ctx, inv, ch.Teams)
		if err != nil {
			return nil, err
		}
		// An emptied list is an empty one, not nil (which keeps them).
		ch.Teams = append([]string{}, teams...)
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	if err := s.store.UpdateStaffAccess(ctx, a.ID, ch.Roles, ch.Teams, ch.Enable); err != nil {
		return nil, err
	}
	return s.store.StaffByID(ctx, a.ID)
}

// List returns every account, by username.
func (s *Service) List(ctx context.Context) ([]*Account, error) {
	all, err := s.store.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b *Account) int { return strings.Compare(a.Username, b.Username) })
	return all, nil
}

// ByID returns the account with id.
func (s *Service) ByID(ctx context.Context, id string) (*Account, error) {
	return s.store.StaffByID(ctx, id)
}

// ByPhone returns the enabled account whose page phone is p (a responder
// answering a page by SMS); ErrNotFound when there is none.
func (s *Service) ByPhone(ctx context.Context, p pii.Phone) (*Account, error) {
	a, err := s.store.StaffByPhone(ctx, p)
	if err != nil {
		return nil, err
	}
	if a.Disabled {
		return nil, ErrNotFound
	}
	return a, nil
}

// setupAccount finds the account a live setup token belongs to. A wrong,
// expired or used token, or a disabled account, is ErrNotFound.
func (s *Service) setupAccount(ctx context.Context, token string) (*Account, error) {
	if len(token) != tokenLen {
		return nil, ErrNotFound
	}
	id, expires, err := s.store.SetupToken(ctx, Secret(token))
	if err != nil {
		return nil, err
	}
	if !s.now().Before(expires) {
		if err := s.store.DeleteSetupToken(ctx, Secret(token)); err != nil {
			return nil, err
		}
		return nil, ErrNotFound
	}
	a, err := s.store.StaffByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Disabled {
		return nil, ErrNotFound
	}
	return a, nil
}

// tokenLen is the length of a token of tokenBytes in unpadded base64url.
const tokenLen = (tokenBytes*8 + 5) / 6

// BeginSetup is the first step of the setup link: it sets the password and
// returns a new second factor to load into an authenticator app. It may be
// repeated while the link works; ConfirmSetup finishes.
func (s *Service) BeginSetup(ctx context.Context, token, password string) (Enrolment, error) {
	a, err := s.setupAccount(ctx, token)
	if err != nil {
		return Enrolment{}, err
	}
	if err := CheckPassword(password, a.Username); err != nil {
		return Enrolment{}, err
	}
	e, err := newEnrolment(s.issuer, a.Username)
	if err != nil {
		return Enrolment{}, err
	}
	if err := s.store.SetPassword(ctx, a.ID, Secret(HashPassword(password, s.params))); err != nil {
		return Enrolment{}, err
	}
	if err := s.store.SetPendingTOTP(ctx, a.ID, e.Secret); err != nil {
		return Enrolment{}, err
	}
	return e, nil
}

// SignIn is a new session: Token goes into the cookie and nowhere else.
// Device is the sign-in device cookie to keep (see ThrottlePolicy).
type SignIn struct {
	Token     Secret
	Principal *Principal
	Expires   time.Time
	Device    string
}

// ConfirmSetup finishes the setup link with a code from the authenticator
// app: the second factor is enrolled, the link is used up, and the owner is
// signed in.
func (s *Service) ConfirmSetup(ctx context.Context, token, code string) (SignIn, error) {
	a, err := s.setupAccount(ctx, token)
	if err != nil {
		return SignIn{}, err
	}
	if a.TOTPPending == "" || a.PasswordHash == "" {
		return SignIn{}, fmt.Errorf("staff: setup not begun: %w", problem.ErrConflict)
	}
	step, ok := matchTOTP(a.TOTPPending, code, s.now())
	if !ok {
		return SignIn{}, problem.Invalidf("totp", "does not match; check that the phone's clock is right and enter the current code")
	}
	if err := s.store.EnrolTOTP(ctx, a.ID, a.TOTPPending, step); err != nil {
		return SignIn{}, err
	}
	if err := s.store.DeleteSetupToken(ctx, Secret(token)); err != nil {
		return SignIn{}, err
	}
	return s.startSession(ctx, a)
}

// startSession creates a session for a, just authenticated.
func (s *Service) startSession(ctx context.Context, a *Account) (SignIn, error) {
	now := s.now().Truncate(time.Millisecond) // as stored
	token := Secret(randid.Token(tokenBytes))
	sess := Session{Tag: s.store.SessionTag(token), StaffID: a.ID, Created: now, Seen: now, AuthAt: now}
	if err := s.store.CreateSession(ctx, sess, s.lifetime+time.Minute); err != nil {
		return SignIn{}, err
	}
	return SignIn{Token: token, Principal: a.principal(sess.Tag, now), Expires: now.Add(s.lifetime)}, nil
}
