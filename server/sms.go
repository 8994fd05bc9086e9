package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/problem"
	"waymark/sms"
)

// Twilio's webhooks. A request is believed only once its X-Twilio-Signature
// verifies against the configured public URL (never the request's Host or
// forwarded headers); until then nothing is stored and nothing from the
// body is logged. Every verified inbound text gets the same answer, the
// one configured reply or an empty <Response/>, whoever sent it and
// whatever it said (DESIGN.md, Discretion rules 1 and 5).

// SMS is what the Twilio webhooks need. A nil *SMS in Deps turns the
// routes off.
type SMS struct {
	Verifier *sms.Verifier
	Intake   *sms.Intake
	// Statuses keeps the most final delivery status per outbound text;
	// nil accepts status callbacks and keeps nothing.
	Statuses SMSStatuses
	// Reply is the one neutral reply every sender gets
	// (WAYMARK_SMS_REPLY); empty means no reply.
	Reply string
	// Directory answers the signposting number at POST /sms/directory
	// (directory_sms.go); nil turns that route off.
	Directory *DirectoryText
}

// SMSStatuses stores delivery statuses (*store.SMSStatuses).
type SMSStatuses interface {
	// UpdateSMSStatus moves the text's status to state if that is more
	// final than what is stored; changed is false for repeats and late
	// arrivals. alertID is the alert the text was a page for, or "".
	UpdateSMSStatus(ctx context.Context, sid, state string, rank, errorCode int) (changed bool, alertID string, err error)
}

var errSMSForbidden = fmt.Errorf("server: twilio signature: %w", problem.ErrForbidden)

// verifiedForm reads and verifies a Twilio webhook. On failure it has
// answered (403, or 413 for an oversized body) and returns ok false. A
// request without a signature is refused before its body is read.
func (s *server) verifiedForm(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	sig := r.Header.Get(sms.SignatureHeader)
	if sig == "" {
		s.error(w, r, errSMSForbidden)
		return nil, false
	}
	form, err := sms.ReadForm(r.Body)
	switch {
	case errors.Is(err, sms.ErrFormTooLarge):
		s.error(w, r, problem.ErrTooLarge)
		return nil, false
	case err != nil:
		// Unparseable means unverifiable: the same 403 as a bad signature.
		s.error(w, r, errSMSForbidden)
		return nil, false
	}
	if !s.SMS.Verifier.Verify(r.URL.Path, r.URL.RawQuery, form, sig) {
		s.error(w, r, errSMSForbidden)
		return nil, false
	}
	return form, true
}

// inboundText verifies Twilio's signature on an inbound text's webhook
// and parses its form, counting and answering a forgery (403) or an
// unusable form (422, named by field only, so it shows in Twilio's
// debugger) itself; ok is false when it answered. what names the webhook
// in the log.
func (s *server) inboundText(w http.ResponseWriter, r *http.Request, outcomes *prometheus.CounterVec, what string) (sms.Inbound, bool) {
	form, ok := s.verifiedForm(w, r)
	if !ok {
		outcomes.WithLabelValues("forbidden").Inc()
		return sms.Inbound{}, false
	}
	in, err := sms.ParseInbound(form)
	if err != nil {
		outcomes.WithLabelValues("malformed").Inc()
		s.Logger.Warn("twilio "+what+" form unusable", "request_id", requestID(r), "err", err)
		s.error(w, r, problem.Invalidf("form", "missing or malformed Twilio field"))
		return sms.Inbound{}, false
	}
	return in, true
}

// smsInbound is POST /sms/inbound: a text to a Waymark number.
func (s *server) smsInbound() http.Handler {
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waymark_sms_inbound_total",
		Help: "Inbound SMS webhooks by outcome (forbidden, malformed, error, or what the intake made of a verified text).",
	}, []string{"outcome"})
	s.Registry.MustRegister(outcomes)
	reply := sms.Reply(s.SMS.Reply)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := s.inboundText(w, r, outcomes, "inbound")
		if !ok {
			return
		}
		out, err := s.SMS.Intake.Receive(r.Context(), in)
		if err != nil {
			// Nothing was answered yet: Twilio retries on a 5xx, and the
			// dedupe key makes the retry harmless.
			outcomes.WithLabelValues("error").Inc()
			s.error(w, r, err)
			return
		}
		outcomes.WithLabelValues(string(out)).Inc()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(reply)
	})
}

// smsStatus is POST /sms/status: Twilio's delivery report for a text
// Waymark sent.
func (s *server) smsStatus() http.Handler {
	statuses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waymark_sms_status_total",
		Help: "Delivery-status changes of outbound texts by new status (repeats and late callbacks not counted).",
	}, []string{"status"})
	failures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "waymark_sms_delivery_failures_total",
		Help: "Outbound texts Twilio reported failed, undelivered or canceled.",
	})
	s.Registry.MustRegister(statuses, failures)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := s.verifiedForm(w, r)
		if !ok {
			return
		}
		st, err := sms.ParseStatus(form)
		if err != nil {
			s.Logger.Warn("twilio status form unusable", "request_id", requestID(r), "err", err)
			s.error(w, r, problem.Invalidf("form", "missing or malformed Twilio field"))
			return
		}
		if s.SMS.Statuses != nil {
			changed, alertID, err := s.SMS.Statuses.UpdateSMSStatus(r.Context(), st.MessageSID, string(st.State), st.State.Rank(), st.ErrorCode)
			if err != nil {
				s.error(w, r, err)
				return
			}
			if changed {
				statuses.WithLabelValues(string(st.State)).Inc()
				if st.State.Failed() {
					failures.Inc()
					s.Logger.Warn("page not delivered", "request_id", requestID(r), "alert", alertID,
						"status", string(st.State), "twilio_error", st.ErrorCode)
				}
			}
			// The escalation moves on now (the recipient's next channel),
			// and the timeline says why. On a retried callback (Redis was
			// away the first time) this runs again; it moves a recipient
			// only once.
			if st.State.Failed() && alertID != "" && s.Alerts != nil {
				if err := s.Alerts.TextFailed(r.Context(), alertID, st.MessageSID, st.Why()); err != nil {
					s.error(w, r, err)
					return
				}
			}
			// A delivered page says so on the alert's timeline.
			if st.State == sms.StateDelivered && alertID != "" && s.Alerts != nil {
				if err := s.Alerts.TextDelivered(r.Context(), alertID, st.MessageSID); err != nil {
					s.error(w, r, err)
					return
				}
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
