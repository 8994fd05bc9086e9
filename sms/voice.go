package sms

import (
	"fmt"
	"strings"
)

// A voice page's two webhooks: the key the callee pressed (the gather's
// action, POST /sms/voice/answer) and the call's final status
// (POST /sms/voice/status). Both are signed like every Twilio webhook.

// CallState is a Twilio call status.
type CallState string

// Call states, in the order they can happen.
const (
	CallQueued     CallState = "queued"
	CallInitiated  CallState = "initiated"
	CallRinging    CallState = "ringing"
	CallInProgress CallState = "in-progress"
	CallCompleted  CallState = "completed"
	CallBusy       CallState = "busy"
	CallNoAnswer   CallState = "no-answer"
	CallFailed     CallState = "failed"
	CallCanceled   CallState = "canceled"
)

// Rank orders call states by finality, as DeliveryState.Rank does for
// texts; the final states share rank 4. Unknown states rank 0.
func (c CallState) Rank() int {
	switch c {
	case CallQueued, CallInitiated:
		return 1
	case CallRinging:
		return 2
	case CallInProgress:
		return 3
	case CallCompleted, CallBusy, CallNoAnswer, CallFailed, CallCanceled:
		return 4
	}
	return 0
}

// Unanswered says in plain words why a call that ended in state c did not
// reach a person who pressed 1 ("" for a state that is not final).
func (c CallState) Unanswered() string {
	switch c {
	case CallCompleted:
		return "answered, but 1 was not pressed"
	case CallBusy:
		return "the line was busy"
	case CallNoAnswer:
		return "no answer"
	case CallFailed:
		return "the call could not be placed"
	case CallCanceled:
		return "the call was cancelled"
	}
	return ""
}

// CallStatus is a verified call status callback, or a gather's answer.
type CallStatus struct {
	CallSID string
	State   CallState
	// Digits are the keys pressed, on a gather's answer only.
	Digits string
}

// ParseCallStatus reads a call's status callback.
func ParseCallStatus(form map[string]string) (CallStatus, error) {
	st := CallStatus{CallSID: form["CallSid"], State: CallState(form["CallStatus"])}
	if !validSID(st.CallSID, "CA") {
		return CallStatus{}, fmt.Errorf("%w: CallSid", ErrFormField)
	}
	if st.State.Rank() == 0 {
		return CallStatus{}, fmt.Errorf("%w: CallStatus", ErrFormField)
	}
	return st, nil
}

// ParseGather reads a gather's answer: the call and the keys pressed (at
// most a few of 0-9, * and #; none when the callee pressed nothing).
func ParseGather(form map[string]string) (CallStatus, error) {
	st := CallStatus{CallSID: form["CallSid"], State: CallState(form["CallStatus"]), Digits: form["Digits"]}
	if !validSID(st.CallSID, "CA") {
		return CallStatus{}, fmt.Errorf("%w: CallSid", ErrFormField)
	}
	if len(st.Digits) > 8 || strings.Trim(st.Digits, "0123456789*#") != "" {
		return CallStatus{}, fmt.Errorf("%w: Digits", ErrFormField)
	}
	return st, nil
}
