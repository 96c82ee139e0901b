package wire

import (
	"errors"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Reject is a client message the server refuses, with what to tell the
// player. Every transport answers it the same way: an Error message, then a
// close with the code.
type Reject struct {
	Code skirmishv1.ErrorCode
	Text string
}

func (r *Reject) Error() string { return r.Code.String() + ": " + r.Text }

// Frame is the encoded ServerMessage that tells the player.
func (r *Reject) Frame() []byte {
	b, _ := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Error{Error: &skirmishv1.Error{Code: r.Code, Message: r.Text}}}).MarshalVT()
	return b
}

// Decode is DecodeClient for transports: a frame the server refuses comes
// back as a *Reject.
func Decode(b []byte) (*skirmishv1.ClientMessage, error) {
	m, err := DecodeClient(b)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, TooLarge()
	case err != nil:
		return nil, &Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, Text: err.Error()}
	}
	return m, nil
}

// TooLarge is the Reject for a frame over MaxFrame.
func TooLarge() *Reject {
	return &Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_TOO_LARGE, Text: "frame larger than 4096 bytes"}
}
