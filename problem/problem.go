// Package problem is Waymark's shared error vocabulary: a few sentinel
// kinds that every domain package wraps, and one validation error type with
// per-field problems. The HTTP layer maps these kinds to status codes in one
// place, so domain packages never know about HTTP.
//
// Error text must never carry personal data: ids, field names and rules
// only, never a phone number, message body, note or location.
package problem

import (
	"errors"
	"sort"
	"strings"
)

// Kinds of failure. Domain packages wrap them, for example
//
//	var ErrNotFound = fmt.Errorf("alert: %w", problem.ErrNotFound)
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrUnavailable  = errors.New("unavailable")
	ErrTooMany      = errors.New("too many requests")
	ErrTooLarge     = errors.New("too large")
)

// Field is one problem with one input field. Name is the field as the
// caller spelled it (a JSON field, query parameter or setting).
type Field struct {
	Name    string `json:"field"`
	Problem string `json:"problem"`
}

// Invalid is a validation error listing every bad field of an input.
type Invalid struct {
	Fields []Field
}

// Error joins the problems, one "name: problem" per line, in field order.
func (e *Invalid) Error() string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Problem)
	}
	return b.String()
}

// Add records a problem with a field.
func (e *Invalid) Add(name, problem string) {
	e.Fields = append(e.Fields, Field{Name: name, Problem: problem})
}

// Err returns e sorted by field name when it holds any problem, else nil.
func (e *Invalid) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	sort.SliceStable(e.Fields, func(i, j int) bool { return e.Fields[i].Name < e.Fields[j].Name })
	return e
}

// Invalidf returns a validation error for a single field.
func Invalidf(name, problem string) error {
	return &Invalid{Fields: []Field{{Name: name, Problem: problem}}}
}

// Claimed is returned when an alert was already claimed by someone else; it
// is a conflict that names the claimer (a staff display name, not a
// survivor's detail).
type Claimed struct {
	By string
}

func (e *Claimed) Error() string { return "already claimed by " + e.By }

// Unwrap makes a Claimed a conflict.
func (e *Claimed) Unwrap() error { return ErrConflict }

// Refused is an action the rules forbid at this moment, such as contact
// with a survivor that the contact verdict does not allow. It is a
// conflict whose Detail says why and what to do instead, in fixed words
// chosen by the code (never personal data): the one error whose words
// reach the client.
type Refused struct {
	Detail string
}

func (e *Refused) Error() string { return "refused: " + e.Detail }

// Unwrap makes a Refused a conflict.
func (e *Refused) Unwrap() error { return ErrConflict }
