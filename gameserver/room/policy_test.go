package room

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func inputs(seqs ...uint32) []*skirmishv1.Input {
	out := make([]*skirmishv1.Input, len(seqs))
	for i, q := range seqs {
		out[i] = &skirmishv1.Input{Seq: q, Game: &skirmishv1.Input_Custom{Custom: []byte{byte(q)}}}
	}
	return out
}

func withPayload(in *skirmishv1.Input, n int) *skirmishv1.Input {
	in.Game = &skirmishv1.Input_Custom{Custom: make([]byte, n)}
	return in
}

// refusals decodes the Error frames queued for a session.
func refusals(t *testing.T, s *Session) []*skirmishv1.Error {
	t.Helper()
	b, err := s.out.take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.out.done()
	var out []*skirmishv1.Error
	for _, f := range b.frames {
		var m skirmishv1.ServerMessage
		if err := m.UnmarshalVT(f); err != nil {
			t.Fatal(err)
		}
		if e := m.GetError(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// TestQueueInputs: each policy's bound and refusals, message by message.
func TestQueueInputs(t *testing.T) {
	ordered := game.InputPolicy{Kind: game.Ordered, MaxQueued: 4, MaxPayloadBytes: 8}
	latest := game.InputPolicy{Kind: game.LatestWins, MaxQueued: 4, MaxPayloadBytes: 8}
	tests := []struct {
		name     string
		policy   game.InputPolicy
		messages [][]*skirmishv1.Input
		queued   []uint32
		errors   []string // "CODE: seq list" of each Error, in order
	}{
		{"ordered keeps all within the bound", ordered, [][]*skirmishv1.Input{inputs(1, 2), inputs(3, 4)}, []uint32{1, 2, 3, 4}, nil},
		{"ordered refuses beyond the bound", ordered, [][]*skirmishv1.Input{inputs(1, 2, 3), inputs(4, 5, 6)}, []uint32{1, 2, 3, 4},
			[]string{"ERROR_CODE_INPUT_QUEUE_FULL: seq 5 6"}},
		{"ordered refuses a whole message when full", ordered, [][]*skirmishv1.Input{inputs(1, 2, 3, 4), inputs(5)}, []uint32{1, 2, 3, 4},
			[]string{"ERROR_CODE_INPUT_QUEUE_FULL: seq 5"}},
		{"ordered refuses a payload too large", ordered, [][]*skirmishv1.Input{{withPayload(&skirmishv1.Input{Seq: 1}, 9), withPayload(&skirmishv1.Input{Seq: 2}, 8)}},
			[]uint32{2}, []string{"ERROR_CODE_INPUT_TOO_LARGE: seq 1"}},
		{"latest-wins drops the oldest beyond the bound, silently", latest, [][]*skirmishv1.Input{inputs(1, 2, 3), inputs(4, 5, 6)}, []uint32{3, 4, 5, 6}, nil},
		{"latest-wins refuses a payload too large", latest, [][]*skirmishv1.Input{{withPayload(&skirmishv1.Input{Seq: 1}, 9)}, inputs(2)},
			[]uint32{2}, []string{"ERROR_CODE_INPUT_TOO_LARGE: seq 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Session{room: &Room{mode: game.Mode{Input: tt.policy}, metrics: newMetrics(nil)}, out: newOutbound()}
			for _, msg := range tt.messages {
				s.queueInputs(msg)
			}
			var queued []uint32
			for _, in := range s.takeInputs() {
				queued = append(queued, in.Seq)
			}
			if !slices.Equal(queued, tt.queued) {
				t.Errorf("queued %v, want %v", queued, tt.queued)
			}
			var got []string
			if len(tt.errors) > 0 {
				for _, e := range refusals(t, s) {
					_, seqs, _ := strings.Cut(e.Message, ": seq ")
					got = append(got, e.Code.String()+": seq "+seqs)
				}
			}
			if !slices.Equal(got, tt.errors) {
				t.Errorf("errors %q, want %q", got, tt.errors)
			}
		})
	}
}

// turnGame records every input it is given, on a channel the test reads.
type turnGame struct {
	secretGame
	applied chan uint32
}

func (g *turnGame) Input(_ string, in *skirmishv1.Input) { g.applied <- in.Seq }

func newPolicyManager(t *testing.T, cfg Config, modes ...game.Mode) *Manager {
	t.Helper()
	reg, err := game.NewRegistry(modes...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DrainTimeout = time.Millisecond
	m, err := NewManager(cfg, reg, memSink{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return m
}

func nextError(t *testing.T, tr *chanTransport) *skirmishv1.Error {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m := <-tr.frames:
			if e := m.GetError(); e != nil {
				return e
			}
		case <-timeout:
			t.Fatalf("no error within %v", wait)
		}
	}
}

// TestOrderedInputsThroughRoom: in an ordered mode every accepted input
// reaches the game in sequence order, several in one tick, however they
// were grouped and ordered in messages; what is refused (over the bound,
// over the rate limit) is told to the player and never applied; the
// connection stays open.
func TestOrderedInputsThroughRoom(t *testing.T) {
	applied := make(chan uint32, 256)
	m := newPolicyManager(t, Config{InputRate: 0.001, InputBurst: 2}, game.Mode{
		Name: "turns", TickRate: 30, Input: game.InputPolicy{Kind: game.Ordered, MaxQueued: 3},
		New: func(c game.Config) (game.Game, error) {
			return &turnGame{secretGame: secretGame{seats: c.Seats}, applied: applied}, nil
		},
	})
	r, err := m.Create("m-ordered", "turns", []game.Seat{{PlayerID: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransport(false)
	s := attach(t, m, r.ID(), "a", tr)
	if w := s.Welcome(); w.InputPolicy != skirmishv1.InputPolicy_INPUT_POLICY_ORDERED || w.MaxQueuedInputs != 3 || w.MaxInputPayload != game.DefaultMaxPayloadBytes {
		t.Errorf("welcome policy = %v, %d queued, %d bytes; want ORDERED, 3, %d", w.InputPolicy, w.MaxQueuedInputs, w.MaxInputPayload, game.DefaultMaxPayloadBytes)
	}
	send := func(seqs ...uint32) {
		t.Helper()
		if err := s.Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{Inputs: inputs(seqs...)}}}); err != nil {
			t.Fatal(err)
		}
	}
	send(3, 1, 2, 4) // 4 is over the bound of 3 waiting
	if e := nextError(t, tr); e.Code != skirmishv1.ErrorCode_ERROR_CODE_INPUT_QUEUE_FULL || !strings.HasSuffix(e.Message, "seq 4") {
		t.Errorf("error = %v %q, want INPUT_QUEUE_FULL naming seq 4", e.Code, e.Message)
	}
	var got []uint32
	for len(got) < 3 {
		select {
		case q := <-applied:
			got = append(got, q)
		case <-time.After(wait):
			t.Fatalf("applied %v, want 3 inputs", got)
		}
	}
	if !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Errorf("applied %v, want [1 2 3]", got)
	}
	send(5)
	send(6) // the burst of 2 messages is spent: refused
	if e := nextError(t, tr); e.Code != skirmishv1.ErrorCode_ERROR_CODE_INPUT_RATE_LIMITED || !strings.HasSuffix(e.Message, "seq 6") {
		t.Errorf("error = %v %q, want INPUT_RATE_LIMITED naming seq 6", e.Code, e.Message)
	}
	select {
	case q := <-applied:
		if q != 5 {
			t.Errorf("applied %d, want 5", q)
		}
	case <-time.After(wait):
		t.Fatal("input 5 was not applied")
	}
	// Let a few more ticks pass: 4 and 6 never arrive.
	nextSnapshot(t, tr)
	nextSnapshot(t, tr)
	select {
	case q := <-applied:
		t.Errorf("refused input %d was applied", q)
	default:
	}
}
