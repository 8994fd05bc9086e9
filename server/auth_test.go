package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/problem"
	"waymark/server/respond"
	"waymark/staff"
)

var responder = []staff.Role{staff.RoleResponder}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// errorOf is an error answer without its request id, for comparing.
func errorOf(t *testing.T, b []byte) errorBody {
	t.Helper()
	e := decodeJSON[errorBody](t, b)
	e.RequestID = ""
	return e
}

func TestLoginWithTOTP(t *testing.T) {
	env := newTestEnv(t)
	c := env.login(t, "sam", []staff.Role{staff.RoleResponder, staff.RoleCaseworker}, []string{"south", "east"})
	status, _, body := env.call(t, c, "GET", "/v1/auth/me", nil)
	if status != 200 {
		t.Fatalf("me = %d %s", status, body)
	}
	me := decodeJSON[meResponse](t, body)
	want := meResponse{
		ID: env.users["sam"].ID, Username: "sam", DisplayName: "sam",
		Roles: []staff.Role{staff.RoleCaseworker, staff.RoleResponder}, Teams: []string{"east", "south"},
		AuthAt: env.Clock.Now().UTC().Truncate(time.Millisecond),
	}
	if diff := cmp.Diff(want, me); diff != "" {
		t.Errorf("me (-want +got):\n%s", diff)
	}
	// Not signed in: 401.
	if status, _, _ := env.call(t, env.client(), "GET", "/v1/auth/me", nil); status != 401 {
		t.Errorf("me without a session = %d, want 401", status)
	}
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []envOption
		cookie   string
		wantAttr []string
		notAttr  []string
	}{
		{"production", nil, "__Host-waymark_session=", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict", "Max-Age=43200"}, []string{"Domain="}},
		{"insecure development", []envOption{withInsecureCookies()}, "waymark_session=", []string{"Path=/", "HttpOnly", "SameSite=Strict"}, []string{"Secure", "Domain=", "__Host-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, tc.opts...)
			env.login(t, "sam", responder, nil)
			env.Clock.Advance(30 * time.Second)
			status, hdr, body := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{
				"username": "sam", "password": testPassword, "totp": env.code(t, "sam"),
			})
			if status != 200 {
				t.Fatalf("login = %d %s", status, body)
			}
			sc := hdr.Get("Set-Cookie")
			if !strings.HasPrefix(sc, tc.cookie) {
				t.Fatalf("Set-Cookie = %q, want %s…", sc, tc.cookie)
			}
			value, _, _ := strings.Cut(strings.TrimPrefix(sc, tc.cookie), ";")
			if len(value) != 43 { // 256 bits, unpadded base64url
				t.Errorf("token is %d characters, want 43 (256 bits)", len(value))
			}
			for _, a := range tc.wantAttr {
				if !strings.Contains(sc, a) {
					t.Errorf("Set-Cookie %q lacks %s", sc, a)
				}
			}
			for _, a := range tc.notAttr {
				if strings.Contains(sc, a) {
					t.Errorf("Set-Cookie %q has %s", sc, a)
				}
			}
			// Redis holds a tag of the token, never the token.
			if strings.Contains(redisText(t, env), value) {
				t.Error("the session token is in Redis")
			}
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	env := newTestEnv(t)
	env.login(t, "sam", responder, nil)
	env.Clock.Advance(30 * time.Second)
	good := func() map[string]string {
		return map[string]string{"username": "sam", "password": testPassword, "totp": env.code(t, "sam")}
	}
	unauthorized := errorBody{Error: "unauthorized"}
	for _, tc := range []struct {
		name string
		edit func(m map[string]string)
	}{
		{"wrong password", func(m map[string]string) { m["password"] = "correct horse battery stapler" }},
		{"wrong totp", func(m map[string]string) {
			n, _ := strconv.Atoi(m["totp"])
			m["totp"] = strconv.Itoa(1_000_000 + (n+1)%1_000_000)[1:]
		}},
		{"old totp", func(m map[string]string) {
			c, _ := staff.TOTPCode(env.users["sam"].TOTP, env.Clock.Now().Add(-90*time.Second))
			m["totp"] = c
		}},
		{"unknown username", func(m map[string]string) { m["username"] = "nobody" }},
		{"username case", func(m map[string]string) { m["username"] = "SAM"; m["password"] = "wrong password here" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.Clock.Advance(time.Hour) // past any throttling
			req := good()
			tc.edit(req)
			status, hdr, body := env.call(t, env.client(), "POST", "/v1/auth/login", req)
			if status != 401 {
				t.Fatalf("login = %d %s, want 401", status, body)
			}
			if diff := cmp.Diff(unauthorized, errorOf(t, body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if hdr.Get("Set-Cookie") != "" {
				t.Error("a refused login set a cookie")
			}
		})
	}

	// A code works once: the same code again (even in a new sign-in) is
	// refused; the next step's code works.
	env.Clock.Advance(time.Hour)
	req := good()
	if status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", req); status != 200 {
		t.Fatalf("first use of a code: %d %s", status, body)
	}
	if status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", req); status != 401 {
		t.Errorf("replayed code: %d, want 401", status)
	}
	env.Clock.Advance(30 * time.Second)
	if status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", good()); status != 200 {
		t.Errorf("next step's code: %d %s", status, body)
	}
}

func TestLoginBadInput(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		fields []problem.Field
	}{
		{"empty object", `{}`, 422, []problem.Field{
			{Name: "password", Problem: "is required"}, {Name: "totp", Problem: "is required"}, {Name: "username", Problem: "is required"},
		}},
		{"bad totp", `{"username":"sam","password":"x","totp":"12a4"}`, 422, []problem.Field{
			{Name: "totp", Problem: "must have length 6"},
		}},
		{"unknown field", `{"username":"sam","password":"x","totp":"123456","remember":true}`, 422, []problem.Field{
			{Name: "remember", Problem: "unknown field"},
		}},
		{"too large", `{"username":"` + strings.Repeat("a", respond.MaxJSONBody) + `"}`, 413, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", []byte(tc.body))
			if status != tc.status {
				t.Fatalf("status = %d %s, want %d", status, body, tc.status)
			}
			if tc.fields != nil {
				if diff := cmp.Diff(tc.fields, errorOf(t, body).Fields); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestLogout(t *testing.T) {
	env := newTestEnv(t)
	c := env.login(t, "sam", responder, nil)
	u := env.Server.URL
	// The session cookie (the sign-in device cookie outlives sessions).
	var saved []*http.Cookie
	for _, ck := range c.Jar.Cookies(mustURL(t, u)) {
		if ck.Name == sessionCookie {
			saved = append(saved, ck)
		}
	}
	if len(saved) != 1 {
		t.Fatalf("jar holds %d session cookies", len(saved))
	}
	// Another session of the same account stays signed in.
	env.Clock.Advance(30 * time.Second)
	other := env.login(t, "sam", responder, nil)

	if status, _, body := env.call(t, c, "POST", "/v1/auth/logout", nil); status != 204 {
		t.Fatalf("logout = %d %s", status, body)
	}
	if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 401 {
		t.Errorf("me after logout = %d, want 401", status)
	}
	// The old token itself is dead, not just dropped by the browser.
	replay := env.client()
	replay.Jar.SetCookies(mustURL(t, u), saved)
	if status, _, _ := env.call(t, replay, "GET", "/v1/auth/me", nil); status != 401 {
		t.Errorf("old cookie after logout = %d, want 401", status)
	}
	if status, _, _ := env.call(t, other, "GET", "/v1/auth/me", nil); status != 200 {
		t.Errorf("the other session after logout = %d, want 200", status)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		env := newTestEnv(t)
		c := env.login(t, "sam", responder, nil)
		// Used every 59 minutes, the session lives on.
		for range 3 {
			env.Clock.Advance(staff.DefaultSessionIdle - time.Minute)
			if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 200 {
				t.Fatalf("me within the idle timeout = %d", status)
			}
		}
		env.Clock.Advance(staff.DefaultSessionIdle)
		if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 401 {
			t.Errorf("me after an idle hour = %d, want 401", status)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		env := newTestEnv(t)
		c := env.login(t, "sam", responder, nil)
		step := 50 * time.Minute
		var used time.Duration
		for used+step < staff.DefaultSessionLifetime {
			env.Clock.Advance(step)
			used += step
			if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 200 {
				t.Fatalf("me at %v = %d, want 200", used, status)
			}
		}
		env.Clock.Advance(staff.DefaultSessionLifetime - used)
		if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 401 {
			t.Errorf("me at the end of the shift = %d, want 401", status)
		}
	})
}

func TestDisabledAccountNextRequest401(t *testing.T) {
	env := newTestEnv(t)
	c := env.login(t, "sam", responder, nil)
	if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 200 {
		t.Fatalf("me = %d", status)
	}
	if err := env.Staff.Disable(context.Background(), "sam"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 401 {
		t.Errorf("me after disable = %d, want 401", status)
	}
	env.Clock.Advance(time.Hour)
	status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{
		"username": "sam", "password": testPassword, "totp": env.code(t, "sam"),
	})
	if status != 401 {
		t.Errorf("login of a disabled account = %d, want 401", status)
	}
}

// TestChangeAccessEndsSessions: changing an account's roles ends its
// sessions at once; it signs in again with the new roles; an enabled
// account signs in again after a disabling.
func TestChangeAccessEndsSessions(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	c := env.login(t, "sam", responder, nil)
	if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 200 {
		t.Fatalf("me = %d", status)
	}
	if _, err := env.Staff.ChangeAccess(ctx, "sam", staff.AccessChange{Roles: []staff.Role{staff.RoleHelpline}}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); status != 401 {
		t.Errorf("me after a role change = %d, want 401 (signed out)", status)
	}
	env.Clock.Advance(time.Minute)
	c2 := env.client()
	status, _, body := env.call(t, c2, "POST", "/v1/auth/login", map[string]string{"username": "sam", "password": testPassword, "totp": env.code(t, "sam")})
	if status != 200 || !strings.Contains(string(body), `"helpline"`) || strings.Contains(string(body), `"responder"`) {
		t.Fatalf("sign-in after the change = %d %s, want the new roles", status, body)
	}
	if err := env.Staff.Disable(ctx, "sam"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Staff.ChangeAccess(ctx, "sam", staff.AccessChange{Enable: true}); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{"username": "sam", "password": testPassword, "totp": env.code(t, "sam")}); status != 200 {
		t.Errorf("sign-in after enabling = %d, want 200", status)
	}
	// A bad change is refused and changes nothing.
	if _, err := env.Staff.ChangeAccess(ctx, "sam", staff.AccessChange{Teams: []string{"nowhere"}}); err == nil {
		t.Error("a change to a team that does not exist was accepted")
	}
}

func TestCrossSiteRefused(t *testing.T) {
	env := newTestEnv(t)
	c := env.login(t, "sam", responder, nil)
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site other origin", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"foreign origin", []string{"Origin", "https://evil.example"}, 403},
		{"same origin", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"no browser headers", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := env.call(t, c, "POST", "/v1/auth/ws-ticket", nil, tc.hdr...)
			if status != tc.status {
				t.Errorf("POST ws-ticket = %d %s, want %d", status, body, tc.status)
			}
			if tc.status == 403 {
				if got := errorOf(t, body).Error; got != "cross-origin request refused" {
					t.Errorf("error = %q", got)
				}
				// Sign-in from another site is refused the same way.
				st, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{
					"username": "sam", "password": testPassword, "totp": env.code(t, "sam"),
				}, tc.hdr...)
				if st != 403 {
					t.Errorf("cross-site login = %d, want 403", st)
				}
			}
		})
	}
	// Logout from another site is refused too, and the session survives.
	if status, _, _ := env.call(t, c, "POST", "/v1/auth/logout", nil, "Sec-Fetch-Site", "cross-site"); status != 403 {
		t.Errorf("cross-site logout = %d, want 403", status)
	}
	if status, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil, "Sec-Fetch-Site", "cross-site"); status != 200 {
		t.Errorf("cross-site GET me = %d, want 200 (reads are not refused; the cookie is SameSite=Strict anyway)", status)
	}
}

