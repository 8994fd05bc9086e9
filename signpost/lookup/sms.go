package lookup

import (
	"strings"

	"waymark/signpost"
)

// SMS sizes in GSM-7 characters: one segment, and each segment of a
// concatenated message (7 characters go to the concatenation header).
const (
	smsSingle  = 160
	smsSegment = 153
)

// smsLimit is the GSM-7 length of maxSegments segments (1: 160
// characters, 2: 306; anything else is taken as the nearer of the two).
func smsLimit(maxSegments int) int {
	if maxSegments >= 2 {
		return 2 * smsSegment
	}
	return smsSingle
}

// formatSMS lists results after prefix within limit GSM-7 characters, e.g.
//
//	Open now: Nat. DA Helpline 0808 2000 247 (24h); Samaritans 116 123 (24h). Also: Men's Advice Line 0808 801 0327.
//
// Services that are open come first, in result order; each entry is a
// name and one number, and whole entries that do not fit are left out.
// A confidential service is given with its gateway number only. Characters
// outside the GSM-7 alphabet are replaced or dropped so that the message
// never silently switches to UCS-2 and a third of the length.
func formatSMS(prefix string, results signpost.Results, limit int) string {
	var open, other []string
	seen := map[string]bool{}
	for _, r := range results.Results {
		e, ok := smsEntry(r)
		if !ok || seen[e] {
			continue
		}
		seen[e] = true
		if r.OpenNow {
			open = append(open, e)
		} else {
			other = append(other, e)
		}
	}
	if len(open)+len(other) == 0 {
		return prefix + "No matching services found."
	}
	// Greedy: keep each entry, in order, if the whole message still fits.
	var keptOpen, keptOther []string
	for _, e := range open {
		if gsmLen(prefix+renderSMS(append(keptOpen, e), keptOther)) <= limit {
			keptOpen = append(keptOpen, e)
		}
	}
	for _, e := range other {
		if gsmLen(prefix+renderSMS(keptOpen, append(keptOther, e))) <= limit {
			keptOther = append(keptOther, e)
		}
	}
	return prefix + renderSMS(keptOpen, keptOther)
}

func renderSMS(open, other []string) string {
	var parts []string
	if len(open) > 0 {
		parts = append(parts, "Open now: "+strings.Join(open, "; ")+".")
	}
	if len(other) > 0 {
		parts = append(parts, "Also: "+strings.Join(other, "; ")+".")
	}
	return strings.Join(parts, " ")
}

func smsEntry(r signpost.Result) (string, bool) {
	name := r.ShortName
	if name == "" {
		name = r.Name
	}
	name = shorten(gsmSafe(name), 60)
	var contact string
	switch {
	case r.Confidential:
		if r.Gateway == nil || r.Gateway.Phone == "" {
			return "", false
		}
		contact = "via " + r.Gateway.Phone
	default:
		for _, want := range []signpost.PhoneType{signpost.PhoneVoice, signpost.PhoneText} {
			for _, ph := range r.Phones {
				if ph.Type == want && contact == "" {
					contact = ph.Number
					if want == signpost.PhoneText {
						contact = "text " + ph.Number
					}
				}
			}
		}
		if contact == "" && r.URL != "" && len(r.URL) <= 40 {
			contact = strings.TrimPrefix(strings.TrimPrefix(r.URL, "https://"), "http://")
		}
	}
	if contact == "" {
		return "", false
	}
	e := name + " " + gsmSafe(contact)
	if strings.HasSuffix(" "+name, " "+gsmSafe(contact)) {
		e = name // "Police 999", not "Police 999 999"
	}
	switch {
	case r.OpenNow && r.Hours.Open247:
		e += " (24h)"
	case r.OpenNow && !r.OpenKnown:
		e += " (may be open)"
	}
	return e, true
}

// gsmBasic is the GSM 03.38 basic character set; gsmExt holds the
// characters that cost two (escape + char).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExt   = "^{}\\[~]|€"
)

// gsmReplace maps common typographic characters to GSM-7. Never mutated.
var gsmReplace = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201c", "\"", "\u201d", "\"",
	"\u2013", "-", "\u2014", "-", "\u2026", "...", "\u00a0", " ", "\t", " ",
)

// gsmSafe returns s in the GSM-7 alphabet, dropping what has no stand-in,
// with runs of white space (and line breaks) made single spaces.
func gsmSafe(s string) string {
	s = gsmReplace.Replace(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(gsmBasic, r) || strings.ContainsRune(gsmExt, r) {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// gsmLen counts GSM-7 septets.
func gsmLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if strings.ContainsRune(gsmExt, r) {
			n++
		}
	}
	return n
}

// shorten cuts s to at most n bytes at a word boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > 0 {
		return s[:i]
	}
	return s[:n]
}
