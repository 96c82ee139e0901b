package liarsdice

import (
	"errors"
	"fmt"
)

// Move is one player's turn: a bid, or a call of liar.
type Move struct {
	Call     bool
	Quantity int // a bid's quantity, from 1
	Face     int // a bid's face, 1 to 6
}

// Move operations, the first byte of an encoded move.
const (
	opBid  = 1
	opCall = 2
)

// ErrBadMove wraps every reason DecodeMove refuses a payload.
var ErrBadMove = errors.New("bad move")

// EncodeMove is the Input.custom payload of m: 3 bytes, op (1 bid,
// 2 call), quantity, face (0 and 0 for a call).
func EncodeMove(m Move) []byte {
	if m.Call {
		return []byte{opCall, 0, 0}
	}
	return []byte{opBid, byte(m.Quantity), byte(m.Face)}
}

// DecodeMove decodes an Input.custom payload from a player. It checks
// the shape (3 bytes, a known op, a quantity of 1 to 48 and a face of 1
// to 6 for a bid); whether the move is allowed now is the match's to say.
func DecodeMove(b []byte) (Move, error) {
	if len(b) != 3 {
		return Move{}, fmt.Errorf("%w: %d bytes, want 3", ErrBadMove, len(b))
	}
	switch b[0] {
	case opCall:
		return Move{Call: true}, nil
	case opBid:
		q, f := int(b[1]), int(b[2])
		if q < 1 || q > MaxPlayers*MaxDice {
			return Move{}, fmt.Errorf("%w: quantity %d, want 1 to %d", ErrBadMove, q, MaxPlayers*MaxDice)
		}
		if f < 1 || f > 6 {
			return Move{}, fmt.Errorf("%w: face %d, want 1 to 6", ErrBadMove, f)
		}
		return Move{Quantity: q, Face: f}, nil
	default:
		return Move{}, fmt.Errorf("%w: op %d, want 1 (bid) or 2 (call)", ErrBadMove, b[0])
	}
}

// Higher reports whether bid a beats bid b (b.Quantity 0: no bid yet).
func Higher(a, b Move) bool {
	return a.Quantity > b.Quantity || a.Quantity == b.Quantity && a.Face > b.Face
}
