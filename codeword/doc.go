// Package codeword is the grammar of Waymark's silent SMS signals: how a
// survivor's text is normalised, split into words and matched against the
// code words, duress words and check-in word enrolled on their case, and the
// rules a caseworker's chosen words must satisfy at enrolment.
//
// It is a pure leaf package shared by the case-enrolment rules (alert) and
// the SMS adapter (sms); it imports only the standard library and
// golang.org/x/text, so both sides agree on one definition of "the same
// word".
//
// # Normal form
//
// Text is normalised with NFKC and full Unicode case folding, in any script:
// full-width "ＲＯＳＥ" is "rose", "STRASSE" and "straße" are both "strasse",
// Greek final sigma folds to σ. For matching (Fields, Matcher) three further
// equivalences apply, because they are how phones and keyboards vary rather
// than how words differ: dotted and dotless i are one letter (Turkish
// keyboards), decimal digits of any script count as ASCII digits (Urdu and
// Arabic keyboards type ۱۲۳۴), and apostrophes inside a word are dropped
// (phones turn "don't" into "don’t"). Invisible format characters (zero-width
// joiners, bidi marks, variation selectors) are ignored. In scripts
// written without spaces between words (Chinese, Japanese kana, Thai, Lao,
// Khmer, Myanmar) each letter is a word of its own, so a code word is found
// inside a sentence; in every other script a word is a run of letters and
// digits, and punctuation, symbols and emoji separate words.
//
// # Matching
//
// A code or duress word may be a phrase. It matches as whole words anywhere
// in the message; at the start is the normal form ("rose garden SO14 7DZ"),
// but a survivor writing around it ("hi mum rose garden") must not be
// dropped. Everything else in the message becomes the Hint, kept in its
// original casing so a postcode survives. A message that matches nothing is
// Kind Message, which still reaches the case's team at low priority: a false
// negative is never a silent drop, so the grammar prefers exact, whole-word
// matching and marks anything looser Unconfirmed.
//
// Words and phrases of six letters or more (runes, not counting spaces) also
// match within two edits (optimal string alignment distance, so a swapped
// pair of letters is one edit, and a missing or extra space is one edit);
// such a match is Unconfirmed. Diacritics count as edits: "rozowy parasol"
// for "Różowy parasol" is an unconfirmed match. Precedence is duress (exact, then fuzzy) over panic (exact,
// then fuzzy) over check-in over message: a possible duress is never
// downgraded.
package codeword
