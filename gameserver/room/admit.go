package room

import (
	"context"
	"errors"

	"github.com/skirmishgg/skirmish/gameserver/wire"
	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Admit checks the first message of a connection, which must be a Join
// with a valid join token, and attaches the player to the seat the token
// grants. readErr is the transport's error reading that message: a
// *wire.Reject for a frame it refused, anything else for no message.
// Every refusal is a *wire.Reject saying what to tell the player.
func (m *Manager) Admit(ctx context.Context, keys *auth.Keys, first *skirmishv1.ClientMessage, readErr error) (*Session, *wire.Reject) {
	var rej *wire.Reject
	if errors.As(readErr, &rej) {
		return nil, rej
	}
	if readErr != nil {
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, Text: "no Join message"}
	}
	j := first.GetJoin()
	if j == nil {
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, Text: "the first message must be Join"}
	}
	claims, err := keys.VerifyJoin(j.GetToken())
	if err != nil {
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_UNAUTHENTICATED, Text: "invalid join token"}
	}
	sess, err := m.AttachAfter(ctx, claims.RoomID, claims.PlayerID, j.GetLastEventSeq())
	switch {
	case errors.Is(err, ErrRoomNotFound):
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_ROOM_NOT_FOUND, Text: "no such room here, or it has ended"}
	case errors.Is(err, ErrNotSeated):
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_NOT_SEATED, Text: "no seat for this player in the room"}
	case err != nil:
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN, Text: "join interrupted"}
	}
	return sess, nil
}
