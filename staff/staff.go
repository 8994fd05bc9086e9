// Package staff is the domain of Waymark's staff: accounts, roles, team
// memberships, passwords, second factors and sessions. It holds types and
// rules and declares the Store it needs; package store implements it.
package staff

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"waymark/pii"
	"waymark/problem"
)

// Sentinel errors of the staff domain.
var (
	ErrNotFound     = fmt.Errorf("staff: %w", problem.ErrNotFound)
	ErrUnauthorized = fmt.Errorf("staff: %w", problem.ErrUnauthorized)
	ErrForbidden    = fmt.Errorf("staff: %w", problem.ErrForbidden)
	ErrConflict     = fmt.Errorf("staff: %w", problem.ErrConflict)
)

// Role is what a staff member may do (DESIGN.md, Roles).
type Role string

// Roles.
const (
	RoleAdmin      Role = "admin"
	RoleCaseworker Role = "caseworker"
	RoleResponder  Role = "responder"
	RoleHelpline   Role = "helpline"
	// RoleCoordinator manages the rotas, escalation policies and staff
	// accounts of their own teams (coordinator.go).
	RoleCoordinator Role = "coordinator"
	// RoleRefuge updates the vacancies of the one refuge its account is
	// linked to (server/refuge.go), and nothing else.
	RoleRefuge Role = "refuge"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleCaseworker || r == RoleResponder || r == RoleHelpline || r == RoleCoordinator || r == RoleRefuge
}

// Principal is the signed-in staff member behind a request, as the HTTP
// layer hands it to the domain.
type Principal struct {
	StaffID     string
	Username    string
	DisplayName string
	Roles       []Role
	Teams       []string
	// SessionTag identifies the session (a tag of its token, never the token).
	SessionTag string
	// AuthAt is when the password and second factor were last checked in
	// this session: a reveal needs it within the last five minutes.
	AuthAt time.Time
}

// Has reports whether p holds role r.
func (p *Principal) Has(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// AuthWithin reports whether p signed in (or re-authenticated) within d
// before now; a reveal asks for AuthWithin(now, ReauthWindow).
func (p *Principal) AuthWithin(now time.Time, d time.Duration) bool {
	return p != nil && !p.AuthAt.IsZero() && !now.Before(p.AuthAt) && now.Sub(p.AuthAt) <= d
}

// InTeam reports whether p belongs to team.
func (p *Principal) InTeam(team string) bool { return p != nil && slices.Contains(p.Teams, team) }

// Account is a staff account as stored. Username, display name and phone
// are personal data: the store seals them. The credential fields are
// Secrets, which redact themselves wherever they are printed or logged.
type Account struct {
	ID          string
	Username    string // lower case, as typed at sign-in
	DisplayName string
	Roles       []Role
	Teams       []string
	// Phone is where pages go; zero when the account has none.
	Phone    pii.Phone
	Disabled bool
	Created  time.Time

	// PasswordHash is an argon2id PHC string; empty until set up.
	PasswordHash Secret
	// TOTPSecret is the enrolled second factor (base32); empty until the
	// setup is confirmed. TOTPPending is a secret offered during setup and
	// not yet confirmed.
	TOTPSecret  Secret
	TOTPPending Secret
	// TOTPStep is the last 30-second step whose code was accepted: a code
	// is good once.
	TOTPStep int64
}

// Active reports whether the account can sign in: it has a password and a
// confirmed second factor and is not disabled.
func (a *Account) Active() bool {
	return a != nil && !a.Disabled && a.PasswordHash != "" && a.TOTPSecret != ""
}

// Status is "active", "setup pending" or "disabled", for listings.
func (a *Account) Status() string {
	switch {
	case a.Disabled:
		return "disabled"
	case a.Active():
		return "active"
	default:
		return "setup pending"
	}
}

// principal is the Principal of a's session with tag and auth time.
func (a *Account) principal(tag string, authAt time.Time) *Principal {
	return &Principal{
		StaffID:     a.ID,
		Username:    a.Username,
		DisplayName: a.DisplayName,
		Roles:       slices.Clone(a.Roles),
		Teams:       slices.Clone(a.Teams),
		SessionTag:  tag,
		AuthAt:      authAt,
	}
}

// Secret is a credential (a password hash, a TOTP secret, a session token).
// It prints, logs and marshals as "[redacted]"; Reveal is the only way out.
type Secret string

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return pii.Redacted }

// GoString returns "[redacted]", for %#v.
func (s Secret) GoString() string { return pii.Redacted }

// Format prints "[redacted]" for every verb.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, pii.Redacted) }

// LogValue keeps the secret out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(pii.Redacted) }

// MarshalJSON writes "[redacted]": answers carry secrets only through an
// explicit Reveal.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(pii.Redacted) }

// Session is a signed-in session as stored, by the tag of its token.
type Session struct {
	Tag     string
	StaffID string
	// Created starts the absolute lifetime; Seen the idle timeout.
	Created time.Time
	Seen    time.Time
	// AuthAt is when the password and second factor were last checked.
	AuthAt time.Time
}
