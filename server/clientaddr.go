package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address sign-in throttling counts failures against.
// Behind reverse proxies every request comes from a proxy, so one client's
// failures would lock every member of staff out: when the connection is
// from a trusted proxy (Deps.TrustedProxies), the client is the right-most
// X-Forwarded-For entry that is not itself a trusted proxy. Entries to the
// left of that one are whatever the client sent, so they are never used.
// Without trusted proxies the header is ignored: anyone could send it.
func (s *server) clientAddr(r *http.Request) string {
	if len(s.TrustedProxies) == 0 {
		return r.RemoteAddr
	}
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok || !s.trusted(peer) {
		return r.RemoteAddr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := r.RemoteAddr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A malformed hop: what is to its left cannot be trusted
			// either, so the last proxy that passed it on stands.
			return client
		}
		a = a.Unmap()
		client = a.String()
		if !s.trusted(a) {
			return client
		}
	}
	return client
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHostAddr reads the address of a host:port (or a bare address).
func parseHostAddr(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// ParseTrustedProxies reads WAYMARK_TRUSTED_PROXIES entries (addresses or
// CIDR prefixes; config has already checked them).
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, v := range list {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
