package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"waymark/casework"
	"waymark/pii"
	"waymark/problem"
)

// Sentinel errors of the sender. Every error Send returns wraps one of them
// and carries Twilio's numeric code where there is one, never Twilio's
// message (Twilio's messages can quote the number).
var (
	// ErrUnsubscribed is Twilio error 21610: the recipient texted STOP to
	// this sender, so Twilio refuses to text them until they text START.
	// Escalation should use another channel (a call, the dashboard).
	ErrUnsubscribed = errors.New("sms: recipient unsubscribed (twilio 21610)")
	// ErrBadNumber is Twilio error 21211 or 21614: the number cannot
	// receive texts. Retrying cannot help.
	ErrBadNumber = errors.New("sms: number cannot receive texts")
	// ErrRejected is any other refusal by Twilio (4xx): bad credentials, a
	// From number not on the account, and so on. Not retried.
	ErrRejected = errors.New("sms: rejected by twilio")
	// ErrUndelivered means Twilio could not be reached, or kept answering
	// 429 or 5xx, until the caller's deadline. The page may or may not
	// have gone out (Twilio has no idempotency key).
	ErrUndelivered = fmt.Errorf("sms: twilio unavailable: %w", problem.ErrUnavailable)
	// ErrNotAllowed refuses a text the discretion rules forbid: to a
	// survivor without a verdict allowing text, or from a number that is
	// not the configured one for that purpose.
	ErrNotAllowed = fmt.Errorf("sms: not allowed: %w", problem.ErrForbidden)
	// ErrNotConfigured means the sender lacks the setting a send needs.
	ErrNotConfigured = errors.New("sms: twilio not configured")
)

// Twilio error codes that are final: retrying cannot change the answer.
const (
	codeInvalidTo    = 21211
	codeUnsubscribed = 21610
	codeNotMobile    = 21614
)

// SenderConfig configures a Sender. AccountSID and AuthToken are passed to
// twilio-go explicitly: the library's TWILIO_* environment fallback is
// never used, and its TWILIO_EDGE/TWILIO_REGION host rewriting is undone.
type SenderConfig struct {
	AccountSID string
	AuthToken  string
	// From pages responders (WAYMARK_TWILIO_FROM); MessagingServiceSID is
	// used for pages instead when From is empty.
	From                string
	MessagingServiceSID string
	// SurvivorFrom is the only number texts to survivors come from
	// (WAYMARK_TWILIO_SURVIVOR_FROM); empty turns survivor texts off.
	SurvivorFrom string
	// DirectoryFrom is the signposting number (WAYMARK_TWILIO_DIRECTORY_NUMBER):
	// the only number directory answers come from, never the alert intake
	// number. Empty turns directory answers off.
	DirectoryFrom string
	// PublicURL is Waymark's Twilio-facing base URL: status callbacks go
	// to PublicURL + "/sms/status". Empty: no callbacks.
	PublicURL string
	// APIURL, when set, receives every request instead of Twilio
	// (WAYMARK_TWILIO_API_URL: tests and `waymark bench` point it at a
	// fake). The request path is kept and appended to APIURL's path.
	APIURL string
	// Transport carries the requests; nil means a private clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// AttemptTimeout bounds one HTTP attempt; default 10 s. The caller's
	// context deadline bounds the whole send, retries included.
	AttemptTimeout time.Duration
	// DefaultDeadline bounds a send whose context has no deadline;
	// default 30 s. Nothing is retried forever.
	DefaultDeadline time.Duration
	// MinBackoff and MaxBackoff shape the jittered exponential backoff
	// between attempts; defaults 200 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// Page is one outbound text. From must be one of the configured numbers;
// empty means the page number (or the messaging service).
type Page struct {
	To   pii.Phone
	Body string
	From string
}

// Sender sends texts and calls through Twilio. It is safe for concurrent
// use.
type Sender struct {
	cfg       SenderConfig
	transport http.RoundTripper
	log       *slog.Logger
}

// NewSender checks cfg and returns a Sender.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, fmt.Errorf("%w: account SID and auth token are required", ErrNotConfigured)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 10 * time.Second
	}
	if cfg.DefaultDeadline <= 0 {
		cfg.DefaultDeadline = 30 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Second, cfg.MinBackoff)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: WAYMARK_TWILIO_API_URL is not an http(s) URL", ErrNotConfigured)
		}
		base = redirect{to: u, next: base}
	}
	return &Sender{cfg: cfg, transport: base, log: cfg.Logger}, nil
}

