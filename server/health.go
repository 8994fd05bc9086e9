package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz says the process is up; it touches nothing else.
func (s *server) healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.json(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readyz says whether this instance can take traffic: Redis answers and the
// keys are loaded. A load balancer stops sending work while it fails.
func (s *server) readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.Ready(ctx); err != nil {
				s.Logger.Warn("not ready", "request_id", requestID(r), "err", err)
				s.json(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
		}
		s.json(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}