func TestThrottleSlowsRepeatedFailures(t *testing.T) {
	env := newTestEnv(t)
	env.login(t, "sam", responder, nil)
	env.Clock.Advance(time.Hour)
	wrong := map[string]string{"username": "sam", "password": "not the password!", "totp": "000000"}
	p := staff.DefaultThrottle()
	// Each failure may be followed by another only after the delay; an
	// attempt sooner is answered 429 with Retry-After and not even checked.
	for n := 1; n <= 7; n++ {
		status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", wrong)
		if status != 401 {
			t.Fatalf("failure %d = %d %s, want 401", n, status, body)
		}
		delay := p.Delay(n, 0)
		status, hdr, _ := env.call(t, env.client(), "POST", "/v1/auth/login", wrong)
		if status != 429 {
			t.Fatalf("attempt right after failure %d = %d, want 429", n, status)
		}
		wantRetry := strconv.Itoa(max(1, int((delay+time.Second-1)/time.Second)))
		if got := hdr.Get("Retry-After"); got != wantRetry {
			t.Errorf("after failure %d: Retry-After = %q, want %q", n, got, wantRetry)
		}
		env.Clock.Advance(delay)
	}
	if got := p.Delay(7, 0); got != p.Cap {
		t.Fatalf("delay after 7 failures = %v, want the cap", got)
	}
	// Never locked: after the wait, the right password and code get in,
	// and that clears the username's count.
	good := map[string]string{"username": "sam", "password": testPassword, "totp": env.code(t, "sam")}
	if status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", good); status != 200 {
		t.Fatalf("correct sign-in after waiting = %d %s", status, body)
	}
	env.Clock.Advance(30 * time.Second)
	if status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", wrong); status != 401 {
		t.Errorf("first failure after a success = %d, want 401 (count cleared)", status)
	}

	// An unknown username is throttled exactly like a known one.
	ghost := map[string]string{"username": "ghost", "password": "not the password!", "totp": "000000"}
	env.call(t, env.client(), "POST", "/v1/auth/login", ghost)
	if status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", ghost); status != 429 {
		t.Errorf("unknown username right after a failure = %d, want 429", status)
	}
}

