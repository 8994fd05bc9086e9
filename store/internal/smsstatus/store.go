// Package smsstatus keeps, for package store, the delivery reports of the
// texts Waymark sends. Its keys are its own.
package smsstatus

import "waymark/store/internal/kv"

// Store keeps the delivery reports of texts.
type Store struct {
	*kv.Conn
	k keyspace
}

// New returns the delivery report store over c.
func New(c *kv.Conn) *Store { return &Store{Conn: c, k: keyspace{p: c.Prefix}} }
