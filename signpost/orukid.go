package signpost

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// Ids in Open Referral UK. The UK profile asks for a UUID on every
// record; Waymark keeps readable ids for its shipped services and none for
// most sub-records, so it derives stable UUIDs from what it has. Search,
// validation and the ORUK mapping all use these, so that a record keeps
// one id however it is reached.

// ORUKID returns the id a service has in Open Referral UK: its own id when
// that is a UUID (as every imported service's is), otherwise a UUID
// derived from it (Waymark's shipped services have readable ids such as
// "national-da-helpline"; the readable id travels in x_waymark.id).
func ORUKID(id string) string {
	if IsUUID(id) {
		return strings.ToLower(id)
	}
	return subID("", "service/"+id)
}

// subID gives sub-records (phones, schedules, locations) stable UUIDs
// (version 5, SHA-1 of the service id and the path), as HSDS asks for ids
// and Waymark keeps none for them.
func subID(serviceID, path string) string {
	h := sha1.Sum([]byte("waymark/" + serviceID + "/" + path))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], h[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], h[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], h[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], h[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], h[10:16])
	return string(b[:])
}

// IsUUID reports whether s is a UUID in its 8-4-4-4-12 hex spelling, as
// the UK profile's "uuid" format asks.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ORUKRecordID returns the id a sub-record (a phone, schedule, location...)
// of the service with id serviceID has in Open Referral UK: id itself when
// it is a UUID, else a stable one derived from serviceID and the record's
// path ("schedules/0"). Validate gives every sub-record without an id the
// same one.
func ORUKRecordID(id, serviceID, path string) string {
	if IsUUID(id) {
		return strings.ToLower(id)
	}
	return subID(serviceID, path)
}
