package accounts

// keyspace builds the Redis key names of staff accounts, sessions, teams
// and Web Push subscriptions. Nothing else spells them; docs/redis-keys.md
// lists them with every other key.
type keyspace struct{ p string }

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

func (k keyspace) teams() string { return k.p + "teams" }

// wsTicket is a single-use WebSocket ticket by tag (string, 30 s).
func (k keyspace) wsTicket(tag string) string { return k.p + "ticket:" + tag }

// revoked is the pub/sub channel announcing ended sessions to every instance.
func (k keyspace) revoked() string { return k.p + "revoked" }

// --- web push ---

// staffWebPush holds a responder's browser push subscriptions (hash:
// subscription id, a tag of the endpoint → sealed endpoint and keys).
func (k keyspace) staffWebPush(id string) string { return k.p + "staff:" + id + ":webpush" }
