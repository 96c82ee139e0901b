package room

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// Snapshot encoding shared between viewers. A snapshot is a delta between
// two worlds, the one the viewer acknowledged (the base) and the one it
// sees now, plus the viewer's own last_input_seq. Viewers that see the same
// world and acknowledged the same tick would get identical bytes but for
// last_input_seq: on a reliable transport most of a room's players
// acknowledge the same tick, and a game whose viewers all see everything
// (Arena) returns one world slice for all of them. So the room encodes the
// Snapshot without last_input_seq once per distinct (base tick, base world,
// world) in a tick and gives each viewer the shared bytes behind its own
// last_input_seq. Protobuf readers accept fields in any order, so the frame
// decodes to the same ServerMessage as encoding each viewer's Snapshot.
//
// Worlds are told apart by identity (the same backing array and length),
// never by content: a game that builds a world per viewer (interest
// management) gets per-viewer bytes, since its worlds are distinct slices.
// A game must not change a world slice after returning it from Snapshot,
// which History already relies on.

// Field numbers of the frame's parts: ServerMessage.snapshot (2, bytes)
// and Snapshot.last_input_seq (3, varint).
const (
	serverMessageSnapshot protowire.Number = 2
	snapshotLastInputSeq  protowire.Number = 3
)

// encoded is one shared snapshot body of the current tick.
type encoded struct {
	baseTick    uint32
	base, world []game.Entity
	body        []byte // Snapshot without last_input_seq
}

// snapshotEncoder holds the tick's shared bodies. It is owned by the room
// goroutine.
type snapshotEncoder struct {
	tick    uint32
	bodies  []encoded
	scratch skirmishv1.Snapshot // reused to build each body
}

// sameSlice reports whether a and b are the same slice: same backing array
// and length (two empty slices are the same).
func sameSlice(a, b []game.Entity) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// body returns the encoded Snapshot (without last_input_seq) of world at
// tick as a delta against base, the world of baseTick, or full when
// baseTick is 0, encoding it unless a viewer already needed it this tick;
// shared reports that one did. The bytes are shared: never modify them.
func (e *snapshotEncoder) body(tick, baseTick uint32, base, world []game.Entity) (b []byte, shared bool, err error) {
	if e.tick != tick {
		e.tick = tick
		clear(e.bodies) // drop the old worlds and bytes for the GC
		e.bodies = e.bodies[:0]
	}
	for i := range e.bodies {
		c := &e.bodies[i]
		if c.baseTick == baseTick && sameSlice(c.world, world) && (baseTick == 0 || sameSlice(c.base, base)) {
			return c.body, true, nil
		}
	}
	s := &e.scratch
	s.Tick, s.BaseTick, s.LastInputSeq = tick, baseTick, 0
	if baseTick == 0 {
		snapshot.Full(s, world)
	} else {
		snapshot.Delta(s, base, world)
	}
	b, err = s.MarshalVT()
	if err != nil {
		return nil, false, err
	}
	e.bodies = append(e.bodies, encoded{baseTick: baseTick, base: base, world: world, body: b})
	return b, false, nil
}

// appendFrame appends a ServerMessage{snapshot} frame to b: body with the
// viewer's last_input_seq in front of it.
func appendFrame(b, body []byte, lastInputSeq uint32) []byte {
	n := len(body)
	if lastInputSeq != 0 {
		n += protowire.SizeTag(snapshotLastInputSeq) + protowire.SizeVarint(uint64(lastInputSeq))
	}
	b = slices.Grow(b, protowire.SizeTag(serverMessageSnapshot)+protowire.SizeVarint(uint64(n))+n)
	b = protowire.AppendTag(b, serverMessageSnapshot, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	if lastInputSeq != 0 {
		b = protowire.AppendTag(b, snapshotLastInputSeq, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(lastInputSeq))
	}
	return append(b, body...)
}
