package pages

import "waymark/store/internal/kv"

// keyspace builds the Redis key names of the page outbox. Nothing else
// spells them; docs/redis-keys.md lists them with every other key.
type keyspace struct {
	kv.Keys
	p string
}

// --- the outbox ---

// outboxDead holds the pages that failed repeatedly (stream).
func (k keyspace) outboxDead() string { return k.p + "outbox:dead" }

// lease is a named lease one instance holds at a time (string: holder).
func (k keyspace) lease(name string) string { return k.p + "lease:" + name }
