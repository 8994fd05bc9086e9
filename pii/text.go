package pii

import (
	"fmt"
	"log/slog"
)

// Text is free text that may identify a person: a message body, a note, a
// name, an address. Its zero value is the empty text. It redacts itself when
// printed, logged or marshalled; Reveal returns the text.
type Text struct {
	s *string
}

// NewText wraps s. The empty string gives the zero Text.
func NewText(s string) Text {
	if s == "" {
		return Text{}
	}
	return Text{s: &s}
}

// Reveal returns the text. Call it only where the text itself is needed.
func (t Text) Reveal() string {
	if t.s == nil {
		return ""
	}
	return *t.s
}

// Len returns the length of the text in bytes; it reveals nothing else.
func (t Text) Len() int { return len(t.Reveal()) }

// IsZero reports whether t is empty.
func (t Text) IsZero() bool { return t.s == nil }

// Equal reports whether t and o hold the same text. It also lets go-cmp
// compare Texts.
func (t Text) Equal(o Text) bool { return t.Reveal() == o.Reveal() }

// String returns Redacted.
func (t Text) String() string { return Redacted }

// GoString returns a redacted Go-syntax form, for %#v.
func (t Text) GoString() string { return goString("Text") }

// Format prints Redacted for every verb.
func (t Text) Format(f fmt.State, verb rune) { formatRedacted(f, verb, "Text") }

// LogValue returns Redacted, so slog never sees the text.
func (t Text) LogValue() slog.Value { return redactedValue() }

// MarshalJSON returns the JSON string "[redacted]".
func (t Text) MarshalJSON() ([]byte, error) { return redactedJSONCopy(), nil }

// MarshalText returns Redacted, for encoders that prefer
// encoding.TextMarshaler.
func (t Text) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
