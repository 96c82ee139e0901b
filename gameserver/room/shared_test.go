package room

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

func world(xs ...int32) []game.Entity {
	w := make([]game.Entity, len(xs))
	for i, x := range xs {
		w[i] = game.Entity{ID: uint32(i + 1), Kind: 1, Fields: []int32{x, -x, 7}}
	}
	return w
}

// want is the frame the room sent before bodies were shared: the viewer's
// whole Snapshot encoded on its own.
func want(tick, baseTick, seq uint32, base, cur []game.Entity) *skirmishv1.ServerMessage {
	s := &skirmishv1.Snapshot{}
	if baseTick == 0 {
		snapshot.Full(s, cur)
	} else {
		snapshot.Delta(s, base, cur)
		s.BaseTick = baseTick
	}
	s.Tick, s.LastInputSeq = tick, seq
	return &skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}
}

// TestSharedSnapshotFrames: viewers that see the same world and
// acknowledged the same base share one encoding, and every viewer's frame
// decodes to exactly the ServerMessage its own encoding gives, with its
// own last_input_seq; distinct worlds (per-viewer visible sets) or bases
// are never shared.
func TestSharedSnapshotFrames(t *testing.T) {
	base10, base11 := world(1, 2, 3), world(1, 2, 4)
	cur := world(1, 5, 4, 9)
	own := world(1, 5, 4, 9) // same content, built for one viewer
	var e snapshotEncoder
	for _, tc := range []struct {
		name       string
		tick, bt   uint32
		base, w    []game.Entity
		seq        uint32
		wantShared bool
	}{
		{"first delta", 12, 10, base10, cur, 3, false},
		{"same base and world", 12, 10, base10, cur, 0, true},
		{"same again, large seq", 12, 10, base10, cur, 1 << 30, true},
		{"other base tick", 12, 11, base11, cur, 4, false},
		{"same world, base of the same tick but another slice", 12, 10, world(1, 2, 3), cur, 4, false},
		{"per-viewer world", 12, 10, base10, own, 5, false},
		{"full", 12, 0, nil, cur, 6, false},
		{"full again", 12, 0, nil, cur, 7, true},
		{"full of another world", 12, 0, nil, own, 7, false},
		{"next tick starts afresh", 13, 10, base10, cur, 8, false},
	} {
		body, shared, err := e.body(tc.tick, tc.bt, tc.base, tc.w)
		if err != nil {
			t.Fatalf("%s: body: %v", tc.name, err)
		}
		if shared != tc.wantShared {
			t.Errorf("%s: shared = %v, want %v", tc.name, shared, tc.wantShared)
		}
		var got skirmishv1.ServerMessage
		if err := got.UnmarshalVT(frame(body, tc.seq)); err != nil {
			t.Fatalf("%s: decode frame: %v", tc.name, err)
		}
		if w := want(tc.tick, tc.bt, tc.seq, tc.base, tc.w); !proto.Equal(&got, w) {
			t.Errorf("%s: frame decodes to %v, want %v", tc.name, &got, w)
		}
		// The standard decoder reads it the same way.
		var std skirmishv1.ServerMessage
		if err := proto.Unmarshal(frame(body, tc.seq), &std); err != nil || !proto.Equal(&std, &got) {
			t.Errorf("%s: proto.Unmarshal = %v, %v; want %v", tc.name, &std, err, &got)
		}
	}
}

// FuzzSharedSnapshotFrame: for any worlds and last input, the shared frame
// decodes to the viewer's own encoding.
func FuzzSharedSnapshotFrame(f *testing.F) {
	f.Add(uint32(5), uint32(4), uint32(9), int32(3), int32(-8), true)
	f.Fuzz(func(t *testing.T, tick, baseTick, seq uint32, a, b int32, delta bool) {
		if !delta {
			baseTick = 0
		}
		base, cur := world(a, b), world(b, a, a+b)
		var e snapshotEncoder
		body, _, err := e.body(tick, baseTick, base, cur)
		if err != nil {
			t.Fatal(err)
		}
		var got skirmishv1.ServerMessage
		if err := got.UnmarshalVT(frame(body, seq)); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if w := want(tick, baseTick, seq, base, cur); !proto.Equal(&got, w) {
			t.Fatalf("frame decodes to %v, want %v", &got, w)
		}
	})
}

// frame returns a new snapshot frame (appendFrame).
func frame(body []byte, lastInputSeq uint32) []byte {
	return appendFrame(nil, body, lastInputSeq)
}