// TextSurvivor texts a survivor from the survivor number only, and only
// when the alert's contact verdict allows contact now and the case allows
// texts. body is the case's agreed wording.
func (s *Sender) TextSurvivor(ctx context.Context, to pii.Phone, v casework.Verdict, ch casework.Channels, body pii.Text) (string, error) {
	if s.cfg.SurvivorFrom == "" {
		return "", fmt.Errorf("%w: no survivor number (WAYMARK_TWILIO_SURVIVOR_FROM)", ErrNotAllowed)
	}
	if !ch.SMS || (v.Code != casework.TextOnly && v.Code != casework.SafeToCall) {
		return "", fmt.Errorf("%w: contact verdict does not allow a text", ErrNotAllowed)
	}
	return s.Send(ctx, Page{To: to, Body: body.Reveal(), From: s.cfg.SurvivorFrom})
}

// TextDirectoryAnswer answers a text to the signposting number, from that
// number only. body is public directory information, nothing personal.
func (s *Sender) TextDirectoryAnswer(ctx context.Context, to pii.Phone, body string) (string, error) {
	if s.cfg.DirectoryFrom == "" {
		return "", fmt.Errorf("%w: no signposting number (WAYMARK_TWILIO_DIRECTORY_NUMBER)", ErrNotAllowed)
	}
	return s.Send(ctx, Page{To: to, Body: body, From: s.cfg.DirectoryFrom})
}

// Send sends one text, retrying 429, 5xx and timeouts with jittered
// backoff until ctx's deadline (or DefaultDeadline). It returns the
// message SID. Final refusals are not retried: ErrUnsubscribed for 21610,
// ErrBadNumber for 21211 and 21614, ErrRejected for other 4xx.
func (s *Sender) Send(ctx context.Context, p Page) (string, error) {
	if p.To.IsZero() {
		return "", fmt.Errorf("%w: no recipient", ErrRejected)
	}
	params := &api.CreateMessageParams{}
	params.SetTo(p.To.Reveal())
	params.SetBody(p.Body)
	switch {
	case p.From == "" && s.cfg.From != "":
		params.SetFrom(s.cfg.From)
	case p.From == "" && s.cfg.MessagingServiceSID != "":
		params.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	case p.From == "":
		return "", fmt.Errorf("%w: no page number (WAYMARK_TWILIO_FROM)", ErrNotConfigured)
	case p.From == s.cfg.From || p.From == s.cfg.SurvivorFrom || p.From == s.cfg.DirectoryFrom:
		params.SetFrom(p.From)
	default:
		return "", fmt.Errorf("%w: from a number that is not configured", ErrNotAllowed)
	}
	if s.cfg.PublicURL != "" {
		params.SetStatusCallback(s.cfg.PublicURL + "/sms/status")
	}
	return s.do(ctx, "message", func(a *api.ApiService) (string, error) {
		m, err := a.CreateMessage(params)
		if err != nil {
			return "", err
		}
		if m.Sid == nil || *m.Sid == "" {
			return "", errNoSID
		}
		return *m.Sid, nil
	})
}

