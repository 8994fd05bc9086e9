package server

import (
	"errors"
	"net/http"
	"time"

	"waymark/problem"
	"waymark/server/respond"
	"waymark/staff"
)

// Session cookie names. The __Host- prefix makes browsers accept the cookie
// only when it is Secure, host-only and Path=/, so a sibling subdomain
// cannot plant or overwrite it. Plain-http development cannot use it.
const (
	sessionCookie         = "__Host-waymark_session"
	insecureSessionCookie = "waymark_session"
	// The sign-in device cookie: a device that signed in to a username
	// before is throttled apart from everyone else guessing it.
	deviceCookie         = "__Host-waymark_device"
	insecureDeviceCookie = "waymark_device"
)

func (s *server) cookieName() string {
	if s.InsecureCookies {
		return insecureSessionCookie
	}
	return sessionCookie
}

// device is the request's sign-in device cookie, or "".
func (s *server) device(r *http.Request) string {
	name := deviceCookie
	if s.InsecureCookies {
		name = insecureDeviceCookie
	}
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > 64 {
		return ""
	}
	return c.Value
}

func (s *server) setDeviceCookie(w http.ResponseWriter, token string) {
	name := deviceCookie
	if s.InsecureCookies {
		name = insecureDeviceCookie
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: token, Path: "/",
		MaxAge:   int(staff.DeviceLifetime.Seconds()),
		Secure:   !s.InsecureCookies,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// authed admits requests with a live session cookie (else 401) whose
// account holds at least one of roles (else 403; no roles means any signed-in
// staff member), and puts the Principal in the request context. State-
// changing requests from another site are refused first (403), before any
// Redis work: Sec-Fetch-Site, or Origin against Host and the allowed origins.
func (s *server) authed(roles ...staff.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.Staff == nil {
				s.error(w, r, staff.ErrUnauthorized)
				return
			}
			c, err := r.Cookie(s.cookieName())
			if err != nil {
				s.error(w, r, staff.ErrUnauthorized)
				return
			}
			p, err := s.Staff.Authenticate(r.Context(), c.Value)
			if err != nil {
				if isUnauthorized(err) {
					s.clearSessionCookie(w)
				}
				s.error(w, r, err)
				return
			}
			if len(roles) > 0 && !hasAnyRole(p, roles) {
				s.error(w, r, staff.ErrForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(respond.WithPrincipal(r.Context(), p)))
		})
		return s.csrf.Handler(check)
	}
}

func hasAnyRole(p *staff.Principal, roles []staff.Role) bool {
	for _, r := range roles {
		if p.Has(r) {
			return true
		}
	}
	return false
}

func isUnauthorized(err error) bool { return errors.Is(err, problem.ErrUnauthorized) }

