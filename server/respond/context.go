package respond

import (
	"context"
	"net/http"

	"waymark/staff"
)

type requestIDKey struct{}

// RequestID returns the id the outer middleware gave r.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

type principalKey struct{}

// Principal returns the signed-in staff member of a request that passed
// the server's authed middleware, or nil.
func Principal(r *http.Request) *staff.Principal {
	p, _ := r.Context().Value(principalKey{}).(*staff.Principal)
	return p
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *staff.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// StatusWriter remembers the first status written through it.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records code, if it is the first, and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (WebSocket
// upgrades and write deadlines need it).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
