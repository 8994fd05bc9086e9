// Package respond is what every HTTP handler of Waymark shares: decoding
// and checking a JSON body at the edge, writing a JSON answer, and the one
// mapping from errors to statuses and fixed public messages.
package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"waymark/problem"
)

// MaxJSONBody caps every JSON request body; larger bodies get 413.
const MaxJSONBody = 64 << 10

// Responder writes answers and errors and decodes bodies for every
// handler: one logger for the errors it hides from clients, one validator.
type Responder struct {
	log      *slog.Logger
	validate *validator.Validate
}

// New returns a Responder logging unknown errors to log.
func New(log *slog.Logger) *Responder {
	return &Responder{log: log, validate: newValidator()}
}

// JSON writes v as the JSON answer with status.
func (s *Responder) JSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.Error(w, r, fmt.Errorf("server: encode answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Decode reads exactly one JSON object into v, refusing unknown fields and
// bodies over limit, then validates v's struct tags. Problems name the
// field as the client spelled it; the body itself is never logged.
func (s *Responder) Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return ErrNotJSON
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.ErrTooLarge
		}
		return problem.Invalidf("body", "must hold a single JSON object")
	}
	return s.Check(v)
}

// isJSON reports whether a Content-Type names JSON: application/json, with
// or without parameters such as charset.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return problem.ErrTooLarge
	case errors.Is(err, io.EOF):
		return problem.Invalidf("body", "must not be empty")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Invalidf("body", "malformed JSON")
	case errors.As(err, &typ):
		name := typ.Field
		if name == "" {
			name = "body"
		}
		return problem.Invalidf(name, "must be "+jsonKind(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Invalidf(name, "unknown field")
	default:
		return problem.Invalidf("body", "malformed JSON")
	}
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
}

// newValidator returns a validator that names fields by their JSON (or
// query) names, so problems match what the client sent.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		for _, tag := range []string{"json", "query"} {
			name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
			if name == "-" {
				return ""
			}
			if name != "" {
				return name
			}
		}
		return f.Name
	})
	return v
}

// Check runs the struct-tag rules and turns failures into problem.Invalid.
func (s *Responder) Check(v any) error {
	err := s.validate.Struct(v)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return fmt.Errorf("server: validate: %w", err)
	}
	inv := &problem.Invalid{}
	for _, fe := range ves {
		inv.Add(fieldPath(fe), ruleText(fe))
	}
	return inv.Err()
}

// fieldPath drops the struct name: "signalRequest.location.lat" → "location.lat".
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return fe.Field()
}

// ruleText explains a failed rule without echoing the value.
func ruleText(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice {
			return "must have at least " + p + " items or characters"
		}
		return "must be at least " + p
	case "max":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice {
			return "must have at most " + p + " items or characters"
		}
		return "must be at most " + p
	case "gte":
		return "must be at least " + p
	case "lte":
		return "must be at most " + p
	case "len":
		return "must have length " + p
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(p, " ", ", ")
	case "latitude":
		return "must be a latitude between -90 and 90"
	case "longitude":
		return "must be a longitude between -180 and 180"
	case "numeric":
		return "must hold digits only"
	case "e164":
		return "must be a phone number in international form"
	case "url", "http_url":
		return "must be a URL"
	case "base64url", "base64rawurl":
		return "must be base64url"
	case "dive":
		return "holds a bad item"
	default:
		return "fails rule " + fe.Tag()
	}
}
