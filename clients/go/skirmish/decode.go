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
// anything unusual, which the generated decoder then handles.
func (d *decoder) snapshot(b []byte) error {
	s := &d.snap
	s.Tick, s.BaseTick, s.LastInputSeq = 0, 0, 0
	s.Removed, s.Ids, s.Kinds, s.Masks, s.Values = s.Removed[:0], s.Ids[:0], s.Kinds[:0], s.Masks[:0], s.Values[:0]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errSlowPath
		}
		b = b[n:]
		switch {
		case num >= 1 && num <= 3 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return errSlowPath
			}
			b = b[n:]
			switch num {
			case 1:
				s.Tick = uint32(v)
			case 2:
				s.BaseTick = uint32(v)
			case 3:
				s.LastInputSeq = uint32(v)
			}
		case num >= 5 && num <= 9 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return errSlowPath
			}
			b = b[n:]
			appendListed(s, num, v)
		case num >= 5 && num <= 9 && typ == protowire.BytesType:
			list, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return errSlowPath
			}
			b = b[n:]
			for len(list) > 0 {
				v, n := protowire.ConsumeVarint(list)
				if n < 0 {
					return errSlowPath
				}
				list = list[n:]
				appendListed(s, num, v)
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
	return nil
}

// appendListed appends v to the list of field num (5 to 9), converted as
// the generated decoder converts it.
func appendListed(s *skirmishv1.Snapshot, num protowire.Number, v uint64) {
	switch num {
	case 5:
		s.Removed = append(s.Removed, uint32(v))
	case 6:
		s.Ids = append(s.Ids, uint32(v))
	case 7:
		s.Kinds = append(s.Kinds, uint32(v))
	case 8:
		s.Masks = append(s.Masks, v)
	case 9:
		// sint32: zigzag over the low 32 bits.
		u := uint32(v)
		s.Values = append(s.Values, int32(u>>1)^-int32(u&1))
	}
}
