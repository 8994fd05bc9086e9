// Package signpost is Waymark's directory of domestic-abuse support services
// ("signposting"): the Service record, its validation, the ids it has in
// Open Referral UK, opening hours in Europe/London with each nation's bank
// holidays, and an in-memory search index that reads everyday words as
// needs. Its Open Referral UK import and export and the seed directories
// are in signpost/oruk; the answer to a text to the signposting number is
// in signpost/lookup.
//
// The directory is public information with one exception: a refuge's
// address. Waymark does not keep it at all. Waymark never needs it — a
// refuge is reached through its gateway contact, and search places a
// confidential service at its postcode district's centroid — and an address
// that is never stored cannot leak from a backup, an export, a log or a key
// compromise, which a sealed copy could. Validate strips any address,
// coordinates, location name and postcode-bearing text from a confidential
// service before it goes anywhere, and the output types (Result, and the
// ORUK export in signpost/oruk) are built by functions that are handed
// only the district of a confidential service, never its locations.
//
// The package is a domain package: it imports the standard library and
// waymark/postcode only, and does no I/O of its own beyond the readers and
// writers it is given and the holiday file embedded in it.
package signpost
