package codeword

import (
	"errors"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is what an inbound message means for its case.
type Kind int

// Kinds, in rising priority except None. None is the zero value and is never
// returned by Match, so an unset Match is not mistaken for a message.
const (
	None    Kind = iota
	Message      // anything else: still reaches the team, at low priority
	CheckIn      // check-in word and a PIN; the caller tells real from duress PIN
	Panic        // a code word
	Duress       // a duress word
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case Message:
		return "message"
	case CheckIn:
		return "checkin"
	case Panic:
		return "panic"
	case Duress:
		return "duress"
	}
	return "none"
}

// Match is the reading of one inbound message.
type Match struct {
	Kind Kind
	// Unconfirmed is set when Kind (Panic or Duress) rests only on a fuzzy
	// match: a word within MaxEdits of an enrolled word of FuzzyMinRunes or
	// more. An exact panic with a fuzzy duress is Duress, Unconfirmed.
	Unconfirmed bool
	// PIN holds the 4–8 digits (as ASCII, whatever script they were typed
	// in) after the check-in word at the start of the message. It is set
	// whenever such a prefix was read, even when a code or duress word later
	// in the message raised Kind above CheckIn: the caller must still
	// compare it, because a duress PIN makes the signal Duress.
	PIN string
	// Hint is the survivor's free text around the matched word or phrase
	// (after the check-in PIN for CheckIn), kept as a location hint: NFKC,
	// whitespace collapsed and edges trimmed, but NOT case folded, so a
	// postcode or a street name reads as typed. Text before and after a
	// phrase found mid-message is joined with " … ". Empty for Message.
	Hint string
	// CarrierKeyword is set when the whole message is a carrier keyword
	// (STOP, HELP, ...); OptOut when it is an opt-out one, after which the
	// network refuses texts to the sender: the caller marks the case SMS
	// blocked. Such a message is Kind Message unless it is also an enrolled
	// word, which CheckWords refuses but older enrolments might hold.
	CarrierKeyword bool
	OptOut         bool
}

// Words are a case's words as enrolled (raw, as the caseworker typed them).
// CheckIn is the deployment's check-in word; empty turns SMS check-ins off.
type Words struct {
	Code, Duress []string
	CheckIn      string
}

// Matcher matches messages against one case's words. Compile it once per
// case; it is immutable and safe for concurrent use.
type Matcher struct {
	code, duress []phrase
	checkin      phrase
	fuzzy        bool // some phrase is long enough to match fuzzily
}

