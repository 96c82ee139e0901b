package limits

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzProxiesClient: whatever X-Forwarded-For a client sends, the peer is
// the connecting address unless that is a trusted proxy, and then an
// address from the header or the proxy itself; nothing panics.
func FuzzProxiesClient(f *testing.F) {
	p, err := ParseProxies("10.0.0.0/8, fd00::/8")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "1.2.3.4", "1.2.3.4, 10.0.0.1", "[2001:db8::1]:80", "fe80::1%eth0", "a,b,,c",
		strings.Repeat("1.1.1.1,", 40), "::ffff:1.2.3.4", "unknown"} {
		f.Add("10.1.1.1", s)
		f.Add("203.0.113.5", s)
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := AddrOf(remote)
		got := p.Client(r, []string{xff})
		if !p.Trusted(r) && got != r.Unmap() {
			t.Errorf("Client(%s, %q) = %s: an untrusted peer's header was believed", remote, xff, got)
		}
		if got != r.Unmap() {
			from := false
			for e := range strings.SplitSeq(xff, ",") {
				if AddrOf(strings.TrimSpace(e)) == got {
					from = true
				}
			}
			if !from {
				t.Errorf("Client(%s, %q) = %s, neither the peer nor an address of the header", remote, xff, got)
			}
		}
		Key(got)
	})
}

// FuzzParseProxies: any --trusted-proxies value parses or fails cleanly,
// with an error of bounded size per entry (a clipped, quoted value).
func FuzzParseProxies(f *testing.F) {
	for _, s := range []string{"", "10.0.0.0/8", "1.2.3.4, ::1", "bogus", "10.0.0.0/33", strings.Repeat("x", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseProxies(s)
		if err != nil && len(err.Error()) > 400*(strings.Count(s, ",")+1) {
			t.Errorf("ParseProxies(%d bytes): error of %d bytes", len(s), len(err.Error()))
		}
	})
}

// FuzzClip: Clip keeps at most n bytes of s, cut at a rune boundary.
func FuzzClip(f *testing.F) {
	f.Add("héllo wörld", 3)
	f.Add(strings.Repeat("€", 100), 10)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n % 4096
		got := Clip(s, n)
		if len(s) <= n {
			if got != s {
				t.Fatalf("Clip(%q, %d) = %q, want it unchanged", s, n, got)
			}
			return
		}
		if len(got) > max(n, 0)+40 {
			t.Errorf("Clip(%d bytes, %d) = %d bytes", len(s), n, len(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q, not UTF-8", s, n, got)
		}
	})
}
