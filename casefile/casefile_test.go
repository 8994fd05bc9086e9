package casefile

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNewRefusesPlainHTTPAwayFromLoopback(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://cms.example.org/waymark", true},
		{"http://127.0.0.1:8080/in", true},
		{"http://localhost/in", true},
		{"http://cms.example.org/in", false},
		{"ftp://cms.example.org/in", false},
		{"/relative", false},
	} {
		_, err := New(Options{Endpoint: tc.url, Secret: secret})
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) = %v, want ok=%t", tc.url, err, tc.ok)
		}
	}
	if _, err := New(Options{Endpoint: "https://x.example", Secret: []byte("short")}); err == nil {
		t.Error("accepted a short secret")
	}
}

func TestFileSignsAndReportsFailuresPlainly(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1795000000, 0)
	var got http.Header
	var body []byte
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r.Header.Clone(), nil
		body, _ = io.ReadAll(r.Body)
		if status == http.StatusFound {
			http.Redirect(w, r, "https://elsewhere.example/", status)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL, Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(`{"record_id":"a_x.1"}`)
	if err := c.File(context.Background(), "a_x.1", rec); err != nil {
		t.Fatal(err)
	}
	if got.Get(HeaderTimestamp) != "1795000000" || got.Get(HeaderRecordID) != "a_x.1" || string(body) != string(rec) {
		t.Errorf("request: %v %s", got, body)
	}
	if err := Verify(secret, got.Get(HeaderTimestamp), got.Get(HeaderSignature), body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("verify: %v", err)
	}
	for _, bad := range []struct {
		name    string
		ts, sig string
		body    string
		at      time.Time
	}{
		{"other body", got.Get(HeaderTimestamp), got.Get(HeaderSignature), `{"record_id":"a_y.1"}`, now},
		{"old", got.Get(HeaderTimestamp), got.Get(HeaderSignature), string(rec), now.Add(10 * time.Minute)},
		{"other timestamp", "1795000001", got.Get(HeaderSignature), string(rec), now},
		{"garbage", "x", "v1=00", string(rec), now},
	} {
		if err := Verify(secret, bad.ts, bad.sig, []byte(bad.body), bad.at, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", bad.name)
		}
	}
	for _, tc := range []struct {
		status int
		want   string
	}{{http.StatusServiceUnavailable, "casefile: endpoint answered 503"}, {http.StatusFound, "casefile: endpoint answered 302"}} {
		status = tc.status
		if err := c.File(context.Background(), "a_x.1", rec); err == nil || err.Error() != tc.want {
			t.Errorf("status %d: %v, want %q", tc.status, err, tc.want)
		}
	}
	srv.Close()
	if err := c.File(context.Background(), "a_x.1", rec); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("closed endpoint: %v", err)
	}
}

// FuzzVerify: header values from the network never panic, and a random
// signature never verifies.
func FuzzVerify(f *testing.F) {
	f.Add("1795000000", "v1=00", []byte("{}"))
	f.Add("", "", []byte(nil))
	f.Add("-9223372036854775808", "v1=", []byte("x"))
	f.Add("99999999999999999999", "v2=abc", []byte("{\"a\":1}"))
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1795000000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		if Verify(secret, ts, sig, body, now, 5*time.Minute) != nil {
			return
		}
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || sig != Sign(secret, n, body) {
			t.Fatalf("verified timestamp %q signature %q", ts, sig)
		}
	})
}
