package skirmish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

const (
	defaultCallTimeout = 5 * time.Second
	// historySize is how many recent worlds the client keeps as possible
	// bases for delta snapshots.
	historySize = 32
	maxFrame    = 1 << 20
	// ackAlone: when no input went out for this long, snapshots are acked
	// by SnapshotAck messages rather than inside inputs.
	ackAlone = 100 * time.Millisecond
)

// JoinOptions tune a connection to a gameserver. The zero value works.
type JoinOptions struct {
	// Dialer dials the WebSocket; nil means websocket.DefaultDialer. Its
	// settings all apply, but the SDK dials with a copy whose
	// NetDialContext (and NetDialTLSContext, when set) wraps the
	// connection the Dialer's own dial function (or net.Dialer) returns,
	// so that the write deadline moves only when it changes.
	Dialer *websocket.Dialer
	// Header is sent with the WebSocket handshake.
	Header http.Header
	// OnSnapshot, if set, is called from the connection's reader goroutine
	// (over WebTransport, the one that received the datagram; see Game)
	// for every world applied, with the frame's size in bytes.
	OnSnapshot func(w *World, bytes int)
	// OnInputApplied, if set, is called for every input when a snapshot
	// first shows that the server applied it (its seq is at most the
	// snapshot's LastInputSeq), with the time since it was sent.
	OnInputApplied func(seq uint32, latency time.Duration)
	// OnPong, if set, is called for every pong with the round-trip time.
	OnPong func(rtt time.Duration)
	// OnRoster, if set, is called from the connection's reader goroutine
	// with the whole roster each time it changes after the Welcome (see
	// Game.Roster).
	OnRoster func(roster []*skirmishv1.RosterEntry)
	// OnEvent, if set, is called from the reader goroutine for every game
	// event, in the order the game emitted them (see events.go).
	OnEvent func(ev *skirmishv1.GameEvent)
	// LastEventSeq is the seq of the newest game event the player holds
	// from an earlier connection to this match (Game.Rejoin sets it): the
	// server sends again the events after it that it still holds.
	LastEventSeq uint64
	// OnRefused, if set, is called for every refusal of inputs that
	// leaves the connection open (Refusal reports which errors are), e.g.
	// ERROR_CODE_INPUT_QUEUE_FULL in a turn-based mode.
	OnRefused func(err *ServerError)
	// Transport picks how to connect: TransportWebSocket (the default) or
	// TransportWebTransport (see webtransport.go).
	Transport Transport
	// WebTransport tunes WebTransport connections.
	WebTransport WebTransportOptions
	// NoAcks stops acknowledging snapshots, so the server sends every
	// snapshot full: for measuring what delta encoding saves.
	NoAcks bool
	// InputsPerMessage, above 1, sends inputs that many to a message: the
	// server reads fewer messages (it still applies one input per tick),
	// and each input but the last of a message waits for the others. 0 or
	// 1 sends every input at once.
	InputsPerMessage int
	// Refresh, when set, gets a new join token for the assignment: Rejoin
	// calls it once when the gameserver refuses the token (it expired, as
	// it does after a few minutes) and joins with the new one.
	// Matchmaker.RefreshJoinToken fits.
	Refresh func(ctx context.Context, a *skirmishv1.Assignment) (*skirmishv1.Assignment, error)
}

