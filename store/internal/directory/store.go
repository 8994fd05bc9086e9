// Package directory keeps, for package store, the service directory: its
// services, the ones an operator hid, and the refuges' vacancies and
// staff links. Its keys are its own.
package directory

import "waymark/store/internal/kv"

// Store is the service directory (signpost.DirectoryStore and the
// admin's and refuges' stores).
type Store struct {
	*kv.Conn
	k keyspace
}

// New returns the service directory over c.
func New(c *kv.Conn) *Store { return &Store{Conn: c, k: keyspace{p: c.Prefix}} }
