package codeword

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fields splits s into its words, normalised for matching: NFKC, case
// folded, with the matching equivalences of the package documentation. A
// word is a run of letters and digits (with the combining marks that follow
// them); punctuation, symbols, emoji and spaces separate words, apostrophes
// inside a word are dropped and invisible format characters are ignored.
// It returns nil when s has no words.
func Fields(s string) []string {
	sc := newScanner()
	sc.scan(s, false)
	if len(sc.tokens) == 0 {
		return nil
	}
	out := make([]string, len(sc.tokens))
	for i := range sc.tokens {
		out[i] = string(sc.word(i))
	}
	return out
}

// folder walks a string as NFKC segments, each case folded (and
// re-normalised when folding produced a non-NFKC sequence), together with the
// byte range of the original string the segment came from. Working per
// segment is what lets a match be mapped back onto the survivor's own text
// for the hint.
type folder struct {
	it   norm.Iter
	c    cases.Caser
	one  [1]byte
	tmp  [96]byte
	tmp2 [96]byte
	acc  []byte
}

func (f *folder) init(s string) {
	f.c = cases.Fold()
	f.it.InitString(norm.NFKC, s)
}

// next returns the next folded segment and its original byte range
// [ob, oe). The segment is valid until the following call.
func (f *folder) next() (seg []byte, ob, oe int, ok bool) {
	if f.it.Done() {
		return nil, 0, 0, false
	}
	ob = f.it.Pos()
	seg = f.it.Next()
	if f.it.Pos() == ob && !f.it.Done() {
		// A long decomposition (ŀ is l·, ﷺ is a whole phrase) comes in
		// several pieces before the position moves: gather them, so every
		// output byte maps to the source bytes it came from.
		f.acc = append(f.acc[:0], seg...)
		for f.it.Pos() == ob && !f.it.Done() {
			f.acc = append(f.acc, f.it.Next()...)
		}
		seg = f.acc
	}
	oe = f.it.Pos()
	return f.fold(seg), ob, oe, true
}

// fold case-folds one NFKC segment, avoiding allocation and the case
// tables for the common cases: ASCII, scripts with no case (Urdu, CJK), and
// text already folded, which Span passes whole.
func (f *folder) fold(seg []byte) []byte {
	if len(seg) == 1 && seg[0] < utf8.RuneSelf {
		b := seg[0]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		f.one[0] = b
		return f.one[:]
	}
	if caseless(seg) {
		return seg
	}
	if n, err := f.c.Span(seg, true); n == len(seg) && err == nil {
		return seg
	}
	if hasCherokee(seg) {
		return f.foldCherokee(seg)
	}
	f.c.Reset()
	var out []byte
	nDst, nSrc, err := f.c.Transform(f.tmp[:], seg, true)
	if err == nil && nSrc == len(seg) {
		out = f.tmp[:nDst]
	} else {
		out = f.c.Bytes(seg)
	}
	// Folding can leave a sequence NFKC would compose differently
	// (ΐ folds to ΐ), so re-normalise the segment.
	if !norm.NFKC.IsNormal(out) {
		out = norm.NFKC.Append(f.tmp2[:0], out...)
	}
	return out
}

// hasCherokee reports whether b holds a Cherokee letter. x/text's case
// folder swaps Cherokee upper and lower case both ways, so folding would not
// be idempotent; CaseFolding.txt folds Cherokee to the upper case.
func hasCherokee(b []byte) bool {
	for _, r := range string(b) {
		if isCherokee(r) {
			return true
		}
	}
	return false
}

func isCherokee(r rune) bool {
	return 0x13A0 <= r && r <= 0x13FD || 0xAB70 <= r && r <= 0xABBF
}

// foldCherokee folds a segment holding Cherokee as CaseFolding.txt does.
func (f *folder) foldCherokee(seg []byte) []byte {
	out := f.tmp2[:0]
	for _, r := range string(seg) {
		switch {
		case 0xAB70 <= r && r <= 0xABBF:
			out = utf8.AppendRune(out, r-0xAB70+0x13A0)
		case 0x13F8 <= r && r <= 0x13FD:
			out = utf8.AppendRune(out, r-8)
		case isCherokee(r):
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, f.c.String(string(r))...)
		}
	}
	if !norm.NFKC.IsNormal(out) {
		out = norm.NFKC.Append(nil, out...)
	}
	return out
}

