package directory

// keyspace builds the Redis key names of the service directory. Nothing else
// spells them; docs/redis-keys.md lists them with every other key.
type keyspace struct{ p string }

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
