package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"waymark/audit"
	"waymark/internal/testenv"
	"waymark/seal"
)

// TestAuditKeyRotationCLI: changing WAYMARK_AUDIT_KEY with the old key in
// WAYMARK_AUDIT_KEYS_RETIRED rotates the chain at the next append; `audit
// verify` checks across the rotation, and names a removed rotation entry.
func TestAuditKeyRotationCLI(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	k1, k2 := seal.NewRandomKey(), seal.NewRandomKey()
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_AUDIT_KEY"] = b64(k1)
	run := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := staffRun(t, env, "", args...)
		return out, err
	}
	for _, id := range []string{"south", "east"} {
		if _, err := run("team", "add", "--id", id, "--name", id); err != nil {
			t.Fatal(err)
		}
	}
	pub1, err := run("audit", "pubkey")
	if err != nil {
		t.Fatal(err)
	}

	env["WAYMARK_AUDIT_KEY"] = b64(k2)
	env["WAYMARK_AUDIT_KEYS_RETIRED"] = b64(k1)
	id1, id2 := audit.AuditKeyID(k1), audit.AuditKeyID(k2)
	out, err := run("audit", "verify")
	if err != nil || !strings.Contains(out, "audit keys: "+id1+" (current key id "+id2+")") || !strings.Contains(out, "the next append rotates it") {
		t.Fatalf("verify before the rotation: %q %v", out, err)
	}
	if _, err := run("team", "add", "--id", "north", "--name", "North"); err != nil {
		t.Fatal(err)
	}
	out, err = run("audit", "verify")
	if err != nil || !strings.HasPrefix(out, "audit chain ok: 4 entries") || !strings.Contains(out, "audit keys: "+id1+" -> "+id2+" (current key id "+id2+")") {
		t.Fatalf("verify after the rotation: %q %v", out, err)
	}
	if pub2, _ := run("audit", "pubkey"); pub2 == pub1 || !strings.HasPrefix(pub2, "ed25519:") {
		t.Errorf("public key after the rotation %q, before %q: want a new one", pub2, pub1)
	}

	// Without the retired key the old entries cannot be checked.
	delete(env, "WAYMARK_AUDIT_KEYS_RETIRED")
	if out, err := run("audit", "verify"); exitCode(err) != 1 || !strings.Contains(out, "BROKEN: audit chain broken at entry seq 1") || !strings.Contains(out, "not configured") {
		t.Errorf("verify without the retired key: %q %v", out, err)
	}
	// A malformed retired key is refused without being echoed.
	env["WAYMARK_AUDIT_KEYS_RETIRED"] = "not-a-key!"
	if _, err := run("audit", "verify"); exitCode(err) != 2 || strings.Contains(err.Error(), "not-a-key") {
		t.Errorf("malformed retired key: %v", err)
	}
	env["WAYMARK_AUDIT_KEYS_RETIRED"] = b64(k1)

	// Removing the rotation entry is found.
	ids, err := exec.Command("redis-cli", "-s", r.Addr(), "XRANGE", "wm:{default}:audit", "-", "+").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, ids)
	}
	streamIDs := regexp.MustCompile(`(?m)^[0-9]+-[0-9]+$`).FindAllString(string(ids), -1)
	if len(streamIDs) != 4 {
		t.Fatalf("stream ids %v", streamIDs)
	}
	if out, err := exec.Command("redis-cli", "-s", r.Addr(), "XDEL", "wm:{default}:audit", streamIDs[2]).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	out, err = run("audit", "verify")
	if exitCode(err) != 1 || !strings.Contains(out, "BROKEN: audit chain broken at entry seq 4 (stream id "+streamIDs[3]) {
		t.Errorf("verify without the rotation entry: %q %v", out, err)
	}
}

func TestRetiredAuditKeys(t *testing.T) {
	k := seal.NewRandomKey()
	for _, tc := range []struct {
		name string
		in   []string
		want int
		bad  bool
	}{
		{"none", nil, 0, false},
		{"two", []string{b64(k), b64(seal.NewRandomKey())}, 2, false},
		{"short", []string{b64(k[:16])}, 0, true},
		{"not base64", []string{"***"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := retiredAuditKeys(tc.in)
			if (err != nil) != tc.bad || len(got) != tc.want {
				t.Errorf("got %d keys, %v; want %d, error %t", len(got), err, tc.want, tc.bad)
			}
			if err != nil && strings.Contains(err.Error(), "***") {
				t.Errorf("error quotes the value: %v", err)
			}
		})
	}
}
