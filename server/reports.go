package server

import (
	"errors"
	"net/http"

	"waymark/alert"
	"waymark/audit"
	"waymark/casework"
	"waymark/problem"
	"waymark/records"
	"waymark/staff"
)

// Records and reports (admin): the commissioners' report and its chart,
// records not yet filed, legal holds on alerts. Admins see no survivor
// data: nothing here carries an identity or free text.

// withRecords answers 404 for every records route when no service is wired.
func (s *server) withRecords(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Records == nil {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		h(w, r)
	})
}

func (s *server) reportFor(r *http.Request) (*records.Report, error) {
	q := r.URL.Query()
	rq, err := records.ParseReportQuery(q.Get("from"), q.Get("to"), q.Get("area"), s.Now())
	if err != nil {
		return nil, err
	}
	return s.Records.Report(r.Context(), principal(r), rq)
}

// reportSummary is GET /v1/reports/summary?from=&to=&area= (admin).
func (s *server) reportSummary() http.Handler {
	return s.withRecords(func(w http.ResponseWriter, r *http.Request) {
		rep, err := s.reportFor(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.json(w, r, http.StatusOK, rep)
	})
}

// reportChart is GET /v1/reports/chart.svg?from=&to=&area= (admin): the
// weekly chart for the admin screen. It holds no script; the headers keep a
// browser from running any even if it did.
func (s *server) reportChart() http.Handler {
	return s.withRecords(func(w http.ResponseWriter, r *http.Request) {
		rep, err := s.reportFor(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "image/svg+xml; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(records.ChartSVG(rep)))
	})
}

// handoffStats is GET /v1/reports/handoffs (admin): closing records not yet
// filed, so a failing endpoint is noticed.
func (s *server) handoffStats() http.Handler {
	return s.withRecords(func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Records.HandoffStats(r.Context())
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, st)
	})
}

// setAlertHold is PUT /v1/alerts/{id}/legal-hold (admin): a held alert is
// neither expired nor erased until the hold is lifted. Nothing of the alert
// is returned.
func (s *server) setAlertHold() http.Handler {
	return s.withRecords(func(w http.ResponseWriter, r *http.Request) {
		var req legalHoldRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.Records.SetAlertHold(r.Context(), principal(r), r.PathValue("id"), *req.Hold); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// auditAction records a responder's action on an alert (claim, resolve)
// and its refusals. Server errors are not refusals and are not recorded.
func (s *server) auditAction(r *http.Request, action, alertID string, err error) {
	p := principal(r)
	if s.Records == nil || p == nil {
		return
	}
	outcome := "ok"
	var claimed *problem.Claimed
	var inv *problem.Invalid
	switch {
	case err == nil:
	case errors.As(err, &claimed):
		outcome = "refused: claimed by another"
	case errors.As(err, &inv):
		outcome = "refused: invalid"
	case errors.Is(err, problem.ErrNotFound):
		outcome = "refused: not found"
	case errors.Is(err, problem.ErrConflict):
		outcome = "refused: closed"
	case errors.Is(err, problem.ErrForbidden):
		outcome = "refused: forbidden"
	default:
		return
	}
	if !alert.ValidAlertID(alertID) {
		alertID = "(malformed)"
	}
	s.Records.Audit(r.Context(), audit.AuditEntry{Actor: p.StaffID, Action: action, AlertID: alertID, Outcome: outcome})
}

// auditSignIn records a sign-in (or re-authentication) and its refusals.
// A refused one names no account: the username may be mistyped or guessed.
func (s *server) auditSignIn(r *http.Request, action string, p *staff.Principal, err error) {
	if s.Records == nil {
		return
	}
	e := audit.AuditEntry{Action: action, Outcome: "ok", Actor: "(unknown)"}
	if p != nil {
		e.Actor = p.StaffID
	}
	// Failures are counted, and summarised per account, address, outcome
	// and window (alert.SignInWindow): a guesser must not grow the audit
	// trail by an entry per attempt.
	addr := staff.AddrSubject(s.clientAddr(r))
	switch {
	case err == nil:
	case errors.Is(err, problem.ErrTooMany):
		s.Records.SignInFailed(r.Context(), action, e.Actor, addr, "throttled")
		return
	case errors.Is(err, problem.ErrUnauthorized), errors.Is(err, problem.ErrForbidden):
		s.Records.SignInFailed(r.Context(), action, e.Actor, addr, "bad credentials")
		return
	default:
		return
	}
	s.Records.Audit(r.Context(), e)
}
