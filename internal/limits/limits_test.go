package limits

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
	}
	for _, tt := range tests {
		if got := Key(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Key(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if got := Key(netip.Addr{}); got != "invalid" {
		t.Errorf("Key(zero) = %q, want invalid", got)
	}
}

func TestProxiesClient(t *testing.T) {
	p, err := ParseProxies("10.0.0.0/8, 192.168.1.10, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer's header ignored", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy forwards", "10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins", "10.1.2.3", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of proxies", "10.1.2.3", []string{"198.51.100.1, 192.168.1.10", "10.9.9.9"}, "198.51.100.1"},
		{"malformed keeps proxy", "10.1.2.3", []string{"nonsense"}, "10.1.2.3"},
		{"no header keeps proxy", "10.1.2.3", nil, "10.1.2.3"},
		{"ipv6 proxy", "fd00::1", []string{"2001:db8::5"}, "2001:db8::5"},
		{"forwarded with port", "10.1.2.3", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Client(netip.MustParseAddr(tt.remote), tt.xff); got.String() != tt.want {
				t.Errorf("Client(%s, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
	if _, err := ParseProxies("10.0.0.0/8, bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("ParseProxies(bogus) = %v, want an error naming it", err)
	}
}

func TestPeerRatesEvictsLeastRecentlyUsed(t *testing.T) {
	now := time.Unix(1000, 0)
	r := NewPeerRates(1, 2, 3)
	// The busy peer spends its burst.
	for range 2 {
		if ok, _ := r.Allow("busy", now); !ok {
			t.Fatal("busy peer refused within its burst")
		}
	}
	if ok, wait := r.Allow("busy", now); ok || wait <= 0 {
		t.Fatalf("busy peer over burst: Allow = %v, %v; want refused with a wait", ok, wait)
	}
	// Many new addresses arrive; the busy one keeps being seen.
	for i := range 100 {
		r.Allow(fmt.Sprintf("rotating-%d", i), now)
		if ok, _ := r.Allow("busy", now); ok {
			t.Fatalf("after %d new peers the busy peer's bucket was reset", i+1)
		}
	}
	if r.Len() != 3 {
		t.Errorf("Len = %d, want 3 (the table's size)", r.Len())
	}
	if NewPeerRates(-1, 1, 1) != nil {
		t.Error("NewPeerRates(-1) is not nil")
	}
	var off *PeerRates
	if ok, _ := off.Allow("x", now); !ok {
		t.Error("nil PeerRates refused")
	}
}

func TestListenerPerPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan struct{}, 10)
	l := Listener(ln, 2, 0, Proxies{}, func() { refused <- struct{}{} })
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var clients []net.Conn
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		return c
	}
	dial()
	dial()
	first := <-accepted
	<-accepted
	third := dial()
	select {
	case <-refused:
	case <-time.After(5 * time.Second):
		t.Fatal("third connection from one peer was not refused")
	}
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Error("refused connection is still open")
	}
	first.Close()
	dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("a connection after one closed was not accepted")
	}
}

// TestConns: per-peer and total bounds, trusted proxies exempt from the
// per-peer one, a released slot taken again, release safe to repeat, and
// Crowded from half of either bound.
func TestConns(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c := NewConns(2, 4, proxies)
	a, b, proxy := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("10.0.0.1")
	if c.Crowded(a) {
		t.Error("Crowded(a) with nothing open = true, want false")
	}
	ra1, ok := c.Acquire(a)
	if !ok {
		t.Fatal("first connection of a refused")
	}
	if !c.Crowded(a) || c.Crowded(b) {
		t.Errorf("with a holding 1 of 2: Crowded(a) = %v, Crowded(b) = %v, want true, false", c.Crowded(a), c.Crowded(b))
	}
	if _, ok := c.Acquire(a); !ok {
		t.Fatal("second connection of a refused")
	}
	if _, ok := c.Acquire(a); ok {
		t.Fatal("third connection of a accepted, want refused over 2 per peer")
	}
	if _, ok := c.Acquire(proxy); !ok {
		t.Fatal("a trusted proxy refused")
	}
	if !c.Crowded(b) {
		t.Error("Crowded(b) with 3 of 4 open = false, want true")
	}
	if _, ok := c.Acquire(b); !ok {
		t.Fatal("first connection of b refused")
	}
	if _, ok := c.Acquire(proxy); ok {
		t.Fatal("a fifth connection accepted, want refused over 4 in all")
	}
	if got := c.Open(); got != 4 {
		t.Errorf("Open() = %d, want 4", got)
	}
	ra1()
	ra1() // a second release gives back nothing more
	if got := c.Open(); got != 3 {
		t.Errorf("Open() after one release = %d, want 3", got)
	}
	if _, ok := c.Acquire(a); !ok {
		t.Error("a refused after one of its connections was released")
	}
	if _, ok := c.Acquire(a); ok {
		t.Error("a accepted over 2 per peer after a double release")
	}
	var none *Conns
	if release, ok := none.Acquire(a); !ok || none.Crowded(a) {
		t.Error("a nil *Conns refused or is crowded")
	} else {
		release()
	}
}

func TestClip(t *testing.T) {
	if got := Clip("short", 10); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := strings.Repeat("é", 100) // 200 bytes
	got := Clip(long, 11)
	if !strings.HasPrefix(got, strings.Repeat("é", 5)+"…") || !strings.Contains(got, "(200 bytes)") {
		t.Errorf("Clip(200 bytes, 11) = %q", got)
	}
}

func TestLogHandlerClips(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil), 64))
	huge := strings.Repeat("m", 4<<20)
	log.With("pre", huge).Info(huge, "mode", huge, slog.Group("g", "v", huge), "err", fmt.Errorf("bad %s", huge))
	if buf.Len() > 2048 {
		t.Errorf("log line of %d bytes for 4 MiB values, want under 2048", buf.Len())
	}
	if !strings.Contains(buf.String(), "(4194304 bytes)") {
		t.Errorf("log line does not note the clipped length: %.200s", buf.String())
	}
}
