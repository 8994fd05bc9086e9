package oncall

import (
	"context"

	"waymark/pii"
	"waymark/staff"
)

// Person is a staff member as escalation sees them.
type Person struct {
	ID       string
	Username string
	// Name is the display name (personal: never logged).
	Name   string
	Roles  []staff.Role
	Teams  []string
	Active bool
	Phone  pii.Phone
}

// People looks staff up.
type People interface {
	// Person finds a staff member by staff id or username; an error
	// wrapping ErrNotFound when there is none.
	Person(ctx context.Context, ref string) (Person, error)
	// TeamPeople lists a team's members.
	TeamPeople(ctx context.Context, team string) ([]Person, error)
	// HasTeam reports whether the team exists.
	HasTeam(ctx context.Context, team string) (bool, error)
}

// Presence says who has a team's live dashboard open now: staff id → on
// duty.
type Presence interface {
	OnDashboard(ctx context.Context, team string) (map[string]bool, error)
}
