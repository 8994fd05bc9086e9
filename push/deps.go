package push

import (
	"context"
	"encoding/json"
	"time"

	"waymark/alert"
	"waymark/staff"
)

// Stream is the events stream as the hub reads it. Package store
// implements it.
type Stream interface {
	// Tail waits up to block for events after the id after and returns at
	// most count of them, oldest first; none when block passes quietly.
	Tail(ctx context.Context, after string, block time.Duration, count int) ([]alert.Event, error)
	// Range returns at most count events after the id after, oldest first,
	// without waiting.
	Range(ctx context.Context, after string, count int) ([]alert.Event, error)
	// Bounds returns the id of the newest event ("0-0" when there is none)
	// and the newest id ever removed from the stream by trimming or
	// deletion ("0-0" when nothing was): a client whose since is older
	// than that may have missed events that can no longer be replayed.
	Bounds(ctx context.Context) (last, removed string, err error)
}

// Auth turns a WebSocket ticket into the principal of the session that
// asked for it, and re-checks that session while the socket is open.
type Auth interface {
	// Redeem consumes a ticket (single use) and returns the principal and
	// when its session ends. A used, expired or unknown ticket, or a
	// disabled account, is an error wrapping problem.ErrUnauthorized;
	// Redis being away wraps problem.ErrUnavailable.
	Redeem(ctx context.Context, ticket string) (*staff.Principal, time.Time, error)
	// Check re-reads the session behind p: its current end, or an error
	// wrapping problem.ErrUnauthorized once it has ended.
	Check(ctx context.Context, p *staff.Principal) (time.Time, error)
}

// Access says who must never see a case (a conflict of interest).
type Access interface {
	// Excluded returns, for each case id asked about, the staff ids
	// excluded from it; a case with no exclusions may be missing from the
	// map.
	Excluded(ctx context.Context, caseIDs []string) (map[string][]string, error)
}

// Snapshot lists the open alerts p may see, as JSON for the client.
type Snapshot interface {
	OpenAlerts(ctx context.Context, p *staff.Principal) (json.RawMessage, error)
}

// Receipt is a responder's confirmation that an alert was shown.
type Receipt struct {
	Alert string
	Event string
	Staff string
	Teams []string
	At    time.Time
	// Sent says an event of the alert was sent on the responder's own
	// socket lately: the alert exists and is on one of their teams, so
	// the store need not check. A receipt for anything else is checked.
	Sent bool
}

// Receipts stores receipts; the first one per (alert, responder) counts.
type Receipts interface {
	SaveReceipts(ctx context.Context, rs []Receipt) error
}

// Presence is one connection of a staff member, as seen by one team.
type Presence struct {
	Team  string
	Staff string
	// Conn tells apart several sockets of the same person.
	Conn string
	Duty bool
}

// PresenceStore keeps who is connected and on duty, per team.
type PresenceStore interface {
	// SetPresence records entries as present until until.
	SetPresence(ctx context.Context, ps []Presence, until time.Time) error
	// ClearPresence removes entries.
	ClearPresence(ctx context.Context, ps []Presence) error
}

// Revocations announces ended sessions to every instance.
type Revocations interface {
	// Revoked calls fn with each announcement (a session tag or a staff
	// id) until ctx ends, reconnecting as needed.
	Revoked(ctx context.Context, fn func(string)) error
}
