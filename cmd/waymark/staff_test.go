package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"waymark/internal/testenv"
	"waymark/staff"
)

// staffRun runs one waymark command with env and stdin, as main would.
func staffRun(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runWith(context.Background(), append([]string{"waymark"}, args...), &cli{
		getenv: func(k string) string { return env[k] },
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
	})
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

var totpLine = regexp.MustCompile(`(?m)^totp_secret=([A-Z2-7]{32})$`)

func TestStaffAndTeamCLI(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"

	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, err := staffRun(t, env, stdin, args...)
		if err != nil {
			t.Fatalf("waymark %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		return out
	}

	// Teams, with areas checked against the postcode districts.
	mustRun("", "team", "add", "--id", "south", "--name", "Southampton outreach", "--areas", "so14, SO15")
	_, _, err := staffRun(t, env, "", "team", "add", "--id", "west", "--name", "West", "--areas", "SO14,ZZ99")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--areas: ZZ99 is not a known postcode district") {
		t.Errorf("team with an unknown district: %v (exit %d)", err, exitCode(err))
	}
	_, _, err = staffRun(t, env, "", "team", "add", "--id", "south", "--name", "Again")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "--id: is already taken") || strings.Contains(err.Error(), "store") {
		t.Errorf("duplicate team: %v", err)
	}
	if out := mustRun("", "team", "list"); !regexp.MustCompile(`south\s+Southampton outreach\s+SO14,SO15`).MatchString(out) {
		t.Errorf("team list:\n%s", out)
	}

	// An account with its password from stdin prints its TOTP secret.
	out := mustRun("a long enough password\n", "staff", "add", "--username", "Sam", "--role", "responder,caseworker",
		"--team", "south", "--phone", "07700 900123", "--display-name", "Sam Okafor", "--password-stdin")
	m := totpLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("staff add --password-stdin printed no totp_secret line:\n%s", out)
	}
	secret := staff.Secret(m[1])

	// Without --password-stdin: a one-time setup link.
	out = mustRun("", "staff", "add", "--username", "new.starter", "--role", "helpline")
	if !regexp.MustCompile(`(?m)^setup_link=https://waymark\.example/setup#[A-Za-z0-9_-]{43}$`).MatchString(out) {
		t.Errorf("staff add printed no setup link:\n%s", out)
	}

	// A taken username names the flag, not the store's words, and the
	// first account is untouched.
	_, _, err = staffRun(t, env, "another long password\n", "staff", "add", "--username", "SAM", "--role", "helpline", "--password-stdin")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "--username: is already taken") || strings.Contains(err.Error(), "store") {
		t.Errorf("taken username: exit %d: %v", exitCode(err), err)
	}

	// Bad input names each bad flag.
	_, _, err = staffRun(t, env, "short\n", "staff", "add", "--username", "x", "--role", "boss", "--team", "nowhere", "--password-stdin")
	if exitCode(err) != 2 {
		t.Fatalf("bad staff add: %v", err)
	}
	for _, want := range []string{"--username:", "--role:", "--team: team nowhere does not exist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("bad staff add error lacks %q:\n%v", want, err)
		}
	}
	_, _, err = staffRun(t, env, "", "staff", "add", "--username", "pat", "--role", "responder", "--phone", "07700 9001234567")
	if exitCode(err) != 2 || strings.Contains(err.Error(), "9001234567") {
		t.Errorf("bad phone: %v", err)
	}

	list := mustRun("", "staff", "list")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^sam\s+s_[a-z]{20}\s+Sam Okafor\s+caseworker,responder\s+south\s+yes\s+active$`),
		regexp.MustCompile(`(?m)^new\.starter\s+s_[a-z]{20}\s+new\.starter\s+helpline\s+-\s+no\s+setup pending$`),
	} {
		if !want.MatchString(list) {
			t.Errorf("staff list lacks %v:\n%s", want, list)
		}
	}
	if strings.Contains(list, "900123") {
		t.Error("staff list shows a phone number")
	}

	// The server shares the Redis and the keys: the account signs in.
	inst := startWaymark(t, env, "serve", "--addr", "127.0.0.1:0")
	body, _ := json.Marshal(map[string]string{"username": "sam", "password": "a long enough password", "totp": mustCode(t, secret)})
	resp, err := http.Post(inst.base+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Set-Cookie"), "__Host-waymark_session=") {
		t.Errorf("login of the CLI-made account = %d, cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}

	out = mustRun("", "staff", "disable", "SAM")
	if !strings.Contains(out, "disabled sam") {
		t.Errorf("staff disable: %s", out)
	}
	if list := mustRun("", "staff", "list"); !regexp.MustCompile(`(?m)^sam\s.*\sdisabled$`).MatchString(list) {
		t.Errorf("staff list after disable:\n%s", list)
	}
	if _, _, err := staffRun(t, env, "", "staff", "disable", "nobody"); exitCode(err) != 1 {
		t.Errorf("disable nobody: %v", err)
	}

	// Enabled again, then roles and teams changed; bad changes change nothing.
	if out := mustRun("", "staff", "enable", "sam"); !strings.Contains(out, "sam: roles caseworker,responder; teams south; enabled") {
		t.Errorf("staff enable: %s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"staff", "set", "--username", "sam", "--role", "superuser"}, 2, "--role: must be among"},
		{[]string{"staff", "set", "--username", "sam", "--role", ""}, 2, "at least one role"},
		{[]string{"staff", "set", "--username", "sam", "--team", "nowhere"}, 2, "does not exist"},
		{[]string{"staff", "set", "--username", "sam"}, 2, "at least one of --role, --team"},
		{[]string{"staff", "set", "--username", "nobody", "--role", "helpline"}, 1, "no such account"},
		{[]string{"staff", "enable"}, 2, "usage: waymark staff enable"},
	} {
		_, errOut, err := staffRun(t, env, "", tc.args...)
		if exitCode(err) != tc.code || !strings.Contains(fmt.Sprint(err)+errOut, tc.want) {
			t.Errorf("%v: exit %d %v %s; want %d naming %q", tc.args, exitCode(err), err, errOut, tc.code, tc.want)
		}
	}
	if out := mustRun("", "staff", "set", "--username", "SAM", "--role", "responder,helpline", "--team", ""); !strings.Contains(out, "sam: roles helpline,responder; teams -; enabled") {
		t.Errorf("staff set: %s", out)
	}
	if list := mustRun("", "staff", "list"); !regexp.MustCompile(`(?m)^sam\s+s_[a-z]{20}\s+Sam Okafor\s+helpline,responder\s+-\s+yes\s+active$`).MatchString(list) {
		t.Errorf("staff list after set:\n%s", list)
	}
}

func TestAdminRefusesEmbeddedRedis(t *testing.T) {
	for _, args := range [][]string{
		{"staff", "list"},
		{"staff", "add", "--username", "sam", "--role", "responder", "--password-stdin"},
		{"team", "add", "--id", "south", "--name", "South"},
	} {
		_, _, err := staffRun(t, keyEnv(), "a long enough password\n", args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "needs WAYMARK_REDIS_URL") {
			t.Errorf("waymark %s without Redis: %v", strings.Join(args, " "), err)
		}
	}
	out, _, err := staffRun(t, keyEnv(), "", "staff", "add", "-h")
	if err != nil || !strings.Contains(out, "--password-stdin") && !strings.Contains(out, "-password-stdin") {
		t.Errorf("staff add -h: %v\n%s", err, out)
	}
}

func mustCode(t *testing.T, secret staff.Secret) string {
	t.Helper()
	c, err := staff.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