func TestSetupLink(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	a, token, err := env.Staff.Add(ctx, staff.NewAccount{Username: "new.starter", DisplayName: "New Starter", Roles: responder})
	if err != nil {
		t.Fatal(err)
	}
	c := env.client()
	if status, _, body := env.call(t, c, "POST", "/v1/auth/setup", map[string]string{"token": token.Reveal(), "password": "short"}); status != 422 ||
		!strings.Contains(string(body), "must have at least 12 characters") {
		t.Errorf("weak password = %d %s, want 422 naming the rule", status, body)
	}
	// A wrong token: the real one with its first character changed (to
	// another, by construction: "x"+token[1:] was the real one whenever
	// the token began with x, about once in 64 runs).
	wrong := []byte(token.Reveal())
	if wrong[0] == 'x' {
		wrong[0] = 'y'
	} else {
		wrong[0] = 'x'
	}
	if status, _, _ := env.call(t, c, "POST", "/v1/auth/setup", map[string]string{"token": string(wrong), "password": "a good long passphrase"}); status != 404 {
		t.Errorf("wrong token = %d, want 404", status)
	}
	status, _, body := env.call(t, c, "POST", "/v1/auth/setup", map[string]string{"token": token.Reveal(), "password": "a good long passphrase"})
	if status != 200 {
		t.Fatalf("setup = %d %s", status, body)
	}
	setup := decodeJSON[setupResponse](t, body)
	if len(setup.TOTPSecret) != 32 || !strings.HasPrefix(setup.OTPAuthURL, "otpauth://totp/Waymark:new.starter?") {
		t.Fatalf("setup answer = %+v", setup)
	}
	// Not active until confirmed.
	codeNow, _ := staff.TOTPCode(staff.Secret(setup.TOTPSecret), env.Clock.Now())
	if st, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{"username": "new.starter", "password": "a good long passphrase", "totp": codeNow}); st != 401 {
		t.Errorf("login before confirming = %d, want 401", st)
	}
	env.Clock.Advance(time.Hour)
	codeNow, _ = staff.TOTPCode(staff.Secret(setup.TOTPSecret), env.Clock.Now())
	wrongCode := strconv.Itoa(1_000_000 + (mustAtoi(t, codeNow)+1)%1_000_000)[1:]
	if st, _, b := env.call(t, c, "POST", "/v1/auth/setup/confirm", map[string]string{"token": token.Reveal(), "totp": wrongCode}); st != 422 ||
		errorOf(t, b).Fields[0].Name != "totp" {
		t.Errorf("confirm with a wrong code = %d %s, want 422 naming totp", st, b)
	}
	status, _, body = env.call(t, c, "POST", "/v1/auth/setup/confirm", map[string]string{"token": token.Reveal(), "totp": codeNow})
	if status != 200 {
		t.Fatalf("confirm = %d %s", status, body)
	}
	if me := decodeJSON[meResponse](t, body); me.ID != a.ID || me.DisplayName != "New Starter" {
		t.Errorf("confirm answer = %+v", me)
	}
	if st, _, _ := env.call(t, c, "GET", "/v1/auth/me", nil); st != 200 {
		t.Errorf("me after confirm = %d (confirm signs in)", st)
	}
	// The link is used up.
	if st, _, _ := env.call(t, c, "POST", "/v1/auth/setup", map[string]string{"token": token.Reveal(), "password": "another long passphrase"}); st != 404 {
		t.Errorf("reused link = %d, want 404", st)
	}
	// The same code cannot sign in again; the next one can.
	if st, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{"username": "new.starter", "password": "a good long passphrase", "totp": codeNow}); st != 401 {
		t.Errorf("login with the confirming code = %d, want 401", st)
	}
	env.Clock.Advance(30 * time.Second)
	next, _ := staff.TOTPCode(staff.Secret(setup.TOTPSecret), env.Clock.Now())
	if st, _, b := env.call(t, env.client(), "POST", "/v1/auth/login", map[string]string{"username": "new.starter", "password": "a good long passphrase", "totp": next}); st != 200 {
		t.Errorf("login after setup = %d %s", st, b)
	}

	// A link expires after 24 hours.
	_, late, err := env.Staff.Add(ctx, staff.NewAccount{Username: "late.starter", Roles: responder})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(staff.SetupLinkLifetime)
	if st, _, _ := env.call(t, c, "POST", "/v1/auth/setup", map[string]string{"token": late.Reveal(), "password": "a good long passphrase"}); st != 404 {
		t.Errorf("expired link = %d, want 404", st)
	}
}

