package skirmish

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// decoder decodes the server's messages for one reader. Snapshots, which
// arrive every tick, are decoded into one Snapshot whose lists keep their
// storage from tick to tick, so that reading a snapshot allocates nothing;
// any other message is decoded whole by decodeServer.
type decoder struct {
	snap skirmishv1.Snapshot
}

// decode returns the snapshot b holds, valid until the next call, or else
// the message b holds.
func (d *decoder) decode(b []byte) (*skirmishv1.Snapshot, *skirmishv1.ServerMessage, error) {
	if s, ok := snapshotBytes(b); ok && d.snapshot(s) == nil {
		return &d.snap, nil, nil
	}
	// Anything else, and whatever the fast path did not take (a malformed
	// snapshot among them, so that its error is the generated decoder's).
	msg, err := decodeServer(b)
	if err != nil {
		return nil, nil, err
	}
	if s, ok := msg.Msg.(*skirmishv1.ServerMessage_Snapshot); ok {
		return s.Snapshot, nil, nil
	}
	return nil, msg, nil
}

// snapshotBytes returns the encoded Snapshot of a ServerMessage that holds
// a snapshot and nothing else, as the server sends them.
func snapshotBytes(b []byte) ([]byte, bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != 2 || typ != protowire.BytesType {
		return nil, false
	}
	s, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	return s, true
}

var errSlowPath = errors.New("snapshot for the generated decoder")

// snapshot decodes b into d.snap as Snapshot.UnmarshalVT decodes it into
// an empty Snapshot, except that the lists reuse their storage and unknown
// fields are dropped (nothing reads them). It gives up with an error on
// anything unusual, which the generated decoder then handles. The lists
// are decoded into locals, one list at a time, a one-byte varint (most
// ids, masks and values) without a call.
func (d *decoder) snapshot(b []byte) error {
	s := &d.snap
	var tick, baseTick, lastInput uint32
	removed, ids, kinds, masks, values := s.Removed[:0], s.Ids[:0], s.Kinds[:0], s.Masks[:0], s.Values[:0]
	for len(b) > 0 {
		var num protowire.Number
		var typ protowire.Type
		if c := b[0]; c < 0x80 {
			// Every field of Snapshot has a one-byte tag.
			num, typ = protowire.Number(c>>3), protowire.Type(c&7)
			b = b[1:]
		} else {
			var n int
			if num, typ, n = protowire.ConsumeTag(b); n < 0 {
				return errSlowPath
			}
			b = b[n:]
		}
		switch {
		case num >= 1 && num <= 3 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return errSlowPath
			}
			b = b[n:]
			switch num {
			case 1:
				tick = uint32(v)
			case 2:
				baseTick = uint32(v)
			case 3:
				lastInput = uint32(v)
			}
		case num >= 5 && num <= 9 && (typ == protowire.VarintType || typ == protowire.BytesType):
			// One value, or a packed list of them.
			var list []byte
			var n int
			if typ == protowire.BytesType {
				list, n = protowire.ConsumeBytes(b)
			} else if _, n = protowire.ConsumeVarint(b); n >= 0 {
				list = b[:n]
			}
			if n < 0 {
				return errSlowPath
			}
			b = b[n:]
			ok := false
			switch num {
			case 5:
				removed, ok = appendVarints(removed, list)
			case 6:
				ids, ok = appendVarints(ids, list)
			case 7:
				kinds, ok = appendVarints(kinds, list)
			case 8:
				masks, ok = appendVarints(masks, list)
			case 9:
				values, ok = appendSint32s(values, list)
			}
			if !ok {
				return errSlowPath
			}
		case num == 4 || num > 9:
			// Unknown (4 is reserved): skipped.
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return errSlowPath
			}
			b = b[n:]
		default:
			return errSlowPath
		}
	}
	s.Tick, s.BaseTick, s.LastInputSeq = tick, baseTick, lastInput
	s.Removed, s.Ids, s.Kinds, s.Masks, s.Values = removed, ids, kinds, masks, values
	return nil
}

// appendVarints appends the varints of list to dst, each cut to T (a
// uint32 keeps its low 32 bits, as the generated decoder cuts one). It
// reports false for a malformed list.
func appendVarints[T uint32 | uint64](dst []T, list []byte) ([]T, bool) {
	for len(list) > 0 {
		if c := list[0]; c < 0x80 {
			dst = append(dst, T(c))
			list = list[1:]
			continue
		}
		v, n := protowire.ConsumeVarint(list)
		if n < 0 {
			return dst, false
		}
		dst = append(dst, T(v))
		list = list[n:]
	}
	return dst, true
}

// appendSint32s is appendVarints for a sint32 list: zigzag over the low
// 32 bits.
func appendSint32s(dst []int32, list []byte) ([]int32, bool) {
	for len(list) > 0 {
		var u uint32
		if c := list[0]; c < 0x80 {
			u = uint32(c)
			list = list[1:]
		} else {
			v, n := protowire.ConsumeVarint(list)
			if n < 0 {
				return dst, false
			}
			u = uint32(v)
			list = list[n:]
		}
		dst = append(dst, int32(u>>1)^-int32(u&1))
	}
	return dst, true
}
