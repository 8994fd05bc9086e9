package appapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/pii"
	"waymark/problem"
	"waymark/server/respond"
)

// The disguised app's API. Every accepted request answers exactly
// `202 {"status":"ok"}` with the same headers, whatever its PIN turned out
// to be (real, duress or wrong): someone may be watching the phone, and the
// answer must not tell them anything (DESIGN.md, Discretion rules 2 and 3).
// The service takes the same Redis round trips on every path, so the time
// does not tell either.

// appAcceptedBody is the one answer to every accepted app request.
var appAcceptedBody = []byte(`{"status":"ok"}` + "\n")

// Request id limits: at least 128 random bits, base64url.
const (
	minRequestIDBytes = 16
	maxRequestIDLen   = 128
)

type appLocationRequest struct {
	Lat       *float64 `json:"lat" validate:"required,gte=-90,lte=90"`
	Lon       *float64 `json:"lon" validate:"required,gte=-180,lte=180"`
	AccuracyM *float64 `json:"accuracy_m" validate:"omitempty,gte=0,lte=100000"`
	// At is when the fix was taken (RFC 3339); the receive time if absent.
	At string `json:"at,omitempty" validate:"max=40"`
}

type appSignalRequest struct {
	RequestID string `json:"request_id" validate:"required"`
	// Kind is checked by appKind, not by a tag: a tag's problem text would
	// list the kinds, words the app listener never serves.
	Kind     string              `json:"kind" validate:"required,max=16"`
	PIN      *string             `json:"pin,omitempty"`
	Location *appLocationRequest `json:"location,omitempty"`
	Message  string              `json:"message,omitempty"`
	// RaisedAt is when the phone raised the signal (RFC 3339); its outbox
	// may have held it while offline.
	RaisedAt string `json:"raised_at,omitempty" validate:"max=40"`
}

// appKindAliases are the neutral names the disguised app uses, so that no
// word in its files says what it does: "press" is a panic.
var appKindAliases = map[string]alert.Kind{"press": alert.KindPanic}

// appKind returns the kind a request names, by its own name or its
// neutral alias.
func appKind(name string) (alert.Kind, bool) {
	if k, ok := appKindAliases[name]; ok {
		return k, true
	}
	k := alert.Kind(name)
	return k, alert.ValidAppKind(k)
}

type appCheckinsRequest struct {
	RequestID    string   `json:"request_id,omitempty"`
	PIN          *string  `json:"pin"`
	EveryMinutes int      `json:"every_minutes,omitempty"`
	Times        []string `json:"times,omitempty"`
	GraceMinutes int      `json:"grace_minutes,omitempty"`
}

type appCheckinsStopRequest struct {
	RequestID string  `json:"request_id,omitempty"`
	PIN       *string `json:"pin"`
}

// withApp answers 401 for every app route when no service is wired, as for
// an unknown token.
func (s *Handlers) withApp(h func(w http.ResponseWriter, r *http.Request, caseID string)) http.Handler {
	return s.withDevice(func(w http.ResponseWriter, r *http.Request, caseID, _ string) { h(w, r, caseID) })
}

// withDevice is withApp, also handing on the device's id.
func (s *Handlers) withDevice(h func(w http.ResponseWriter, r *http.Request, caseID, deviceID string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Cases == nil || s.Alerts == nil {
			s.error(w, r, alert.ErrUnauthorized)
			return
		}
		token, ok := appBearer(r)
		if !ok {
			s.error(w, r, alert.ErrUnauthorized)
			return
		}
		caseID, deviceID, due, err := s.Cases.LookupDevice(r.Context(), token)
		if err != nil {
			if isAppNotFound(err) {
				// Unknown or revoked: the same 401 as any other.
				err = alert.ErrUnauthorized
			}
			s.error(w, r, err)
			return
		}
		if !due {
			h(w, r, caseID, deviceID)
			return
		}
		// The device's use is recorded only for a request that succeeded:
		// a refused one leaves no trace.
		sw := &respond.StatusWriter{ResponseWriter: w}
		h(sw, r, caseID, deviceID)
		if sw.Status >= 200 && sw.Status < 300 {
			if err := s.Cases.TouchDevice(r.Context(), token); err != nil {
				s.Logger.Warn("device use not recorded", "request_id", respond.RequestID(r), "device", deviceID, "err", err)
			}
		}
	})
}

func isAppNotFound(err error) bool { return errors.Is(err, problem.ErrNotFound) }

// appBearer returns the token of an "Authorization: Bearer" header.
func appBearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	return t, t != "" && len(t) <= 256
}

// appAccepted writes the one answer every accepted app request gets.
func (s *Handlers) appAccepted(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write(appAcceptedBody)
}

// Signal is POST /v1/app/signal.
func (s *Handlers) Signal() http.Handler {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, caseID string) {
		var req appSignalRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		in, err := s.appSignalInput(req)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.Alerts.App(r.Context(), caseID, in); err != nil {
			s.error(w, r, err)
			return
		}
		s.appAccepted(w)
	})
}

