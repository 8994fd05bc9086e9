package auditlog

// keyspace builds the Redis key names of the audit trail. Nothing else
// spells them; docs/redis-keys.md lists them with every other key.
type keyspace struct{ p string }

// --- audit trail ---

// auditDataKey is the audit trail's data key, wrapped by a key-encryption
// key (string): audit reasons are sealed under it, so rotating the KEK
// re-wraps one key and never rewrites an append-only entry.
func (k keyspace) auditDataKey() string { return k.p + "audit:dk" }

// audit is the hash-chained audit stream; auditHead its latest hash.
func (k keyspace) audit() string     { return k.p + "audit" }
func (k keyspace) auditHead() string { return k.p + "audit:head" }

// auditCheckpoint stands for the trimmed start of the audit chain (hash:
// seq, h, at, mac).
func (k keyspace) auditCheckpoint() string { return k.p + "audit:checkpoint" }

// signInFailures counts failed sign-ins awaiting their audit summary, by
// window start (unix ms), action, actor, address tag and outcome (hash;
// field "window|action|actor|addr|outcome").
func (k keyspace) signInFailures() string { return k.p + "audit:signin-failures" }
