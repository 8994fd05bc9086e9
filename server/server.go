// Package server is Waymark's HTTP adapter: routes.go lists every route,
// handlers decode and validate at the edge, call the domain, and encode the
// answer; errors.go maps every error to a status and a fixed public message.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/alert"
	"waymark/casework"
	"waymark/contact"
	"waymark/oncall"
	"waymark/postcode"
	"waymark/push"
	"waymark/records"
	"waymark/server/appapi"
	"waymark/server/directory"
	"waymark/server/respond"
	"waymark/signpost"
	"waymark/staff"
)

// Deps is everything the HTTP layer needs. Zero-valued optional fields turn
// their routes off rather than panic, so tests can build a partial server.
type Deps struct {
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics.
	Registry *prometheus.Registry
	// Ready reports whether this instance can serve: Redis reachable and
	// keys loaded. nil means always ready.
	Ready func(context.Context) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AllowedOrigins are the dashboard origins trusted for cross-origin
	// state-changing requests and WebSocket handshakes.
	AllowedOrigins []string
	// InsecureCookies drops the Secure flag and __Host- prefix for plain-http
	// development (WAYMARK_INSECURE_COOKIES).
	InsecureCookies bool
	// TrustedProxies are the reverse proxies (addresses or prefixes) whose
	// X-Forwarded-For names the client (WAYMARK_TRUSTED_PROXIES); sign-in
	// throttling counts failures per client, not per proxy.
	TrustedProxies []netip.Prefix

	// Domain services; a nil service turns its routes off.
	Staff  *staff.Service
	Cases  *casework.Cases
	Alerts *alert.Service
	// Contact rings and texts survivors through Waymark; nil (no Twilio)
	// refuses both, saying so.
	Contact *contact.Service
	// Records hands off closing records and serves reports and holds.
	Records *records.Records
	// Postcodes names the nearest postcode sector of a location on an alert.
	Postcodes *postcode.Directory
	// Hub is the live hub behind GET /v1/ws.
	Hub *push.Hub
	// Web serves the dashboard at / and its files under /assets/.
	Web http.Handler
	// App serves the disguised app's files on the app listener (Handlers.App):
	// every path that is not /v1/app/*. It is never part of the Public handler.
	App http.Handler
	// AppURL is the disguised app's base URL (WAYMARK_APP_URL): an
	// enrolment answers a link to it, with the code in the fragment, and
	// its QR code. Empty: the answer carries the code only.
	AppURL string
	// SMS is the Twilio webhooks' side (POST /sms/inbound, /sms/status).
	SMS *SMS
	// Directory returns the current signposting index (nil before the
	// first load); DirectoryPublic opens search to callers without a session.
	Directory       func() *signpost.Index
	DirectoryPublic bool
	// ORUKAPI serves the directory to anyone as an Open Referral UK API
	// (GET /oruk/services, server/directory; WAYMARK_ORUK_API).
	ORUKAPI bool
	// OnCall answers who is on call and lists rota gaps (oncall.go).
	OnCall *oncall.OnCall
	// Refuges links refuge accounts to their refuge and keeps its
	// vacancies (server/directory); nil turns those routes off.
	Refuges directory.RefugeStore
	// Services lets administrators add, edit and retire directory entries
	// (server/directory); nil turns those routes off.
	Services directory.ServiceStore
	// WebPush and WebPushSubs serve /v1/push (Web Push subscriptions of
	// responders); either nil turns those routes off.
	WebPush     *push.WebPush
	WebPushSubs PushSubscriptions
	// NoFallbackReason is the operator's reason for running without a
	// 24/7 fallback (WAYMARK_NO_FALLBACK_REASON), shown to staff.
	NoFallbackReason string
	// EnrolFailures is how many wrong app enrolment codes one client
	// address may send per 10 minutes before 429 (0: 10; negative: no
	// limit, for tests that measure).
	EnrolFailures int
}

// server holds the dependencies the handlers share.
type server struct {
	Deps
	out     *respond.Responder
	dir     *directory.Handlers
	metrics *httpMetrics
	csrf    *http.CrossOriginProtection
	app     *appapi.Handlers
}

// Handlers are Waymark's three listeners' handlers, sharing one set of
// metrics.
type Handlers struct {
	// Public is the staff listener: the dashboard, the staff API, the
	// Twilio webhooks and the app API; never the app's files or /metrics.
	Public http.Handler
	// App is the disguised app's own listener: its files (Deps.App) and
	// /v1/app/*, nothing else. Its answers, errors included, hold no word
	// that says what the app is for.
	App http.Handler
	// Operator serves /metrics, /healthz and /readyz. Counters move
	// differently for duress and for enrolled numbers, so it is never
	// served to the public.
	Operator http.Handler
}

// Listeners returns the handlers of the three listeners.
func Listeners(d Deps) Handlers {
	s := newServer(d)
	pub, app, op := http.NewServeMux(), http.NewServeMux(), http.NewServeMux()
	s.routes(pub)
	s.appListenerRoutes(app)
	s.operatorRoutes(op)
	return Handlers{Public: s.outer(pub), App: s.outer(app), Operator: s.outer(op)}
}

func newServer(d Deps) *server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &server{
		Deps:    d,
		out:     respond.New(d.Logger),
		metrics: newHTTPMetrics(d.Registry),
		csrf:    http.NewCrossOriginProtection(),
	}
	s.dir = &directory.Handlers{Out: s.out, Logger: d.Logger, Now: d.Now, Staff: d.Staff, Records: d.Records,
		Services: d.Services, Refuges: d.Refuges, Audit: s.auditConfig}
	s.app = appapi.New(appapi.Deps{Out: s.out, Logger: d.Logger, Now: d.Now, Cases: d.Cases, Alerts: d.Alerts,
		Directory: d.Directory, ClientAddr: s.clientAddr, EnrolFailures: d.EnrolFailures})
	for _, o := range d.AllowedOrigins {
		// Origins were validated by config; a bad one here is a bug, and
		// refusing it only makes cross-origin requests fail closed.
		if err := s.csrf.AddTrustedOrigin(o); err != nil {
			d.Logger.Error("ignoring allowed origin", "err", err)
		}
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, respond.ErrCrossOrigin)
	}))
	return s
}

// The handlers' shorthands for the one Responder (server/respond).

func (s *server) json(w http.ResponseWriter, r *http.Request, status int, v any) {
	s.out.JSON(w, r, status, v)
}

func (s *server) error(w http.ResponseWriter, r *http.Request, err error) { s.out.Error(w, r, err) }

func (s *server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return s.out.Decode(w, r, v)
}

func (s *server) check(v any) error { return s.out.Check(v) }

func requestID(r *http.Request) string { return respond.RequestID(r) }

func principal(r *http.Request) *staff.Principal { return respond.Principal(r) }