func TestReauth(t *testing.T) {
	env := newTestEnv(t)
	c := env.login(t, "sam", responder, nil)
	first := decodeJSON[meResponse](t, must200(t, env, c, "GET", "/v1/auth/me", nil))
	env.Clock.Advance(6 * time.Minute)
	// Wrong password: refused, auth_at unchanged.
	if st, _, _ := env.call(t, c, "POST", "/v1/auth/reauth", map[string]string{"password": "wrong wrong wrong", "totp": env.code(t, "sam")}); st != 401 {
		t.Errorf("reauth with a wrong password = %d", st)
	}
	env.Clock.Advance(30 * time.Second)
	body := must200(t, env, c, "POST", "/v1/auth/reauth", map[string]string{"password": testPassword, "totp": env.code(t, "sam")})
	got := decodeJSON[meResponse](t, body)
	if !got.AuthAt.After(first.AuthAt) || !got.AuthAt.Equal(env.Clock.Now().UTC().Truncate(time.Millisecond)) {
		t.Errorf("auth_at after reauth = %v, was %v, now %v", got.AuthAt, first.AuthAt, env.Clock.Now())
	}
	me := decodeJSON[meResponse](t, must200(t, env, c, "GET", "/v1/auth/me", nil))
	if !me.AuthAt.Equal(got.AuthAt) {
		t.Errorf("me auth_at = %v, want %v", me.AuthAt, got.AuthAt)
	}
}