// setSessionCookie hands the session token to the browser: HttpOnly (no
// script can read it), SameSite=Strict (no other site's page sends it),
// Secure with the __Host- prefix except in plain-http development.
func (s *server) setSessionCookie(w http.ResponseWriter, in staff.SignIn) {
	http.SetCookie(w, &http.Cookie{
		Name:  s.cookieName(),
		Value: in.Token.Reveal(),
		Path:  "/",
		// The browser may drop it after the lifetime; the server decides.
		MaxAge:   int(s.Staff.SessionLifetime().Seconds()),
		Secure:   !s.InsecureCookies,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

func (s *server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Secure:   !s.InsecureCookies,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// meResponse describes the signed-in staff member.
type meResponse struct {
	ID          string       `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Roles       []staff.Role `json:"roles"`
	Teams       []string     `json:"teams"`
	AuthAt      time.Time    `json:"auth_at"`
}

func meOf(p *staff.Principal) meResponse {
	m := meResponse{ID: p.StaffID, Username: p.Username, DisplayName: p.DisplayName, Roles: p.Roles, Teams: p.Teams, AuthAt: p.AuthAt.UTC()}
	if m.Roles == nil {
		m.Roles = []staff.Role{}
	}
	if m.Teams == nil {
		m.Teams = []string{}
	}
	return m
}

type loginRequest struct {
	Username string `json:"username" validate:"required,max=64"`
	Password string `json:"password" validate:"required,max=256"`
	TOTP     string `json:"totp" validate:"required,len=6,numeric"`
}

// login is POST /v1/auth/login: password and TOTP code → session cookie.
// Every refusal is the same 401; too many failures answer 429 with
// Retry-After.
func (s *server) login() http.Handler {
	if s.Staff == nil {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req loginRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		in, err := s.Staff.Login(r.Context(), staff.Credentials{
			Username: req.Username, Password: req.Password, TOTP: req.TOTP, Addr: s.clientAddr(r), Device: s.device(r),
		})
		s.auditSignIn(r, "staff.login", in.Principal, err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.setSessionCookie(w, in)
		s.setDeviceCookie(w, in.Device)
		s.json(w, r, http.StatusOK, meOf(in.Principal))
	})
}

// logout is POST /v1/auth/logout: the session ends at once, everywhere.
func (s *server) logout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Staff.Logout(r.Context(), principal(r)); err != nil {
			s.error(w, r, err)
			return
		}
		s.clearSessionCookie(w)
		w.WriteHeader(http.StatusNoContent)
	})
}

// me is GET /v1/auth/me.
func (s *server) me() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.json(w, r, http.StatusOK, meOf(principal(r)))
	})
}

type reauthRequest struct {
	Password string `json:"password" validate:"required,max=256"`
	TOTP     string `json:"totp" validate:"required,len=6,numeric"`
}

// reauth is POST /v1/auth/reauth: password and a fresh code again, renewing
// auth_at (a reveal needs one within five minutes).
func (s *server) reauth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req reauthRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		p, err := s.Staff.Reauth(r.Context(), principal(r), staff.Credentials{
			Password: req.Password, TOTP: req.TOTP, Addr: s.clientAddr(r), Device: s.device(r),
		})
		s.auditSignIn(r, "staff.reauth", principal(r), err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, meOf(p))
	})
}

type setupRequest struct {
	Token    string `json:"token" validate:"required,max=128"`
	Password string `json:"password" validate:"required,max=256"`
}

type setupResponse struct {
	TOTPSecret string `json:"totp_secret"`
	OTPAuthURL string `json:"otpauth_url"`
	// QRSVG is the otpauth URL as a QR code, for the authenticator app to
	// scan; drawn here, so no third party sees the secret.
	QRSVG string `json:"qr_svg,omitempty"`
}

// setupBegin is POST /v1/auth/setup: the setup link's token and a new
// password → a TOTP secret for the authenticator app. A wrong, used or
// expired token is 404.
func (s *server) setupBegin() http.Handler {
	if s.Staff == nil {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req setupRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		e, err := s.Staff.BeginSetup(r.Context(), req.Token, req.Password)
		if err != nil {
			s.error(w, r, err)
			return
		}
		qr, _ := qrSVG(e.URL.Reveal()) // without it, the key and the link remain
		s.json(w, r, http.StatusOK, setupResponse{TOTPSecret: e.Secret.Reveal(), OTPAuthURL: e.URL.Reveal(), QRSVG: qr})
	})
}

type setupConfirmRequest struct {
	Token string `json:"token" validate:"required,max=128"`
	TOTP  string `json:"totp" validate:"required,len=6,numeric"`
}

// setupConfirm is POST /v1/auth/setup/confirm: a code from the app proves
// it holds the secret; the account becomes active and is signed in.
func (s *server) setupConfirm() http.Handler {
	if s.Staff == nil {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req setupConfirmRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		in, err := s.Staff.ConfirmSetup(r.Context(), req.Token, req.TOTP)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.setSessionCookie(w, in)
		s.json(w, r, http.StatusOK, meOf(in.Principal))
	})
}

type ticketResponse struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expires_at"`
}

// wsTicket is POST /v1/auth/ws-ticket: a single-use, 30-second ticket the
// dashboard sends in its first WebSocket frame (never in a URL).
func (s *server) wsTicket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ticket, exp, err := s.Staff.IssueTicket(r.Context(), principal(r))
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, ticketResponse{Ticket: ticket.Reveal(), ExpiresAt: exp.UTC()})
	})
}

// directoryAccess guards the directory routes: signed-in helpline staff and
// administrators, or anyone when the deployment makes the directory public
// (for the disguised app). The directory is public information, but a
// deployment decides whether to serve it to the world.
func (s *server) directoryAccess(public bool) func(http.Handler) http.Handler {
	if public {
		return func(h http.Handler) http.Handler { return h }
	}
	// Helpline staff search all day; responders and caseworkers signpost
	// during an alert or a case review.
	return s.authed(staff.RoleHelpline, staff.RoleAdmin, staff.RoleResponder, staff.RoleCaseworker)
}
