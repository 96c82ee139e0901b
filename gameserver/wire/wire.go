// Package wire decodes what players send a gameserver: one protobuf
// ClientMessage per WebSocket frame or WebTransport message. Every
// transport decodes with it, so the checks are the same everywhere.
package wire

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Limits on one client message.
const (
	// MaxFrame is the largest client frame accepted, in bytes.
	MaxFrame = 4096
	// MaxInputs is the most inputs one Inputs message may carry.
	MaxInputs = 32
	// MaxCustomInput is the largest custom (non-Arena) input, in bytes.
	MaxCustomInput = 256
	// MaxToken is the longest join token accepted, in bytes.
	MaxToken = 2048
)

// ErrBadMessage wraps every reason a frame is rejected.
var ErrBadMessage = errors.New("bad message")

// ErrTooLarge is returned for frames over MaxFrame.
var ErrTooLarge = errors.New("frame too large")

// DecodeClient decodes and checks one client frame.
func DecodeClient(b []byte) (*skirmishv1.ClientMessage, error) {
	if len(b) > MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxFrame)
	}
	var m skirmishv1.ClientMessage
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	switch v := m.Msg.(type) {
	case nil:
		return nil, fmt.Errorf("%w: empty message", ErrBadMessage)
	case *skirmishv1.ClientMessage_Join:
		if v.Join.Token == "" || len(v.Join.Token) > MaxToken {
			return nil, fmt.Errorf("%w: join token of %d bytes", ErrBadMessage, len(v.Join.Token))
		}
	case *skirmishv1.ClientMessage_Inputs:
		if len(v.Inputs.Inputs) > MaxInputs {
			return nil, fmt.Errorf("%w: %d inputs in one message, at most %d", ErrBadMessage, len(v.Inputs.Inputs), MaxInputs)
		}
		for _, in := range v.Inputs.Inputs {
			if in == nil || in.Seq == 0 {
				return nil, fmt.Errorf("%w: input without a sequence number", ErrBadMessage)
			}
			if len(in.GetCustom()) > MaxCustomInput {
				return nil, fmt.Errorf("%w: custom input of %d bytes", ErrBadMessage, len(in.GetCustom()))
			}
		}
	}
	return &m, nil
}