// Game is a player's connection to the room of a match. It reads snapshots
// on its own goroutine, which Close stops. Over WebTransport, datagrams are
// handled on the goroutine that receives them; either way the JoinOptions
// callbacks are called one at a time, never after Done is closed.
type Game struct {
	assignment *skirmishv1.Assignment
	conn       link
	welcome    *skirmishv1.Welcome
	opts       JoinOptions

	writeMu sync.Mutex
	seq     uint32              // guarded by writeMu
	unsent  []*skirmishv1.Input // guarded by writeMu: inputs waiting for a message
	// Guarded by writeMu, reused for every input message: the message,
	// SendArena's input when it is sent at once, and the encoding.
	inputs *skirmishv1.ClientMessage
	arena  *skirmishv1.Input
	wbuf   []byte

	// readMu serialises the handling of received messages (Game.receive),
	// which a link with datagrams does on a goroutine of its own.
	readMu   sync.Mutex
	dec      decoder // guarded by readMu
	readDone bool    // guarded by readMu: readLoop ended
	badFrame bool    // guarded by readMu: a message failed to decode

	mu sync.Mutex
	// world is the newest world applied, stored under mu and read
	// without it (by World and by every input, for its ack).
	world   atomic.Pointer[World]
	history [historySize]*World
	sent    sendTimes
	outcome *skirmishv1.MatchOutcome
	roster  []*skirmishv1.RosterEntry
	err     error
	closed  bool // Close was called

	eventSeq  atomic.Uint64 // newest GameEvent.seq received
	bytesIn   atomic.Int64
	snapshots atomic.Int64
	// lastInput is when an input (carrying the ack) was last sent, in
	// UnixNano; snapshots get an ack message of their own only when none
	// was sent for ackAlone.
	lastInput atomic.Int64

	done      chan struct{}
	closeOnce sync.Once
}

// Join connects to the gameserver of an assignment and joins its room. It
// returns once the server welcomed the player.
func Join(ctx context.Context, a *skirmishv1.Assignment, opts JoinOptions) (*Game, error) {
	var conn link
	var err error
	switch opts.Transport {
	case TransportWebSocket:
		conn, err = dialWebSocket(ctx, a, opts)
	case TransportWebTransport:
		conn, err = dialWebTransport(ctx, a, opts)
	default:
		err = fmt.Errorf("unknown transport %q", opts.Transport)
	}
	if err != nil {
		return nil, err
	}
	g := newGame(a, conn, opts)
	g.eventSeq.Store(opts.LastEventSeq)
	welcome, err := g.handshake(ctx, a.GetJoinToken())
	if err != nil {
		conn.Close()
		return nil, err
	}
	g.welcome = welcome
	g.roster = welcome.GetRoster()
	go g.readLoop()
	return g, nil
}

func newGame(a *skirmishv1.Assignment, conn link, opts JoinOptions) *Game {
	return &Game{
		assignment: a, conn: conn, opts: opts, done: make(chan struct{}),
		inputs: &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{}}},
		arena:  &skirmishv1.Input{Game: &skirmishv1.Input_Arena{Arena: &skirmishv1.ArenaInput{}}},
	}
}

func (g *Game) handshake(ctx context.Context, token string) (*skirmishv1.Welcome, error) {
	join := &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: token, LastEventSeq: g.opts.LastEventSeq}}}
	if err := g.write(join); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultCallTimeout)
	}
	g.conn.SetReadDeadline(deadline)
	defer g.conn.SetReadDeadline(time.Time{})
	for {
		b, err := g.conn.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
		msg, err := decodeServer(b)
		if err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
		switch m := msg.Msg.(type) {
		case *skirmishv1.ServerMessage_Welcome:
			return m.Welcome, nil
		case *skirmishv1.ServerMessage_Error:
			return nil, &ServerError{Code: m.Error.GetCode(), Message: m.Error.GetMessage()}
		}
		// Anything else before the welcome is ignored.
	}
}

// ServerError is an error the gameserver reported.
type ServerError struct {
	Code    skirmishv1.ErrorCode
	Message string
}

func (e *ServerError) Error() string { return fmt.Sprintf("server: %s: %s", e.Code, e.Message) }

// Welcome is the server's answer to the join.
func (g *Game) Welcome() *skirmishv1.Welcome { return g.welcome }

// World is the newest world applied, or nil before the first snapshot.
func (g *Game) World() *World { return g.world.Load() }

// Outcome is the match outcome once the match ended, else nil.
func (g *Game) Outcome() *skirmishv1.MatchOutcome {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.outcome
}

