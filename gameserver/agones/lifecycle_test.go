package agones_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/gameserver/agones"
	"github.com/skirmishgg/skirmish/gameserver/agones/agonestest"
	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/outbox"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// wait bounds every wait on the stand-in: generous, as an outcome's fsync on a
// machine shared with other work has taken seconds.
const wait = 20 * time.Second

// lever steers the test game from the test: Stall makes Tick block until
// Release, End makes the next Tick end the match.
type lever struct {
	mu    sync.Mutex
	stall chan struct{}
	end   map[string]bool // by match id
}

func (l *lever) Stall() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stall == nil {
		l.stall = make(chan struct{})
	}
}

func (l *lever) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stall != nil {
		close(l.stall)
		l.stall = nil
	}
}

func (l *lever) End(matchID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end[matchID] = true
}

type leverGame struct {
	l       *lever
	matchID string
}

func (g *leverGame) Join(string) (uint32, uint32)    { return 1, 1 }
func (g *leverGame) Leave(string)                    {}
func (g *leverGame) Input(string, *skirmishv1.Input) {}
func (g *leverGame) Snapshot(string) []game.Entity   { return nil }
func (g *leverGame) Outcome() game.Outcome           { return game.Outcome{} }
func (g *leverGame) Tick() bool {
	g.l.mu.Lock()
	stall, end := g.l.stall, g.l.end[g.matchID]
	g.l.mu.Unlock()
	if stall != nil {
		<-stall
	}
	return end
}

// gatedQueue is the real SQLite queue behind a gate the test opens and
// closes: closed, Send fails as SQS does when it is unreachable.
type gatedQueue struct {
	queue.Queue
	closed atomic.Bool
}

func (q *gatedQueue) Send(ctx context.Context, msgs []queue.Outgoing) error {
	if q.closed.Load() {
		return errors.New("queue unreachable (test gate closed)")
	}
	return q.Queue.Send(ctx, msgs)
}

// rig is a real gameserver with its real outbox, publisher and queue,
// run under the Driver against the stand-in sidecar, wired as
// `skirmish gameserver --agones` wires them.
type rig struct {
	t      *testing.T
	sc     *agonestest.Sidecar
	lever  *lever
	keys   *auth.Keys
	ob     *outbox.Outbox
	q      *gatedQueue
	srv    *gameserver.Server
	wsURL  string
	addr   string
	cancel context.CancelFunc // SIGTERM
	done   chan error
	logs   *logCounter
	reg    *prometheus.Registry // the driver's metrics
}

type rigOptions struct {
	sidecar agonestest.Config
	down    bool // the sidecar is down at start
}

func startRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, lever: &lever{end: map[string]bool{}}, done: make(chan error, 1), logs: &logCounter{}}
	// A sidecar down at start comes up after three attempts.
	var attempts atomic.Int32
	up := make(chan struct{})
	if o.down {
		hook := o.sidecar.OnCall
		o.sidecar.OnCall = func(call string) {
			if attempts.Add(1) == 3 {
				close(up)
			}
			if hook != nil {
				hook(call)
			}
		}
	}
	if o.sidecar.Period == 0 {
		o.sidecar.Period = 250 * time.Millisecond // Unhealthy after 0.75 s without a ping
	}
	r.sc = agonestest.Start(o.sidecar)
	t.Cleanup(r.sc.Close)
	if o.down {
		r.sc.SetDown(true)
	}
	text, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if r.keys, err = auth.ParseKey(text); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r.ob, err = outbox.Open(ctx, filepath.Join(t.TempDir(), "outbox.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.ob.Close() })
	lq, err := litequeue.Open(ctx, filepath.Join(t.TempDir(), "queue.db"), litequeue.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lq.Close() })
	r.q = &gatedQueue{Queue: lq}
	pub, err := outbox.NewPublisher(outbox.PublisherConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, r.ob, r.q, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(r.logs)
	drv, err := agones.New(agones.Config{
		// Far from a loaded machine's scheduling gaps: a false stall or a
		// missed health period would make these tests flaky.
		HealthInterval: 20 * time.Millisecond, StallAfter: time.Second, SyncInterval: 10 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, PublishTimeout: wait, Capacity: 100,
	}, agones.NewClient(r.sc.URL(), nil), log)
	if err != nil {
		t.Fatal(err)
	}
	r.reg = prometheus.NewRegistry()
	if err := drv.Register(r.reg); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	if o.down {
		go func() {
			select {
			case <-up:
				r.sc.SetDown(false)
			case <-runCtx.Done():
			}
		}()
	}
	pctx, pcancel := context.WithTimeout(runCtx, wait)
	defer pcancel()
	gs, err := drv.Public(pctx)
	if err != nil {
		t.Fatalf("Public: %v", err)
	}
	hp, err := gs.HostPort("ws")
	if err != nil {
		t.Fatal(err)
	}
	r.wsURL = "ws://" + hp + "/ws"

	mode := game.Mode{Name: "lever", MinPlayers: 1, TickRate: 50, New: func(c game.Config) (game.Game, error) {
		return &leverGame{l: r.lever, matchID: c.MatchID}, nil
	}}
	r.srv, err = gameserver.New(gameserver.Config{
		ID: "gs-agones", WebSocketURL: r.wsURL, Capacity: 100, Modes: []game.Mode{mode},
		Rooms: room.Config{DrainTimeout: 300 * time.Millisecond, JoinTimeout: wait},
	}, r.keys, r.ob, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	pubCtx, stopPub := context.WithCancel(ctx)
	pubDone := make(chan error, 1)
	go func() { pubDone <- pub.Run(pubCtx) }()
	go func() {
		err := drv.Run(runCtx, r.srv.Rooms(), r.ob, func(ctx context.Context) error { return r.srv.Run(ctx, ln, nil) })
		stopPub()
		r.done <- errors.Join(err, <-pubDone)
	}()
	t.Cleanup(func() {
		r.lever.Release()
		r.stop()
	})
	return r
}

// stop sends "SIGTERM" and waits for the driver to return.
func (r *rig) stop() error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
			return err
		}
		return nil
	case <-time.After(3 * wait):
		r.t.Fatal("the driver did not return after SIGTERM")
		return nil
	}
}

func (r *rig) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	r.t.Cleanup(cancel)
	return ctx
}

func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	if !r.sc.WaitFor(r.ctx(), cond) {
		var labels []string
		for _, c := range r.sc.Calls() {
			if c.Path == "/metadata/label" || c.Path == "/ready" || c.Path == "/allocate" {
				labels = append(labels, c.String()+" "+c.Body)
			}
		}
		rooms, seats, _ := r.srv.Rooms().Load()
		r.t.Fatalf("timed out waiting for %s (state %s, rooms %d, seats %d); state calls: %v\nlogs:\n%s", what, r.sc.State(), rooms, seats, labels, r.logs.dump())
	}
}

// startMatch creates a one-seat room and joins its player over a real
// WebSocket, so the room runs; the player reads until the connection ends.
func (r *rig) startMatch(matchID string) {
	r.t.Helper()
	rm, err := r.srv.Rooms().Create(matchID, "lever", []game.Seat{{PlayerID: "p-" + matchID, Name: "P", Team: 1}})
	if err != nil {
		r.t.Fatalf("Create(%s): %v", matchID, err)
	}
	tok, err := r.keys.IssueJoin(auth.Join{PlayerID: "p-" + matchID, MatchID: matchID, RoomID: rm.ID()}, time.Minute)
	if err != nil {
		r.t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+r.addr+"/ws", nil)
	if err != nil {
		r.t.Fatalf("dial: %v", err)
	}
	r.t.Cleanup(func() { ws.Close() })
	b, _ := proto.Marshal(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: tok}}})
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		r.t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(wait))
	_, data, err := ws.ReadMessage()
	if err != nil {
		r.t.Fatalf("join: %v", err)
	}
	var m skirmishv1.ServerMessage
	if err := proto.Unmarshal(data, &m); err != nil || m.GetWelcome() == nil {
		r.t.Fatalf("join answered %v (%v), want Welcome", &m, err)
	}
	ws.SetReadDeadline(time.Time{})
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

func (r *rig) counter(name string) int64 {
	n, _, _ := r.sc.Counter(name)
	return n
}

// stateCalls are the calls that change the state, in order.
func stateCalls(calls []agonestest.Call) []string {
	var out []string
	for _, c := range calls {
		switch c.Path {
		case "/ready", "/allocate", "/shutdown", "/reserve":
			out = append(out, c.String())
		}
	}
	return out
}

