package wire

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func enc(t testing.TB, m *skirmishv1.ClientMessage) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inputs(n int, seq uint32) *skirmishv1.ClientMessage {
	in := &skirmishv1.Inputs{}
	for i := 0; i < n; i++ {
		in.Inputs = append(in.Inputs, &skirmishv1.Input{Seq: seq + uint32(i), Game: &skirmishv1.Input_Arena{Arena: &skirmishv1.ArenaInput{MoveX: 1, Fire: true}}})
	}
	return &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: in}}
}

func TestDecodeClient(t *testing.T) {
	join := &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: "t"}}}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"join", enc(t, join), nil},
		{"inputs", enc(t, inputs(3, 1)), nil},
		{"too large", make([]byte, MaxFrame+1), ErrTooLarge},
		{"garbage", []byte{0xff, 0xff, 0xff}, ErrBadMessage},
		{"empty", nil, ErrBadMessage},
		{"empty token", enc(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{}}}), ErrBadMessage},
		{"long token", enc(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: strings.Repeat("x", MaxToken+1)}}}), ErrBadMessage},
		{"too many inputs", enc(t, inputs(MaxInputs+1, 1)), ErrBadMessage},
		{"seq zero", enc(t, inputs(1, 0)), ErrBadMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeClient(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("DecodeClient(%s) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

func FuzzDecodeClient(f *testing.F) {
	f.Add(enc(f, inputs(2, 7)))
	f.Add(enc(f, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: 9}}}))
	f.Add(enc(f, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: "abc"}}}))
	f.Add([]byte{0x0a})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeClient(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("DecodeClient error %v wraps neither ErrBadMessage nor ErrTooLarge", err)
			}
			return
		}
		if m.Msg == nil {
			t.Fatalf("DecodeClient accepted a message with nothing in it")
		}
	})
}

// BenchmarkDecodeClient decodes the frame every player sends every tick:
// one Arena input carrying a snapshot ack.
func BenchmarkDecodeClient(b *testing.B) {
	m := inputs(1, 12345)
	m.GetInputs().AckTick = 54321
	frame := enc(b, m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeClient(frame); err != nil {
			b.Fatal(err)
		}
	}
}
