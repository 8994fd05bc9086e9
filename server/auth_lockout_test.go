package server

import (
	"net/http"
	"testing"
	"time"

	"waymark/staff"
)

// TestGuessingDoesNotLockOutTheUser: ten guesses a second at an account,
// from the user's own address or another, never keep the real user out of
// it on the device they signed in from before, and the guesses themselves
// stay throttled.
func TestGuessingDoesNotLockOutTheUser(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []envOption
		guessFrom string
		userFrom  string
		known     bool // the user's client signed in before (has its device cookie)
	}{
		{"same address, known device", nil, "", "", true},
		{"other address, known device", []envOption{withTrustedProxies("127.0.0.1")}, "198.51.100.1", "203.0.113.7", true},
		{"other address, new device", []envOption{withTrustedProxies("127.0.0.1")}, "198.51.100.1", "203.0.113.7", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, tc.opts...)
			user := env.login(t, "sam", responder, nil)
			if !tc.known {
				user = env.client()
			}
			from := func(addr string) []string {
				if addr == "" {
					return nil
				}
				return []string{"X-Forwarded-For", addr}
			}
			wrong := map[string]string{"username": "sam", "password": "not the password!", "totp": "000000"}
			sent, checked := 0, 0
			for try := range 5 {
				// 30 s of guessing, ten a second, then the user (whose
				// code is fresh: a new 30 s step).
				for range 300 {
					env.Clock.Advance(100 * time.Millisecond)
					status, _, body := env.call(t, env.client(), "POST", "/v1/auth/login", wrong, from(tc.guessFrom)...)
					sent++
					switch status {
					case http.StatusUnauthorized:
						checked++
					case http.StatusTooManyRequests:
					default:
						t.Fatalf("guess = %d %s", status, body)
					}
				}
				good := map[string]string{"username": "sam", "password": testPassword, "totp": env.code(t, "sam")}
				if status, hdr, body := env.call(t, user, "POST", "/v1/auth/login", good, from(tc.userFrom)...); status != http.StatusOK {
					t.Fatalf("the user's sign-in %d during guessing = %d %s (Retry-After %q)", try+1, status, body, hdr.Get("Retry-After"))
				}
			}
			// Capped at one check per 8 s after the first few.
			if limit := 5*30/int(staff.DefaultThrottle().Cap/time.Second) + 10; checked > limit {
				t.Errorf("%d of %d guesses were checked, want at most %d", checked, sent, limit)
			}
		})
	}
}
