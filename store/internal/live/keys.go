package live

import "waymark/store/internal/kv"

// keyspace builds the Redis key names of the live hub. Nothing else
// spells them; docs/redis-keys.md lists them with every other key.
type keyspace struct {
	kv.Keys
	p string
}

// --- live hub ---

// benchFloor is the durable floor's stream (waymark bench --floor
// durable): one entry per benchmark alert, trimmed to about 10,000.
func (k keyspace) benchFloor() string { return k.p + "bench:floor" }

// presence orders a team's live dashboard sockets ("staff conn" members)
// by when their entry lapses unless refreshed (sorted set, ms).
func (k keyspace) presence(team string) string { return k.p + "team:" + team + ":presence" }

// onDuty holds the same members for the sockets whose responder is on
// duty (sorted set, ms).
func (k keyspace) onDuty(team string) string { return k.p + "team:" + team + ":duty" }
