package store

import "waymark/store/internal/kv"

// Crypto is what the store seals, indexes and tags with. Keys come from
// configuration and never reach Redis.
type Crypto = kv.Crypto
