package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
)

// Sign computes the X-Twilio-Signature Twilio sends with a webhook to
// fullURL carrying form: base64 of HMAC-SHA1, keyed with the auth token,
// over the URL followed by every parameter's name and value, sorted by
// name. It is written from Twilio's documentation, independently of
// twilio-go, so tests can cross-check the two; `waymark demo --simulate`
// and load tests use it to sign the webhooks they send.
func Sign(authToken, fullURL string, form map[string]string) string {
	return signParams(authToken, fullURL, paramBytes(form))
}

// paramBytes is every name and value of form, sorted by name and
// concatenated: the part of the signed text after the URL.
func paramBytes(form map[string]string) []byte {
	names := make([]string, 0, len(form))
	n := 0
	for k, v := range form {
		names = append(names, k)
		n += len(k) + len(v)
	}
	slices.Sort(names)
	b := make([]byte, 0, n)
	for _, k := range names {
		b = append(b, k...)
		b = append(b, form[k]...)
	}
	return b
}

func signParams(authToken, fullURL string, params []byte) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	mac.Write(params)
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// EncodeForm encodes form as Twilio does (application/x-www-form-urlencoded,
// names sorted), for the same callers as Sign.
func EncodeForm(form map[string]string) string {
	v := make(url.Values, len(form))
	for k, s := range form {
		v.Set(k, s)
	}
	return v.Encode()
}
