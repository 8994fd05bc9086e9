package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// SignatureHeader is the header Twilio signs webhooks in.
const SignatureHeader = "X-Twilio-Signature"

// Verifier checks Twilio webhook signatures. The URL it checks against is
// the configured public base URL plus the route's path: never rebuilt from
// the request's Host or forwarded headers, which a forger controls.
//
// twilio-go's RequestValidator decides: a request is accepted only if it
// says yes. It allocates tens of kilobytes per call (it concatenates the
// URL and every parameter into one string, four times), so a flood of
// forged webhooks would become garbage-collector pressure on the genuine
// ones. Verify therefore first runs Sign, a streaming implementation of
// the same algorithm over the same URL variants, and asks twilio-go only
// when that matches: a forgery costs a few microseconds and no garbage.
// The two implementations are cross-checked by the tests and the fuzzer.
type Verifier struct {
	base       string
	tokens     []string
	validators []client.RequestValidator
}

// NewVerifier returns a Verifier for webhooks addressed under publicURL
// (WAYMARK_PUBLIC_URL), signed with any of tokens (the current auth token
// and, during rotation, the previous one; empty tokens are skipped).
func NewVerifier(publicURL string, tokens ...string) *Verifier {
	v := &Verifier{base: strings.TrimRight(publicURL, "/")}
	for _, t := range tokens {
		if t != "" {
			v.tokens = append(v.tokens, t)
			v.validators = append(v.validators, client.NewRequestValidator(t))
		}
	}
	return v
}

// URL is the address Twilio signs for path (and rawQuery, which Twilio
// includes when the webhook was configured with one).
func (v *Verifier) URL(path, rawQuery string) string {
	u := v.base + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

// Verify reports whether signature is Twilio's signature of path and
// every parameter of form under one of the tokens. The streaming check
// tries every token and URL variant whichever matches; twilio-go then
// confirms with the token that did.
func (v *Verifier) Verify(path, rawQuery string, form map[string]string, signature string) bool {
	var want [sha1.Size]byte
	if signature == "" || v.base == "" || len(v.tokens) == 0 || !signatureShape(signature, &want) {
		return false
	}
	u := v.URL(path, rawQuery)
	variants := portVariants(u)
	params := paramBytes(form)
	match := -1
	var sum [sha1.Size]byte
	for i, t := range v.tokens {
		// One MAC per token, reset per URL variant; the raw sums are
		// compared in constant time (the same test as comparing their
		// base64, without encoding each).
		mac := hmac.New(sha1.New, []byte(t))
		for _, uv := range variants {
			mac.Reset()
			io.WriteString(mac, uv)
			mac.Write(params)
			if subtle.ConstantTimeCompare(mac.Sum(sum[:0]), want[:]) == 1 {
				match = i
			}
		}
	}
	if match < 0 {
		return false
	}
	// Only the token that matched is worth twilio-go's (costly) word.
	return v.validators[match].Validate(u, form, signature)
}

// signatureShape reports whether s can be a base64 HMAC-SHA1 (28
// characters, one "=" of padding), decoding it into raw.
func signatureShape(s string, raw *[sha1.Size]byte) bool {
	if len(s) != base64.StdEncoding.EncodedLen(sha1.Size) {
		return false
	}
	var buf [sha1.Size + 2]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(s))
	if err != nil || n != sha1.Size {
		return false
	}
	copy(raw[:], buf[:n])
	return true
}

// portVariants are the URLs twilio-go's validator tries for u: with the
// scheme's default port made explicit, and without any port (Twilio's
// signing is inconsistent about ports). They are built as twilio-go builds
// them (net/url round trips), so both checks see the same strings.
func portVariants(u string) []string {
	parsed, err := url.Parse(u)
	if err != nil {
		return []string{u}
	}
	if parsed.Port() != "" {
		p := *parsed
		p.Host = strings.Split(p.Host, ":")[0]
		return []string{u, p.String()}
	}
	port := 80
	if parsed.Scheme == "https" {
		port = 443
	}
	p := *parsed
	p.Host = p.Host + ":" + strconv.Itoa(port)
	return []string{p.String(), u}
}