func index(calls []agonestest.Call, call string) int {
	return slices.IndexFunc(calls, func(c agonestest.Call) bool { return c.String() == call })
}

// TestLifecycle follows one gameserver through its Agones lifecycle
// against the stand-in sidecar: address first, health from the start,
// Ready, Allocated while it hosts a room and Ready again when empty, the
// counts in Counters; on SIGTERM a running match finishes by the drain
// deadline, and Shutdown comes only once the outbox is empty (the queue
// is unreachable for a while, so the test sees the wait).
func TestLifecycle(t *testing.T) {
	var (
		rp       atomic.Pointer[rig]
		mu       sync.Mutex
		atStop   = -1 // outbox pending when POST /shutdown arrived
		sigterm  atomic.Bool
		afterSig []string // state calls after SIGTERM
	)
	opts := rigOptions{sidecar: agonestest.Config{Counters: map[string]int64{"rooms": 10, "players": 10}}}
	opts.sidecar.OnCall = func(call string) {
		r := rp.Load()
		if r == nil {
			return
		}
		if sigterm.Load() && (call == "POST /ready" || call == "POST /allocate") {
			mu.Lock()
			afterSig = append(afterSig, call)
			mu.Unlock()
		}
		if call == "POST /shutdown" {
			n, err := r.ob.Pending(context.Background())
			if err != nil {
				t.Errorf("Pending: %v", err)
			}
			mu.Lock()
			atStop = n
			mu.Unlock()
		}
	}
	r := startRig(t, opts)
	rp.Store(r)
	if r.wsURL != "ws://203.0.113.7:7042/ws" {
		t.Errorf("advertised WebSocket URL = %q, want the GameServer's address and ws port", r.wsURL)
	}
	r.waitFor("Ready", func() bool { return r.sc.State() == agones.StateReady })
	if _, c, _ := r.sc.Counter("players"); c != 100 {
		t.Errorf("players counter capacity = %d, want the gameserver's capacity 100", c)
	}

	// A room: Allocated, counted.
	r.startMatch("m1")
	r.waitFor("Allocated with 1 room and 1 player", func() bool {
		return r.sc.State() == agones.StateAllocated && r.counter("rooms") == 1 && r.counter("players") == 1
	})
	// It ends: Ready again, counts back to 0, outcome published.
	r.lever.End("m1")
	r.waitFor("Ready again with no rooms", func() bool {
		return r.sc.State() == agones.StateReady && r.counter("rooms") == 0 && r.counter("players") == 0
	})

	r.waitFor("m1's outcome published", func() bool {
		n, err := r.ob.Pending(context.Background())
		return err == nil && n == 0
	})

	// A second match runs when SIGTERM comes, and the queue is down.
	r.q.closed.Store(true)
	r.startMatch("m2")
	r.waitFor("Allocated again", func() bool { return r.sc.State() == agones.StateAllocated })
	sigterm.Store(true)
	r.cancel()
	// The room drains (ended by the deadline); its outcome waits in the
	// outbox, and Shutdown must wait with it.
	r.waitFor("the drained room's outcome in the outbox", func() bool {
		rooms, _, _ := r.srv.Rooms().Load()
		n, _ := r.ob.Pending(context.Background())
		return rooms == 0 && n == 1
	})
	if i := index(r.sc.Calls(), "POST /shutdown"); i >= 0 {
		t.Fatalf("Shutdown sent with an outcome still in the outbox; calls: %v", r.sc.Calls())
	}
	r.q.closed.Store(false)
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	calls := r.sc.Calls()
	mu.Lock()
	defer mu.Unlock()
	if atStop != 0 {
		t.Errorf("outbox held %d outcomes when Shutdown was sent, want 0", atStop)
	}
	if len(afterSig) > 0 {
		t.Errorf("state calls after SIGTERM: %v, want none but Shutdown", afterSig)
	}
	if r.sc.State() != agones.StateShutdown {
		t.Errorf("final state %q, want Shutdown (never Unhealthy: health kept coming)", r.sc.State())
	}
	if calls[0].String() != "GET /gameserver" {
		t.Errorf("first call %v, want GET /gameserver", calls[0])
	}
	health, ready := index(calls, "POST /health"), index(calls, "POST /ready")
	if health < 0 || health > ready {
		t.Errorf("first health ping at %d, first Ready at %d: want pings from the start, before Ready", health, ready)
	}
	if cap := index(calls, "PATCH /v1beta1/counters/rooms"); cap < 0 || cap > ready {
		t.Errorf("counter capacity set at %d, Ready at %d: want capacities before Ready", cap, ready)
	}
	want := []string{"POST /ready", "POST /allocate", "POST /ready", "POST /allocate", "POST /shutdown"}
	if got := stateCalls(calls); !slices.Equal(got, want) {
		t.Errorf("state calls = %v, want %v", got, want)
	}
	// Both outcomes reached the queue.
	msgs, err := r.q.Receive(context.Background(), 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		var o skirmishv1.MatchOutcome
		if err := protojson.Unmarshal(m.Body, &o); err != nil {
			t.Fatalf("queued outcome: %v", err)
		}
		ids = append(ids, o.MatchId)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"m1", "m2"}) {
		t.Errorf("queue holds %v, want m1 and m2", ids)
	}
}

