package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"waymark/alert"
	"waymark/push"
	"waymark/staff"
	"waymark/store"
)

// The live hub's dependencies: the store reads the events stream itself;
// the adapters below translate between push's small interfaces and the
// store's and staff service's types, so neither package imports the other.

var _ push.Stream = (*store.Hub)(nil)

// openAlerts lists the open alerts a principal may see (alert.Service).
type openAlerts interface {
	List(ctx context.Context, p *staff.Principal, state string) ([]*alert.Alert, error)
}

// newHub builds this instance's live hub. alerts may be nil (no alert
// service wired): snapshots are then empty.
func newHub(a *app, alerts openAlerts) (*push.Hub, error) {
	hs := hubStore{a.store.Hub}
	o := push.Options{
		Stream:      a.store.Hub,
		Auth:        hubAuth{hub: a.store.Hub, sessions: a.store.Staff, staff: a.staff},
		Access:      hs,
		Receipts:    hs,
		Presence:    hs,
		Revocations: hs,
		Logger:      a.log.With("component", "hub"),
		Now:         a.now,
		Registry:    a.registry,
	}
	if alerts != nil {
		o.Snapshot = hubSnapshot{alerts}
	}
	return push.New(o)
}

type hubStore struct{ s *store.Hub }

func (h hubStore) Excluded(ctx context.Context, caseIDs []string) (map[string][]string, error) {
	return h.s.CaseExclusions(ctx, caseIDs)
}

func (h hubStore) SaveReceipts(ctx context.Context, rs []push.Receipt) error {
	out := make([]store.Receipt, len(rs))
	for i, r := range rs {
		out[i] = store.Receipt{Alert: r.Alert, Staff: r.Staff, Teams: r.Teams, At: r.At, Sent: r.Sent}
	}
	return h.s.SaveReceipts(ctx, out)
}

func toStorePresence(ps []push.Presence) []store.Presence {
	out := make([]store.Presence, len(ps))
	for i, p := range ps {
		out[i] = store.Presence{Team: p.Team, Staff: p.Staff, Conn: p.Conn, Duty: p.Duty}
	}
	return out
}

func (h hubStore) SetPresence(ctx context.Context, ps []push.Presence, until time.Time) error {
	return h.s.SetPresence(ctx, toStorePresence(ps), until)
}

func (h hubStore) ClearPresence(ctx context.Context, ps []push.Presence) error {
	return h.s.ClearPresence(ctx, toStorePresence(ps))
}

// Revoked relays the store's revocation channel until ctx ends.
func (h hubStore) Revoked(ctx context.Context, fn func(string)) error {
	for tag := range h.s.SubscribeRevocations(ctx) {
		fn(tag)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("revocation subscription closed")
}

// hubAuth redeems tickets (store) and checks sessions (staff service).
type hubAuth struct {
	hub      *store.Hub
	sessions *store.Staff
	staff    *staff.Service
}

func (h hubAuth) Redeem(ctx context.Context, ticket string) (*staff.Principal, time.Time, error) {
	staffID, tag, err := h.hub.ConsumeTicket(ctx, ticket)
	if err != nil {
		return nil, time.Time{}, err
	}
	p, end, err := h.session(ctx, tag)
	if err != nil {
		return nil, time.Time{}, err
	}
	if p.StaffID != staffID {
		return nil, time.Time{}, fmt.Errorf("waymark: ticket of another session: %w", staff.ErrUnauthorized)
	}
	return p, end, nil
}

func (h hubAuth) Check(ctx context.Context, p *staff.Principal) (time.Time, error) {
	_, end, err := h.session(ctx, p.SessionTag)
	return end, err
}

// session resumes the session (ErrUnauthorized once it has ended or its
// account is disabled) and says when its absolute lifetime runs out. Its
// idle timeout does not close a socket: an open dashboard is activity, and
// the periodic check (Resume) records it.
func (h hubAuth) session(ctx context.Context, tag string) (*staff.Principal, time.Time, error) {
	p, err := h.staff.Resume(ctx, tag)
	if err != nil {
		return nil, time.Time{}, err
	}
	sess, err := h.sessions.Session(ctx, tag)
	if err != nil {
		return nil, time.Time{}, err
	}
	return p, sess.Created.Add(h.staff.SessionLifetime()), nil
}

// hubSnapshot is the open-alert list a (re)connecting dashboard starts
// from: ids and plain state only, like events; the dashboard fetches each
// alert's view through the API.
type hubSnapshot struct{ alerts openAlerts }

type snapshotAlert struct {
	ID       string    `json:"id"`
	Team     string    `json:"team"`
	State    string    `json:"state"`
	Priority int       `json:"priority"`
	Owner    string    `json:"owner,omitempty"`
	Mode     string    `json:"mode,omitempty"`
	RaisedAt time.Time `json:"raised_at"`
}

func (h hubSnapshot) OpenAlerts(ctx context.Context, p *staff.Principal) (json.RawMessage, error) {
	as, err := h.alerts.List(ctx, p, "open")
	if err != nil {
		return nil, err
	}
	out := make([]snapshotAlert, len(as))
	for i, a := range as {
		out[i] = snapshotAlert{ID: a.ID, Team: a.Team, State: string(a.State), Priority: int(a.Priority), Owner: a.Owner, Mode: string(a.Mode), RaisedAt: a.RaisedAt}
	}
	return json.Marshal(out)
}