// caseless reports whether seg is made only of runes from blocks with no
// case at all (Hebrew, Arabic, the Indic scripts, Thai, CJK, Hangul): a
// cheaper test than asking the case folder, for the scripts that need it
// most.
func caseless(seg []byte) bool {
	for _, r := range string(seg) {
		switch {
		case 0x0590 <= r && r < 0x10A0, 0x1100 <= r && r < 0x1200,
			0x3000 <= r && r < 0xA000, 0xAC00 <= r && r < 0xD7A4:
		default:
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// tidy collapses whitespace runs to one space and strips everything before
// the first letter or digit and after the last one (keeping the combining
// marks that follow it). It works in place.
func tidy(b []byte) []byte {
	out := b[:0]
	keepEnd := 0
	pendingSpace := false
	lastKept := false
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		chunk := b[i : i+size]
		i += size
		ln := isLetterOrNumber(r)
		switch {
		case len(out) == 0 && !ln:
			continue
		case unicode.IsSpace(r):
			pendingSpace = true
			lastKept = false
			continue
		}
		if pendingSpace {
			out = append(out, ' ')
			pendingSpace = false
		}
		out = append(out, chunk...)
		switch {
		case ln || (lastKept && unicode.IsMark(r)):
			keepEnd = len(out)
			lastKept = true
		case isIgnorable(r):
			// Invisible: a mark after it still belongs to the letter.
		default:
			lastKept = false
		}
	}
	return out[:keepEnd]
}

// tidyString is tidy for a string, returning a substring of s (no copy)
// when only its edges need trimming.
func tidyString(s string) string {
	start, end := -1, 0
	lastKept := false
	dirty := -1 // start of the last whitespace that tidy would rewrite
	prevSpace := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		ln := isLetterOrNumber(r)
		if start < 0 && ln {
			start = i
		}
		switch {
		case start < 0:
		case unicode.IsSpace(r):
			if r != ' ' || prevSpace {
				dirty = i
			}
			prevSpace = true
			lastKept = false
		case ln || lastKept && unicode.IsMark(r):
			end = i + size
			lastKept = true
		case isIgnorable(r):
		default:
			lastKept = false
		}
		if !unicode.IsSpace(r) {
			prevSpace = false
		}
		i += size
	}
	if start < 0 {
		return ""
	}
	if dirty >= 0 && dirty < end {
		return string(tidy([]byte(s[start:end])))
	}
	return s[start:end]
}

func isLetterOrNumber(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isIgnorable reports runes that neither join nor split words: format
// characters (zero-width joiners and spaces, bidi marks, soft hyphen, tag
// characters), variation selectors and the combining grapheme joiner.
// Keyboards and copy-paste insert them unpredictably.
func isIgnorable(r rune) bool {
	if r < 0xAD {
		return false
	}
	switch {
	case 0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF,
		0x180B <= r && r <= 0x180F, r == 0x034F:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// isUnspaced reports letters of scripts written without spaces between
// words.
func isUnspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// isApostrophe reports the apostrophes phones and keyboards type inside
// words: ASCII, the typographic ones autocorrect produces, and the modifier
// letter apostrophe.
func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02BC'
}

// token is one word of a scanned text.
type token struct {
	kb, ke int32  // the word's key in scanner.key
	rb, re int32  // the word's runes in scanner.runes
	ob, oe int32  // the word's bytes in the original text
	mask   uint64 // runeBit of each of its runes, for the fuzzy prefilter
}

// runeBit maps a rune to one of 64 bits. Distinct runes may share a bit,
// which only weakens the prefilter built on it, never wrongs it.
func runeBit(r rune) uint64 { return 1 << (uint(r) & 63) }

// scanner splits a text into words keyed for matching. Its keys are the
// words joined by single spaces, so a phrase of consecutive words is one
// contiguous substring of key (and of runes).
//
// A scanner lives on its caller's stack with backing arrays sized for a
// 160-character SMS in any script, so Match allocates nothing to read an
// ordinary message. To keep it there, the slices only ever grow through
// grow* (fresh heap copies) and are otherwise re-sliced in place: an append
// through the pointer would make the compiler move the arrays to the heap.
type scanner struct {
	key    []byte
	runes  []rune
	tokens []token
	size   int  // length of the text, to size the slices when they grow
	withR  bool // also collect runes, for fuzzy matching
	in     bool // inside a word
	apos   bool // an apostrophe followed the last word rune
	// unspaced: the open word is one letter of a script without spaces.
	unspaced bool

	keyArr  [512]byte
	runeArr [192]rune
	tokArr  [64]token
	dp      [3 * (MaxRunes + MaxEdits + 1)]int32 // rows of the edit distance
}

// scan scans text into s, which must be fresh: either from newScanner, or a
// local variable whose slices the caller points at its arrays itself
// (doing it here would move the variable to the heap).
func (s *scanner) scan(text string, withRunes bool) {
	s.withR = withRunes
	s.size = len(text)
	switch {
	case isASCII(text):
		// ASCII is NFKC already and folds by lowering A–Z.
		for i := 0; i < len(text); i++ {
			b := rune(text[i])
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			s.feed(b, i, i+1)
		}
	case utf8.ValidString(text):
		s.scanPart(text, 0, len(text))
	default:
		// Invalid bytes are separators. Scanning valid runs one by one
		// keeps the offsets pointing into the original text, which
		// strings.ToValidUTF8 would shift.
		start := 0
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				s.scanPart(text, start, i)
				s.feed(utf8.RuneError, i, i+1)
				start = i + 1
			}
			i += size
		}
		s.scanPart(text, start, len(text))
	}
}

// scanPart scans the valid UTF-8 text[from:to] segment by segment.
func (s *scanner) scanPart(text string, from, to int) {
	if from >= to {
		return
	}
	f := new(folder) // norm.Iter escapes through its function fields anyway
	f.init(text[from:to])
	for {
		seg, ob, oe, ok := f.next()
		if !ok {
			break
		}
		for i := 0; i < len(seg); {
			r, size := utf8.DecodeRune(seg[i:])
			i += size
			s.feed(r, from+ob, from+oe)
		}
	}
}

// feed adds one folded rune that came from original bytes [ob, oe).
func (s *scanner) feed(r rune, ob, oe int) {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if s.unspaced {
				s.in = false
				s.unspaced = false
			}
			s.put(r, ob, oe)
			return
		}
		if r == '\'' {
			if s.in {
				s.apos = true
			}
			return
		}
		s.in, s.apos = false, false
	case unicode.IsLetter(r), unicode.IsNumber(r):
		s.add(r, ob, oe)
	case isApostrophe(r):
		if s.in {
			s.apos = true
		}
	case isIgnorable(r):
	case unicode.IsMark(r) && s.in && !s.apos:
		// Turkish İ folds to i + combining dot above, and keycaps (1️⃣) are
		// a digit with an enclosing mark: both are the bare character.
		if r == 0x0307 && s.key[len(s.key)-1] == 'i' || unicode.Is(unicode.Me, r) {
			s.tokens[len(s.tokens)-1].oe = int32(oe)
			return
		}
		s.put(r, ob, oe)
	default:
		s.in, s.apos = false, false
	}
}

