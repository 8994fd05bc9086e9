// Package staff is the domain of Waymark's staff: accounts, roles, team
// memberships, passwords, second factors and sessions. It holds types and
// rules and declares the Store it needs; package store implements it.
package staff

import (
	"fmt"
	"slices"
	"time"

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
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleCaseworker || r == RoleResponder || r == RoleHelpline
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

// InTeam reports whether p belongs to team.
func (p *Principal) InTeam(team string) bool { return p != nil && slices.Contains(p.Teams, team) }

// Service manages accounts and sessions. It is built by NewService.
type Service struct{}

// ErrInvalid marks validation failures of the staff domain; they come as a
// *problem.Invalid naming each bad field.
var ErrDisabled = fmt.Errorf("staff: account disabled: %w", problem.ErrUnauthorized)
