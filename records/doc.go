// Package records is what outlives an alert: its closing record and the
// record's hand-off to the case-management system, retention and legal
// holds, exports (an alert, a case, a MARAC share) with their audit
// bundles, the commissioners' report with small counts withheld, audit-key
// checks, and the sampling of rota gaps and unmet searches. It declares
// the RecordStore it needs; package store implements it.
package records
