package gameserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// retryCounter is a client's UDP socket that counts the QUIC v1 Retry
// packets it receives (long header, type 3).
type retryCounter struct {
	net.PacketConn
	retries atomic.Int32
}

func (c *retryCounter) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if n > 0 && b[0]&0x80 != 0 && (b[0]>>4)&3 == 3 {
		c.retries.Add(1)
	}
	return n, addr, err
}

// quicConn is a raw QUIC connection: a handshake for HTTP/3 and nothing
// more, no request and no WebTransport session.
type quicConn struct {
	conn    *quic.Conn
	retries int // Retry packets the server sent before accepting it
}

// dialQUIC makes a raw QUIC connection to the host of wtURL from its own
// UDP socket on 127.0.0.1, sending keep-alives every keepAlive.
func dialQUIC(t *testing.T, wtURL string, keepAlive time.Duration) (*quicConn, error) {
	t.Helper()
	t.Setenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING", "true") // the socket is wrapped to count Retry packets
	u, err := url.Parse(wtURL)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := net.ResolveUDPAddr("udp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	pc := &retryCounter{PacketConn: udp}
	tr := &quic.Transport{Conn: pc}
	t.Cleanup(func() { tr.Close(); udp.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := tr.Dial(ctx, addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{http3.NextProtoH3}}, // the test's own certificate
		&quic.Config{KeepAlivePeriod: keepAlive, MaxIdleTimeout: time.Minute, EnableDatagrams: true})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	return &quicConn{conn: conn, retries: int(pc.retries.Load())}, nil
}

// counter is the value of a counter with one label's value.
func counter(t *testing.T, ts *testServer, name, label, value string) float64 {
	t.Helper()
	mfs, err := ts.srv.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabel(m, label, value) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// waitGauge waits until the gauge reads want.
func waitGauge(t *testing.T, ts *testServer, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for gauge(t, ts, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", name, gauge(t, ts, name), want)
		}
		time.Sleep(10 * time.Millisecond) // the server notices a close asynchronously
	}
}

const wtConns = "skirmish_gameserver_webtransport_connections"

// TestWebTransportConnectionsBounded: QUIC connections that open no
// session at all count against the public port's bounds, per peer and in
// all: the one over is refused with CONNECTION_REFUSED and counted; once
// a peer (or all) holds half its bound, new connections go through a
// Retry; closed connections give their slots back, so as many open again.
func TestWebTransportConnectionsBounded(t *testing.T) {
	tests := []struct {
		name string
		edge Edge
	}{
		{"per peer", Edge{ConnsPerPeer: 3}},
		{"in all", Edge{ConnsPerPeer: -1, MaxConns: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, url := startWT(t, Config{Edge: tt.edge})
			for round := range 2 {
				var open []*quicConn
				for i := range 3 {
					c, err := dialQUIC(t, url, time.Second)
					if err != nil {
						t.Fatalf("round %d: connection %d: %v", round, i+1, err)
					}
					open = append(open, c)
				}
				if open[0].retries != 0 || open[2].retries == 0 {
					t.Errorf("round %d: Retry packets before the first and third connections: %d, %d; want none, then some (from half the bound)",
						round, open[0].retries, open[2].retries)
				}
				refused := counter(t, ts, "skirmish_gameserver_refused_connections_total", "transport", "quic")
				_, err := dialQUIC(t, url, time.Second)
				var terr *quic.TransportError
				if !errors.As(err, &terr) || terr.ErrorCode != quic.ConnectionRefused {
					t.Fatalf("round %d: fourth connection: %v, want CONNECTION_REFUSED", round, err)
				}
				// Each Initial packet of a refused connection counts, and a
				// ClientHello often takes two.
				if got := counter(t, ts, "skirmish_gameserver_refused_connections_total", "transport", "quic"); got <= refused {
					t.Errorf("round %d: refused_connections_total{transport=quic} = %v after a refusal, want more than %v", round, got, refused)
				}
				if got := gauge(t, ts, wtConns); got != 3 {
					t.Errorf("round %d: %s = %v, want 3", round, wtConns, got)
				}
				for _, c := range open {
					c.conn.CloseWithError(0, "")
				}
				waitGauge(t, ts, wtConns, 0)
			}
		})
	}
}

// TestWebTransportConnectionWithoutSession: a QUIC connection that opens
// no WebTransport session is closed after JoinTimeout, even though it
// sends keep-alives, and gives its slot back.
func TestWebTransportConnectionWithoutSession(t *testing.T) {
	ts, url := startBoundedWT(t, webtransport.Config{JoinTimeout: 200 * time.Millisecond})
	c, err := dialQUIC(t, url, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.conn.Context().Done():
	case <-time.After(wait):
		t.Fatalf("a connection without a session still open after %v", wait)
	}
	var aerr *quic.ApplicationError
	if err := context.Cause(c.conn.Context()); !errors.As(err, &aerr) || !aerr.Remote || aerr.ErrorCode != quic.ApplicationErrorCode(http3.ErrCodeNoError) {
		t.Errorf("connection closed by %v, want the server's H3_NO_ERROR", err)
	}
	waitGauge(t, ts, wtConns, 0)
}

// TestWebTransportSessionKeepsConnection: a connection is not closed for
// want of a session while it holds one.
func TestWebTransportSessionKeepsConnection(t *testing.T) {
	const joinTimeout = 500 * time.Millisecond
	ts, url := startBoundedWT(t, webtransport.Config{JoinTimeout: joinTimeout})
	room := ts.createRoom(t, "m-wtkeep", "duel", "a", "b")
	c, code := dialRawWT(t, url)
	if c == nil {
		t.Fatalf("session refused: status %d", code)
	}
	c.send(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: ts.joinToken(t, room, "m-wtkeep", "a")}}})
	if m, err := c.recv(); err != nil || m.GetWelcome() == nil {
		t.Fatalf("after Join: %v, %v; want Welcome", m, err)
	}
	select {
	case <-c.sess.Context().Done():
		t.Fatalf("session ended while joined: %v", context.Cause(c.sess.Context()))
	case <-time.After(3 * joinTimeout):
	}
	c.send(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ping{Ping: &skirmishv1.Ping{ClientTimeUs: 7}}})
	for {
		m, err := c.recv()
		if err != nil {
			t.Fatalf("no Pong after %v joined: %v", 3*joinTimeout, err)
		}
		if m.GetPong() != nil {
			return
		}
	}
}
