package skirmish

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func TestApplyFullThenDelta(t *testing.T) {
	full := &skirmishv1.Snapshot{Tick: 10, Entities: []*skirmishv1.Entity{
		{Id: 1, Kind: 1, Mask: 0b111, Values: []int32{100, 200, 5}},
		{Id: 2, Kind: 2, Mask: 0b11, Values: []int32{7, 8}},
		{Id: 3, Kind: 3, Mask: 0b1, Values: []int32{9}},
	}}
	w1, err := Apply(nil, full)
	if err != nil {
		t.Fatal(err)
	}
	delta := &skirmishv1.Snapshot{Tick: 11, BaseTick: 10, LastInputSeq: 4,
		Entities: []*skirmishv1.Entity{
			{Id: 1, Mask: 0b010, Values: []int32{250}},       // changed: only field 1
			{Id: 4, Kind: 2, Mask: 0b10, Values: []int32{3}}, // added: field 0 is 0
		},
		Removed: []uint32{2},
	}
	w2, err := Apply(w1, delta)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id         uint32
		wantKind   uint32
		wantFields []int32
	}{
		{1, 1, []int32{100, 250, 5}},
		{3, 3, []int32{9}},
		{4, 2, []int32{0, 3}},
	}
	for _, tt := range tests {
		e, ok := w2.Entities[tt.id]
		if !ok {
			t.Fatalf("entity %d missing after delta", tt.id)
		}
		if e.Kind != tt.wantKind || !slices.Equal(e.Fields, tt.wantFields) {
			t.Errorf("entity %d = kind %d %v, want kind %d %v", tt.id, e.Kind, e.Fields, tt.wantKind, tt.wantFields)
		}
	}
	if _, ok := w2.Entities[2]; ok {
		t.Error("entity 2 still present after removal")
	}
	if w2.LastInputSeq != 4 || w2.Tick != 11 {
		t.Errorf("world = tick %d seq %d, want 11 4", w2.Tick, w2.LastInputSeq)
	}
	if got := w1.Entities[1].Fields[1]; got != 200 {
		t.Errorf("base world changed: field = %d, want 200", got)
	}
}

func TestApplyErrors(t *testing.T) {
	base := &World{Tick: 5, Entities: map[uint32]Entity{}}
	tests := []struct {
		name string
		base *World
		s    *skirmishv1.Snapshot
	}{
		{"delta without base", nil, &skirmishv1.Snapshot{Tick: 6, BaseTick: 5}},
		{"delta against other tick", base, &skirmishv1.Snapshot{Tick: 6, BaseTick: 4}},
		{"mask and values disagree", nil, &skirmishv1.Snapshot{Tick: 6, Entities: []*skirmishv1.Entity{{Id: 1, Mask: 0b11, Values: []int32{1}}}}},
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
	seed, _ := proto.Marshal(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: &skirmishv1.Snapshot{
		Tick: 2, BaseTick: 1, Entities: []*skirmishv1.Entity{{Id: 1, Mask: 1 << 63, Values: []int32{-1}}}, Removed: []uint32{9},
	}}})
	f.Add(seed)
	f.Add([]byte{0x12, 0x02, 0x08, 0x01})
	base := &World{Tick: 1, Entities: map[uint32]Entity{1: {ID: 1, Kind: 1, Fields: []int32{1, 2}}}}
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
