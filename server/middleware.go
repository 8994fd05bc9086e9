package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/internal/randid"
	"waymark/problem"
	"waymark/server/respond"
)

// outer wraps every request: a request id, panic recovery, security
// headers. It never logs bodies, forms or query strings.
func (s *server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := randid.NeutralID("r_", 16) // served by the app listener too: can spell no word
		r = r.WithContext(respond.WithRequestID(r.Context(), id))
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src") {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		// Nothing is cached unless its handler says so (the dashboard's
		// files revalidate with no-cache): /metrics, every API answer and
		// every 404, the router's own included.
		h.Set("Cache-Control", "no-store")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// The panic value may hold request data: log its type and
				// the stack (frames, not values), never the value itself.
				s.Logger.Error("panic in handler", "request_id", id, "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
				s.error(w, r, respond.ErrPanic)
			}
		}()
		if mux, ok := next.(*http.ServeMux); ok {
			s.serveMux(mux, w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveMux serves r through mux, answering the mux's own 404 and 405 (no
// route matched the path, or not with this method) as every other error
// is answered: JSON {error, request_id}, never net/http's text/plain.
func (s *server) serveMux(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	if _, pattern := mux.Handler(r); pattern != "" {
		mux.ServeHTTP(w, r)
		return
	}
	// No pattern: a 404, a 405 (with Allow set) or a redirect to the
	// cleaned path, which passes through.
	rw := &routerWriter{ResponseWriter: w}
	mux.ServeHTTP(rw, r)
	switch rw.refused {
	case http.StatusNotFound:
		s.error(w, r, problem.ErrNotFound)
	case http.StatusMethodNotAllowed:
		s.error(w, r, respond.ErrMethod)
	}
}

// routerWriter holds back the mux's own 404 or 405 (status and text/plain
// body) so serveMux can answer it as JSON; anything else passes through.
type routerWriter struct {
	http.ResponseWriter
	refused int
}

func (w *routerWriter) WriteHeader(code int) {
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		w.refused = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *routerWriter) Write(b []byte) (int, error) {
	if w.refused != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// handle registers h under pattern with metrics, an access log line and
// the request budget.
func (s *server) handle(mux *http.ServeMux, pattern string, h http.Handler) {
	mux.Handle(pattern, s.instrument(pattern, budget(h)))
}

// requestBudget is the most time a request may spend before it is answered
// while Redis is slow or away: the documented "503 after about 2 s". Each
// store call also has its own 2 s bound, but a request makes several in a
// row; under lossy Redis each could take most of its bound, and a 503 came
// after 3.84 s. With the budget on the request's context, every store call
// of the request shares one deadline.
const requestBudget = 2 * time.Second

// budget gives each request requestBudget. A WebSocket handshake is exempt:
// the connection it becomes outlives any budget.
func budget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestBudget)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waymark_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "waymark_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

func (s *server) instrument(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inflight.Inc()
		sw := &respond.StatusWriter{ResponseWriter: w}
		defer func() {
			s.metrics.inflight.Dec()
			code := sw.Status
			if code == 0 {
				code = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(pattern, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(pattern).Observe(d.Seconds())
			if code >= 500 || s.Logger.Enabled(r.Context(), slog.LevelDebug) {
				s.Logger.LogAttrs(r.Context(), levelFor(code), "request",
					slog.String("request_id", requestID(r)),
					slog.String("route", pattern),
					slog.Int("status", code),
					slog.Duration("duration", d))
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

func levelFor(code int) slog.Level {
	if code >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}
