// Package oruk is the directory's Open Referral UK (HSDS 3.0, UK profile)
// exchange: it decodes ORUK JSON into signpost services, every record on
// its own, with each dropped field named; it encodes services as exact
// UK-profile records, with what Waymark keeps beyond the profile under
// x_waymark extensions; and it ships the seed directories, which are
// themselves ORUK pages so that the importer is the only way services
// enter Waymark.
//
// A confidential service is encoded through a path that is handed only its
// postcode districts: no address, coordinates or location name can be
// written for it, whatever the Service value holds.
//
// The package is a domain package: it imports the standard library,
// waymark/postcode and waymark/signpost only, and does no I/O of its own
// beyond the readers and writers it is given and the seed files embedded
// in it.
package oruk
