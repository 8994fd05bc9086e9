// Package alert is the alert itself: the signals survivors raise (SMS, the
// app, missed check-ins), the state machine that turns them into alerts and
// moves each from raised to closed (Rules: pure decisions that return a
// Commit), the escalation steps, and Service, which reads what a decision
// needs, runs it through the store's read-decide-commit, and runs the
// scheduler loop, the outbox of pages and the auditor. It declares the
// Store, CaseSource and escalation dependencies it needs; adapters
// implement them.
package alert
