package store

import (
	"waymark/audit"
	"waymark/store/internal/kv"
)

// Names that live in the packages under store/internal, spelled here as
// those packages do for the tests that reach past the aggregates: the
// audit trail's keys (store/internal/auditlog) for the tests that tamper
// with the chain, and the outbox's consumer group (store/internal/pages).

// outboxGroup is the outbox's consumer group.
const outboxGroup = "pages"

func (k keyspace) audit() string           { return k.p + "audit" }
func (k keyspace) auditHead() string       { return k.p + "audit:head" }
func (k keyspace) auditCheckpoint() string { return k.p + "audit:checkpoint" }

// auditFields are a chain entry's stream fields, as auditlog writes them
// (without a reason): for writing entries of the earlier format by hand.
func auditFields(ce audit.ChainEntry, sealed []byte) []any {
	f := []any{"eid", ce.ID, "seq", ce.Seq, "at", kv.MS(ce.At), "actor", ce.Actor, "action", ce.Action,
		"case", ce.CaseID, "alert", ce.AlertID, "outcome", ce.Outcome, "rd", ce.ReasonDigest, "h", ce.Hash}
	if ce.Key != "" {
		f = append(f, "kid", ce.Key)
	}
	if ce.NextKey != "" {
		f = append(f, "nkid", ce.NextKey)
	}
	if sealed != nil {
		f = append(f, "reason", sealed)
	}
	return f
}
