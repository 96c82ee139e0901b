package skirmish

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// countConn counts the deadlines set on it.
type countConn struct {
	net.Conn
	writeDeadlines, deadlines int
}

func (c *countConn) SetWriteDeadline(time.Time) error { c.writeDeadlines++; return nil }
func (c *countConn) SetDeadline(time.Time) error      { c.deadlines++; return nil }

func TestWriteDeadlineConnForwardsOnlyChanges(t *testing.T) {
	under := &countConn{}
	c := &writeDeadlineConn{Conn: under}
	t1 := time.Now().Add(time.Second)
	t2 := t1.Add(time.Second)
	steps := []struct {
		name                string
		set                 func() error
		wantWrite, wantBoth int
	}{
		{"first write deadline", func() error { return c.SetWriteDeadline(t1) }, 1, 0},
		{"the same again", func() error { return c.SetWriteDeadline(t1) }, 1, 0},
		{"another", func() error { return c.SetWriteDeadline(t2) }, 2, 0},
		{"both deadlines", func() error { return c.SetDeadline(t1) }, 2, 1},
		{"the write deadline SetDeadline set", func() error { return c.SetWriteDeadline(t1) }, 2, 1},
		{"none", func() error { return c.SetWriteDeadline(time.Time{}) }, 3, 1},
		{"none again", func() error { return c.SetWriteDeadline(time.Time{}) }, 3, 1},
	}
	for _, s := range steps {
		if err := s.set(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if under.writeDeadlines != s.wantWrite || under.deadlines != s.wantBoth {
			t.Fatalf("after %s: %d write deadlines and %d deadlines set, want %d and %d",
				s.name, under.writeDeadlines, under.deadlines, s.wantWrite, s.wantBoth)
		}
	}
}

// TestWebSocketWriteDeadline dials as Join does, with dialers set up in
// different ways: each connection goes through a writeDeadlineConn, a
// message goes both ways, and once the server stops reading a write still
// fails when its deadline passes.
func TestWebSocketWriteDeadline(t *testing.T) {
	var dials atomic.Int64
	tests := []struct {
		name   string
		tls    bool
		dialer func(tlsConf *tls.Config) *websocket.Dialer
		// dials is how many times the dialer's own dial function runs.
		dials int64
	}{
		{"default dialer", false, func(*tls.Config) *websocket.Dialer { return nil }, 0},
		{"NetDialContext", false, func(*tls.Config) *websocket.Dialer {
			return &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}}
		}, 1},
		{"NetDial", false, func(*tls.Config) *websocket.Dialer {
			return &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
				dials.Add(1)
				return net.Dial(network, addr)
			}}
		}, 1},
		{"TLS", true, func(c *tls.Config) *websocket.Dialer {
			return &websocket.Dialer{TLSClientConfig: c}
		}, 0},
		{"NetDialTLSContext", true, func(c *tls.Config) *websocket.Dialer {
			return &websocket.Dialer{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				d := tls.Dialer{Config: c}
				return d.DialContext(ctx, network, addr)
			}}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dials.Store(0)
			stop := make(chan struct{})
			up := websocket.Upgrader{}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer c.Close()
				// Echo one message, then read no more.
				if typ, b, err := c.ReadMessage(); err == nil {
					c.WriteMessage(typ, b)
				}
				<-stop
			})
			var srv *httptest.Server
			var tlsConf *tls.Config
			if tt.tls {
				srv = httptest.NewTLSServer(h)
				tlsConf = srv.Client().Transport.(*http.Transport).TLSClientConfig
			} else {
				srv = httptest.NewServer(h)
			}
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(stop) })
			url := "ws" + strings.TrimPrefix(srv.URL, "http")
			l, err := dialWebSocket(context.Background(), &skirmishv1.Assignment{WebsocketUrl: url}, JoinOptions{Dialer: tt.dialer(tlsConf)})
			if err != nil {
				t.Fatalf("dial %s: %v", url, err)
			}
			t.Cleanup(func() { l.Close() })
			if got := dials.Load(); got != tt.dials {
				t.Errorf("the dialer's own dial ran %d times, want %d", got, tt.dials)
			}
			ws := l.(*wsLink)
			under := ws.c.NetConn()
			if tc, ok := under.(*tls.Conn); ok && tt.dials == 0 {
				under = tc.NetConn()
			}
			if _, ok := under.(*writeDeadlineConn); !ok {
				t.Fatalf("the WebSocket runs over a %T, want a *writeDeadlineConn", under)
			}

			if err := l.WriteMessage([]byte("hello"), time.Now()); err != nil {
				t.Fatalf("WriteMessage: %v", err)
			}
			l.SetReadDeadline(time.Now().Add(10 * time.Second))
			if b, err := l.ReadMessage(); err != nil || string(b) != "hello" {
				t.Fatalf("ReadMessage() = %q, %v, want the echo %q", b, err, "hello")
			}

			// The server reads no more: once the socket buffers fill, a
			// write blocks until its deadline.
			ws.c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			msg := bytes.Repeat([]byte{1}, 64<<10)
			start := time.Now()
			for time.Since(start) < 20*time.Second {
				if err = ws.c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					break
				}
			}
			// gorilla reports its own timeout error over plain TCP.
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("writes to a peer that reads nothing ended with %v after %v, want a timeout", err, time.Since(start))
			}
		})
	}
}

// TestWriteDeadlineConnCloseWhileWriting: over wss, the tls.Conn above a
// writeDeadlineConn sets its write deadline when it closes, from the
// closing goroutine, while another may be writing; under -race this fails
// without writeDeadlineConn's lock.
func TestWriteDeadlineConnCloseWhileWriting(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	d := &websocket.Dialer{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	for range 20 {
		l, err := dialWebSocket(context.Background(), &skirmishv1.Assignment{WebsocketUrl: "ws" + strings.TrimPrefix(srv.URL, "http")}, JoinOptions{Dialer: d})
		if err != nil {
			t.Fatal(err)
		}
		written := make(chan struct{})
		go func() {
			defer close(written)
			for i := 0; ; i++ {
				// A new deadline every write, so each one reaches the socket.
				if l.WriteMessage([]byte("input"), time.Now().Add(time.Duration(i)*2*time.Second)) != nil {
					return
				}
			}
		}()
		time.Sleep(time.Millisecond)
		l.Close()
		<-written
	}
}
