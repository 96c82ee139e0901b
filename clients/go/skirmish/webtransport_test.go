package skirmish

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"
	"google.golang.org/protobuf/encoding/protowire"

	gswt "github.com/skirmishgg/skirmish/gameserver/webtransport"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// wtTestServer serves WebTransport sessions on a loopback UDP port, each
// with handle, and returns JoinOptions that reach it.
func wtTestServer(tb testing.TB, handle func(sess *wt.Session)) JoinOptions {
	tb.Helper()
	cert, hash, err := gswt.DevCertificate("127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	h3 := &http3.Server{
		TLSConfig:  http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		QUICConfig: &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true},
		Handler:    mux,
	}
	srv := &wt.Server{H3: h3, CheckOrigin: func(*http.Request) bool { return true }}
	wt.ConfigureHTTP3Server(h3)
	mux.HandleFunc("/wt", func(w http.ResponseWriter, r *http.Request) {
		sess, err := srv.Upgrade(w, r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		defer sess.CloseWithError(0, "")
		handle(sess)
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(pc) }()
	tb.Cleanup(func() {
		srv.Close()
		<-served
		pc.Close()
	})
	return JoinOptions{Transport: TransportWebTransport, WebTransport: WebTransportOptions{
		URL: "https://" + pc.LocalAddr().String() + "/wt", CertHashes: [][]byte{hash},
	}}
}

// wtFrame is msg as the control stream carries it: its length as a varint,
// then the message.
func wtFrame(tb testing.TB, msg *skirmishv1.ServerMessage) []byte {
	b, err := msg.MarshalVT()
	if err != nil {
		tb.Fatal(err)
	}
	return append(protowire.AppendVarint(nil, uint64(len(b))), b...)
}

// TestWebTransportGame plays a short match over WebTransport: the Welcome,
// then snapshots as datagrams (which the Game handles on the goroutine
// that receives them), an event and the match end on the stream. The
// callbacks must come one at a time and stop at Done; an undecodable
// datagram ends the connection with the decoding error.
func TestWebTransportGame(t *testing.T) {
	tests := []struct {
		name    string
		garbage bool // a datagram that does not decode, after the snapshots
		wantErr string
	}{
		{name: "match"},
		{name: "bad datagram", garbage: true, wantErr: "decode server message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applied := make(chan uint32, 16)
			opts := wtTestServer(t, func(sess *wt.Session) {
				ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
				defer cancel()
				str, err := sess.AcceptStream(ctx)
				if err != nil {
					return
				}
				r := bufio.NewReader(str)
				if n, err := binary.ReadUvarint(r); err != nil || n == 0 {
					return
				} else if _, err := io.ReadFull(r, make([]byte, n)); err != nil {
					return // the Join
				}
				go io.Copy(io.Discard, r)
				str.Write(wtFrame(t, &skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Welcome{Welcome: &skirmishv1.Welcome{EntityId: 1}}}))
				w1 := []snapshot.Entity{ent(1, 1, 10, 20), ent(2, 1, 30, 40)}
				w2 := []snapshot.Entity{ent(1, 1, 11, 20), ent(3, 2, 5)}
				var full, delta skirmishv1.Snapshot
				snapshot.Full(&full, w1)
				full.Tick = 1
				snapshot.Delta(&delta, w1, w2)
				delta.Tick, delta.BaseTick = 2, 1
				// Datagrams may be lost: they go again until applied.
				for _, s := range []*skirmishv1.Snapshot{&full, &delta} {
					f, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}).MarshalVT()
					if err != nil {
						t.Error(err)
						return
					}
					for sent := false; !sent; {
						if err := sess.SendDatagram(f); err != nil {
							return
						}
						select {
						case tick := <-applied:
							sent = tick == s.Tick
						case <-time.After(20 * time.Millisecond):
						case <-ctx.Done():
							return
						}
					}
				}
				if tt.garbage {
					for ctx.Err() == nil {
						sess.SendDatagram([]byte{0xff, 0xff, 0xff})
						time.Sleep(20 * time.Millisecond)
					}
					return
				}
				str.Write(wtFrame(t, &skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Event{Event: &skirmishv1.GameEvent{Seq: 1, Type: "round"}}}))
				str.Write(wtFrame(t, &skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_MatchEnd{MatchEnd: &skirmishv1.MatchEnd{Outcome: &skirmishv1.MatchOutcome{MatchId: "m"}}}}))
				str.Close()
				<-ctx.Done() // the client closes the session
			})
			var inside, overlaps atomic.Int32
			var events []string
			var game atomic.Pointer[Game]
			late := make(chan string, 8)
			enter := func(what string) func() {
				if g := game.Load(); g != nil {
					select {
					case <-g.Done():
						late <- what
					default:
					}
				}
				if inside.Add(1) > 1 {
					overlaps.Add(1)
				}
				return func() { inside.Add(-1) }
			}
			opts.OnSnapshot = func(w *World, _ int) {
				defer enter("snapshot")()
				applied <- w.Tick
			}
			opts.OnEvent = func(ev *skirmishv1.GameEvent) {
				defer enter("event")()
				events = append(events, ev.GetType())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			g, err := Join(ctx, &skirmishv1.Assignment{}, opts)
			if err != nil {
				t.Fatalf("Join: %v", err)
			}
			t.Cleanup(func() { g.Close() })
			game.Store(g)
			select {
			case <-g.Done():
			case <-ctx.Done():
				t.Fatal("the connection did not end")
			}
			if w := g.World(); w == nil || w.Tick != 2 || len(w.Entities) != 2 || w.Entities[1].ID != 3 {
				t.Errorf("World() = %+v, want tick 2 with entities 1 and 3", w)
			}
			if err := g.Err(); (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Err() = %v, want %q", err, tt.wantErr)
			}
			if tt.wantErr == "" {
				if g.Outcome().GetMatchId() != "m" || len(events) != 1 {
					t.Errorf("Outcome() = %v, events %v; want match m and one event", g.Outcome(), events)
				}
			}
			g.Close()
			if n := overlaps.Load(); n > 0 {
				t.Errorf("%d callbacks ran while another did", n)
			}
			select {
			case what := <-late:
				t.Errorf("%s callback after Done", what)
			default:
			}
		})
	}
}
