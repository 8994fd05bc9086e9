package smsstatus

// keyspace builds the Redis key names of text delivery reports. Nothing
// else spells them; docs/redis-keys.md lists them with every other key.
type keyspace struct{ p string }

// --- text delivery reports ---

// smsStatus keeps the most final delivery status per outbound message tag.
func (k keyspace) smsStatus(tag string) string { return k.p + "sms:status:" + tag }
