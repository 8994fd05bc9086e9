// Package pii holds value types for personal data — phone numbers, free text
// and locations — that redact themselves wherever they could leak: fmt verbs,
// log/slog, encoding/json and error messages all see "[redacted]". Each type
// has an explicit Reveal method as the only way to the underlying value, so
// every place that handles the real data is easy to find with grep.
//
// The values are held behind a pointer so that even reflection-based printing
// of a struct that embeds them in an unexported field (where fmt cannot call
// their methods) shows an address rather than the data.
//
// The package also provides a slog logger whose ReplaceAttr blanks attributes
// with known sensitive keys and masks phone-number-like digit runs in strings,
// as a backstop for mistakes elsewhere.
package pii
