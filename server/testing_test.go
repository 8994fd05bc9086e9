package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"waymark/casework"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/postcode"
	"waymark/problem"
	"waymark/seal"
	"waymark/server/respond"
	"waymark/staff"
	"waymark/staff/stafftest"
	"waymark/store"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// publicHandler is the staff listener's handler, as Listeners builds it.
func publicHandler(d Deps) http.Handler { return Listeners(d).Public }

// errorBody is every error answer's shape, as tests decode it.
type errorBody = respond.ErrorBody

// testEnv is Waymark's HTTP server around real services on a private real
// redis-server, served over TLS by httptest (so the __Host- session cookie
// works as in production), with one settable clock shared by the store, the
// services and the server.
//
// To add a service: build it in newTestEnv next to Staff, keep it in a
// field, and put it in the Deps literal. Tests sign staff in with login.
type testEnv struct {
	Redis  *testenv.Redis
	Store  *testStore
	Clock  *testclock.Clock // starts at the real time: TOTP codes are computed from it
	Staff  *staff.Service
	Cases  *casework.Cases
	Server *httptest.Server
	// users holds what login created, by username.
	users map[string]*testUser
}

// testUser is an account made by login: its id, password and TOTP secret
// (for re-authentication).
type testUser struct {
	ID       string
	Password string
	TOTP     staff.Secret
}

// testPassword is every login account's password.
const testPassword = "correct horse battery staple"

type envOptions struct {
	argon2          staff.Params
	insecureCookies bool
	trustedProxies  []string
}

// envOption changes how newTestEnv builds the server.
type envOption func(*envOptions)

// withTrustedProxies serves as with WAYMARK_TRUSTED_PROXIES.
func withTrustedProxies(list ...string) envOption {
	return func(o *envOptions) { o.trustedProxies = list }
}

// withInsecureCookies serves as with WAYMARK_INSECURE_COOKIES.
func withInsecureCookies() envOption { return func(o *envOptions) { o.insecureCookies = true } }

// newTestEnv starts redis-server, the store with fresh keys, the services
// and the HTTP server; everything stops when t ends.
func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	o := envOptions{argon2: stafftest.Params()}
	for _, f := range opts {
		f(&o)
	}
	env := &testEnv{Clock: testclock.New(time.Now()), users: map[string]*testUser{}}
	env.Redis = testenv.StartRedis(t, testenv.RedisOptions{})
	kr, err := seal.NewKeyring([]seal.Key{{ID: "k1", Secret: seal.NewRandomKey()}})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := seal.NewIndex(seal.NewRandomKey(), 8)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(store.Options{Tenant: "test", URL: env.Redis.URL(), Now: env.Clock.Now,
		Crypto: store.Crypto{Keyring: kr, Index: ix, TagKey: seal.NewRandomKey()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := newTestStore(db)
	env.Store = st

	districts, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	env.Staff, err = staff.NewService(staff.Options{
		Store: st, Now: env.Clock.Now, Argon2: o.argon2, Districts: districts, Logger: discard(),
	})
	if err != nil {
		t.Fatal(err)
	}

	pins, err := seal.NewPINKey(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	env.Cases, err = casework.NewCases(casework.CasesOptions{Store: st, PINs: pins, CheckinWord: "OK", Now: env.Clock.Now, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}

	proxies, err := ParseTrustedProxies(o.trustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	h := publicHandler(Deps{
		Logger:          discard(),
		Now:             env.Clock.Now,
		InsecureCookies: o.insecureCookies,
		TrustedProxies:  proxies,
		Staff:           env.Staff,
		Cases:           env.Cases,
	})
	env.Server = httptest.NewTLSServer(h)
	t.Cleanup(env.Server.Close)
	return env
}

// client returns a new HTTP client for the server with its own cookie jar
// (a browser of its own).
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: e.Server.Client().Transport, Jar: jar, Timeout: 30 * time.Second}
}

// login creates an account directly through the staff service (its teams
// too, if missing), signs it in through POST /v1/auth/login with a TOTP
// code for the clock's current time, and returns a client holding the
// session cookie. Each username can be logged in once per 30 s step of the
// clock (codes are single-use); e.users[username] keeps its credentials.
func (e *testEnv) login(t *testing.T, username string, roles []staff.Role, teams []string) *http.Client {
	t.Helper()
	ctx := context.Background()
	for _, id := range teams {
		if _, err := e.Staff.Team(ctx, id); errors.Is(err, problem.ErrNotFound) {
			if _, err := e.Staff.AddTeam(ctx, staff.Team{ID: id, Name: "Team " + id}); err != nil {
				t.Fatalf("add team %s: %v", id, err)
			}
		}
	}
	u := e.users[username]
	if u == nil {
		a, en, err := e.Staff.AddWithPassword(ctx, staff.NewAccount{Username: username, Roles: roles, Teams: teams}, testPassword)
		if err != nil {
			t.Fatalf("add %s: %v", username, err)
		}
		u = &testUser{ID: a.ID, Password: testPassword, TOTP: en.Secret}
		e.users[username] = u
	}
	c := e.client()
	status, _, body := e.call(t, c, "POST", "/v1/auth/login", map[string]string{
		"username": username, "password": u.Password, "totp": e.code(t, username),
	})
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, status, body)
	}
	return c
}

// code is username's TOTP code at the clock's time.
func (e *testEnv) code(t *testing.T, username string) string {
	t.Helper()
	c, err := staff.TOTPCode(e.users[username].TOTP, e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// call sends body (JSON-encoded unless nil or already []byte) and returns
// the status, headers and body. hdr is pairs of header names and values.
func (e *testEnv) call(t *testing.T, c *http.Client, method, path string, body any, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}