func TestWSTicket(t *testing.T) {
	env := newTestEnv(t)
	c := env.login(t, "sam", responder, nil)
	body := must200(t, env, c, "POST", "/v1/auth/ws-ticket", nil)
	tk := decodeJSON[ticketResponse](t, body)
	if len(tk.Ticket) < 22 || !tk.ExpiresAt.Equal(env.Clock.Now().Add(30*time.Second).UTC().Truncate(time.Nanosecond)) {
		t.Errorf("ticket = %+v", tk)
	}
	ctx := context.Background()
	id, tag, err := env.Store.ConsumeTicket(ctx, tk.Ticket)
	if err != nil || id != env.users["sam"].ID || tag == "" {
		t.Fatalf("ConsumeTicket = %q %q %v", id, tag, err)
	}
	p, err := env.Staff.Resume(ctx, tag)
	if err != nil || p.StaffID != id {
		t.Errorf("Resume(ticket's session) = %+v, %v", p, err)
	}
	if _, _, err := env.Store.ConsumeTicket(ctx, tk.Ticket); err == nil {
		t.Error("a ticket worked twice")
	}
	if st, _, _ := env.call(t, env.client(), "POST", "/v1/auth/ws-ticket", nil); st != 401 {
		t.Errorf("ticket without a session = %d", st)
	}
}

