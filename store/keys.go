package store

// keyspace builds every Redis key name Waymark uses. Nothing else in the
// code base spells a key. Names hold only the tenant, fixed words, random
// letter-only ids (internal/randid), admin-chosen team ids (no digit runs,
// config checks), and letter-only HMAC tags and blind-index buckets: never a
// phone number, name, date, username, IP address or other personal detail.
// docs/redis-keys.md lists each key with its type and lifetime.
type keyspace struct {
	p string // "wm:{tenant}:"
}

func newKeyspace(tenant string) keyspace {
	if tenant == "" {
		tenant = "default"
	}
	return keyspace{p: "wm:{" + tenant + "}:"}
}

// prefix is the tenant's prefix, for scans and tests.
func (k keyspace) prefix() string { return k.p }

// --- staff, sessions, teams ---

// staff is a staff account (hash).
func (k keyspace) staff(id string) string { return k.p + "staff:" + id }

// staffNames maps a tag of each lower-cased username to a staff id (hash).
func (k keyspace) staffNames() string { return k.p + "staff:names" }

// staffAll is the set of every staff id.
func (k keyspace) staffAll() string { return k.p + "staff:all" }

// staffPhones is a blind-index bucket of staff ids by page phone (set).
func (k keyspace) staffPhones(bucket string) string { return k.p + "staff:phone:" + bucket }

// staffSessions is the set of a staff member's session tags, so disabling
// the account ends them all.
func (k keyspace) staffSessions(id string) string { return k.p + "staff:" + id + ":sessions" }

// setupLink maps the tag of a one-time setup token to a staff id (string, 24 h).
func (k keyspace) setupLink(tag string) string { return k.p + "setup:" + tag }

// session is a signed-in session by the tag of its token (hash).
func (k keyspace) session(tag string) string { return k.p + "session:" + tag }

// throttle counts failed sign-ins for a tag of a username or address.
func (k keyspace) throttle(kind, tag string) string { return k.p + "throttle:" + kind + ":" + tag }

// signInDevice is the username a sign-in device cookie vouches for, by the
// tag of the cookie (string, 90 days from its last sign-in).
func (k keyspace) signInDevice(tag string) string { return k.p + "signin-device:" + tag }

// team is a team (hash); teams is the set of team ids.
func (k keyspace) team(id string) string { return k.p + "team:" + id }
func (k keyspace) teams() string         { return k.p + "teams" }

// wsTicket is a single-use WebSocket ticket by tag (string, 30 s).
func (k keyspace) wsTicket(tag string) string { return k.p + "ticket:" + tag }

// revoked is the pub/sub channel announcing ended sessions to every instance.
func (k keyspace) revoked() string { return k.p + "revoked" }

// --- cases, devices, enrolment ---

// caseRecord is a survivor's case (hash; personal fields sealed under the
// case's data key).
func (k keyspace) caseRecord(id string) string { return k.p + "case:" + id }

// caseDataKey is the case's data key, wrapped by a key-encryption key
// (string). Deleting it erases every sealed field of the case at once.
func (k keyspace) caseDataKey(id string) string { return k.p + "case:" + id + ":dk" }

// teamCases is the set of case ids of a team.
func (k keyspace) teamCases(team string) string { return k.p + "team:" + team + ":cases" }

// casePhones is a blind-index bucket of case ids by phone (set).
func (k keyspace) casePhones(bucket string) string { return k.p + "case:phone:" + bucket }

// caseExpiry orders case ids by expiry time (sorted set).
func (k keyspace) caseExpiry() string { return k.p + "cases:expiry" }

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

// auditDataKey is the audit trail's data key, wrapped by a key-encryption
// key (string): audit reasons are sealed under it, so rotating the KEK
// re-wraps one key and never rewrites an append-only entry.
func (k keyspace) auditDataKey() string { return k.p + "audit:dk" }

// --- alerts ---

// alertRecord is an alert (hash; personal fields sealed).
func (k keyspace) alertRecord(id string) string { return k.p + "alert:" + id }

// alertTimeline is an alert's sealed timeline entries (hash: "t000001"…).
func (k keyspace) alertTimeline(id string) string { return k.p + "alert:" + id + ":timeline" }

// alertTrail is an alert's sealed location trail (hash: "p000001"…).
func (k keyspace) alertTrail(id string) string { return k.p + "alert:" + id + ":trail" }

// alertReceipts holds each responder's first receipt of an alert (sorted
// set: staff id scored by the receipt's unix ms; ZADD NX keeps the first).
func (k keyspace) alertReceipts(id string) string { return k.p + "alert:" + id + ":receipts" }

// alertSeen is the receipts' earlier form (hash: staff id → unix ms),
// still read for alerts stored before; written no more.
func (k keyspace) alertSeen(id string) string { return k.p + "alert:" + id + ":seen" }

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

