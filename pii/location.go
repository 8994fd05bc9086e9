package pii

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// ErrInvalidLocation is returned by NewLocation for coordinates out of range
// or not finite. Errors wrapping it never contain the numbers.
var ErrInvalidLocation = errors.New("pii: invalid location")

// Location is a position fix: latitude and longitude in degrees (WGS 84), the
// radius of its uncertainty in metres and when it was taken. Its zero value
// is "no location". It redacts itself when printed, logged or marshalled;
// Reveal returns the fix.
type Location struct {
	// fix is a pointer to a pointer on purpose: for a bad verb (%s of a
	// struct holding a Location in an unexported field) fmt prints the
	// contents of a pointer to a struct, but only the address of a pointer
	// to a pointer.
	fix **fix
}

type fix struct {
	lat, lon, accuracyM float64
	at                  time.Time
}

// NewLocation checks and wraps a fix. Latitude must lie in [-90, 90],
// longitude in [-180, 180] and accuracy be finite and not negative; NaN and
// infinities are refused. Errors wrap ErrInvalidLocation and never contain
// the numbers.
func NewLocation(lat, lon, accuracyM float64, at time.Time) (Location, error) {
	switch {
	case math.IsNaN(lat) || lat < -90 || lat > 90:
		return Location{}, fmt.Errorf("%w: latitude out of range", ErrInvalidLocation)
	case math.IsNaN(lon) || lon < -180 || lon > 180:
		return Location{}, fmt.Errorf("%w: longitude out of range", ErrInvalidLocation)
	case math.IsNaN(accuracyM) || math.IsInf(accuracyM, 0) || accuracyM < 0:
		return Location{}, fmt.Errorf("%w: accuracy out of range", ErrInvalidLocation)
	}
	f := &fix{lat: lat, lon: lon, accuracyM: accuracyM, at: at}
	return Location{fix: &f}, nil
}

// Reveal returns the fix; all zero for the zero Location. Call it only where
// the position itself is needed.
func (l Location) Reveal() (lat, lon, accuracyM float64, at time.Time) {
	if l.fix == nil {
		return 0, 0, 0, time.Time{}
	}
	f := *l.fix
	return f.lat, f.lon, f.accuracyM, f.at
}

// IsZero reports whether l holds no fix.
func (l Location) IsZero() bool { return l.fix == nil }

// Equal reports whether l and o hold the same fix (times compared with
// time.Time.Equal). It also lets go-cmp compare Locations.
func (l Location) Equal(o Location) bool {
	if l.fix == nil || o.fix == nil {
		return l.fix == nil && o.fix == nil
	}
	a, b := *l.fix, *o.fix
	return a.lat == b.lat && a.lon == b.lon && a.accuracyM == b.accuracyM && a.at.Equal(b.at)
}

// String returns Redacted.
func (l Location) String() string { return Redacted }

// GoString returns a redacted Go-syntax form, for %#v.
func (l Location) GoString() string { return goString("Location") }

// Format prints Redacted for every verb.
func (l Location) Format(f fmt.State, verb rune) { formatRedacted(f, verb, "Location") }

// LogValue returns Redacted, so slog never sees the position.
func (l Location) LogValue() slog.Value { return redactedValue() }

// MarshalJSON returns the JSON string "[redacted]".
func (l Location) MarshalJSON() ([]byte, error) { return redactedJSONCopy(), nil }

// MarshalText returns Redacted, for encoders that prefer
// encoding.TextMarshaler.
func (l Location) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