// Call places a voice page to a responder's phone, or the fallback's,
// that says words (see outbox.VoiceWords; they must say nothing about
// the survivor) and asks for a press of 1. The press comes back to
// POST /sms/voice/answer and the call's outcome to POST /sms/voice/status
// under the public URL.
func (s *Sender) Call(ctx context.Context, to pii.Phone, words string) (string, error) {
	if to.IsZero() {
		return "", fmt.Errorf("%w: no recipient", ErrRejected)
	}
	if s.cfg.From == "" {
		return "", fmt.Errorf("%w: no page number (WAYMARK_TWILIO_FROM)", ErrNotConfigured)
	}
	if s.cfg.PublicURL == "" {
		return "", fmt.Errorf("%w: no public URL (WAYMARK_PUBLIC_URL) for the call's answer", ErrNotConfigured)
	}
	doc, err := VoicePage(words, s.cfg.PublicURL+VoiceAnswerPath)
	if err != nil {
		return "", fmt.Errorf("%w: voice page: %w", ErrRejected, err)
	}
	params := &api.CreateCallParams{}
	params.SetTo(to.Reveal())
	params.SetFrom(s.cfg.From)
	params.SetTwiml(doc)
	params.SetStatusCallback(s.cfg.PublicURL + VoiceStatusPath)
	params.SetStatusCallbackMethod("POST")
	return s.do(ctx, "call", func(a *api.ApiService) (string, error) {
		c, err := a.CreateCall(params)
		if err != nil {
			return "", err
		}
		if c.Sid == nil || *c.Sid == "" {
			return "", errNoSID
		}
		return *c.Sid, nil
	})
}

// CallThrough rings the responder's own phone from the page number and,
// when they answer, connects them to the survivor from the survivor-facing
// number (MaskedCall): the survivor never sees a personal number, and the
// responder never needs the survivor's. The caller has checked the
// contact verdict; this checks only that the numbers are configured.
func (s *Sender) CallThrough(ctx context.Context, responder, survivor pii.Phone) (string, error) {
	if responder.IsZero() || survivor.IsZero() {
		return "", fmt.Errorf("%w: no recipient", ErrRejected)
	}
	if s.cfg.From == "" {
		return "", fmt.Errorf("%w: no page number (WAYMARK_TWILIO_FROM)", ErrNotConfigured)
	}
	if s.cfg.SurvivorFrom == "" {
		return "", fmt.Errorf("%w: no survivor number (WAYMARK_TWILIO_SURVIVOR_FROM)", ErrNotAllowed)
	}
	doc, err := MaskedCall(s.cfg.SurvivorFrom, survivor.Reveal())
	if err != nil {
		return "", fmt.Errorf("%w: masked call: %w", ErrRejected, err)
	}
	params := &api.CreateCallParams{}
	params.SetTo(responder.Reveal())
	params.SetFrom(s.cfg.From)
	params.SetTwiml(doc)
	return s.do(ctx, "masked call", func(a *api.ApiService) (string, error) {
		c, err := a.CreateCall(params)
		if err != nil {
			return "", err
		}
		if c.Sid == nil || *c.Sid == "" {
			return "", errNoSID
		}
		return *c.Sid, nil
	})
}

// The webhooks of voice pages, under the public URL.
const (
	VoiceAnswerPath = "/sms/voice/answer"
	VoiceStatusPath = "/sms/voice/status"
)

var errNoSID = errors.New("twilio answered without a sid")

