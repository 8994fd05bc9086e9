package server

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies configured: header ignored", nil, "127.0.0.1:5555", []string{"203.0.113.9"}, "127.0.0.1:5555"},
		{"untrusted peer: header ignored", proxies, "198.51.100.7:5555", []string{"203.0.113.9"}, "198.51.100.7:5555"},
		{"one proxy", proxies, "127.0.0.1:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left entries are skipped", proxies, "127.0.0.1:5555", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", proxies, "127.0.0.1:5555", []string{"203.0.113.9, 10.1.2.3", "10.9.9.9"}, "203.0.113.9"},
		{"every hop trusted", proxies, "127.0.0.1:5555", []string{"10.1.2.3"}, "10.1.2.3"},
		{"no header from a proxy", proxies, "127.0.0.1:5555", nil, "127.0.0.1:5555"},
		{"malformed hop stops the walk", proxies, "127.0.0.1:5555", []string{"203.0.113.9, nonsense, 10.1.2.3"}, "10.1.2.3"},
		{"IPv6 client", proxies, "[fd00::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer", proxies, "[::ffff:127.0.0.1]:5555", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{Deps: Deps{TrustedProxies: tc.trusted}}
			r := httptest.NewRequest("POST", "/v1/auth/login", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParseTrustedProxies([]string{"nginx"}); err == nil {
		t.Error("ParseTrustedProxies accepted a name")
	}
}

// FuzzClientAddr: whatever a client puts in X-Forwarded-For, the answer is
// the peer or one of the header's own addresses, never a panic.
func FuzzClientAddr(f *testing.F) {
	for _, seed := range []string{"203.0.113.9", "1.2.3.4, 10.0.0.1", "", ",,,", "::1, [::2]", "10.0.0.1,nonsense"} {
		f.Add(seed)
	}
	proxies, _ := ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8"})
	s := &server{Deps: Deps{TrustedProxies: proxies}}
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("POST", "/v1/auth/login", nil)
		r.RemoteAddr = "127.0.0.1:5555"
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientAddr(r)
		if got == r.RemoteAddr {
			return
		}
		for _, hop := range strings.Split(xff, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && a.Unmap().String() == got {
				return
			}
		}
		t.Errorf("clientAddr(%q) = %q: neither the peer nor an address from the header", xff, got)
	})
}
