package pii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// secrets returns one value of each pii type and the raw strings that must
// never appear when they are printed.
func secrets(t *testing.T) (Phone, Text, Location, []string) {
	t.Helper()
	p, err := ParsePhone("07700 900123", "GB")
	if err != nil {
		t.Fatal(err)
	}
	txt := NewText("meet me at the Crown, he is away")
	loc, err := NewLocation(50.9097, -1.4044, 12.5, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// Needles hold a dot or are long enough not to turn up by chance in a
	// pointer address printed in decimal or hex.
	return p, txt, loc, []string{"7700900", "7700 900", "900123", "Crown", "50.9", "1.40", "12.5", "e+01", "e+00"}
}

func assertClean(t *testing.T, what, out string, raw []string) {
	t.Helper()
	for _, r := range raw {
		if strings.Contains(out, r) {
			t.Errorf("%s leaks %q: %s", what, r, out)
		}
	}
}

func TestRedactFmt(t *testing.T) {
	p, txt, loc, raw := secrets(t)
	type exported struct {
		P Phone
		T Text
		L Location
	}
	type unexported struct {
		p Phone
		t Text
		l Location
	}
	values := map[string]any{
		"phone":      p,
		"text":       txt,
		"location":   loc,
		"*phone":     &p,
		"*text":      &txt,
		"*location":  &loc,
		"exported":   exported{p, txt, loc},
		"unexported": unexported{p, txt, loc},
		"*unexp":     &unexported{p, txt, loc},
		"slice":      []any{p, txt, loc},
		"map":        map[string]any{"p": p, "t": txt, "l": loc},
		"array":      [1]Phone{p},
	}
	verbs := []string{"%v", "%s", "%q", "%+v", "%#v", "%x", "%X", "%d", "%10.3f", "%p", "%T", "%t", "%08b"}
	for name, v := range values {
		for _, verb := range verbs {
			assertClean(t, name+" "+verb, fmt.Sprintf(verb, v), raw)
		}
		assertClean(t, name+" Sprint", fmt.Sprint(v), raw)
		assertClean(t, name+" Sprintln", fmt.Sprintln(v), raw)
		assertClean(t, name+" Errorf", fmt.Errorf("sending %v: %w", v, errors.New("boom")).Error(), raw)
	}
}

func TestRedactStrings(t *testing.T) {
	p, txt, loc, _ := secrets(t)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"phone String", p.String(), "[redacted]"},
		{"phone %v", fmt.Sprintf("%v", p), "[redacted]"},
		{"phone %q", fmt.Sprintf("%q", p), `"[redacted]"`},
		{"phone %#v", fmt.Sprintf("%#v", p), "pii.Phone{[redacted]}"},
		{"phone GoString", p.GoString(), "pii.Phone{[redacted]}"},
		{"text %s", fmt.Sprintf("%s", txt), "[redacted]"},
		{"text %#v", fmt.Sprintf("%#v", txt), "pii.Text{[redacted]}"},
		{"location %+v", fmt.Sprintf("%+v", loc), "[redacted]"},
		{"location %#v", fmt.Sprintf("%#v", loc), "pii.Location{[redacted]}"},
		{"zero phone", fmt.Sprint(Phone{}), "[redacted]"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestRedactJSON(t *testing.T) {
	p, txt, loc, raw := secrets(t)
	type body struct {
		Phone    Phone    `json:"phone"`
		Notes    Text     `json:"notes"`
		Where    Location `json:"where"`
		PtrPhone *Phone   `json:"ptr_phone"`
		Many     []Text   `json:"many"`
		ByID     map[string]Location
	}
	b, err := json.Marshal(body{p, txt, loc, &p, []Text{txt}, map[string]Location{"a": loc}})
	if err != nil {
		t.Fatal(err)
	}
	assertClean(t, "json", string(b), raw)
	want := `{"phone":"[redacted]","notes":"[redacted]","where":"[redacted]","ptr_phone":"[redacted]","many":["[redacted]"],"ByID":{"a":"[redacted]"}}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	for _, v := range []json.Marshaler{p, txt, loc} {
		got, _ := v.MarshalJSON()
		if string(got) != `"[redacted]"` {
			t.Errorf("MarshalJSON = %s", got)
		}
		got[1] = 'X' // callers may scribble on the result without effect
	}
	if got, _ := p.MarshalJSON(); string(got) != `"[redacted]"` {
		t.Errorf("MarshalJSON after scribble = %s", got)
	}
}

func TestRedactSlog(t *testing.T) {
	p, txt, loc, raw := secrets(t)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			// Without ReplaceAttr: the types must redact on their own.
			var h slog.Handler = slog.NewJSONHandler(&buf, nil)
			if format == "text" {
				h = slog.NewTextHandler(&buf, nil)
			}
			log := slog.New(h)
			log.Info("sent", "p", p, "t", txt, "l", loc, "ptr", &p)
			log.Info("nested", slog.Group("g", "p", p), "s", struct{ P Phone }{p}, "list", []Phone{p})
			log.With("p", p).WithGroup("x").Info("with", "t", txt)
			log.Info("err", "err", fmt.Errorf("send to %v failed", p))
			assertClean(t, format, buf.String(), raw)
			if !strings.Contains(buf.String(), "[redacted]") {
				t.Errorf("no [redacted] in output: %s", buf.String())
			}
		})
	}
}

func TestNewLocation(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name          string
		lat, lon, acc float64
		ok            bool
	}{
		{"southampton", 50.9097, -1.4044, 12, true},
		{"poles and antimeridian", -90, 180, 0, true},
		{"other corner", 90, -180, 0, true},
		{"lat too big", 90.0001, 0, 1, false},
		{"lat too small", -91, 0, 1, false},
		{"lon too big", 0, 180.5, 1, false},
		{"lon too small", 0, -181, 1, false},
		{"negative accuracy", 0, 0, -1, false},
		{"NaN lat", nan, 0, 1, false},
		{"NaN lon", 0, nan, 1, false},
		{"NaN accuracy", 0, 0, nan, false},
		{"Inf lat", inf, 0, 1, false},
		{"-Inf lon", 0, -inf, 1, false},
		{"Inf accuracy", 0, 0, inf, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLocation(tt.lat, tt.lon, tt.acc, at)
			if !tt.ok {
				if !errors.Is(err, ErrInvalidLocation) {
					t.Fatalf("err = %v, want ErrInvalidLocation", err)
				}
				if strings.ContainsAny(err.Error(), "0123456789") {
					t.Errorf("error %q contains digits", err)
				}
				if !l.IsZero() {
					t.Error("failed NewLocation returned non-zero Location")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lat, lon, acc, gotAt := l.Reveal()
			if lat != tt.lat || lon != tt.lon || acc != tt.acc || !gotAt.Equal(at) {
				t.Errorf("Reveal = %v %v %v %v, want %v %v %v %v", lat, lon, acc, gotAt, tt.lat, tt.lon, tt.acc, at)
			}
			if l.IsZero() {
				t.Error("IsZero = true")
			}
		})
	}
	var zero Location
	if lat, lon, acc, at := zero.Reveal(); lat != 0 || lon != 0 || acc != 0 || !at.IsZero() {
		t.Error("zero Location reveals non-zero values")
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in     string
		len    int
		isZero bool
	}{
		{"", 0, true},
		{"hello", 5, false},
		{"café", 5, false},
	}
	for _, tt := range tests {
		txt := NewText(tt.in)
		if got := txt.Reveal(); got != tt.in {
			t.Errorf("Reveal = %q, want %q", got, tt.in)
		}
		if got := txt.Len(); got != tt.len {
			t.Errorf("Len(%q) = %d, want %d", tt.in, got, tt.len)
		}
		if got := txt.IsZero(); got != tt.isZero {
			t.Errorf("IsZero(%q) = %v, want %v", tt.in, got, tt.isZero)
		}
	}
}

func TestCmpEqual(t *testing.T) {
	// go-cmp must be usable on structs holding pii values (it uses Equal).
	// Its diff of unequal values does show their contents: fine for test
	// data, and cmp has no place outside tests.
	type rec struct {
		P Phone
		T Text
		L Location
	}
	p1, _ := ParsePhone("07700 900123", "GB")
	p2, _ := ParsePhone("+447700900123", "GB")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l1, _ := NewLocation(1, 2, 3, at)
	l2, _ := NewLocation(1, 2, 3, at.In(time.FixedZone("x", 3600)))
	a := rec{p1, NewText("x"), l1}
	b := rec{p2, NewText("x"), l2}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("equal records differ:\n%s", diff)
	}
	c := rec{p1, NewText("y"), l1}
	if cmp.Equal(a, c) {
		t.Error("different texts compare equal")
	}
}
