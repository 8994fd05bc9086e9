// Package signpost is Waymark's directory of domestic-abuse support services
// ("signposting"): the Service record, its validation, Open Referral UK
// import and export (exact to the UK profile, with Waymark's own fields
// under x_waymark, and every dropped field named), opening hours in
// Europe/London with each nation's bank holidays, an in-memory search
// index that reads everyday words as needs, the lookup grammar of a text
// to the signposting number, and an SMS-sized rendering of results.
//
// The directory is public information with one exception: a refuge's
// address. Waymark does not keep it at all. Waymark never needs it — a
// refuge is reached through its gateway contact, and search places a
// confidential service at its postcode district's centroid — and an address
// that is never stored cannot leak from a backup, an export, a log or a key
// compromise, which a sealed copy could. Validate strips any address,
// coordinates, location name and postcode-bearing text from a confidential
// service before it goes anywhere, and the output types (Result, the ORUK
// export) are built by functions that are handed only the district of a
// confidential service, never its locations.
//
// The package is a domain package: it imports the standard library and
// waymark/postcode only, and does no I/O of its own beyond the readers and
// writers it is given and the seed files embedded in it.
package signpost