// Done is closed when the connection ends: after the match end, an error,
// or Close.
func (g *Game) Done() <-chan struct{} { return g.done }

// Err is why the connection ended: nil after a match end or Close.
func (g *Game) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// BytesReceived and Snapshots count what the connection received.
func (g *Game) BytesReceived() int64 { return g.bytesIn.Load() }

// Snapshots counts the snapshots received.
func (g *Game) Snapshots() int64 { return g.snapshots.Load() }

// SendArena sends one Arena input and returns its sequence number. A send
// that fails because the server closed the connection returns once Done is
// closed, so a caller that checks Done after an error sees the match end.
func (g *Game) SendArena(moveX, moveY, aim float32, fire bool) (uint32, error) {
	g.writeMu.Lock()
	in := g.arena
	if g.opts.InputsPerMessage > 1 {
		// The input waits for others: it cannot be reused.
		in = &skirmishv1.Input{Game: &skirmishv1.Input_Arena{Arena: &skirmishv1.ArenaInput{}}}
	}
	a := in.Game.(*skirmishv1.Input_Arena).Arena
	a.MoveX, a.MoveY, a.Aim, a.Fire = moveX, moveY, aim, fire
	seq, err := g.sendInputLocked(in)
	g.writeMu.Unlock()
	return seq, g.afterSend(err)
}

// SendInput stamps in with the next sequence number and sends it (see
// JoinOptions.InputsPerMessage). Like SendArena, a send that fails because
// the server closed the connection returns once Done is closed.
func (g *Game) SendInput(in *skirmishv1.Input) (uint32, error) {
	g.writeMu.Lock()
	seq, err := g.sendInputLocked(in)
	g.writeMu.Unlock()
	return seq, g.afterSend(err)
}

// afterSend ends a public send that failed with err. Once the server
// closes the connection, gorilla answers its close frame on the reading
// goroutine, and writes fail (websocket.ErrCloseSent) a moment before that
// goroutine closes Done; the send waits for it, which is at once, unless
// Close was called (the caller's own close, maybe from a callback on the
// reading goroutine, which must not wait for itself).
func (g *Game) afterSend(err error) error {
	if errors.Is(err, websocket.ErrCloseSent) {
		g.mu.Lock()
		closed := g.closed
		g.mu.Unlock()
		if !closed {
			<-g.done
		}
	}
	return err
}

func (g *Game) sendInputLocked(in *skirmishv1.Input) (uint32, error) {
	g.seq++
	in.Seq = g.seq
	var ack uint32
	now := time.Now()
	if g.opts.OnInputApplied != nil {
		g.mu.Lock()
		g.sent.put(in.Seq, now)
		g.mu.Unlock()
	}
	if w := g.world.Load(); w != nil && !g.opts.NoAcks {
		ack = w.Tick // the newest world held: deltas may build on it
	}
	g.unsent = append(g.unsent, in)
	if len(g.unsent) < g.opts.InputsPerMessage {
		return in.Seq, nil
	}
	msg := g.inputs.Msg.(*skirmishv1.ClientMessage_Inputs).Inputs
	msg.Inputs, msg.AckTick = g.unsent, ack
	err := g.writeLocked(g.inputs, now)
	clear(g.unsent) // the caller's inputs are not kept
	g.unsent, msg.Inputs = g.unsent[:0], nil
	if err != nil {
		return 0, fmt.Errorf("send input: %w", err)
	}
	g.lastInput.Store(now.UnixNano())
	return in.Seq, nil
}

// Ping sends a ping; JoinOptions.OnPong gets the round-trip time.
func (g *Game) Ping() error {
	now := time.Now()
	return g.afterSend(g.writeUnreliable(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ping{Ping: &skirmishv1.Ping{ClientTimeUs: now.UnixMicro()}}}, now))
}

// Leave gives up the seat for good and closes the connection.
func (g *Game) Leave() error {
	err := g.write(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})
	g.Close()
	return err
}

