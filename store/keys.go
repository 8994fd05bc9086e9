package store

import "waymark/store/internal/kv"

// keyspace builds the Redis key names of this package's aggregates; the
// packages under store/internal that keep keys of their own build theirs
// the same way, and nothing else in the code base spells a key. Names hold only the tenant, fixed words, random
// letter-only ids (internal/randid), admin-chosen team ids (no digit runs,
// config checks), and letter-only HMAC tags and blind-index buckets: never a
// phone number, name, date, username, IP address or other personal detail.
// docs/redis-keys.md lists each key with its type and lifetime.
type keyspace struct {
	kv.Keys        // the keys other packages under store share
	p       string // "wm:{tenant}:"
}

func newKeyspace(tenant string) keyspace {
	if tenant == "" {
		tenant = "default"
	}
	p := "wm:{" + tenant + "}:"
	return keyspace{Keys: kv.NewKeys(p), p: p}
}

// --- cases, devices, enrolment ---

// caseDataKey is the case's data key, wrapped by a key-encryption key
// (string). Deleting it erases every sealed field of the case at once.
func (k keyspace) caseDataKey(id string) string { return k.p + "case:" + id + ":dk" }

// teamCases is the set of case ids of a team.
func (k keyspace) teamCases(team string) string { return k.p + "team:" + team + ":cases" }

// casePhones is a blind-index bucket of case ids by phone (set).
func (k keyspace) casePhones(bucket string) string { return k.p + "case:phone:" + bucket }

// caseExpiry orders case ids by expiry time (sorted set).
func (k keyspace) caseExpiry() string { return k.p + "cases:expiry" }

// indexWidth is the width in bits of the phone blind index the tenant's
// buckets were made with (string), set by the first instance.
func (k keyspace) indexWidth() string { return k.p + "index:width" }

// phoneReviews orders the cases whose phone is held for an administrator's
// review (it is on a case their caseworker may not see) by when it was held
// (sorted set).
func (k keyspace) phoneReviews() string { return k.p + "cases:phone-reviews" }

// caseDevices maps a case's device ids to their token tags (hash).
func (k keyspace) caseDevices(id string) string { return k.p + "case:" + id + ":devices" }

// device is an enrolled app device by the tag of its token (hash).
func (k keyspace) device(tag string) string { return k.p + "device:" + tag }

// enrolCode is a one-time app enrolment code by tag (string, 15 min).
func (k keyspace) enrolCode(tag string) string { return k.p + "enrol:" + tag }

// checkins is a case's check-in schedule (hash).
func (k keyspace) checkins(caseID string) string { return k.p + "case:" + caseID + ":checkins" }

// caseEnrolCodes orders the tags of a case's pending enrolment codes by
// expiry (sorted set), so erasure can destroy them.
func (k keyspace) caseEnrolCodes(id string) string { return k.p + "case:" + id + ":enrols" }

// revealLimit counts a staff member's reveal attempts in the current window (hash).
func (k keyspace) revealLimit(staffID string) string { return k.p + "reveal:" + staffID }

// --- alerts ---

// alertTimeline is an alert's sealed timeline entries (hash: "t000001"…).
func (k keyspace) alertTimeline(id string) string { return k.p + "alert:" + id + ":timeline" }

// alertTrail is an alert's sealed location trail (hash: "p000001"…).
func (k keyspace) alertTrail(id string) string { return k.p + "alert:" + id + ":trail" }

// openAlerts orders open alerts by priority then age (sorted set).
func (k keyspace) openAlerts() string { return k.p + "alerts:open" }

// teamAlerts orders a team's alerts, open and recent, by raise time.
func (k keyspace) teamAlerts(team string) string { return k.p + "team:" + team + ":alerts" }

// caseOpenAlert holds the id of the case's one open alert (string).
func (k keyspace) caseOpenAlert(caseID string) string { return k.p + "case:" + caseID + ":open" }

// senderOpenAlert holds "alertID|ms": the open alert a number on no case
// last raised or joined, and when its last text came, keyed by a keyed tag
// of the number; its texts within 30 minutes join that alert
// (alert.SenderJoinWindow), and the key expires a minute after.
func (k keyspace) senderOpenAlert(tag string) string { return k.p + "sender:" + tag + ":open" }

// caseLastAlert holds the id of the case's most recent alert (string).
func (k keyspace) caseLastAlert(caseID string) string { return k.p + "case:" + caseID + ":last" }

// dedupe remembers a signal's dedupe tag (MessageSid or request_id) for 48 h.
func (k keyspace) dedupe(tag string) string { return k.p + "dedupe:" + tag }

// caseCheckinLog is the sealed log of a case's check-in schedule changes
// that its owner sees (hash: "l000001"…, last 100 kept).
func (k keyspace) caseCheckinLog(caseID string) string {
	return k.p + "case:" + caseID + ":checkins:log"
}

// caseOutcomes counts a case's alert outcomes (hash: outcome → count).
func (k keyspace) caseOutcomes(caseID string) string { return k.p + "case:" + caseID + ":outcomes" }

// --- live hub ---

// --- the one scheduler, the outbox, audit ---

// rota is a team's on-call rota (hash: current, previous; plain JSON of
// tiers, times and staff ids).
func (k keyspace) rota(team string) string { return k.p + "team:" + team + ":rota" }

// rotaGaps is a team's sampled rota-gap slots (alert/gaps.go): members
// "g:START:SECONDS" for a counted gap slot and "a:START" once its alerts
// are counted, scored by START (Unix seconds); trimmed to eight days.
func (k keyspace) rotaGaps(team string) string { return k.p + "team:" + team + ":rotagaps" }

// policy is a team's escalation policies (hash: current, previous).
func (k keyspace) policy(team string) string { return k.p + "team:" + team + ":policy" }

// --- records: hand-off, retention, report ---

// handoffs orders alerts whose closing record is not yet filed by their
// next delivery attempt (sorted set, ms).
func (k keyspace) handoffs() string { return k.p + "records:handoff" }

// retention orders alerts whose record is filed by filing time (sorted
// set, ms): the retention sweep's work list.
func (k keyspace) retention() string { return k.p + "records:retention" }

// reportCounts holds the anonymous report counters (hash: counter → n).
func (k keyspace) reportCounts() string { return k.p + "report:counts" }

// caseHistory orders a case's closed alerts by raise time (sorted set),
// for repeat counting and case exports.
func (k keyspace) caseHistory(caseID string) string { return k.p + "case:" + caseID + ":history" }
