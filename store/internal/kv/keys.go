package kv

// Keys builds the Redis key names that more than one package under store
// reads or writes: a case's and an alert's hash, the alert's receipts, the
// event stream and the one scheduler. Each package builds the keys only it
// uses itself; nothing else spells a key, and docs/redis-keys.md lists
// them all.
type Keys struct{ p string }

// Fields of the case and alert hashes that more than one package reads.
const (
	// CaseExcluded lists the staff ids who must never see a case
	// (space-separated).
	CaseExcluded = "excluded"
	// AlertRaisedAt is when an alert was raised (unix ms).
	AlertRaisedAt = "raised_at"
)

// NewKeys returns the shared keys under prefix (wm:{tenant}:).
func NewKeys(prefix string) Keys { return Keys{p: prefix} }

// --- shared by the aggregates ---

// CaseRecord is a survivor's case (hash; personal fields sealed under the
// case's data key).
func (k Keys) CaseRecord(id string) string { return k.p + "case:" + id }

// AlertRecord is an alert (hash; personal fields sealed).
func (k Keys) AlertRecord(id string) string { return k.p + "alert:" + id }

// AlertReceipts holds each responder's first receipt of an alert (sorted
// set: staff id scored by the receipt's unix ms; ZADD NX keeps the first).
func (k Keys) AlertReceipts(id string) string { return k.p + "alert:" + id + ":receipts" }

// AlertSeen is the receipts' earlier form (hash: staff id → unix ms),
// still read for alerts stored before; written no more.
func (k Keys) AlertSeen(id string) string { return k.p + "alert:" + id + ":seen" }

// Events is the stream of alert Events every instance's hub reads.
func (k Keys) Events() string { return k.p + "Events" }

// Schedule is the one sorted set of due entries (score: due time in ms).
func (k Keys) Schedule() string { return k.p + "Schedule" }

// ScheduleEntry holds a due entry's kind, target and fence token (hash).
func (k Keys) ScheduleEntry(id string) string { return k.p + "Schedule:" + id }

// Outbox is the stream of pages to send (the commit that decides a page
// queues it; package pages sends it).
func (k Keys) Outbox() string { return k.p + "outbox" }
