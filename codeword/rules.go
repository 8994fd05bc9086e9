package codeword

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels for CheckWords and Compile. Each refusal is a *WordError
// wrapping one of them, so callers test with errors.Is.
var (
	// ErrCarrierKeyword: the word is one the phone network acts on itself
	// (STOP, HELP, ...); a survivor sending it would be opted out of texts
	// or sent the network's reply instead of raising an alert.
	ErrCarrierKeyword = errors.New("codeword: carrier keyword")
	// ErrTooShort: the word has fewer than MinLetters letters.
	ErrTooShort = errors.New("codeword: too short")
	// ErrClash: the word could not be told apart from another word of the
	// case or from the check-in word.
	ErrClash = errors.New("codeword: clashes with another word")
	// ErrEmpty: the word has no letters or digits at all.
	ErrEmpty = errors.New("codeword: no letters or digits")
	// ErrTooLong: the word or phrase is over MaxRunes long. A survivor must
	// be able to type it quickly, and matching work grows with it.
	ErrTooLong = errors.New("codeword: too long")
)

// MinLetters is the fewest letters a code or duress word (or phrase, counted
// over all its words) may have. Letters are counted as Unicode letters, not
// bytes: "گلاب" has four.
const MinLetters = 4

// FuzzyMinRunes is the length, in runes of the word or phrase without its
// spaces, from which a word also matches within two edits.
const FuzzyMinRunes = 6

// MaxEdits is the edit distance within which a long word matches fuzzily.
const MaxEdits = 2

// MaxRunes is the longest a code or duress word or phrase may be, in runes
// without its spaces. Longer words enrolled before this rule still match
// exactly, but not fuzzily, which keeps Match's work bounded.
const MaxRunes = 64

// Roles used in WordError.Role and WordError.OtherRole.
const (
	RoleCode    = "code word"
	RoleDuress  = "duress word"
	RoleCheckIn = "check-in word"
)

// WordError reports one refused word. Its Error text names the word, as a
// caseworker needs to see it; the word is a secret of the case, so log
// errors.Is(err, sentinel) or the LogValue form, never Error().
type WordError struct {
	Word  string // the word as entered
	Role  string // RoleCode or RoleDuress
	Index int    // position of Word in its list
	// Other and OtherRole name the word it clashes with (ErrClash only).
	Other     string
	OtherRole string
	Err       error // one of the sentinels
}

// Error names the word and what is wrong with it, e.g.
// `codeword: code word "STOP" is a carrier keyword the phone network acts on`.
func (e *WordError) Error() string {
	var why string
	switch e.Err {
	case ErrCarrierKeyword:
		why = "is a carrier keyword the phone network acts on (STOP, HELP, CANCEL, ...)"
	case ErrTooShort:
		why = fmt.Sprintf("is shorter than %d letters", MinLetters)
	case ErrClash:
		why = fmt.Sprintf("clashes with %s %q", e.OtherRole, e.Other)
	case ErrEmpty:
		why = "has no letters or digits"
	case ErrTooLong:
		why = fmt.Sprintf("is longer than %d characters", MaxRunes)
	default:
		why = fmt.Sprint(e.Err)
	}
	return fmt.Sprintf("codeword: %s %q %s", e.Role, e.Word, why)
}

// Unwrap returns the sentinel.
func (e *WordError) Unwrap() error { return e.Err }

// LogValue redacts the words, so a WordError logged through slog shows
// which word of the case failed which rule, never the word itself.
func (e *WordError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("role", e.Role),
		slog.Int("index", e.Index),
		slog.String("err", e.Err.Error()),
	)
}

// carrierKeyword reports whether key (one matching-form word) is a carrier
// keyword, and whether it opts the sender out. The list is Twilio's default
// and Advanced Opt-Out keywords; ARRET is the Canadian French opt-out, with
// its accented spelling, which carriers also honour.
func carrierKeyword(key string) (keyword, optOut bool) {
	switch key {
	case "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "arret", "arrêt":
		return true, true
	case "start", "yes", "unstop", "help", "info":
		return true, false
	}
	return false, false
}

