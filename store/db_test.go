package store

import (
	"context"

	"waymark/store/internal/rotation"
)

// Embedded reports whether this store runs on the in-process server.
func (s *DB) Embedded() bool { return s.embedded != nil }

// SealedByKey counts sealed values by key-encryption key id.
func (s *DB) SealedByKey(ctx context.Context) (map[string]int, error) {
	return rotation.New(s.Conn).SealedByKey(ctx)
}