// benchFloor is the durable floor's stream (waymark bench --floor
// durable): one entry per benchmark alert, trimmed to about 10,000.
func (k keyspace) benchFloor() string { return k.p + "bench:floor" }

// caseLastAlert holds the id of the case's most recent alert (string).
func (k keyspace) caseLastAlert(caseID string) string { return k.p + "case:" + caseID + ":last" }

// dedupe remembers a signal's dedupe tag (MessageSid or request_id) for 48 h.
func (k keyspace) dedupe(tag string) string { return k.p + "dedupe:" + tag }

// events is the stream of alert events every instance's hub reads.
func (k keyspace) events() string { return k.p + "events" }

// caseCheckinLog is the sealed log of a case's check-in schedule changes
// that its owner sees (hash: "l000001"…, last 100 kept).
func (k keyspace) caseCheckinLog(caseID string) string {
	return k.p + "case:" + caseID + ":checkins:log"
}

// caseOutcomes counts a case's alert outcomes (hash: outcome → count).
func (k keyspace) caseOutcomes(caseID string) string { return k.p + "case:" + caseID + ":outcomes" }

// --- live hub ---

// presence orders a team's live dashboard sockets ("staff conn" members)
// by when their entry lapses unless refreshed (sorted set, ms).
func (k keyspace) presence(team string) string { return k.p + "team:" + team + ":presence" }

// onDuty holds the same members for the sockets whose responder is on
// duty (sorted set, ms).
func (k keyspace) onDuty(team string) string { return k.p + "team:" + team + ":duty" }

// --- web push ---

// staffWebPush holds a responder's browser push subscriptions (hash:
// subscription id, a tag of the endpoint → sealed endpoint and keys).
func (k keyspace) staffWebPush(id string) string { return k.p + "staff:" + id + ":webpush" }

// --- the one scheduler, the outbox, audit ---

// schedule is the one sorted set of due entries (score: due time in ms).
func (k keyspace) schedule() string { return k.p + "schedule" }

// scheduleEntry holds a due entry's kind, target and fence token (hash).
func (k keyspace) scheduleEntry(id string) string { return k.p + "schedule:" + id }

// outbox is the stream of pages to send; outboxDead holds those that failed
// repeatedly.
func (k keyspace) outbox() string     { return k.p + "outbox" }
func (k keyspace) outboxDead() string { return k.p + "outbox:dead" }

// rota is a team's on-call rota (hash: current, previous; plain JSON of
// tiers, times and staff ids).
func (k keyspace) rota(team string) string { return k.p + "team:" + team + ":rota" }

// rotaGaps is a team's sampled rota-gap slots (alert/gaps.go): members
// "g:START:SECONDS" for a counted gap slot and "a:START" once its alerts
// are counted, scored by START (Unix seconds); trimmed to eight days.
func (k keyspace) rotaGaps(team string) string { return k.p + "team:" + team + ":rotagaps" }

// policy is a team's escalation policies (hash: current, previous).
func (k keyspace) policy(team string) string { return k.p + "team:" + team + ":policy" }

// lease is a named lease one instance holds at a time (string: holder).
func (k keyspace) lease(name string) string { return k.p + "lease:" + name }

// smsStatus keeps the most final delivery status per outbound message tag.
func (k keyspace) smsStatus(tag string) string { return k.p + "sms:status:" + tag }

// audit is the hash-chained audit stream; auditHead its latest hash.
func (k keyspace) audit() string     { return k.p + "audit" }
func (k keyspace) auditHead() string { return k.p + "audit:head" }

// signInFailures counts failed sign-ins awaiting their audit summary, by
// window start (unix ms), action, actor, address tag and outcome (hash;
// field "window|action|actor|addr|outcome").
func (k keyspace) signInFailures() string { return k.p + "audit:signin-failures" }

// --- records: hand-off, retention, report, audit checkpoint ---

// auditCheckpoint stands for the trimmed start of the audit chain (hash:
// seq, h, at, mac).
func (k keyspace) auditCheckpoint() string { return k.p + "audit:checkpoint" }

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

// --- directory (public data) ---

// directory holds every service as JSON by service id (hash): ids come from
// outside (ORUK UUIDs) and so stay out of key names.
func (k keyspace) directory() string { return k.p + "dir:services" }

// directoryVersion counts directory changes; instances poll it to rebuild
// their in-memory index.
func (k keyspace) directoryVersion() string { return k.p + "dir:version" }

// directoryHidden holds the ids of services an operator has hidden (set):
// shipped national services are merged in on every start, so hiding is
// how an operator takes one out of search, the API and exports for good.
func (k keyspace) directoryHidden() string { return k.p + "dir:hidden" }

// refugeStaff links refuge accounts to the one refuge whose vacancies each
// may update (hash: staff id → service id; store/refuge.go).
func (k keyspace) refugeStaff() string { return k.p + "dir:refuge-staff" }