// add appends a non-ASCII letter or digit, applying the matching
// equivalences. Letters of scripts written without spaces between words
// (Han, kana, Thai, Lao, Khmer, Myanmar) are each a word of their own, so a
// code word in Chinese is found inside a sentence as whole characters.
func (s *scanner) add(r rune, ob, oe int) {
	unspaced := false
	switch {
	case r == 'ı': // dotless i: Turkish keyboards
		r = 'i'
	case unicode.IsDigit(r):
		r = '0' + rune(digitValue(r))
	case r >= 0x0E00:
		unspaced = isUnspaced(r)
	}
	if unspaced || s.unspaced {
		s.in = false
	}
	s.unspaced = unspaced
	s.put(r, ob, oe)
}

// put appends r to the current word, starting a new word at original
// offset ob when none is open.
func (s *scanner) put(r rune, ob, oe int) {
	if !s.in {
		if len(s.tokens) > 0 {
			s.putKey(' ')
			if s.withR {
				s.putRune(' ')
			}
		}
		if len(s.tokens) == cap(s.tokens) {
			s.tokens = growTokens(s.tokens, s.size/4+1)
		}
		s.tokens = s.tokens[:len(s.tokens)+1]
		s.tokens[len(s.tokens)-1] = token{kb: int32(len(s.key)), rb: int32(len(s.runes)), ob: int32(ob)}
		s.in = true
	}
	s.apos = false
	s.putKey(r)
	if s.withR {
		s.putRune(r)
	}
	t := &s.tokens[len(s.tokens)-1]
	t.ke, t.re, t.oe = int32(len(s.key)), int32(len(s.runes)), int32(oe)
	t.mask |= runeBit(r)
}

// newScanner returns a fresh scanner on the heap.
func newScanner() *scanner {
	s := new(scanner)
	s.key, s.runes, s.tokens = s.keyArr[:0], s.runeArr[:0], s.tokArr[:0]
	return s
}

func (s *scanner) putKey(r rune) {
	n := len(s.key)
	if n+utf8.UTFMax > cap(s.key) {
		s.key = growBytes(s.key, s.size+s.size/4)
	}
	if r < utf8.RuneSelf {
		s.key = s.key[:n+1]
		s.key[n] = byte(r)
		return
	}
	s.key = s.key[:n+utf8.UTFMax]
	s.key = s.key[:n+utf8.EncodeRune(s.key[n:], r)]
}

func (s *scanner) putRune(r rune) {
	n := len(s.runes)
	if n == cap(s.runes) {
		s.runes = growRunes(s.runes, s.size)
	}
	s.runes = s.runes[:n+1]
	s.runes[n] = r
}

// growBytes, growRunes and growTokens return a copy of b with room for at
// least hint elements (the text's length, as a guess), so that a long
// message grows each slice about once.
func growBytes(b []byte, hint int) []byte {
	g := make([]byte, len(b), max(2*cap(b), hint)+utf8.UTFMax)
	copy(g, b)
	return g
}

func growRunes(b []rune, hint int) []rune {
	g := make([]rune, len(b), max(2*cap(b), hint)+1)
	copy(g, b)
	return g
}

func growTokens(b []token, hint int) []token {
	g := make([]token, len(b), max(2*cap(b), hint)+1)
	copy(g, b)
	return g
}

// word returns the key of token i.
func (s *scanner) word(i int) []byte {
	return s.key[s.tokens[i].kb:s.tokens[i].ke]
}

// digitValue returns the value of a decimal digit of any script. Unicode
// encodes every decimal digit (Nd) in contiguous runs of whole blocks 0–9,
// so the value is the count of digits before r in its run, modulo 10.
func digitValue(r rune) int {
	n := 0
	for c := r - 1; n < 100 && unicode.IsDigit(c); c-- {
		n++
	}
	return n % 10
}
