package room

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// nextMessage returns the next frame that want picks, skipping others
// (snapshots, pongs).
func nextMessage[T proto.Message](t *testing.T, tr *chanTransport, want func(*skirmishv1.ServerMessage) T) T {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m := <-tr.frames:
			if v := want(m); v.ProtoReflect().IsValid() { // nil: another kind of message
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("no %T within %v", zero, wait)
			return zero
		}
	}
}

func nextWelcome(t *testing.T, tr *chanTransport) *skirmishv1.Welcome {
	t.Helper()
	return nextMessage(t, tr, (*skirmishv1.ServerMessage).GetWelcome)
}

func nextRoster(t *testing.T, tr *chanTransport) []*skirmishv1.RosterEntry {
	t.Helper()
	return nextMessage(t, tr, (*skirmishv1.ServerMessage).GetRoster).GetPlayers()
}

type rosterWant struct {
	entity   uint32
	player   string
	name     string
	team     uint32
	presence skirmishv1.Presence
}

func checkRoster(t *testing.T, who string, got []*skirmishv1.RosterEntry, want ...rosterWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: roster has %d entries, want %d: %v", who, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.GetEntityId() != w.entity || g.GetPlayerId() != w.player || g.GetName() != w.name || g.GetTeam() != w.team || g.GetPresence() != w.presence {
			t.Errorf("%s: roster[%d] = {%d %q %q %d %v}, want {%d %q %q %d %v}", who, i,
				g.GetEntityId(), g.GetPlayerId(), g.GetName(), g.GetTeam(), g.GetPresence(),
				w.entity, w.player, w.name, w.team, w.presence)
		}
	}
}

// TestRoster: a joining player finds everyone seated in its Welcome (names
// from the seats, entities of those who joined, who is connected), and the
// players already connected get the change as a Roster message, as they do
// when a player drops, returns or leaves. A player just welcomed does not
// get its own join again.
func TestRoster(t *testing.T) {
	const (
		connected = skirmishv1.Presence_PRESENCE_CONNECTED
		waiting   = skirmishv1.Presence_PRESENCE_WAITING
		dropped   = skirmishv1.Presence_PRESENCE_DROPPED
		left      = skirmishv1.Presence_PRESENCE_LEFT
	)
	m := newManager(t, Config{ReconnectGrace: time.Minute})
	r, err := m.Create("m-roster", "secret", []game.Seat{
		{PlayerID: "p-a", Name: "Ada", Team: 1},
		{PlayerID: "p-b", Name: "Bob", Team: 2},
		{PlayerID: "p-c", Name: "Cy", Team: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb, tc := newTransport(false), newTransport(false), newTransport(false)

	attach(t, m, r.ID(), "p-a", ta)
	checkRoster(t, "a's welcome", nextWelcome(t, ta).GetRoster(),
		rosterWant{1, "p-a", "Ada", 1, connected},
		rosterWant{0, "p-b", "Bob", 2, waiting},
		rosterWant{0, "p-c", "Cy", 3, waiting})

	sb := attach(t, m, r.ID(), "p-b", tb)
	checkRoster(t, "b's welcome", nextWelcome(t, tb).GetRoster(),
		rosterWant{1, "p-a", "Ada", 1, connected},
		rosterWant{2, "p-b", "Bob", 2, connected},
		rosterWant{0, "p-c", "Cy", 3, waiting})
	checkRoster(t, "a after b joined", nextRoster(t, ta),
		rosterWant{1, "p-a", "Ada", 1, connected},
		rosterWant{2, "p-b", "Bob", 2, connected},
		rosterWant{0, "p-c", "Cy", 3, waiting})

	sc := attach(t, m, r.ID(), "p-c", tc)
	all := []rosterWant{
		{1, "p-a", "Ada", 1, connected},
		{2, "p-b", "Bob", 2, connected},
		{3, "p-c", "Cy", 3, connected},
	}
	checkRoster(t, "c's welcome", nextWelcome(t, tc).GetRoster(), all...)
	checkRoster(t, "a after c joined", nextRoster(t, ta), all...)
	checkRoster(t, "b after c joined", nextRoster(t, tb), all...)

	// b drops: the others see it (and c's first Roster is this one, not
	// its own join again).
	sb.Detach()
	all[1].presence = dropped
	checkRoster(t, "a after b dropped", nextRoster(t, ta), all...)
	checkRoster(t, "c after b dropped", nextRoster(t, tc), all...)

	// b returns on a new connection.
	tb2 := newTransport(false)
	attach(t, m, r.ID(), "p-b", tb2)
	all[1].presence = connected
	w := nextWelcome(t, tb2)
	if !w.GetResumed() {
		t.Errorf("b's second welcome: resumed = false, want true")
	}
	checkRoster(t, "b's second welcome", w.GetRoster(), all...)
	checkRoster(t, "a after b returned", nextRoster(t, ta), all...)

	// c leaves for good; it stays on the roster, so its name is still
	// known for the kill feed and the scoreboard.
	if err := sc.Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}}); err != nil {
		t.Fatal(err)
	}
	all[2].presence = left
	checkRoster(t, "a after c left", nextRoster(t, ta), all...)
	checkRoster(t, "b after c left", nextRoster(t, tb2), all...)
}
