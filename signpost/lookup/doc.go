// Package lookup answers a text to the signposting number: it reads the
// text's place and everyday needs into a signpost.Query (Parse), and
// renders the search results as an SMS within a number of GSM-7 segments
// (FormatSMS), never switching the message to UCS-2 and never giving more
// than the gateway number of a confidential service.
//
// The package is a domain package: it imports the standard library,
// waymark/postcode and waymark/signpost only.
package lookup
