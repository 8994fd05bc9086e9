// Package casework is survivors' cases: a case's attributes (risk level,
// safe-contact plan, PINs, code words, check-in schedule, enrolled
// devices), the rules a caseworker's input must meet, and Cases, the
// service that creates, updates, reveals, renews and erases cases. It also
// holds the sentinel errors the domain packages share. It declares the
// CaseStore and PINHasher it needs; adapters implement them.
package casework
