package room

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// eventGame emits scripted events: script[n] after its n-th tick, and a
// "resync" event to a player who reconnects.
type eventGame struct {
	secretGame
	script  map[int32][]game.Event
	pending []game.Event
	endAt   int32 // 0: never
}

func (g *eventGame) Tick() bool {
	g.secretGame.Tick()
	g.pending = append(g.pending, g.script[g.tick]...)
	return g.endAt != 0 && g.tick >= g.endAt
}

func (g *eventGame) Events() []game.Event {
	out := g.pending
	g.pending = nil
	return out
}

func (g *eventGame) Resync(p string) {
	g.pending = append(g.pending, game.Event{To: p, Type: "resync", Payload: []byte(fmt.Sprint(g.tick))})
}

func newEventManager(t *testing.T, maxBytes int, script map[int32][]game.Event, endAt int32) (*Manager, *recordSink) {
	t.Helper()
	sink := &recordSink{got: map[string]*skirmishv1.MatchOutcome{}, add: make(chan struct{}, 4)}
	reg, err := game.NewRegistry(game.Mode{
		Name: "events", TickRate: 30, MaxEventBytes: maxBytes,
		New: func(c game.Config) (game.Game, error) {
			return &eventGame{secretGame: secretGame{seats: c.Seats}, script: script, endAt: endAt}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Config{DrainTimeout: time.Millisecond}, reg, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	return m, sink
}

func runManager(t *testing.T, m *Manager) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- m.Run(t.Context()) }() // t.Context ends before cleanups run
	t.Cleanup(func() { <-done })
}

// nextFrames returns the next n messages to tr that keep accepts.
func nextFrames(t *testing.T, tr *chanTransport, n int, keep func(*skirmishv1.ServerMessage) bool) []*skirmishv1.ServerMessage {
	t.Helper()
	timeout := time.After(wait)
	var out []*skirmishv1.ServerMessage
	for len(out) < n {
		select {
		case m := <-tr.frames:
			if keep(m) {
				out = append(out, m)
			}
		case <-timeout:
			t.Fatalf("got %d of %d frames within %v: %v", len(out), n, wait, out)
		}
	}
	return out
}

func isEvent(m *skirmishv1.ServerMessage) bool { return m.GetEvent() != nil }

func describe(evs []*skirmishv1.ServerMessage) string {
	var b strings.Builder
	for _, m := range evs {
		e := m.GetEvent()
		fmt.Fprintf(&b, "%s#%d ", e.Type, e.Seq)
	}
	return strings.TrimSpace(b.String())
}

// TestGameEvents: events reach their recipients in the order emitted,
// numbered per player, before the snapshot of their tick; a reconnecting
// player gets again the events after the newest it holds (also those sent
// while it was away), then the game's resync events and a full snapshot.
func TestGameEvents(t *testing.T) {
	script := map[int32][]game.Event{
		2:  {{Type: "hello", Payload: []byte("all")}, {To: "a", Type: "secret", Payload: []byte("for a")}},
		3:  {{To: "b", Type: "deal", Payload: []byte("for b")}, {Type: "round", Payload: []byte("1")}},
		40: {{Type: "late"}},
	}
	m, _ := newEventManager(t, 0, script, 0)
	r, err := m.Create("m-events", "events", []game.Seat{{PlayerID: "a"}, {PlayerID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := newTransport(false), newTransport(false)
	attach(t, m, r.ID(), "a", ta)
	sb := attach(t, m, r.ID(), "b", tb)

	// a: the events of tick 2 come before the snapshot of tick 2.
	got := nextFrames(t, ta, 4, func(m *skirmishv1.ServerMessage) bool {
		return isEvent(m) || (m.GetSnapshot() != nil && m.GetSnapshot().Tick == 2)
	})
	if got[0].GetEvent() == nil || got[1].GetEvent() == nil || got[2].GetSnapshot() == nil {
		t.Fatalf("a got %v, want two events then the snapshot of tick 2", got)
	}
	evs := []*skirmishv1.ServerMessage{got[0], got[1], got[3]}
	if d := describe(evs); d != "hello#1 secret#2 round#3" {
		t.Errorf("a got events %q, want %q", d, "hello#1 secret#2 round#3")
	}
	if e := got[1].GetEvent(); string(e.Payload) != "for a" || e.Tick != 2 {
		t.Errorf("secret event = %v, want payload %q at tick 2", e, "for a")
	}
	if d := describe(nextFrames(t, tb, 3, isEvent)); d != "hello#1 deal#2 round#3" {
		t.Errorf("b got events %q, want %q", d, "hello#1 deal#2 round#3")
	}

	// b drops; an event is sent while it is away; b comes back holding
	// the events up to #2 (#3 was lost with the old connection, say).
	sb.Detach()
	if d := describe(nextFrames(t, ta, 1, isEvent)); d != "late#4" {
		t.Fatalf("a got %q, want late#4", d)
	}
	tb2 := newTransport(false)
	sb2, err := m.AttachAfter(t.Context(), r.ID(), "b", 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sb2.WriteLoop(ctx, tb2) }()
	t.Cleanup(func() { cancel(); <-done })
	if w := sb2.Welcome(); !w.Resumed || w.EventSeq != 4 {
		t.Errorf("welcome on resume: resumed %v, event_seq %d; want true, 4", w.Resumed, w.EventSeq)
	}
	got = nextFrames(t, tb2, 4, func(m *skirmishv1.ServerMessage) bool { return isEvent(m) || m.GetSnapshot() != nil })
	if d := describe(got[:3]); d != "round#3 late#4 resync#5" {
		t.Errorf("after resuming b got events %q, want the two it missed, resent, then resync#5", d)
	}
	if s := got[3].GetSnapshot(); s == nil || s.BaseTick != 0 {
		t.Errorf("after resuming b got %v, want a full snapshot", got[3])
	}
}

// TestEventLogBounded: a seat keeps its newest events, at most
// eventLogLen and eventLogBytes.
func TestEventLogBounded(t *testing.T) {
	var l eventLog
	for i := range 100 {
		l.add(&skirmishv1.GameEvent{Seq: uint64(i + 1), Type: "e", Payload: make([]byte, 9)})
	}
	if n := len(l.events); n != eventLogLen || l.events[0].Seq != 100-eventLogLen+1 || l.bytes != 10*eventLogLen {
		t.Errorf("log of 100 events keeps %d from #%d (%d bytes), want the newest %d", n, l.events[0].Seq, l.bytes, eventLogLen)
	}
	l.add(&skirmishv1.GameEvent{Seq: 101, Type: "big", Payload: make([]byte, eventLogBytes-3)})
	if len(l.events) != 1 || l.events[0].Seq != 101 || l.bytes != eventLogBytes {
		t.Errorf("after a %d-byte event the log keeps %d events (%d bytes), want only it", eventLogBytes, len(l.events), l.bytes)
	}
}

// TestGameEventBounds: a tick sends at most MaxEventBytes; the rest
// follows at the next ticks in order, and the last tick sends everything
// before the match end.
func TestGameEventBounds(t *testing.T) {
	ev := func(typ string) game.Event { return game.Event{To: "a", Type: typ, Payload: make([]byte, 36)} } // 40 bytes
	script := map[int32][]game.Event{
		1: {ev("e001"), ev("e002"), ev("e003"), ev("e004"), ev("e005")},
		3: {ev("e006"), ev("e007"), ev("e008"), ev("e009"), ev("e010")},
	}
	m, _ := newEventManager(t, 100, script, 3)
	r, err := m.Create("m-bounds", "events", []game.Seat{{PlayerID: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	ta := newTransport(false)
	attach(t, m, r.ID(), "a", ta)
	got := nextFrames(t, ta, 11, func(m *skirmishv1.ServerMessage) bool { return isEvent(m) || m.GetMatchEnd() != nil })
	var ticks []uint32
	for i, f := range got[:10] {
		e := f.GetEvent()
		if want := fmt.Sprintf("e%03d", i+1); e == nil || e.Type != want || e.Seq != uint64(i+1) {
			t.Fatalf("frame %d = %v, want event %s #%d", i, f, want, i+1)
		}
		ticks = append(ticks, e.Tick)
	}
	// 100 bytes a tick: two 40-byte events each at ticks 1 and 2; tick 3
	// ends the match and sends the rest.
	if want := []uint32{1, 1, 2, 2, 3, 3, 3, 3, 3, 3}; fmt.Sprint(ticks) != fmt.Sprint(want) {
		t.Errorf("events sent at ticks %v, want %v", ticks, want)
	}
	if got[10].GetMatchEnd() == nil {
		t.Errorf("last frame = %v, want the match end", got[10])
	}
}

// TestGameEventFaults: a game that breaks the event contract ends its
// match with END_REASON_ERROR, like a panic.
func TestGameEventFaults(t *testing.T) {
	big := make([]byte, 200)
	tests := map[string][]game.Event{
		"event over the bound":  {{Type: "big", Payload: big}},
		"event without a type":  {{Payload: []byte("x")}},
		"event to a stranger":   {{To: "nobody", Type: "x"}},
		"backlog over 16 ticks": eventsOf(17*2+1, game.Event{Type: "x", Payload: make([]byte, 49)}),
	}
	for name, evs := range tests {
		t.Run(name, func(t *testing.T) {
			m, sink := newEventManager(t, 100, map[int32][]game.Event{1: evs}, 0)
			r, err := m.Create("m-fault", "events", []game.Seat{{PlayerID: "a"}})
			if err != nil {
				t.Fatal(err)
			}
			ta := newTransport(false)
			attach(t, m, r.ID(), "a", ta)
			end := nextFrames(t, ta, 1, func(m *skirmishv1.ServerMessage) bool { return m.GetMatchEnd() != nil })[0]
			if reason := end.GetMatchEnd().GetOutcome().GetEndReason(); reason != skirmishv1.EndReason_END_REASON_ERROR {
				t.Errorf("match ended with %v, want END_REASON_ERROR", reason)
			}
			<-sink.add
		})
	}
}

func eventsOf(n int, ev game.Event) []game.Event {
	out := make([]game.Event, n)
	for i := range out {
		out[i] = ev
	}
	return out
}
