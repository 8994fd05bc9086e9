package respond

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"waymark/casework"
	"waymark/problem"
)

// The edge's own errors, each with its status in Error.
var (
	ErrPanic       = errors.New("server: handler panicked")
	ErrCrossOrigin = errors.New("server: cross-origin request refused")
	// ErrNotJSON refuses a body not labelled application/json: a
	// text/plain one is what a cross-site form or a no-preflight fetch sends.
	ErrNotJSON = errors.New("server: request body is not application/json")
	// ErrMethod is the router's own 405: the path exists, the method not.
	ErrMethod = errors.New("server: method not allowed")
	// ErrNotWebSocket answers GET /v1/ws without a WebSocket handshake.
	ErrNotWebSocket = errors.New("server: not a WebSocket handshake")
)

// ErrorBody is every error answer's shape.
type ErrorBody struct {
	Error     string          `json:"error"`
	Fields    []problem.Field `json:"fields,omitempty"`
	ClaimedBy string          `json:"claimed_by,omitempty"`
	// Detail says, on a refused action (409), why and what to do instead.
	Detail string `json:"detail,omitempty"`
	// ReauthRequired tells the dashboard to ask for the password and code
	// again (POST /v1/auth/reauth) and retry.
	ReauthRequired bool   `json:"reauth_required,omitempty"`
	RequestID      string `json:"request_id"`
}

// Error answers err with its status and fixed public message. This is the
// only place errors become statuses. Unknown errors are 500 "internal
// error"; their full text goes to the log with the request id, never to the
// client.
func (s *Responder) Error(w http.ResponseWriter, r *http.Request, err error) {
	body := ErrorBody{RequestID: RequestID(r)}
	status := http.StatusInternalServerError
	var inv *problem.Invalid
	var claimed *problem.Claimed
	var refused *problem.Refused
	switch {
	case errors.As(err, &inv):
		status, body.Error, body.Fields = http.StatusUnprocessableEntity, "invalid request", inv.Fields
	case errors.As(err, &claimed):
		status, body.Error, body.ClaimedBy = http.StatusConflict, "already claimed", claimed.By
	case errors.As(err, &refused):
		status, body.Error, body.Detail = http.StatusConflict, "refused", refused.Detail
	case errors.Is(err, casework.ErrReauth):
		status, body.Error, body.ReauthRequired = http.StatusForbidden, "sign in again", true
	case errors.Is(err, ErrCrossOrigin):
		status, body.Error = http.StatusForbidden, "cross-origin request refused"
	case errors.Is(err, problem.ErrTooLarge):
		status, body.Error = http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, ErrNotJSON):
		status, body.Error = http.StatusUnsupportedMediaType, "unsupported media type"
	case errors.Is(err, ErrNotWebSocket):
		status, body.Error = http.StatusBadRequest, "bad request"
	case errors.Is(err, ErrMethod):
		status, body.Error = http.StatusMethodNotAllowed, "method not allowed"
	case errors.Is(err, problem.ErrNotFound):
		status, body.Error = http.StatusNotFound, "not found"
	case errors.Is(err, problem.ErrConflict):
		status, body.Error = http.StatusConflict, "conflict"
	case errors.Is(err, problem.ErrUnauthorized):
		status, body.Error = http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, problem.ErrForbidden):
		status, body.Error = http.StatusForbidden, "forbidden"
	case errors.Is(err, problem.ErrTooMany):
		status, body.Error = http.StatusTooManyRequests, "too many requests"
		w.Header().Set("Retry-After", retryAfter(err))
	case errors.Is(err, problem.ErrUnavailable):
		status, body.Error = http.StatusServiceUnavailable, "service unavailable"
		w.Header().Set("Retry-After", "1")
	default:
		body.Error = "internal error"
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", body.RequestID, "status", status, "err", err)
	}
	s.JSON(w, r, status, body)
}

// retryAfter is the Retry-After value for a too-many error: the whole
// seconds (at least 1) the error asks for through a RetryAfter method (such
// as *staff.Throttled), else 5.
func retryAfter(err error) string {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return strconv.Itoa(max(1, int(math.Ceil(ra.RetryAfter().Seconds()))))
	}
	return "5"
}
