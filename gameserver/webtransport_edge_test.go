package gameserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	wt "github.com/quic-go/webtransport-go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// startBoundedWT runs a gameserver whose WebTransport has the given
// bounds, and returns it with its WebTransport URL.
func startBoundedWT(t *testing.T, cfg webtransport.Config) (*testServer, string) {
	t.Helper()
	return startWT(t, Config{WebTransport: cfg})
}

// startWT runs a gameserver with WebTransport on a loopback port, and
// returns it with its WebTransport URL.
func startWT(t *testing.T, cfg Config) (*testServer, string) {
	t.Helper()
	cert, _, err := webtransport.DevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cfg.WebTransport.Certificate = cert
	cfg.Modes = arena.Modes(arena.Config{MatchDuration: time.Minute})
	cfg.WebTransportAddr = "127.0.0.1:0"
	cfg.Web = http.NotFoundHandler()
	ts := startServer(t, cfg)
	resp, err := http.Get("http://" + ts.addr + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pc pageConfig
	if err := json.NewDecoder(resp.Body).Decode(&pc); err != nil || pc.WebTransportURL == "" {
		t.Fatalf("/config.json: %+v, %v", pc, err)
	}
	return ts, pc.WebTransportURL
}

// rawWT is a WebTransport session that sends whatever the test wants.
type rawWT struct {
	d      *wt.Transport
	sess   *wt.Session
	stream *wt.Stream
	r      *bufio.Reader
}

func dialRawWT(t *testing.T, url string) (*rawWT, int) {
	t.Helper()
	d := &wt.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own self-signed certificate
		QUICConfig:      &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true},
	}
	t.Cleanup(func() { d.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, sess, err := d.Dial(ctx, url, http.Header{})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode
		}
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { sess.CloseWithError(0, "") })
	stream, err := sess.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &rawWT{d: d, sess: sess, stream: stream, r: bufio.NewReader(stream)}, resp.StatusCode
}

func (c *rawWT) send(t *testing.T, m *skirmishv1.ClientMessage) {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.stream.Write(protowire.AppendVarint(nil, uint64(len(b)))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.stream.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (c *rawWT) recv() (*skirmishv1.ServerMessage, error) {
	c.stream.SetReadDeadline(time.Now().Add(wait))
	n, err := binary.ReadUvarint(c.r)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, err
	}
	var m skirmishv1.ServerMessage
	return &m, proto.Unmarshal(b, &m)
}

// TestWebTransportDatagramFlood: datagrams count against the session's
// message bound; a flood gets ERROR_CODE_RATE_LIMITED on the control
// stream and the session ends.
func TestWebTransportDatagramFlood(t *testing.T) {
	ts, url := startBoundedWT(t, webtransport.Config{MessageRate: 50, MessageBurst: 50})
	room := ts.createRoom(t, "m-wtflood", "duel", "a", "b")
	c, _ := dialRawWT(t, url)
	c.send(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: ts.joinToken(t, room, "m-wtflood", "a")}}})
	if m, err := c.recv(); err != nil || m.GetWelcome() == nil {
		t.Fatalf("after Join: %v, %v; want Welcome", m, err)
	}
	ack, _ := proto.Marshal(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: 1}}})
	go func() {
		for range 2000 {
			if c.sess.SendDatagram(ack) != nil {
				return
			}
		}
	}()
	for {
		m, err := c.recv()
		if err != nil {
			t.Fatalf("no RATE_LIMITED error before the stream ended: %v", err)
		}
		if e := m.GetError(); e != nil {
			if e.Code != skirmishv1.ErrorCode_ERROR_CODE_RATE_LIMITED {
				t.Fatalf("Error %v, want RATE_LIMITED", e)
			}
			return
		}
	}
}

// TestWebTransportSessionsPerPeer: one address holds at most
// SessionsPerPeer sessions; the next is refused with 429.
func TestWebTransportSessionsPerPeer(t *testing.T) {
	_, url := startBoundedWT(t, webtransport.Config{SessionsPerPeer: 2})
	for i := range 2 {
		if _, code := dialRawWT(t, url); code != http.StatusOK {
			t.Fatalf("session %d: status %d, want 200", i+1, code)
		}
	}
	if c, code := dialRawWT(t, url); c != nil || code != http.StatusTooManyRequests {
		t.Errorf("third session from one address: status %d, want 429", code)
	}
}
