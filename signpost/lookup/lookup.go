package lookup

import (
	"errors"
	"strings"
	"unicode"

	"waymark/postcode"
	"waymark/signpost"
)

// A text to the signposting number (WAYMARK_TWILIO_DIRECTORY_NUMBER) is a
// lookup: a place — a postcode, sector, district or town — and what is
// needed, in any order and in everyday words: "SO14 refuge", "Cardiff
// men", "need somewhere safe near LS1", "perpetrator". Either half may be
// missing; a text with neither is not understood and gets SMSHelp.

// ErrNotUnderstood means a text held no place and no need Waymark understands.
var ErrNotUnderstood = errors.New("signpost: lookup not understood")

// MaxLen bounds a lookup text: a few concatenated SMS segments.
const MaxLen = 480

// SMSHelp is the one short, neutral answer to a text that is not
// understood: how to ask, and 999 (one GSM-7 segment).
const SMSHelp = "Text a postcode or town and what you need, e.g. SO14 refuge or Cardiff men. In danger now, call 999."

// Request is a signposting text, understood.
type Request struct {
	Query signpost.Query
	// Place is the place as understood, for the answer: "SO14 7DU",
	// "SO14", "Cardiff"; empty when none was given.
	Place string
	// Needs are the everyday phrases recognised ("refuge", "men").
	Needs []string
}

// Parse reads a signposting text. Words that are neither a place
// nor a recognised need are ignored rather than matched literally: a text
// is short and typed in a hurry, and "tonight" or "pls" must not filter
// every service out.
func Parse(text string) (Request, error) {
	if len(text) > MaxLen {
		return Request{}, ErrNotUnderstood
	}
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '+' && r != '\''
	})
	used := make([]bool, len(words))
	var l Request
	// A postcode, sector or district: one word with a digit ("SO14",
	// "so147du"), or two ("SO14 7DU", "SO14 7").
	for i := 0; i < len(words) && l.Place == ""; i++ {
		if !hasLetterAndDigit(words[i]) {
			continue
		}
		if i+1 < len(words) && len(words[i+1]) <= 3 && words[i+1][0] >= '0' && words[i+1][0] <= '9' {
			if a, err := postcode.ParseArea(words[i] + " " + words[i+1]); err == nil {
				l.Place, l.Query.Near = a.String(), a.String()
				used[i], used[i+1] = true, true
				break
			}
		}
		if a, err := postcode.ParseArea(words[i]); err == nil {
			l.Place, l.Query.Near = a.String(), a.String()
			used[i] = true
		}
	}
	// A town or city, up to three words ("milton keynes").
	if l.Place == "" {
		lower := make([]string, len(words))
		for i, w := range words {
			lower[i] = strings.ToLower(w)
		}
	towns:
		for n := 3; n >= 1; n-- {
			for i := 0; i+n <= len(words); i++ {
				name := strings.Join(lower[i:i+n], " ")
				if d, ok := towns[name]; ok {
					l.Place, l.Query.Near = townName(name), d
					for j := i; j < i+n; j++ {
						used[j] = true
					}
					break towns
				}
			}
		}
	}
	var rest []string
	for i, w := range words {
		if !used[i] {
			rest = append(rest, w)
		}
	}
	r := signpost.ReadText(strings.Join(rest, " "))
	l.Query.Categories, l.Query.Audience, l.Needs = r.Categories, r.Audience, r.Matched
	if l.Place == "" && len(l.Needs) == 0 {
		return Request{}, ErrNotUnderstood
	}
	if len(l.Query.Categories) == 0 {
		// A place alone: the services for domestic abuse in general.
		l.Query.Categories = []signpost.Category{signpost.CategoryDomesticAbuse, signpost.CategoryRefuge, signpost.CategoryOutreach, signpost.CategoryIDVAISVA}
	}
	return l, nil
}

func hasLetterAndDigit(s string) bool {
	var l, d bool
	for _, r := range s {
		l = l || unicode.IsLetter(r)
		d = d || unicode.IsDigit(r)
	}
	return l && d
}

func townName(lower string) string {
	words := strings.Fields(lower)
	for i, w := range words {
		if w != "on" && w != "upon" && w != "under" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// FormatSMS answers a lookup within maxSegments GSM-7 segments:
// where and what it understood, then the services as formatSMS lists them,
// then, when it fits and no emergency line is already listed, how to reach
// the police in danger. For example:
//
//	SO14 refuge: Open now: Itchen Haven Refuge via 0808 157 0102 (24h); Nat. DA Helpline 0808 2000 247 (24h). In danger: 999.
func FormatSMS(l Request, results signpost.Results, maxSegments int) string {
	head := l.Place
	if len(l.Needs) > 0 {
		if head != "" {
			head += " "
		}
		head += strings.Join(l.Needs, ", ")
	}
	head = shorten(gsmSafe(head), 40)
	limit := smsLimit(maxSegments)
	body := formatSMS(head+": ", results, limit)
	if len(results.Results) == 0 {
		body = head + ": no service found. " + SMSHelp
		if gsmLen(body) > limit {
			body = SMSHelp
		}
		return body
	}
	const danger = " In danger: 999."
	if !offers999(body) && gsmLen(body+danger) <= limit {
		body += danger
	}
	return body
}

// offers999 reports whether an answer already gives 999 as a number of its
// own ("Police 999", "emergencySMS text 999"), so that it is not said
// twice; 999 inside another number ("0800 999 5428") does not count.
func offers999(s string) bool {
	digit := func(i int) bool { return i >= 0 && i < len(s) && s[i] >= '0' && s[i] <= '9' }
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "999")
		if j < 0 {
			return false
		}
		j += i
		k := j + 3
		before := j == 0 || (s[j-1] == ' ' && !digit(j-2)) || (s[j-1] != ' ' && !digit(j-1))
		after := k == len(s) || (!digit(k) && !(s[k] == ' ' && digit(k+1)))
		if before && after {
			return true
		}
		i = j + 1
	}
	return false
}