// appSignalInput checks what struct tags cannot and builds the service input.
// Nothing is stored when it fails.
func (s *Handlers) appSignalInput(req appSignalRequest) (alert.AppSignal, error) {
	inv := &problem.Invalid{}
	checkAppRequestID(inv, req.RequestID, true)
	kind, ok := appKind(req.Kind)
	if !ok && req.Kind != "" {
		inv.Add("kind", "is not a kind this endpoint takes")
	}
	in := alert.AppSignal{RequestID: req.RequestID, Kind: kind}
	if req.RaisedAt != "" {
		t, err := time.Parse(time.RFC3339, req.RaisedAt)
		if err != nil {
			inv.Add("raised_at", "must be a time in RFC 3339 form")
		}
		in.SentAt = t
	}
	if req.PIN != nil {
		checkAppPIN(inv, *req.PIN)
		in.PIN = *req.PIN
	} else if kind == alert.KindCheckin || kind == alert.KindCancel {
		inv.Add("pin", "is required for "+string(kind))
	}
	if req.Location != nil {
		loc, ok := s.appLocation(inv, req.Location)
		if ok {
			in.Location = loc
		}
	} else if kind == alert.KindLocation {
		inv.Add("location", "is required for location")
	}
	switch {
	case len(req.Message) > alert.MaxMessage:
		inv.Add("message", "must be at most "+strconv.Itoa(alert.MaxMessage)+" bytes")
	case kind == alert.KindMessage && strings.TrimSpace(req.Message) == "":
		inv.Add("message", "is required for message")
	}
	in.Message = pii.NewText(req.Message)
	return in, inv.Err()
}

func checkAppRequestID(inv *problem.Invalid, id string, required bool) {
	if id == "" {
		if required {
			inv.Add("request_id", "is required")
		}
		return
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil || len(id) > maxRequestIDLen {
		inv.Add("request_id", "must be base64url")
		return
	}
	if len(b) < minRequestIDBytes {
		inv.Add("request_id", "must carry at least 128 random bits (22 base64url characters)")
	}
}

func checkAppPIN(inv *problem.Invalid, pin string) {
	if !casework.ValidPIN(pin) {
		inv.Add("pin", "must be 4 to 8 digits")
	}
}

func (s *Handlers) appLocation(inv *problem.Invalid, l *appLocationRequest) (pii.Location, bool) {
	if l.Lat == nil || l.Lon == nil {
		return pii.Location{}, false // the struct tags reported it
	}
	acc := 0.0
	if l.AccuracyM != nil {
		acc = *l.AccuracyM
	}
	at := time.Time{}
	if l.At != "" {
		t, err := time.Parse(time.RFC3339, l.At)
		if err != nil {
			inv.Add("location.at", "must be a time in RFC 3339 form")
			return pii.Location{}, false
		}
		at = t
	}
	loc, err := pii.NewLocation(*l.Lat, *l.Lon, acc, at)
	if err != nil {
		inv.Add("location", "coordinates out of range")
		return pii.Location{}, false
	}
	return loc, true
}

// SetCheckins is PUT /v1/app/checkins: every N minutes or daily at
// Europe/London times, with a grace period. It needs the real PIN; the
// duress PIN answers the same, changes nothing and raises a duress alert.
func (s *Handlers) SetCheckins() http.Handler {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, caseID string) {
		var req appCheckinsRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		inv := &problem.Invalid{}
		checkAppRequestID(inv, req.RequestID, false)
		pin := appPIN(inv, req.PIN)
		if req.EveryMinutes < 0 {
			inv.Add("every_minutes", "must not be negative")
		}
		if req.GraceMinutes < 0 {
			inv.Add("grace_minutes", "must not be negative")
		}
		sched := &casework.Schedule{
			Every: time.Duration(req.EveryMinutes) * time.Minute,
			Times: req.Times,
			Grace: time.Duration(req.GraceMinutes) * time.Minute,
		}
		if req.EveryMinutes >= 0 && req.GraceMinutes >= 0 {
			sched.Validate(inv)
		}
		if err := inv.Err(); err != nil {
			s.error(w, r, err)
			return
		}
		in := alert.AppSignal{RequestID: req.RequestID, Kind: alert.KindSchedule, PIN: pin, Schedule: sched}
		if err := s.Alerts.App(r.Context(), caseID, in); err != nil {
			s.error(w, r, err)
			return
		}
		s.appAccepted(w)
	})
}

// StopCheckins is DELETE /v1/app/checkins, with the same PIN rules.
func (s *Handlers) StopCheckins() http.Handler {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, caseID string) {
		var req appCheckinsStopRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		inv := &problem.Invalid{}
		checkAppRequestID(inv, req.RequestID, false)
		pin := appPIN(inv, req.PIN)
		if err := inv.Err(); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.Alerts.App(r.Context(), caseID, alert.AppSignal{RequestID: req.RequestID, Kind: alert.KindSchedule, PIN: pin}); err != nil {
			s.error(w, r, err)
			return
		}
		s.appAccepted(w)
	})
}

func appPIN(inv *problem.Invalid, pin *string) string {
	if pin == nil {
		inv.Add("pin", "is required")
		return ""
	}
	checkAppPIN(inv, *pin)
	return *pin
}
