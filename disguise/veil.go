package disguise

import "encoding/base32"

// The hidden screens' answers (the app's settings, its directory search)
// travel as one field of veiled JSON, so that no service name or label
// shows in the app's traffic, a proxy's log or the browser's network
// panel at a glance. The veil is base32 over an alphabet that can spell
// no word (no vowel, no y, no v, no 9), so, unlike base64, its output can never
// happen to hold one of Words. It is a disguise, not a secret: TLS
// protects the wire, and anyone who reads the app's code can lift it.
var veil = base32.NewEncoding("bcdfghjkmnpqrstwxzBCDFGHJKMNPQRS").WithPadding(base32.NoPadding)

// Veil encodes b for an answer of the app listener (the app's unv
// reverses it).
func Veil(b []byte) string { return veil.EncodeToString(b) }
