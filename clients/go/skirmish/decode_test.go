package skirmish

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// decoderFrames are server messages the decoder must read as the generated
// decoder does: what the server sends, and the wire's other spellings.
func decoderFrames(t testing.TB) map[string][]byte {
	snap := func(s *skirmishv1.Snapshot) []byte {
		b, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}).MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var full, delta skirmishv1.Snapshot
	w1 := []snapshot.Entity{ent(1, 1, 100, 200, 5), ent(2, 2, 7, 8), ent(3, 3, 9)}
	w2 := []snapshot.Entity{ent(1, 1, -100, 1<<31-1, 5), ent(3, 4, 9, 1), ent(4, 2, 0, -1<<31)}
	snapshot.Full(&full, w1)
	full.Tick, full.LastInputSeq = 7, 3
	snapshot.Delta(&delta, w1, w2)
	delta.Tick, delta.BaseTick, delta.LastInputSeq = 8, 7, 1<<32-1

	// Lists unpacked, one element per field, with an unknown field and
	// the reserved field 4 between them.
	var unpacked []byte
	unpacked = protowire.AppendTag(unpacked, 1, protowire.VarintType)
	unpacked = protowire.AppendVarint(unpacked, 9)
	unpacked = protowire.AppendTag(unpacked, 6, protowire.VarintType)
	unpacked = protowire.AppendVarint(unpacked, 5)
	unpacked = protowire.AppendTag(unpacked, 4, protowire.BytesType)
	unpacked = protowire.AppendBytes(unpacked, []byte("old"))
	unpacked = protowire.AppendTag(unpacked, 8, protowire.VarintType)
	unpacked = protowire.AppendVarint(unpacked, 1<<63|3)
	unpacked = protowire.AppendTag(unpacked, 9, protowire.VarintType)
	unpacked = protowire.AppendVarint(unpacked, protowire.EncodeZigZag(-7))
	unpacked = protowire.AppendTag(unpacked, 42, protowire.Fixed32Type)
	unpacked = protowire.AppendFixed32(unpacked, 1)
	unpacked = protowire.AppendTag(unpacked, 6, protowire.BytesType)
	unpacked = protowire.AppendBytes(unpacked, protowire.AppendVarint(nil, 6))
	unpacked = protowire.AppendTag(unpacked, 9, protowire.VarintType)
	unpacked = protowire.AppendVarint(unpacked, 1<<40|protowire.EncodeZigZag(8)) // bits past 32 are dropped
	wrap := func(s []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), s)
	}
	full2 := snap(&full)
	pong, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Pong{Pong: &skirmishv1.Pong{ClientTimeUs: 5}}}).MarshalVT()
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"full":               snap(&full),
		"delta":              snap(&delta),
		"empty":              snap(&skirmishv1.Snapshot{}),
		"unpacked":           wrap(unpacked),
		"two snapshots":      append(slices.Clip(snap(&full)), snap(&delta)...), // merged
		"snapshot then pong": append(slices.Clip(full2), pong...),
		"pong":               pong,
		"truncated":          full2[:len(full2)-1],
		"bad wire type":      wrap(protowire.AppendFixed32(protowire.AppendTag(nil, 1, protowire.Fixed32Type), 3)),
		"bad list":           wrap(append(protowire.AppendTag(nil, 6, protowire.BytesType), 2, 0x80)),
		"empty message":      nil,
	}
}

// TestDecoderReadsAsGenerated checks that the decoder returns what the
// generated decoder returns, the same error included, also when its reused
// snapshot held an earlier one.
func TestDecoderReadsAsGenerated(t *testing.T) {
	frames := decoderFrames(t)
	var d decoder
	for _, prev := range []string{"full", "unpacked"} {
		for name, b := range frames {
			t.Run(prev+"/"+name, func(t *testing.T) {
				if _, _, err := d.decode(frames[prev]); err != nil {
					t.Fatal(err)
				}
				checkDecode(t, &d, b)
			})
		}
	}
}

func FuzzDecoder(f *testing.F) {
	for _, b := range decoderFrames(f) {
		f.Add(b)
	}
	var d decoder
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, &d, b) })
}

func checkDecode(t *testing.T, d *decoder, b []byte) {
	t.Helper()
	want, werr := decodeServer(b)
	snap, msg, err := d.decode(b)
	if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
		t.Fatalf("decode(%x) error = %v, want %v", b, err, werr)
	}
	if werr != nil {
		return
	}
	ws, isSnap := want.Msg.(*skirmishv1.ServerMessage_Snapshot)
	if !isSnap {
		if snap != nil || msg == nil || !proto.Equal(msg, want) {
			t.Fatalf("decode(%x) = %v, %v, want message %v", b, snap, msg, want)
		}
		return
	}
	w := ws.Snapshot
	if snap == nil || msg != nil {
		t.Fatalf("decode(%x) = %v, %v, want snapshot %v", b, snap, msg, w)
	}
	if snap.Tick != w.Tick || snap.BaseTick != w.BaseTick || snap.LastInputSeq != w.LastInputSeq ||
		!slices.Equal(snap.Removed, w.Removed) || !slices.Equal(snap.Ids, w.Ids) || !slices.Equal(snap.Kinds, w.Kinds) ||
		!slices.Equal(snap.Masks, w.Masks) || !slices.Equal(snap.Values, w.Values) {
		t.Fatalf("decode(%x) = snapshot %v, want %v", b, snap, w)
	}
}
