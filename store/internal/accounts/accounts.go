// Package accounts keeps, for package store, staff accounts with their
// sessions, setup links, sign-in throttles and WebSocket tickets, teams,
// and staff members' Web Push subscriptions. Its keys are its own: no
// other part of the store reads them.
package accounts

import "waymark/store/internal/kv"

// conn is what this package's aggregates share: the connection and the
// keyspace. Its methods are the private helpers.
type conn struct {
	*kv.Conn
	k keyspace
}

func newConn(c *kv.Conn) *conn { return &conn{Conn: c, k: keyspace{p: c.Prefix}} }

// Staff is the staff service's store (staff.Store): accounts, sessions,
// sign-in throttles and teams.
type Staff struct{ *conn }

// NewStaff returns the staff service's store over c.
func NewStaff(c *kv.Conn) *Staff { return &Staff{newConn(c)} }

// WebPush keeps staff members' Web Push subscriptions.
type WebPush struct{ *conn }

// NewWebPush returns the Web Push subscription store over c.
func NewWebPush(c *kv.Conn) *WebPush { return &WebPush{newConn(c)} }

// Tickets redeems the WebSocket tickets the staff service issues and
// relays ended sessions, for the live hub.
type Tickets struct{ *conn }

// NewTickets returns the live hub's view of sessions over c.
func NewTickets(c *kv.Conn) *Tickets { return &Tickets{newConn(c)} }