func TestTeamsRoutes(t *testing.T) {
	env := newTestEnv(t)
	admin := env.login(t, "ada", []staff.Role{staff.RoleAdmin}, nil)
	resp := env.login(t, "sam", responder, []string{"south"})
	team := map[string]any{"id": "east", "name": "Eastleigh", "areas": []string{"so50", "SO53"}}
	if st, _, _ := env.call(t, resp, "POST", "/v1/teams", team); st != 403 {
		t.Errorf("responder creating a team = %d, want 403", st)
	}
	st, _, body := env.call(t, admin, "POST", "/v1/teams", team)
	if st != 201 {
		t.Fatalf("admin creating a team = %d %s", st, body)
	}
	if got := decodeJSON[teamResponse](t, body); !cmp.Equal(got.Areas, []string{"SO50", "SO53"}) {
		t.Errorf("areas = %v, want normalised", got.Areas)
	}
	if st, _, _ := env.call(t, admin, "POST", "/v1/teams", team); st != 409 {
		t.Errorf("duplicate team = %d, want 409", st)
	}
	st, _, body = env.call(t, admin, "POST", "/v1/teams", map[string]any{"id": "west-2024", "name": "W", "areas": []string{"SO14", "ZZ99"}})
	if st != 422 {
		t.Fatalf("bad team = %d %s", st, body)
	}
	want := []problem.Field{
		{Name: "areas", Problem: "ZZ99 is not a known postcode district"},
		{Name: "id", Problem: "must be 1 to 32 of a-z, 0-9 and -, starting with a letter, with no 4 digits in a row"},
	}
	if diff := cmp.Diff(want, errorOf(t, body).Fields); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	list := decodeJSON[map[string][]teamResponse](t, must200(t, env, resp, "GET", "/v1/teams", nil))
	var ids []string
	for _, tm := range list["teams"] {
		ids = append(ids, tm.ID)
	}
	if !cmp.Equal(ids, []string{"east", "south"}) {
		t.Errorf("teams = %v", ids)
	}
	if st, _, _ := env.call(t, resp, "GET", "/v1/teams/nowhere", nil); st != 404 {
		t.Errorf("missing team = %d", st)
	}
	must200(t, env, resp, "GET", "/v1/teams/east", nil)
}

