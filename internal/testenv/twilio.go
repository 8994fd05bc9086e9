package testenv

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// FakeTwilio is an httptest server speaking the parts of Twilio's REST API
// Waymark uses: creating messages and calls. It is reached through the real
// twilio-go client, either with WAYMARK_TWILIO_API_URL pointing at URL() or
// with Transport() installed (twilio-go has no base-URL option of its own).
//
// Every request is recorded. Responses come from a script (a queue; see
// Script); with the script empty every create succeeds with 201.
type FakeTwilio struct {
	// AccountSID and AuthToken are this fake's credentials: realistic in
	// shape (AC + 32 hex digits, 32 hex digits) because twilio-go refuses
	// non-alphanumeric credentials before sending anything.
	AccountSID string
	AuthToken  string

	srv     *httptest.Server
	release chan struct{} // closed at cleanup: hanging handlers return

	mu       sync.Mutex
	script   []Reply
	requests []TwilioRequest
	seq      int
	arrived  chan struct{} // closed and replaced on every recorded request
}

// Reply is one scripted answer of the fake. The zero Reply is the normal
// success (201 with a new SID, status "queued").
type Reply struct {
	// Status is the HTTP status; 0 means 201.
	Status int
	// Code is the Twilio error code sent in the error JSON when Status is
	// 400 or more (21211 invalid To, 21610 unsubscribed, 21614 not a mobile,
	// 20429 too many requests, …).
	Code int
	// RawBody, when set, is sent instead of JSON (an HTML 502 page, say).
	RawBody string
	// Hang holds the request open until the client gives up or the test
	// ends: a Twilio that accepted the connection and never answered.
	Hang bool
}

// The Twilio error codes Waymark treats specially.
const (
	TwilioInvalidTo    = 21211
	TwilioUnsubscribed = 21610
	TwilioNotMobile    = 21614
	TwilioTooMany      = 20429
	TwilioInternal     = 20500
)

// TwilioRequest is one request the fake received.
type TwilioRequest struct {
	Method string
	Path   string
	// Kind is "message", "call", or "" for anything else.
	Kind string
	// Account is the account SID in the path.
	Account string
	// Authorized reports whether HTTP basic auth carried this fake's
	// credentials.
	Authorized bool
	Header     http.Header
	Form       url.Values
	// Answered is the status the fake answered (0 for a hang).
	Answered int
	// SID is the id of the message or call the fake created, "" when it
	// created none.
	SID string
}

// StartTwilio starts a fake Twilio for t and stops it at cleanup.
func StartTwilio(t testing.TB) *FakeTwilio {
	t.Helper()
	f := &FakeTwilio{
		AccountSID: "AC" + randomHex(t, 16),
		AuthToken:  randomHex(t, 16),
		release:    make(chan struct{}),
		arrived:    make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.release)
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testenv: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// URL is the fake's base URL (http://127.0.0.1:PORT), for
// WAYMARK_TWILIO_API_URL.
func (f *FakeTwilio) URL() string { return f.srv.URL }

// Transport returns a RoundTripper that sends every request, whatever its
// host, to the fake, keeping the path and query: install it in the
// http.Client the twilio-go client uses and api.twilio.com is never reached.
func (f *FakeTwilio) Transport() http.RoundTripper {
	target, _ := url.Parse(f.srv.URL)
	return redirectTransport{target: target, next: f.srv.Client().Transport}
}

type redirectTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (rt redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = rt.target.Scheme, rt.target.Host
	r.Host = rt.target.Host
	return rt.next.RoundTrip(r)
}

// Script queues replies: each request the fake receives takes the next one;
// once the queue is empty, requests succeed.
func (f *FakeTwilio) Script(replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, replies...)
}

// Requests returns a copy of every request received so far, in order.
func (f *FakeTwilio) Requests() []TwilioRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TwilioRequest(nil), f.requests...)
}

// Messages returns the message-create requests received so far.
func (f *FakeTwilio) Messages() []TwilioRequest { return f.ofKind("message") }

// Calls returns the call-create requests received so far.
func (f *FakeTwilio) Calls() []TwilioRequest { return f.ofKind("call") }

