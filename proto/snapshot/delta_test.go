package snapshot

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func ent(id, kind uint32, f ...int32) Entity { return Entity{ID: id, Kind: kind, Fields: f} }

func TestDeltaRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		base, cur   []Entity
		wantSent    int
		wantRemoved []uint32
	}{
		{"unchanged costs nothing", []Entity{ent(1, 1, 5, 6), ent(2, 2, 7)}, []Entity{ent(1, 1, 5, 6), ent(2, 2, 7)}, 0, nil},
		{"one field changed", []Entity{ent(1, 1, 5, 6, 7)}, []Entity{ent(1, 1, 5, 9, 7)}, 1, nil},
		{"added and removed", []Entity{ent(1, 1, 5), ent(3, 2, 1)}, []Entity{ent(1, 1, 5), ent(2, 2, 4), ent(4, 2, 8)}, 2, []uint32{3}},
		{"kind changed", []Entity{ent(1, 1, 5, 6)}, []Entity{ent(1, 2, 5, 6)}, 1, nil},
		{"all removed", []Entity{ent(1, 1, 5), ent(2, 1, 6)}, nil, 0, []uint32{1, 2}},
		{"from empty", nil, []Entity{ent(7, 1, -5, 0, 1<<30)}, 1, nil},
		{"differences wrap like int32", []Entity{ent(1, 1, -1<<31, 1<<31-1)}, []Entity{ent(1, 1, 1<<31-1, -1<<31)}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s skirmishv1.Snapshot
			Delta(&s, tt.base, tt.cur)
			s.BaseTick = 1
			if len(s.Ids) != tt.wantSent {
				t.Errorf("Delta sent %d entities, want %d", len(s.Ids), tt.wantSent)
			}
			if !reflect.DeepEqual(s.Removed, tt.wantRemoved) && len(s.Removed)+len(tt.wantRemoved) > 0 {
				t.Errorf("Delta removed %v, want %v", s.Removed, tt.wantRemoved)
			}
			// Through the wire and back.
			b, err := proto.Marshal(&s)
			if err != nil {
				t.Fatal(err)
			}
			var got skirmishv1.Snapshot
			if err := proto.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			world, err := Apply(tt.base, &got)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if len(world)+len(tt.cur) > 0 && !reflect.DeepEqual(world, tt.cur) {
				t.Errorf("Apply(base, Delta) = %v, want %v", world, tt.cur)
			}
		})
	}
}

func TestFullReplacesWorld(t *testing.T) {
	cur := []Entity{ent(1, 1, 1, 2), ent(5, 3, 9)}
	var s skirmishv1.Snapshot
	Full(&s, cur)
	world, err := Apply([]Entity{ent(2, 1, 0)}, &s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(world, cur) {
		t.Errorf("Apply(Full) = %v, want %v", world, cur)
	}
}

func TestHistory(t *testing.T) {
	var h History
	w := []Entity{ent(1, 1, 1)}
	h.Put(5, w)
	if _, ok := h.Get(5); !ok {
		t.Errorf("Get(5) after Put(5) = false, want true")
	}
	h.Put(5+HistoryLen, nil)
	if _, ok := h.Get(5); ok {
		t.Errorf("Get(5) after the ring wrapped = true, want false")
	}
	if _, ok := h.Get(0); ok {
		t.Errorf("Get(0) = true, want false")
	}
}

func entityEqual(a, b Entity) bool {
	return a.ID == b.ID && a.Kind == b.Kind && slices.Equal(a.Fields, b.Fields)
}

func FuzzApply(f *testing.F) {
	var s skirmishv1.Snapshot
	Delta(&s, []Entity{ent(1, 1, 5, 6)}, []Entity{ent(1, 1, 5, 7), ent(2, 2, 1)})
	s.BaseTick = 3
	b, _ := proto.Marshal(&s)
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x32, 0x01, 0x01, 0x3a, 0x01, 0x00, 0x42, 0x01, 0x03, 0x4a, 0x02, 0x02, 0x04})
	base := []Entity{ent(1, 1, 5, 6), ent(3, 2, 1, 2, 3)}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s skirmishv1.Snapshot
		if err := proto.Unmarshal(b, &s); err != nil {
			return
		}
		world, err := Apply(base, &s)
		if want, wantErr := applyBefore(base, &s); fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(world, want) {
			t.Fatalf("Apply(base, %v) = %v, %v; applyBefore gives %v, %v", &s, world, err, want, wantErr)
		}
		if !slices.EqualFunc(base, []Entity{ent(1, 1, 5, 6), ent(3, 2, 1, 2, 3)}, entityEqual) {
			t.Fatalf("Apply changed its base: %v", base)
		}
		if err != nil {
			return
		}
		for i := 1; i < len(world); i++ {
			if world[i-1].ID >= world[i].ID {
				t.Fatalf("Apply returned ids out of order: %v", world)
			}
		}
	})
}
