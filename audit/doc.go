// Package audit is the audit trail's format: its entries, the keyed hash
// chain that links them, signed checkpoints, audit-key rotation, and the
// signed bundles anyone can verify. It stores nothing: package store keeps
// the chain, and package records writes to it and exports it.
package audit
