package gameserver

import (
	"context"
	"testing"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestSDKRoster: through the Go SDK over a real WebSocket, a player learns
// the opponent's name from the roster once the opponent joins, finds it by
// entity, and sees the opponent drop.
func TestSDKRoster(t *testing.T) {
	ts := startServer(t, Config{})
	roomID := ts.createRoom(t, "m-roster", "duel", "p1", "p2")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	join := func(p string, opts skirmish.JoinOptions) *skirmish.Game {
		a := &skirmishv1.Assignment{RoomId: roomID, MatchId: "m-roster", WebsocketUrl: "ws://" + ts.addr + "/ws",
			JoinToken: ts.joinToken(t, roomID, "m-roster", p)}
		g, err := skirmish.Join(ctx, a, opts)
		if err != nil {
			t.Fatalf("Join(%s): %v", p, err)
		}
		t.Cleanup(func() { g.Close() })
		return g
	}
	rosters := make(chan []*skirmishv1.RosterEntry, 16)
	g1 := join("p1", skirmish.JoinOptions{OnRoster: func(r []*skirmishv1.RosterEntry) { rosters <- r }})
	if r := g1.Roster(); len(r) != 2 || r[1].GetPresence() != skirmishv1.Presence_PRESENCE_WAITING {
		t.Fatalf("p1's first roster = %v, want p1 and p2 waiting", r)
	}
	g2 := join("p2", skirmish.JoinOptions{})
	opponent := g2.Welcome().GetEntityId()
	next := func(want skirmishv1.Presence) {
		t.Helper()
		for {
			select {
			case r := <-rosters:
				if r[1].GetPresence() == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("p1 never saw p2 %v", want)
			}
		}
	}
	next(skirmishv1.Presence_PRESENCE_CONNECTED)
	if p := g1.Player(opponent); p.GetName() != "Np2" || p.GetPlayerId() != "p2" {
		t.Errorf("p1: Player(%d) = %v, want p2 named Np2", opponent, p)
	}
	if p := g2.Player(g1.Welcome().GetEntityId()); p.GetName() != "Np1" {
		t.Errorf("p2: Player(p1's entity) = %v, want Np1 (from the Welcome)", p)
	}
	g2.Close()
	next(skirmishv1.Presence_PRESENCE_DROPPED)
}