// do runs one create with retries. op names it in logs and errors.
func (s *Sender) do(ctx context.Context, op string, create func(*api.ApiService) (string, error)) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.DefaultDeadline)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	var last error
	for attempt := 1; ; attempt++ {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		start := time.Now()
		timeout := min(s.cfg.AttemptTimeout, left)
		actx, cancel := context.WithTimeout(ctx, timeout)
		// twilio-go reads and closes the body before create returns, so
		// the attempt's context can end here.
		sid, err := create(s.api(actx, timeout))
		cancel()
		if err == nil {
			s.log.Debug("twilio create", "op", op, "attempt", attempt, "duration", time.Since(start))
			return sid, nil
		}
		cls, final := classify(err)
		s.log.Info("twilio create failed", "op", op, "attempt", attempt, "outcome", cls, "duration", time.Since(start))
		if final != nil {
			return "", fmt.Errorf("sms: %s: %w", op, final)
		}
		last = fmt.Errorf("%s after %d attempts", cls, attempt)
		wait := s.backoff(attempt)
		if time.Until(deadline) <= wait {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	if last == nil {
		last = errors.New("no attempt before the deadline")
	}
	return "", fmt.Errorf("sms: %s: %w (%v)", op, ErrUndelivered, last)
}

// backoff is "full jitter": a random wait up to MinBackoff·2^(attempt-1),
// capped at MaxBackoff, so instances retrying at once spread out.
func (s *Sender) backoff(attempt int) time.Duration {
	ceil := s.cfg.MinBackoff << min(attempt-1, 16)
	if ceil > s.cfg.MaxBackoff || ceil <= 0 {
		ceil = s.cfg.MaxBackoff
	}
	return s.cfg.MinBackoff/2 + rand.N(ceil-s.cfg.MinBackoff/2+1)
}

// api returns twilio-go's API service for one attempt. twilio-go's
// SendRequest builds its request on context.Background() and has no
// per-call timeout, so each attempt gets its own *client.Client whose
// http.Client carries the caller's context and the attempt's timeout. The
// client is cheap to build; the transport (and its connection pool) is
// shared.
//
// Credentials go in explicitly and Client is always set, so
// NewRestClientWithParams never falls back to TWILIO_ACCOUNT_SID or
// TWILIO_AUTH_TOKEN; the TWILIO_EDGE and TWILIO_REGION its request handler
// reads from the environment are cleared so the host is never rewritten.
func (s *Sender) api(ctx context.Context, timeout time.Duration) *api.ApiService {
	c := &client.Client{
		Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: withContext{ctx: ctx, next: s.transport},
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	c.SetAccountSid(s.cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{
		Username:   s.cfg.AccountSID,
		Password:   s.cfg.AuthToken,
		AccountSid: s.cfg.AccountSID,
		Client:     c,
	})
	rc.RequestHandler.Edge, rc.RequestHandler.Region = "", ""
	return rc.Api
}

// classify sorts a twilio-go error. final is non-nil for errors that must
// not be retried; cls is a short description safe to log (codes and
// statuses, never Twilio's message text).
func classify(err error) (cls string, final error) {
	var tre *client.TwilioRestError
	if errors.As(err, &tre) {
		cls = fmt.Sprintf("twilio error %d (HTTP %d)", tre.Code, tre.Status)
		return cls, finalFor(tre.Status, tre.Code, cls)
	}
	var v1 *client.RestErrorV1
	if errors.As(err, &v1) {
		cls = fmt.Sprintf("twilio error %d (HTTP %d)", v1.Code, v1.HttpStatusCode)
		return cls, finalFor(v1.HttpStatusCode, v1.Code, cls)
	}
	if errors.Is(err, errNoSID) {
		return "no sid", fmt.Errorf("%w: %v", ErrRejected, err)
	}
	var ne net.Error
	if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout", nil
	}
	// twilio-go wraps a non-JSON error page as "error decoding the
	// response for an HTTP error code: NNN: …".
	const marker = "HTTP error code: "
	if msg := err.Error(); strings.Contains(msg, marker) {
		rest := msg[strings.Index(msg, marker)+len(marker):]
		if i := strings.IndexByte(rest, ':'); i > 0 {
			rest = rest[:i]
		}
		if status, convErr := strconv.Atoi(strings.TrimSpace(rest)); convErr == nil {
			cls = fmt.Sprintf("HTTP %d without twilio error", status)
			return cls, finalFor(status, 0, cls)
		}
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled", nil
	}
	return "transport error", nil
}

func finalFor(status, code int, cls string) error {
	switch {
	case code == codeUnsubscribed:
		return ErrUnsubscribed
	case code == codeInvalidTo || code == codeNotMobile:
		return fmt.Errorf("%w: %s", ErrBadNumber, cls)
	case status == http.StatusTooManyRequests || status >= 500:
		return nil
	case status >= 400:
		return fmt.Errorf("%w: %s", ErrRejected, cls)
	}
	return nil
}

// withContext makes every request of one attempt end when the attempt's
// context does (twilio-go builds requests on context.Background()), while
// keeping the request's own context, through which http.Client enforces
// its Timeout.
type withContext struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t withContext) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(r.Context())
	// The callback stays registered until the attempt's context ends,
	// which do guarantees right after the attempt.
	context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	return t.next.RoundTrip(r.WithContext(ctx))
}

// redirect sends every request to a configured base URL instead of
// Twilio, keeping the path (appended to the base's path) and query.
type redirect struct {
	to   *url.URL
	next http.RoundTripper
}

func (t redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = t.to.Scheme, t.to.Host
	r.URL.Path = t.to.Path + r.URL.Path
	r.URL.RawPath = ""
	r.Host = t.to.Host
	return t.next.RoundTrip(r)
}