// Close closes the connection and waits for the reader to stop. The seat
// stays reserved on the server for its reconnection grace period.
func (g *Game) Close() error {
	var err error
	g.closeOnce.Do(func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		g.writeMu.Lock()
		g.conn.CloseGracefully()
		g.writeMu.Unlock()
		err = g.conn.Close()
	})
	<-g.done
	return err
}

func (g *Game) write(msg *skirmishv1.ClientMessage) error {
	g.writeMu.Lock()
	defer g.writeMu.Unlock()
	return g.writeLocked(msg, time.Now())
}

// writeUnreliable sends msg as a datagram where the transport has them
// (acks and pings: a lost one is replaced by the next).
func (g *Game) writeUnreliable(msg *skirmishv1.ClientMessage, now time.Time) error {
	g.writeMu.Lock()
	defer g.writeMu.Unlock()
	b, err := g.encode(msg)
	if err != nil {
		return err
	}
	return g.conn.WriteDatagram(b, now)
}

// writeLocked sends msg; now is the time, which callers have at hand.
func (g *Game) writeLocked(msg *skirmishv1.ClientMessage, now time.Time) error {
	b, err := g.encode(msg)
	if err != nil {
		return err
	}
	return g.conn.WriteMessage(b, now)
}

// encode encodes msg into g.wbuf, which the next call reuses: links copy
// what they send. The caller holds writeMu.
func (g *Game) encode(msg *skirmishv1.ClientMessage) ([]byte, error) {
	n := msg.SizeVT()
	if cap(g.wbuf) < n {
		g.wbuf = make([]byte, max(n, 2*cap(g.wbuf)))
	}
	b := g.wbuf[:n]
	if _, err := msg.MarshalToSizedBufferVT(b); err != nil {
		return nil, err
	}
	return b, nil
}

// datagramPusher is a link that hands each datagram to the Game on the
// goroutine that received it, rather than through ReadMessage: one
// goroutine wake-up less per snapshot.
type datagramPusher interface {
	// pushDatagrams makes the link call receive for every datagram from
	// now on; an error from it ends the link (ReadMessage returns it).
	pushDatagrams(receive func(b []byte) error)
}

func (g *Game) readLoop() {
	defer close(g.done)
	if p, ok := g.conn.(datagramPusher); ok {
		p.pushDatagrams(g.receive)
	}
	for {
		b, err := g.conn.ReadMessage()
		if err == nil {
			err = g.receive(b)
		}
		if err == nil {
			continue
		}
		g.readMu.Lock()
		g.readDone = true
		bad := g.badFrame
		g.readMu.Unlock()
		g.finish(err)
		if bad {
			g.conn.Close()
		}
		return
	}
}

// receive handles one message from the server. It returns an error only
// for one it cannot decode, which ends the connection.
func (g *Game) receive(b []byte) error {
	g.readMu.Lock()
	defer g.readMu.Unlock()
	if g.readDone {
		return nil // a datagram after the end
	}
	g.bytesIn.Add(int64(len(b)))
	snap, msg, err := g.dec.decode(b)
	if err != nil {
		g.badFrame = true
		return err
	}
	if snap != nil {
		g.onSnapshot(snap, len(b))
		return nil
	}
	switch m := msg.Msg.(type) {
	case *skirmishv1.ServerMessage_MatchEnd:
		g.mu.Lock()
		g.outcome = m.MatchEnd.GetOutcome()
		g.mu.Unlock()
	case *skirmishv1.ServerMessage_Error:
		se := &ServerError{Code: m.Error.GetCode(), Message: m.Error.GetMessage()}
		if Refusal(se.Code) {
			if g.opts.OnRefused != nil {
				g.opts.OnRefused(se)
			}
			return nil
		}
		g.finish(se)
	case *skirmishv1.ServerMessage_Event:
		g.onEvent(m.Event)
	case *skirmishv1.ServerMessage_Pong:
		if g.opts.OnPong != nil {
			g.opts.OnPong(time.Since(time.UnixMicro(m.Pong.GetClientTimeUs())))
		}
	case *skirmishv1.ServerMessage_Roster:
		g.setRoster(m.Roster.GetPlayers())
	}
	return nil
}

