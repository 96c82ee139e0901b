package gameserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// pageConfig is /config.json as the browser game reads it.
type pageConfig struct {
	WebSocketURL    string  `json:"websocket_url"`
	WebTransportURL string  `json:"webtransport_url"`
	CertHashes      [][]int `json:"webtransport_cert_hashes"`
	MatchmakerURL   string  `json:"matchmaker_url"`
}

func startWebTransportServer(t testing.TB, matchLen time.Duration) (*testServer, pageConfig, []byte) {
	t.Helper()
	cert, hash, err := webtransport.DevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{
		Modes:                  arena.Modes(arena.Config{MatchDuration: matchLen}),
		Web:                    http.NotFoundHandler(),
		Page:                   PageConfig{MatchmakerURL: "http://mm.test"},
		WebTransportAddr:       "127.0.0.1:0",
		WebTransportCertHashes: [][]byte{hash},
		WebTransport:           webtransport.Config{Certificate: cert},
	})
	resp, err := http.Get("http://" + ts.addr + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pc pageConfig
	if err := json.NewDecoder(resp.Body).Decode(&pc); err != nil {
		t.Fatalf("decode /config.json: %v", err)
	}
	if pc.WebTransportURL == "" || pc.MatchmakerURL != "http://mm.test" || len(pc.CertHashes) != 1 || len(pc.CertHashes[0]) != 32 || pc.CertHashes[0][0] != int(hash[0]) {
		t.Fatalf("/config.json = %+v, want the WebTransport URL, the matchmaker URL and the hash as 32 numbers", pc)
	}
	return ts, pc, hash
}

// TestWebTransportMatch plays a duel with one player over WebTransport
// and one over WebSocket through the Go SDK: both see snapshots, move,
// and get the match end.
func TestWebTransportMatch(t *testing.T) {
	ts, pc, _ := startWebTransportServer(t, 2*time.Second)
	room := ts.createRoom(t, "m-wt", "duel", "p1", "p2")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	games := map[string]*skirmish.Game{}
	for _, tc := range []struct {
		player    string
		transport skirmish.Transport
	}{{"p1", skirmish.TransportWebTransport}, {"p2", skirmish.TransportWebSocket}} {
		a := &skirmishv1.Assignment{RoomId: room, MatchId: "m-wt", WebsocketUrl: pc.WebSocketURL, WebtransportUrl: pc.WebTransportURL,
			JoinToken: ts.joinToken(t, room, "m-wt", tc.player)}
		var hashes [][]byte
		for _, h := range pc.CertHashes {
			b := make([]byte, len(h))
			for i, v := range h {
				b[i] = byte(v)
			}
			hashes = append(hashes, b)
		}
		g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{Transport: tc.transport, WebTransport: skirmish.WebTransportOptions{CertHashes: hashes}})
		if err != nil {
			t.Fatalf("Join(%s over %s): %v", tc.player, tc.transport, err)
		}
		t.Cleanup(func() { g.Close() })
		games[tc.player] = g
	}
	// Move right until the match ends.
	tick := time.NewTicker(33 * time.Millisecond)
	defer tick.Stop()
	for name, g := range games {
	play:
		for {
			select {
			case <-tick.C:
				g.SendArena(1, 0, 0, false)
			case <-g.Done():
				break play
			case <-ctx.Done():
				t.Fatal("the match did not end")
			}
		}
		if g.Outcome() == nil || g.Err() != nil || g.Snapshots() == 0 {
			t.Errorf("%s: outcome %v, err %v, %d snapshots; want an outcome, no error, snapshots", name, g.Outcome(), g.Err(), g.Snapshots())
		}
	}
	if o := ts.sink.find("m-wt"); o == nil || len(o.Players) != 2 {
		t.Fatalf("outcome = %v, want one with two players", o)
	}
}

// TestWebTransportRejects: what a player that joins wrongly is told.
func TestWebTransportRejects(t *testing.T) {
	ts, pc, hash := startWebTransportServer(t, time.Minute)
	room := ts.createRoom(t, "m-rej", "duel", "p1", "p2")
	for _, tc := range []struct {
		name  string
		token string
		want  skirmishv1.ErrorCode
	}{
		{"bad token", "not-a-token", skirmishv1.ErrorCode_ERROR_CODE_UNAUTHENTICATED},
		{"not seated", ts.joinToken(t, room, "m-rej", "p9"), skirmishv1.ErrorCode_ERROR_CODE_NOT_SEATED},
		{"no room", ts.joinToken(t, "nope", "m-rej", "p1"), skirmishv1.ErrorCode_ERROR_CODE_ROOM_NOT_FOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			a := &skirmishv1.Assignment{WebtransportUrl: pc.WebTransportURL, JoinToken: tc.token}
			g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{Transport: skirmish.TransportWebTransport, WebTransport: skirmish.WebTransportOptions{CertHashes: [][]byte{hash}}})
			var se *skirmish.ServerError
			if !errors.As(err, &se) || se.Code != tc.want {
				if g != nil {
					g.Close()
				}
				t.Fatalf("Join = %v, want server error %s", err, tc.want)
			}
		})
	}
	t.Run("wrong certificate hash", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		a := &skirmishv1.Assignment{WebtransportUrl: pc.WebTransportURL, JoinToken: "x"}
		_, err := skirmish.Join(ctx, a, skirmish.JoinOptions{Transport: skirmish.TransportWebTransport, WebTransport: skirmish.WebTransportOptions{CertHashes: [][]byte{make([]byte, 32)}}})
		if err == nil {
			t.Fatal("Join with a wrong pinned hash succeeded")
		}
	})
}
