package main

import (
	"strings"
	"testing"

	"waymark/internal/testenv"
)

// TestIndexWidthGuard: the first start on a tenant keeps its blind index
// width in Redis; a later start whose WAYMARK_EXPECTED_CASES gives another
// width would find none of the enrolled phones, so it is refused with
// exit code 2, naming a value that works, and changes nothing.
func TestIndexWidthGuard(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"
	if _, errOut, err := staffRun(t, env, "", "team", "add", "--id", "south", "--name", "South", "--areas", "SO14"); err != nil {
		t.Fatalf("first start: %v\n%s", err, errOut)
	}
	env["WAYMARK_EXPECTED_CASES"] = "1000000"
	_, _, err := staffRun(t, env, "", "team", "add", "--id", "west", "--name", "West", "--areas", "SO15")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "WAYMARK_EXPECTED_CASES") || !strings.Contains(err.Error(), "such as 4096") {
		t.Fatalf("a start at another width: exit %d, %v; want 2, naming WAYMARK_EXPECTED_CASES and 4096", exitCode(err), err)
	}
	// 4096 to 8191 expected cases give the default's 10 bits.
	env["WAYMARK_EXPECTED_CASES"] = "4096"
	out, errOut, err := staffRun(t, env, "", "team", "list")
	if err != nil {
		t.Fatalf("a start at the kept width: %v\n%s", err, errOut)
	}
	if strings.Contains(out, "west") || !strings.Contains(out, "south") {
		t.Errorf("the refused start changed the teams:\n%s", out)
	}
}
