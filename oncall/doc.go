// Package oncall is who answers an alert: each team's rota (in
// Europe/London, right across clock changes), its escalation policies, the
// people escalation pages, and OnCall, the service that sets and reads
// rotas and policies. It declares the OnCallStore, People and Presence it
// needs; adapters implement them.
package oncall
