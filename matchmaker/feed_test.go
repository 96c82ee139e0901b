package matchmaker

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// gateProxy forwards loopback TCP connections to a server and can stop
// forwarding (a network that drops everything) and start again.
type gateProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	open   *sync.Cond
	closed bool // frozen
	wg     sync.WaitGroup
	conns  []net.Conn
}

func startGateProxy(t testing.TB, target string) *gateProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &gateProxy{ln: ln, target: target}
	p.open = sync.NewCond(&p.mu)
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			p.wg.Go(func() { p.pipe(s, c) })
			p.wg.Go(func() { p.pipe(c, s) })
		}
	})
	t.Cleanup(func() {
		p.set(false)
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// pipe copies from src to dst, holding each chunk while the gate is shut.
func (p *gateProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.closed {
				p.open.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// set shuts (true) or opens the gate.
func (p *gateProxy) set(shut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = shut
	p.open.Broadcast()
}

// TestReadyzFollowsFeed: /readyz is ready while the change feed answers
// and not ready once it has been silent for FeedStallAfter; it recovers
// with the feed. The internal listener's /readyz answers the same.
func TestReadyzFollowsFeed(t *testing.T) {
	addr := testenv.Redis(t)
	prefix := testenv.RedisPrefix(t, addr)
	proxy := startGateProxy(t, addr)
	c := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String()})
	t.Cleanup(func() { c.Close() })
	e := startMatchmakerWith(t, Config{FeedStallAfter: 300 * time.Millisecond}, nil, WithRedis(c, prefix))
	e.create(t, e.as(t, "alice"), "duel")
	waitReady(t, e, http.StatusOK, "ok\n")
	proxy.set(true)
	waitReady(t, e, http.StatusServiceUnavailable, "not ready: the change feed is stalled\n")
	proxy.set(false)
	waitReady(t, e, http.StatusOK, "ok\n")
}

// waitReady waits until GET /readyz on the public port answers the
// status, then checks its body, and that the internal listener's /readyz
// answers the same status and body.
func waitReady(t testing.TB, e *env, want int, wantBody string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(waitTimeout)
	for {
		code, body, err := getReadyz(e.addr)
		if err == nil && code == want {
			if body != wantBody {
				t.Errorf("GET /readyz = %d %q, want %q", code, body, wantBody)
			}
			icode, ibody, err := getReadyz(e.internalAddr)
			if err != nil || icode != code || ibody != body {
				t.Errorf("GET /readyz on the internal listener = %d %q (%v), want %d %q as on the public port", icode, ibody, err, code, body)
			}
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("/readyz never answered %d within %v", want, waitTimeout)
		}
	}
}

func getReadyz(addr string) (int, string, error) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