// Compile prepares w for matching. It fails only for words with no letters
// or digits, which nothing could match (errors.Join of a *WordError wrapping
// ErrEmpty for each). It deliberately does not apply CheckWords, so words
// enrolled under older rules keep matching rather than silently stopping.
func Compile(w Words) (*Matcher, error) {
	m := &Matcher{}
	var errs []error
	add := func(list []string, role string) []phrase {
		out := make([]phrase, 0, len(list))
		for i, raw := range list {
			p := compilePhrase(raw)
			if p.words == 0 {
				errs = append(errs, &WordError{Word: raw, Role: role, Index: i, Err: ErrEmpty})
				continue
			}
			m.fuzzy = m.fuzzy || p.fuzzy
			out = append(out, p)
		}
		return out
	}
	m.code = add(w.Code, RoleCode)
	m.duress = add(w.Duress, RoleDuress)
	if w.CheckIn != "" {
		m.checkin = compilePhrase(w.CheckIn)
		if m.checkin.words == 0 {
			errs = append(errs, &WordError{Word: w.CheckIn, Role: RoleCheckIn, Err: ErrEmpty})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// span is a run of words [i, j) of a scanned message.
type span struct{ i, j int }

// Match reads one inbound message. It never fails: whatever is not a code
// word, duress word or check-in is Kind Message, so nothing is dropped.
//
// Its work is linear in the message length: fuzzy comparisons run only
// between runs of words whose lengths are within MaxEdits runes of a phrase
// and that pass a cheap character-set bound, on phrases of at most MaxRunes.
// Reading a short ASCII message allocates nothing (its buffers live on the
// stack); other scripts add one buffer, messages longer than about 190
// characters grow each buffer about once, and the PIN and a Hint that is not
// a plain slice of the message are the only other allocations.
func (m *Matcher) Match(message string) Match {
	var sc scanner
	sc.key, sc.runes, sc.tokens = sc.keyArr[:0], sc.runeArr[:0], sc.tokArr[:0]
	s := &sc
	s.scan(message, m.fuzzy)

	var res Match
	res.Kind = Message
	if len(s.tokens) == 0 {
		return res
	}
	if len(s.tokens) == 1 {
		res.CarrierKeyword, res.OptOut = carrierKeyword(string(s.word(0)))
	}

	from, fromByte := 0, 0
	if pin, next, ok := m.checkIn(s); ok {
		res.Kind = CheckIn
		res.PIN = string(pin)
		from = next
		fromByte = int(s.tokens[next-1].oe)
	}

	var hit span
	found := false
	if hit, found = findExact(s, m.duress, from); found {
		res.Kind, res.Unconfirmed = Duress, false
	} else if hit, found = findFuzzy(s, m.duress, from); found {
		res.Kind, res.Unconfirmed = Duress, true
	} else if hit, found = findExact(s, m.code, from); found {
		res.Kind, res.Unconfirmed = Panic, false
	} else if hit, found = findFuzzy(s, m.code, from); found {
		res.Kind, res.Unconfirmed = Panic, true
	}
	switch {
	case found:
		ob, oe := s.tokens[hit.i].ob, s.tokens[hit.j-1].oe
		res.Hint = hintOf(message[fromByte:ob], message[oe:])
	case res.Kind == CheckIn:
		res.Hint = hintOf("", message[fromByte:])
	}
	return res
}

// checkIn reads the check-in word and PIN at the start of a message,
// returning the PIN's digits and the index of the token after it.
func (m *Matcher) checkIn(s *scanner) (pin []byte, next int, ok bool) {
	c := m.checkin
	if c.words == 0 || len(s.tokens) < c.words {
		return nil, 0, false
	}
	n := c.words
	first := s.tokens[0].kb
	lastEnd := s.tokens[n-1].ke
	head := s.key[first:lastEnd]
	switch {
	case string(head) == c.key:
		// "OK 1234", "ok:1234", "Ok, 1234!": the PIN is the next word.
		if len(s.tokens) == n || !validPIN(s.word(n)) {
			return nil, 0, false
		}
		return s.word(n), n + 1, true
	case len(head) > len(c.key) && string(head[:len(c.key)]) == c.key:
		// "OK1234": the PIN glued to a check-in word that ends in a letter.
		d := s.key[int(first)+len(c.key) : lastEnd]
		if last, _ := utf8.DecodeLastRuneInString(c.key); isDigit(last) || !validPIN(d) {
			return nil, 0, false
		}
		return d, n, true
	}
	return nil, 0, false
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// validPIN reports whether d is 4–8 ASCII digits (keys hold every script's
// digits as ASCII).
func validPIN(d []byte) bool {
	if len(d) < 4 || len(d) > 8 {
		return false
	}
	for _, b := range d {
		if !isDigit(rune(b)) {
			return false
		}
	}
	return true
}

// findExact returns the earliest occurrence, at or after token from, of any
// of the phrases as consecutive whole words.
func findExact(s *scanner, ps []phrase, from int) (span, bool) {
	for i := from; i < len(s.tokens); i++ {
		rest := s.key[s.tokens[i].kb:]
		for _, p := range ps {
			j := i + p.words
			if j > len(s.tokens) || len(rest) < len(p.key) || rest[0] != p.key[0] {
				continue
			}
			if int(s.tokens[j-1].ke-s.tokens[i].kb) == len(p.key) && string(rest[:len(p.key)]) == p.key {
				return span{i, j}, true
			}
		}
	}
	return span{}, false
}

// findFuzzy returns the earliest run of words, at or after token from, within
// MaxEdits of a phrase long enough to match fuzzily. Runs of one word fewer
// or more than the phrase are tried too, so "rosegarden" and "rose gar den"
// still find "rose garden"; only runs whose rune length is within MaxEdits
// of the phrase's are compared at all.
func findFuzzy(s *scanner, ps []phrase, from int) (span, bool) {
	if len(s.runes) == 0 {
		return span{}, false
	}
	for i := from; i < len(s.tokens); i++ {
		for pi := range ps {
			p := &ps[pi]
			if !p.fuzzy {
				continue
			}
			var wm uint64
			for w := 1; w <= p.words+1 && i+w <= len(s.tokens); w++ {
				j := i + w
				wm |= s.tokens[j-1].mask
				d := int(s.tokens[j-1].re-s.tokens[i].rb) - len(p.runes)
				if d > MaxEdits {
					break // runs only get longer
				}
				if w < p.words-1 || d < -MaxEdits {
					continue
				}
				// Each edit adds at most one rune the phrase lacks and
				// removes at most one it has: a cheap bound that rules out
				// most ordinary words before the distance is computed.
				if bits.OnesCount64(wm&^p.mask) > MaxEdits || bits.OnesCount64(p.mask&^wm) > MaxEdits {
					continue
				}
				if within(s.runes[s.tokens[i].rb:s.tokens[j-1].re], p.runes, MaxEdits, s.dp[:]) {
					return span{i, j}, true
				}
			}
		}
	}
	return span{}, false
}

// hintOf builds the location hint from the text before and after a match:
// NFKC, whitespace collapsed, edges trimmed, case kept.
func hintOf(before, after string) string {
	b, a := hintPart(before), hintPart(after)
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return b + " … " + a
}

func hintPart(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !isASCII(s) {
		s = norm.NFKC.String(s) // s itself when already normal
	}
	return tidyString(s)
}
