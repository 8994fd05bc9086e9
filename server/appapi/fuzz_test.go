package appapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"

	"waymark/alert"
	"waymark/casework"
	"waymark/problem"
	"waymark/server/respond"
)

// FuzzAppSignal feeds arbitrary bodies to the app signal decoder: it never
// panics, refuses with a field-naming 422 or too-large, and anything it
// accepts is a well-formed signal.
func FuzzAppSignal(f *testing.F) {
	f.Add([]byte(`{"request_id":"3q2-7wEvb5Zr9kJcQm1xYA","kind":"panic"}`))
	f.Add([]byte(`{"request_id":"3q2-7wEvb5Zr9kJcQm1xYA","kind":"checkin","pin":"2468"}`))
	f.Add([]byte(`{"request_id":"3q2-7wEvb5Zr9kJcQm1xYA","kind":"location","location":{"lat":50.9,"lon":-1.4,"accuracy_m":12,"at":"2026-11-23T10:00:00Z"}}`))
	f.Add([]byte(`{"request_id":"3q2-7wEvb5Zr9kJcQm1xYA","kind":"message","message":"hello"}`))
	f.Add([]byte(`{"request_id":"x","kind":"panic","location":{"lat":1e309}}`))
	f.Add([]byte(`{"kind":"cancel","pin":"12a4"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"request_id":"3q2-7wEvb5Zr9kJcQm1xYA","kind":"press","raised_at":"2026-11-23T09:46:00Z"}`))
	f.Add([]byte(`{"request_id":"3q2-7wEvb5Zr9kJcQm1xYA","kind":"press","raised_at":"soon"}`))
	s := New(Deps{Out: respond.New(slog.New(slog.DiscardHandler))})
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/v1/app/signal", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req appSignalRequest
		err := s.decode(w, r, &req)
		var in alert.AppSignal
		if err == nil {
			in, err = s.appSignalInput(req)
		}
		if err != nil {
			var inv *problem.Invalid
			if !errors.As(err, &inv) && !errors.Is(err, problem.ErrTooLarge) {
				t.Fatalf("refused with %v, want a 422 or 413 kind", err)
			}
			if inv != nil && len(inv.Fields) == 0 {
				t.Fatal("422 naming no field")
			}
			return
		}
		if !alert.ValidAppKind(in.Kind) {
			t.Fatalf("accepted kind %q", in.Kind)
		}
		if in.PIN != "" && !casework.ValidPIN(in.PIN) {
			t.Fatal("accepted a malformed PIN")
		}
		if (in.Kind == alert.KindCheckin || in.Kind == alert.KindCancel) && in.PIN == "" {
			t.Fatal("accepted a check-in or cancel without a PIN")
		}
		if in.Kind == alert.KindLocation && in.Location.IsZero() {
			t.Fatal("accepted a location signal without a location")
		}
		if len(in.RequestID) < 22 {
			t.Fatal("accepted a short request id")
		}
	})
}