// phrase is one enrolled word or phrase in matching form.
type phrase struct {
	raw     string
	key     string // words joined by single spaces
	words   int
	runes   []rune // key as runes, for fuzzy matching
	fuzzy   bool   // long enough to match within MaxEdits
	letters int
	mask    uint64 // runeBit of each rune but spaces
	long    bool   // over MaxRunes
}

func compilePhrase(raw string) phrase {
	sc := newScanner()
	sc.scan(raw, false)
	p := phrase{raw: raw, key: string(sc.key), words: len(sc.tokens)}
	p.runes = []rune(p.key)
	n := 0
	for _, r := range p.runes {
		if r != ' ' {
			n++
			p.mask |= runeBit(r)
		}
		if unicode.IsLetter(r) {
			p.letters++
		}
	}
	p.fuzzy = n >= FuzzyMinRunes && n <= MaxRunes
	p.long = n > MaxRunes
	return p
}

// clashes reports whether a message could match both a and b: equal, one
// contained in the other as whole words (matching finds a phrase anywhere),
// or both long enough for fuzzy matching and within MaxEdits of each other.
func clashes(a, b phrase) bool {
	if a.words == 0 || b.words == 0 {
		return false
	}
	if a.key == b.key || containsWords(a.key, b.key) || containsWords(b.key, a.key) {
		return true
	}
	return a.fuzzy && b.fuzzy && within(a.runes, b.runes, MaxEdits, nil)
}

// containsWords reports whether the words of small occur, consecutively and
// whole, in big.
func containsWords(big, small string) bool {
	for i := 0; ; {
		j := strings.Index(big[i:], small)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(small)
		if (j == 0 || big[j-1] == ' ') && (end == len(big) || big[end] == ' ') {
			return true
		}
		_, size := utf8.DecodeRuneInString(big[j:])
		i = j + size
	}
}

// CheckWords applies the enrolment rules to a case's code words, duress
// words and the deployment's check-in word (empty when check-ins by SMS are
// off). It returns nil, or errors.Join of one *WordError per problem, each
// naming the word: a word with no letters or digits (ErrEmpty), fewer than
// MinLetters letters (ErrTooShort), longer than MaxRunes (ErrTooLong),
// equal to a carrier keyword after
// normalisation (ErrCarrierKeyword), or clashing (ErrClash) with another
// word of the case — equal, one contained in the other as whole words, or
// within MaxEdits when both are long enough to match fuzzily — or with the
// check-in word (equal, or within MaxEdits when both are long enough).
// Phrases of several ordinary words are allowed and encouraged: the text
// stays in the phone's history and should look like any other message.
func CheckWords(codeWords, duressWords []string, checkinWord string) error {
	type entry struct {
		p     phrase
		role  string
		index int
	}
	entries := make([]entry, 0, len(codeWords)+len(duressWords))
	for i, w := range codeWords {
		entries = append(entries, entry{compilePhrase(w), RoleCode, i})
	}
	for i, w := range duressWords {
		entries = append(entries, entry{compilePhrase(w), RoleDuress, i})
	}
	var checkin phrase
	if checkinWord != "" {
		checkin = compilePhrase(checkinWord)
	}

	var errs []error
	for i, e := range entries {
		fail := func(err error) {
			errs = append(errs, &WordError{Word: e.p.raw, Role: e.role, Index: e.index, Err: err})
		}
		if e.p.words == 0 {
			fail(ErrEmpty)
			continue
		}
		if e.p.letters < MinLetters {
			fail(ErrTooShort)
		}
		if e.p.long {
			fail(ErrTooLong)
		}
		if k, _ := carrierKeyword(e.p.key); k && e.p.words == 1 {
			fail(ErrCarrierKeyword)
		}
		if checkin.words > 0 && (checkin.key == e.p.key || checkin.fuzzy && e.p.fuzzy && within(checkin.runes, e.p.runes, MaxEdits, nil)) {
			errs = append(errs, &WordError{Word: e.p.raw, Role: e.role, Index: e.index,
				Other: checkinWord, OtherRole: RoleCheckIn, Err: ErrClash})
		}
		for _, o := range entries[:i] {
			if clashes(o.p, e.p) {
				errs = append(errs, &WordError{Word: e.p.raw, Role: e.role, Index: e.index,
					Other: o.p.raw, OtherRole: o.role, Err: ErrClash})
			}
		}
	}
	return errors.Join(errs...)
}