func (g *Game) onSnapshot(s *skirmishv1.Snapshot, size int) {
	g.snapshots.Add(1)
	g.mu.Lock()
	base := g.history[s.GetBaseTick()%historySize]
	w, err := Apply(base, s)
	if err != nil {
		// A delta against a world we no longer hold: wait for a full one,
		// which the server sends when our acks stop advancing.
		g.mu.Unlock()
		return
	}
	if old := g.history[w.Tick%historySize]; old == nil || old.Tick <= w.Tick {
		g.history[w.Tick%historySize] = w
	}
	if cur := g.world.Load(); cur != nil && w.Tick <= cur.Tick {
		// A datagram that arrived late: it may serve as a delta base, but
		// the world does not go back in time.
		g.mu.Unlock()
		return
	}
	g.world.Store(w)
	var now time.Time
	if g.opts.OnInputApplied != nil || !g.opts.NoAcks {
		now = time.Now()
	}
	var buf [4]appliedInput
	applied := buf[:0]
	if g.opts.OnInputApplied != nil {
		// Every input up to LastInputSeq was applied by this tick, not
		// only the newest: measuring the newest alone drops the inputs
		// that waited longest.
		applied = g.sent.applied(w.LastInputSeq, now, applied)
	}
	g.mu.Unlock()

	// Acknowledge so the server deltas against this world from now on:
	// the next input carries the ack; a client that sends no inputs
	// acknowledges with a message of its own.
	if !g.opts.NoAcks && now.Sub(time.Unix(0, g.lastInput.Load())) > ackAlone {
		_ = g.writeUnreliable(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: w.Tick}}}, now)
	}
	if g.opts.OnSnapshot != nil {
		g.opts.OnSnapshot(w, size)
	}
	for _, a := range applied {
		g.opts.OnInputApplied(a.seq, a.latency)
	}
}

// sendTimes remembers when the most recent inputs were sent, so that
// their latency can be reported when a snapshot shows them applied.
type sendTimes struct {
	epoch  time.Time
	at     [256]time.Duration // since epoch, by seq modulo its size; 0: none
	next   uint32             // lowest seq not yet reported, 0 before any
	newest uint32
}

type appliedInput struct {
	seq     uint32
	latency time.Duration
}

func (t *sendTimes) put(seq uint32, now time.Time) {
	if t.epoch.IsZero() {
		t.epoch = now.Add(-time.Nanosecond)
	}
	n := uint32(len(t.at))
	t.at[seq%n] = now.Sub(t.epoch)
	t.newest = seq
	if t.next == 0 {
		t.next = seq
	}
	if seq-t.next >= n {
		t.next = seq - n + 1 // older ones were overwritten
	}
}

// applied appends every input up to seq not yet reported to out.
func (t *sendTimes) applied(seq uint32, now time.Time, out []appliedInput) []appliedInput {
	for ; t.next != 0 && t.next <= min(seq, t.newest); t.next++ {
		i := t.next % uint32(len(t.at))
		if t.at[i] != 0 {
			out = append(out, appliedInput{t.next, now.Sub(t.epoch) - t.at[i]})
			t.at[i] = 0
		}
	}
	return out
}

// finish records why the connection ended; a close after the match end or
// a normal closure is not an error.
func (g *Game) finish(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return
	}
	var se *ServerError
	if errors.As(err, &se) {
		g.err = err
		return
	}
	if g.outcome != nil || g.conn.NormalClose(err) || errors.Is(err, net.ErrClosed) {
		return
	}
	g.err = err
}

func decodeServer(b []byte) (*skirmishv1.ServerMessage, error) {
	var msg skirmishv1.ServerMessage
	if err := msg.UnmarshalVT(b); err != nil {
		return nil, fmt.Errorf("decode server message: %w", err)
	}
	return &msg, nil
}