func TestAccountNeedsExistingTeams(t *testing.T) {
	env := newTestEnv(t)
	_, _, err := env.Staff.AddWithPassword(context.Background(), staff.NewAccount{Username: "sam", Roles: responder, Teams: []string{"nowhere"}}, testPassword)
	inv, ok := err.(*problem.Invalid)
	if !ok || inv.Fields[0].Name != "teams" {
		t.Fatalf("account in a missing team: %v", err)
	}
}

func must200(t *testing.T, env *testEnv, c *http.Client, method, path string, body any) []byte {
	t.Helper()
	st, _, b := env.call(t, c, method, path, body)
	if st != 200 {
		t.Fatalf("%s %s = %d %s", method, path, st, b)
	}
	return b
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// redisText is every key name and value in the test Redis as text, read
// with redis-cli (package server does not import go-redis).
func redisText(t *testing.T, env *testEnv) string {
	t.Helper()
	const script = `local out = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
  out[#out+1] = k
  local ty = redis.call('TYPE', k).ok
  if ty == 'string' then out[#out+1] = redis.call('GET', k)
  elseif ty == 'hash' then for _, v in ipairs(redis.call('HGETALL', k)) do out[#out+1] = v end
  elseif ty == 'set' then for _, v in ipairs(redis.call('SMEMBERS', k)) do out[#out+1] = v end
  elseif ty == 'list' then for _, v in ipairs(redis.call('LRANGE', k, 0, -1)) do out[#out+1] = v end
  end
end
return table.concat(out, "\n")`
	args := []string{"-s", env.Redis.Addr(), "EVAL", script, "0"}
	if strings.HasPrefix(env.Redis.URL(), "redis://") {
		args = []string{"-u", env.Redis.URL(), "EVAL", script, "0"}
	}
	out, err := exec.Command("redis-cli", args...).Output()
	if err != nil {
		t.Fatalf("redis-cli: %v", err)
	}
	if len(out) < 10 {
		t.Fatalf("redis-cli read nothing: %q", out)
	}
	return string(out)
}

// TestThrottleBehindProxies: behind a trusted reverse proxy, failures are
// counted per client (X-Forwarded-For), so one client's failures do not
// slow anyone else's sign-in; without the setting the header is ignored,
// so a client cannot pick its own bucket.
func TestThrottleBehindProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []envOption
		blocked bool // is a colleague at another address slowed too?
	}{
		{"trusted proxy", []envOption{withTrustedProxies("127.0.0.1")}, false},
		{"no trusted proxy", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, tc.opts...)
			env.login(t, "robin", responder, nil)
			env.Clock.Advance(time.Hour)
			p := staff.DefaultThrottle()
			// One client runs through its free failures, each with a
			// different (unknown) username.
			for n := range p.FreeAddr + 1 {
				wrong := map[string]string{"username": "guess" + strconv.Itoa(n), "password": "not the password!", "totp": "000000"}
				status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", wrong, "X-Forwarded-For", "198.51.100.1")
				if status != 401 && status != 429 {
					t.Fatalf("failure %d = %d", n, status)
				}
				env.Clock.Advance(p.Cap)
			}
			wrong := map[string]string{"username": "another", "password": "not the password!", "totp": "000000"}
			env.call(t, env.client(), "POST", "/v1/auth/login", wrong, "X-Forwarded-For", "198.51.100.1")
			if status, _, _ := env.call(t, env.client(), "POST", "/v1/auth/login", wrong, "X-Forwarded-For", "198.51.100.1"); status != 429 {
				t.Fatalf("the failing client right after a failure = %d, want 429", status)
			}
			// A colleague behind the same proxy signs in at once.
			good := map[string]string{"username": "robin", "password": testPassword, "totp": env.code(t, "robin")}
			status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", good, "X-Forwarded-For", "203.0.113.7")
			if got := status == 429; got != tc.blocked {
				t.Errorf("colleague's sign-in = %d %s; slowed %t, want %t", status, body, got, tc.blocked)
			}
		})
	}
}
