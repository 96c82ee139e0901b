package skirmish

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

func ent(id, kind uint32, f ...int32) snapshot.Entity {
	return snapshot.Entity{ID: id, Kind: kind, Fields: f}
}

// TestApplyFollowsServer encodes worlds with the gameserver's encoder, sends
// them through the wire form, and checks the SDK rebuilds each world.
func TestApplyFollowsServer(t *testing.T) {
	worlds := [][]snapshot.Entity{
		{ent(1, 1, 100, 200, 5), ent(2, 2, 7, 8), ent(3, 3, 9)},
		{ent(1, 1, 100, 250, 5), ent(3, 3, 9), ent(4, 2, 0, 3)},     // changed, removed, added
		{ent(1, 1, -100, 250, 5), ent(3, 4, 9, 1), ent(4, 2, 0, 3)}, // kind and width change
		{ent(1, 1, 1<<31-1, -1<<31, 5), ent(3, 4, 9, 1)},            // differences that wrap
		{ent(1, 1, 1<<31-1, -1<<31, 5), ent(3, 4, 9, 1)},            // nothing changed
	}
	var prev *World
	var prevEnts []snapshot.Entity
	for i, cur := range worlds {
		var s skirmishv1.Snapshot
		if i == 0 {
			snapshot.Full(&s, cur)
		} else {
			snapshot.Delta(&s, prevEnts, cur)
			s.BaseTick = uint32(i)
		}
		s.Tick = uint32(i + 1)
		b, err := proto.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		var got skirmishv1.Snapshot
		if err := proto.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		w, err := Apply(prev, &got)
		if err != nil {
			t.Fatalf("Apply(world %d): %v", i, err)
		}
		if len(w.Entities) != len(cur) {
			t.Fatalf("world %d has %d entities, want %d", i, len(w.Entities), len(cur))
		}
		for _, e := range cur {
			g, _ := w.Entity(e.ID)
			if g.Kind != e.Kind || !slices.Equal(g.Fields, e.Fields) {
				t.Errorf("world %d entity %d = kind %d %v, want kind %d %v", i, e.ID, g.Kind, g.Fields, e.Kind, e.Fields)
			}
		}
		if i == len(worlds)-1 && len(got.GetIds()) != 0 {
			t.Errorf("unchanged world listed %d entities, want 0", len(got.GetIds()))
		}
		prev, prevEnts = w, cur
	}
	if got := worlds[0][0].Fields[1]; got != 200 {
		t.Errorf("encoder changed its input: field = %d, want 200", got)
	}
}

func TestApplyErrors(t *testing.T) {
	base := &World{Tick: 5, Entities: []Entity{{ID: 1, Kind: 1, Fields: []int32{1}}}}
	tests := []struct {
		name string
		base *World
		s    *skirmishv1.Snapshot
	}{
		{"delta without base", nil, &skirmishv1.Snapshot{Tick: 6, BaseTick: 5}},
		{"delta against other tick", base, &skirmishv1.Snapshot{Tick: 6, BaseTick: 4}},
		{"mask and values disagree", nil, &skirmishv1.Snapshot{Tick: 6, Ids: []uint32{1}, Kinds: []uint32{1}, Masks: []uint64{0b11}, Values: []int32{1}}},
		{"arrays of different lengths", nil, &skirmishv1.Snapshot{Tick: 6, Ids: []uint32{1}, Masks: []uint64{1}, Values: []int32{1}}},
		{"change to an unknown entity", base, &skirmishv1.Snapshot{Tick: 6, BaseTick: 5, Ids: []uint32{2}, Kinds: []uint32{0}, Masks: []uint64{1}, Values: []int32{1}}},
		{"change to a missing field", base, &skirmishv1.Snapshot{Tick: 6, BaseTick: 5, Ids: []uint32{1}, Kinds: []uint32{0}, Masks: []uint64{0b10}, Values: []int32{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Apply(tt.base, tt.s); err == nil {
				t.Errorf("Apply(%s) = nil error, want one", tt.name)
			}
		})
	}
	if _, err := Apply(nil, &skirmishv1.Snapshot{Tick: 6, BaseTick: 5}); !errors.Is(err, ErrUnknownBase) {
		t.Errorf("Apply without base = %v, want ErrUnknownBase", err)
	}
}

// FuzzApply feeds arbitrary server bytes through decoding and delta
// application: it must never panic.
func FuzzApply(f *testing.F) {
	var s skirmishv1.Snapshot
	snapshot.Delta(&s, []snapshot.Entity{ent(1, 1, 1, 2)}, []snapshot.Entity{ent(1, 1, 1, 3), ent(4, 2, 7)})
	s.Tick, s.BaseTick, s.Removed = 2, 1, []uint32{9}
	seed, _ := proto.Marshal(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: &s}})
	f.Add(seed)
	f.Add([]byte{0x12, 0x02, 0x08, 0x01})
	base := &World{Tick: 1, Entities: []Entity{{ID: 1, Kind: 1, Fields: []int32{1, 2}}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := decodeServer(b)
		if err != nil {
			return
		}
		if s := msg.GetSnapshot(); s != nil {
			_, _ = Apply(base, s)
		}
	})
}

// BenchmarkApply applies what a bot receives every tick in an 8-player
// Arena match: a delta where every player moved and turned, against a
// world of 8 players and 16 projectiles.
func BenchmarkApply(b *testing.B) {
	var prev, cur []snapshot.Entity
	for i := uint32(1); i <= 24; i++ {
		kind := uint32(1)
		if i > 8 {
			kind = 2
		}
		prev = append(prev, ent(i, kind, int32(i*100), int32(i*50), 3, 100, 1))
		cur = append(cur, ent(i, kind, int32(i*100), int32(i*50), 3, 100, 1))
		if i <= 8 {
			cur[len(cur)-1].Fields = []int32{int32(i*100 + 25), int32(i*50 - 12), 4, 100, 1}
		}
	}
	var s skirmishv1.Snapshot
	snapshot.Delta(&s, prev, cur)
	s.Tick, s.BaseTick = 2, 1
	frame, err := proto.Marshal(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: &s}})
	if err != nil {
		b.Fatal(err)
	}
	base := &World{Tick: 1, Entities: prev}
	b.ReportAllocs()
	for b.Loop() {
		msg, err := decodeServer(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Apply(base, msg.GetSnapshot()); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWorldEntity(t *testing.T) {
	w := &World{Entities: []Entity{ent(2, 1, 7), ent(3, 1, 8), ent(9, 2), ent(1<<32-1, 3, 1)}}
	for _, tt := range []struct {
		id     uint32
		want   uint32 // the kind found, 0 for none
		inside *World
	}{
		{0, 0, w}, {1, 0, w}, {2, 1, w}, {3, 1, w}, {4, 0, w}, {9, 2, w}, {10, 0, w},
		{1<<32 - 2, 0, w}, {1<<32 - 1, 3, w}, {2, 0, &World{}},
	} {
		e, ok := tt.inside.Entity(tt.id)
		if ok != (tt.want != 0) || e.Kind != tt.want || (ok && e.ID != tt.id) {
			t.Errorf("Entity(%d) = %v, %t, want kind %d", tt.id, e, ok, tt.want)
		}
	}
}

func TestEntityField(t *testing.T) {
	e := ent(1, 1, 5, -6)
	for i, want := range map[int]int32{-1: 0, 0: 5, 1: -6, 2: 0, -1 << 62: 0} {
		if got := e.Field(i); got != want {
			t.Errorf("Field(%d) = %d, want %d", i, got, want)
		}
	}
}
