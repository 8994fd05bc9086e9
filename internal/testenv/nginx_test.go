package testenv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestNginxBalances: the generated configuration runs, balances requests
// over every upstream, passes the Host header and logs the upstream.
func TestNginxBalances(t *testing.T) {
	var ups []string
	for _, name := range []string{"a", "b", "c"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Host)
		}))
		t.Cleanup(srv.Close)
		ups = append(ups, strings.TrimPrefix(srv.URL, "http://"))
	}
	n := StartNginx(t, NginxOptions{Upstreams: ups})
	seen := map[string]bool{}
	for range 6 {
		resp, err := http.Get(n.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name, host, _ := strings.Cut(string(b), " ")
		if host != n.Addr() {
			t.Errorf("upstream saw Host %q, want %q", host, n.Addr())
		}
		seen[name] = true
	}
	if len(seen) != 3 {
		t.Errorf("requests reached %v, want all three upstreams", seen)
	}
	// nginx writes a line once the response is sent: it may trail it.
	var log []NginxLogLine
	waitFor(5*time.Second, func() error {
		if log = n.AccessLog(); len(log) < 6 {
			return io.EOF
		}
		return nil
	})
	if len(log) != 6 || log[0].Method != "GET" || log[0].Path != "/healthz" || log[0].Status != 200 || log[0].Upstream == "" {
		t.Errorf("access log = %+v", log)
	}
	if n.PID() == 0 {
		t.Error("no PID while running")
	}
	n.Stop()
	if n.PID() != 0 {
		t.Error("PID after Stop")
	}
}
