package server

import (
	"net/http"

	"waymark/alert"
	"waymark/problem"
	"waymark/sms"
)

// The webhooks of voice pages. A call page asks its callee to press 1:
// the press comes to POST /sms/voice/answer (the gather's action) and
// claims the alert for a responder who has nobody ahead of them; the
// call's end comes to POST /sms/voice/status, and a call that ended
// without a press moves the escalation on at once. Both are signed like
// every Twilio webhook; a call that was not a page, a repeat or a late
// callback changes nothing, and what the callee hears names nobody.

// What the callee hears after pressing a key.
const (
	voiceTaken = "Thank you. The alert is yours. Open the Waymark dashboard now."
	voiceHeld  = "Thank you. This alert has already been taken."
	voiceNoted = "Thank you. Please follow your Waymark out-of-hours procedure."
	voiceStale = "Thank you. This alert no longer needs you."
	voiceOther = "That was not 1. Goodbye."
)

// voiceAnswer is POST /sms/voice/answer: the key the callee of a voice
// page pressed.
func (s *server) voiceAnswer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := s.verifiedForm(w, r)
		if !ok {
			return
		}
		st, err := sms.ParseGather(form)
		if err != nil {
			s.Logger.Warn("twilio gather form unusable", "request_id", requestID(r), "err", err)
			s.error(w, r, problem.Invalidf("form", "missing or malformed Twilio field"))
			return
		}
		alertID, err := s.callAlert(r, st.CallSID, "pressed", 3)
		if err != nil {
			s.error(w, r, err)
			return
		}
		said := voiceStale
		switch {
		case alertID == "" || s.Alerts == nil:
		case st.Digits != "1":
			said = voiceOther
			if err := s.Alerts.CallUnanswered(r.Context(), alertID, st.CallSID, "a key other than 1 was pressed"); err != nil {
				s.error(w, r, err)
				return
			}
		default:
			ans, err := s.Alerts.CallPressed(r.Context(), alertID, st.CallSID)
			if err != nil {
				s.error(w, r, err)
				return
			}
			switch ans {
			case alert.AnswerTaken:
				said = voiceTaken
			case alert.AnswerHeld:
				said = voiceHeld
			case alert.AnswerNoted:
				said = voiceNoted
			}
		}
		doc, err := sms.VoiceAnswer(said)
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(doc))
	})
}

// voiceStatus is POST /sms/voice/status: a voice page's call ended (or
// moved on). A call that ended without a press moves its recipient to
// their next channel at once.
func (s *server) voiceStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := s.verifiedForm(w, r)
		if !ok {
			return
		}
		st, err := sms.ParseCallStatus(form)
		if err != nil {
			s.Logger.Warn("twilio call status form unusable", "request_id", requestID(r), "err", err)
			s.error(w, r, problem.Invalidf("form", "missing or malformed Twilio field"))
			return
		}
		alertID, err := s.callAlert(r, st.CallSID, string(st.State), st.State.Rank())
		if err != nil {
			s.error(w, r, err)
			return
		}
		// A retried callback (Redis was away the first time) runs this
		// again; it moves a recipient only once.
		if why := st.State.Unanswered(); why != "" && alertID != "" && s.Alerts != nil {
			if err := s.Alerts.CallUnanswered(r.Context(), alertID, st.CallSID, why); err != nil {
				s.error(w, r, err)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// callAlert keeps the call's most final state and returns the alert it
// was a page for, "" when it was none.
func (s *server) callAlert(r *http.Request, sid, state string, rank int) (string, error) {
	if s.SMS.Statuses == nil {
		return "", nil
	}
	_, alertID, err := s.SMS.Statuses.UpdateSMSStatus(r.Context(), sid, state, rank, 0)
	return alertID, err
}