// TestStalledRoomStopsHealth: a room whose loop is stuck stops the health
// pings, and the stand-in (enforcing health as a cluster does) moves the
// GameServer to Unhealthy; health pings come while rooms tick.
func TestStalledRoomStopsHealth(t *testing.T) {
	r := startRig(t, rigOptions{sidecar: agonestest.Config{Counters: map[string]int64{"rooms": 10, "players": 10}}})
	r.startMatch("m1")
	r.waitFor("Allocated", func() bool { return r.sc.State() == agones.StateAllocated })
	before := r.sc.Pings()
	r.waitFor("more health pings while the room ticks", func() bool { return r.sc.Pings() > before+3 })

	r.lever.Stall()
	r.waitFor("Unhealthy", func() bool { return r.sc.State() == agones.StateUnhealthy })
	if v := gaugeValue(t, r.reg, "skirmish_gameserver_agones_stalled_rooms"); v != 1 {
		t.Errorf("skirmish_gameserver_agones_stalled_rooms = %v, want 1", v)
	}
	if n := r.logs.count("room loop stalled"); n != 1 {
		t.Errorf("stall logged %d times, want once", n)
	}
	r.lever.Release()
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.sc.State() != agones.StateUnhealthy {
		t.Errorf("state %q after Shutdown, want Unhealthy kept (no escaping in a cluster)", r.sc.State())
	}
}

// TestWatchedShutdownDrains: the GameServer turning Shutdown (deleted by
// an operator or the controller) drains the gameserver like SIGTERM.
func TestWatchedShutdownDrains(t *testing.T) {
	r := startRig(t, rigOptions{sidecar: agonestest.Config{Counters: map[string]int64{"rooms": 10, "players": 10}}})
	r.waitFor("Ready", func() bool { return r.sc.State() == agones.StateReady })
	r.startMatch("m1")
	r.waitFor("Allocated", func() bool { return r.sc.State() == agones.StateAllocated })
	r.sc.SetState(agones.StateShutdown)
	select {
	case err := <-r.done:
		close(r.done)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(3 * wait):
		t.Fatal("the gameserver did not drain after the GameServer turned Shutdown")
	}
	if !r.srv.Rooms().Draining() {
		t.Error("rooms not drained")
	}
	if n, _ := r.ob.Pending(context.Background()); n != 0 {
		t.Errorf("outbox holds %d outcomes after Run, want 0", n)
	}
	if got := stateCalls(r.sc.Calls()); got[len(got)-1] != "POST /shutdown" {
		t.Errorf("state calls %v, want Shutdown last", got)
	}
}

// TestSidecarDownAtStart: a sidecar that is not up yet is retried with
// backoff and logged once; the GameServer declaring no counters gets the
// counts in labels.
func TestSidecarDownAtStart(t *testing.T) {
	// A short outage must not trip health: 1.5 s of missed pings would.
	r := startRig(t, rigOptions{down: true, sidecar: agonestest.Config{Period: 500 * time.Millisecond}})
	if n := r.logs.count("read the GameServer"); n != 1 {
		t.Errorf("sidecar down logged %d times, want once", n)
	}
	r.waitFor("Ready", func() bool { return r.sc.State() == agones.StateReady })
	r.startMatch("m1")
	r.waitFor("counts in labels", func() bool { return r.sc.Label("rooms") == "1" && r.sc.Label("players") == "1" })

	// The sidecar goes down and comes back: the driver keeps going.
	r.sc.SetDown(true)
	r.lever.End("m1")
	r.waitFor("health failure logged", func() bool { return r.logs.count("health ping failed") > 0 })
	r.sc.SetDown(false)
	r.waitFor("Ready again after the sidecar came back", func() bool {
		return r.sc.State() == agones.StateReady && r.sc.Label("rooms") == "0"
	})
	if n := r.logs.count("health ping failed;"); n != 1 {
		t.Errorf("health failures logged %d times at warning level, want once", n)
	}
	if v := sidecarErrors(t, r.reg, "health"); v < 1 {
		t.Errorf("sidecar errors for health = %v, want at least 1", v)
	}
}