func (f *FakeTwilio) ofKind(kind string) []TwilioRequest {
	var out []TwilioRequest
	for _, r := range f.Requests() {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// WaitRequests blocks until the fake has received at least n requests or
// timeout passes, and returns what it has. It waits on arrivals, not on a
// sleep.
func (f *FakeTwilio) WaitRequests(n int, timeout time.Duration) []TwilioRequest {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		got, ch := len(f.requests), f.arrived
		f.mu.Unlock()
		if got >= n {
			return f.Requests()
		}
		select {
		case <-ch:
		case <-deadline.C:
			return f.Requests()
		}
	}
}

// serve answers one request as Twilio would.
func (f *FakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	_ = r.ParseForm()
	rec := TwilioRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: r.PostForm}
	user, pass, ok := r.BasicAuth()
	rec.Authorized = ok && subtle.ConstantTimeCompare([]byte(user), []byte(f.AccountSID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(f.AuthToken)) == 1

	// /2010-04-01/Accounts/{sid}/Messages.json or …/Calls.json
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 4 && parts[0] == "2010-04-01" && parts[1] == "Accounts" && r.Method == http.MethodPost {
		rec.Account = parts[2]
		switch parts[3] {
		case "Messages.json":
			rec.Kind = "message"
		case "Calls.json":
			rec.Kind = "call"
		}
	}

	f.mu.Lock()
	var reply Reply
	scripted := false
	if len(f.script) > 0 {
		reply, f.script, scripted = f.script[0], f.script[1:], true
	}
	f.seq++
	seq := f.seq
	if reply.Hang {
		rec.Answered = 0
	} else {
		rec.Answered = answerStatus(reply, rec)
	}
	if rec.Answered == http.StatusCreated && reply.RawBody == "" && rec.Authorized && rec.Account == f.AccountSID {
		rec.SID = sidOf(rec.Kind, seq)
	}
	f.requests = append(f.requests, rec)
	close(f.arrived)
	f.arrived = make(chan struct{})
	f.mu.Unlock()

	switch {
	case reply.Hang:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	case rec.Kind == "":
		writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	case !rec.Authorized && !scripted:
		writeTwilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	case rec.Account != f.AccountSID && !scripted:
		writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	case reply.RawBody != "":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(rec.Answered)
		io.WriteString(w, reply.RawBody)
		return
	case rec.Answered >= 400:
		writeTwilioError(w, rec.Answered, reply.Code, errorMessage(reply.Code, rec.Form.Get("To")))
		return
	}
	f.created(w, rec, seq)
}

func answerStatus(reply Reply, rec TwilioRequest) int {
	if reply.Status != 0 {
		return reply.Status
	}
	if rec.Kind == "" {
		return http.StatusNotFound
	}
	return http.StatusCreated
}

// created answers a successful create with a resource shaped like Twilio's.
func (f *FakeTwilio) created(w http.ResponseWriter, rec TwilioRequest, seq int) {
	now := time.Now().UTC().Format(time.RFC1123Z)
	var v map[string]any
	switch rec.Kind {
	case "message":
		sid := sidOf(rec.Kind, seq)
		v = map[string]any{
			"account_sid":           f.AccountSID,
			"api_version":           "2010-04-01",
			"body":                  rec.Form.Get("Body"),
			"date_created":          now,
			"date_updated":          now,
			"date_sent":             nil,
			"direction":             "outbound-api",
			"error_code":            nil,
			"error_message":         nil,
			"from":                  rec.Form.Get("From"),
			"to":                    rec.Form.Get("To"),
			"messaging_service_sid": nilIfEmpty(rec.Form.Get("MessagingServiceSid")),
			"num_media":             "0",
			"num_segments":          "1",
			"price":                 nil,
			"price_unit":            "USD",
			"sid":                   sid,
			"status":                "queued",
			"subresource_uris":      map[string]string{"media": "/2010-04-01/Accounts/" + f.AccountSID + "/Messages/" + sid + "/Media.json"},
			"uri":                   "/2010-04-01/Accounts/" + f.AccountSID + "/Messages/" + sid + ".json",
		}
	case "call":
		sid := sidOf(rec.Kind, seq)
		v = map[string]any{
			"account_sid": f.AccountSID, "api_version": "2010-04-01",
			"date_created": now, "date_updated": now, "direction": "outbound-api",
			"from": rec.Form.Get("From"), "to": rec.Form.Get("To"),
			"sid": sid, "status": "queued",
			"uri": "/2010-04-01/Accounts/" + f.AccountSID + "/Calls/" + sid + ".json",
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(v)
}

// sidOf is the id the fake gives the seq'th request's message or call.
func sidOf(kind string, seq int) string {
	if kind == "call" {
		return fmt.Sprintf("CA%032x", seq)
	}
	return fmt.Sprintf("SM%032x", seq)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errorMessage is Twilio's text for code. Like Twilio's, some name the
// number: a sender must never copy Twilio's message into an error or a log
// line, and this lets tests catch one that does.
func errorMessage(code int, to string) string {
	switch code {
	case TwilioInvalidTo:
		return "The 'To' number " + to + " is not a valid phone number."
	case TwilioUnsubscribed:
		return "Attempt to send to unsubscribed recipient " + to
	case TwilioNotMobile:
		return "'To' number " + to + " is not a valid mobile number"
	case TwilioTooMany:
		return "Too Many Requests"
	case 0:
		return "Internal Server Error"
	}
	return fmt.Sprintf("Error %d", code)
}

// writeTwilioError writes Twilio's legacy error JSON.
func writeTwilioError(w http.ResponseWriter, status, code int, msg string) {
	if code == 0 && status >= 500 {
		code = TwilioInternal
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code":      code,
		"message":   msg,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}
