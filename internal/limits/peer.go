package limits

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Key is the unit a per-peer limit counts in: an IPv4 address, or the /64
// prefix of an IPv6 address (one host or home network usually holds a
// whole /64 and can rotate through it at will). An invalid address keys as
// "invalid", so such peers share one bucket rather than none.
func Key(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.Is4():
		return a.String()
	default:
		p, _ := a.Prefix(64)
		return p.String()
	}
}

// AddrOf parses the IP address of a "host:port" (as in
// http.Request.RemoteAddr or net.Addr.String()), or of a bare address; it
// returns the zero Addr when there is none.
func AddrOf(hostport string) netip.Addr {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap.Addr().Unmap()
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Proxies are the reverse proxies whose forwarded addresses are believed.
// The zero value trusts none: every peer is the address it connects from.
type Proxies struct {
	nets []netip.Prefix
}

// ParseProxies reads a comma-separated list of addresses and CIDR prefixes
// of trusted reverse proxies, as given to --trusted-proxies, e.g.
// "10.0.0.0/8, 192.168.1.10, fd00::/8". An empty list trusts none.
func ParseProxies(list string) (Proxies, error) {
	var p Proxies
	var errs []error
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(s); err == nil {
			p.nets = append(p.nets, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", Clip(s, 64)))
			continue
		}
		a = a.Unmap()
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, errors.Join(errs...)
}

// IsZero reports whether p trusts no proxy.
func (p Proxies) IsZero() bool { return len(p.nets) == 0 }

// Trusted reports whether a is a trusted proxy.
func (p Proxies) Trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// maxForwardedHops bounds how many X-Forwarded-For entries are looked at.
const maxForwardedHops = 16

// Client returns the address of the client behind remote: remote itself,
// unless it is a trusted proxy, in which case the right-most address in
// the X-Forwarded-For values that is not itself a trusted proxy (the
// left-most entries are whatever the client chose to send, so they are
// never believed). A forwarded list that is missing or malformed leaves
// the proxy as the peer.
func (p Proxies) Client(remote netip.Addr, forwardedFor []string) netip.Addr {
	remote = remote.Unmap()
	if len(p.nets) == 0 || !p.Trusted(remote) {
		return remote
	}
	hops := 0
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		parts := strings.Split(forwardedFor[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if hops++; hops > maxForwardedHops {
				return remote
			}
			a := AddrOf(strings.TrimSpace(parts[j]))
			if !a.IsValid() {
				return remote
			}
			if !p.Trusted(a) {
				return a
			}
			remote = a
		}
	}
	return remote
}

// FromRequest returns the client address of an HTTP request, believing
// X-Forwarded-For only from trusted proxies.
func (p Proxies) FromRequest(r *http.Request) netip.Addr {
	return p.Client(AddrOf(r.RemoteAddr), r.Header.Values("X-Forwarded-For"))
}

// RealAddr rewrites each request's RemoteAddr to the client address that
// FromRequest finds (port 0 when it came from X-Forwarded-For), so that
// handlers and gRPC's peer information behind them see the client, not
// the proxy.
func (p Proxies) RealAddr(h http.Handler) http.Handler {
	if len(p.nets) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote := AddrOf(r.RemoteAddr)
		if c := p.FromRequest(r); c != remote {
			r2 := *r
			r2.RemoteAddr = netip.AddrPortFrom(c, 0).String()
			r = &r2
		}
		h.ServeHTTP(w, r)
	})
}