// TestStateAnswerLost: the sidecar applies a state call but goes down
// before answering it, and while it is down the rooms change the other
// way. When it comes back, the state must follow the rooms as they are
// then: the failed call may have been applied, so the driver may assume
// neither that it was nor that it was not. (TestSidecarDownAtStart
// failed so under load: Allocate applied, its answer cut by SetDown, the
// room ended during the outage, and the empty gameserver stayed
// Allocated.)
func TestStateAnswerLost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		before    func(r *rig) // brings the state the lost call leaves
		lost      string       // the call applied and not answered
		whileDown func(r *rig) // makes the rooms want the other state
		want      string
		rooms     string // the rooms label once the sidecar is back
		calls     []string
	}{{
		name:      "Allocate lost, room ends",
		before:    func(r *rig) { r.startMatch("m1") },
		lost:      "POST /allocate",
		whileDown: func(r *rig) { r.lever.End("m1") },
		want:      agones.StateReady,
		rooms:     "0",
		calls:     []string{"POST /ready", "POST /allocate", "POST /ready"},
	}, {
		name: "Ready lost, room starts",
		before: func(r *rig) {
			r.startMatch("m1")
			r.waitFor("Allocated", func() bool { return r.sc.State() == agones.StateAllocated })
			r.lever.End("m1")
		},
		lost:      "POST /ready",
		whileDown: func(r *rig) { r.startMatch("m2") },
		want:      agones.StateAllocated,
		rooms:     "1",
		calls:     []string{"POST /ready", "POST /allocate", "POST /ready", "POST /allocate"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			// Health is not what is tested: an outage under load must not
			// make the GameServer Unhealthy (a final state).
			r := startRig(t, rigOptions{sidecar: agonestest.Config{HealthDisabled: true}})
			r.waitFor("Ready", func() bool { return r.sc.State() == agones.StateReady })
			r.sc.DownAfter(tc.lost)
			tc.before(r)
			r.waitFor(tc.lost+" applied, then the sidecar down", func() bool {
				return index(r.sc.Calls(), tc.lost) >= 0 && len(stateCalls(r.sc.Calls())) == len(tc.calls)-1
			})
			tc.whileDown(r)
			// The driver has seen the rooms change once it tries to set
			// the rooms label to the new count.
			r.waitFor("the driver to see the rooms change while the sidecar is down", func() bool {
				return slices.ContainsFunc(r.sc.Refused(), func(c agonestest.Call) bool {
					return c.Path == "/metadata/label" && c.Body == `{"key":"rooms","value":"`+tc.rooms+`"}`
				})
			})
			r.sc.SetDown(false)
			r.waitFor(tc.want+" once the sidecar is back", func() bool {
				return r.sc.State() == tc.want && r.sc.Label("rooms") == tc.rooms
			})
			if got := stateCalls(r.sc.Calls()); !slices.Equal(got, tc.calls) {
				t.Errorf("state calls = %v, want %v", got, tc.calls)
			}
		})
	}
}

// logCounter is a slog.Handler that counts warning-and-above records
// (and all records) by message substring.
type logCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCounter) WithGroup(string) slog.Handler            { return l }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return nil
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, msg)
	l.mu.Unlock()
	return nil
}

// count is how many warnings or errors contain s.
func (l *logCounter) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

func (l *logCounter) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// sidecarErrors is skirmish_gameserver_agones_sidecar_errors_total for
// one call (0 when the series does not exist).
func sidecarErrors(t *testing.T, reg *prometheus.Registry, call string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "skirmish_gameserver_agones_sidecar_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "call" && l.GetValue() == call {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestMain checks that the driver, the server and the stand-in leave no
// goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
