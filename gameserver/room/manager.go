// Package room runs matches: each Room is one goroutine that owns a game,
// ticks it at the mode's fixed rate, applies queued inputs in order, and
// sends each connected player a snapshot per tick (a delta against the one
// the player acknowledged). The Manager allocates rooms, admits players to
// them and drains them on shutdown. Transports (WebSocket, WebTransport)
// adapt connections to Session and Transport.
//
// Lifecycle: allocated (Create) -> waiting (players join until every seat
// is taken, or until the join deadline with at least the mode's minimum;
// fewer means cancelled, with an ABANDONED outcome) -> running -> ended
// (the outcome is written to the OutcomeSink, and only then sent to the
// players as MatchEnd) -> disposed.
package room

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// OutcomeSink makes match outcomes durable (the gameserver's outbox).
// Add must return nil only once the outcome is safely stored.
type OutcomeSink interface {
	Add(ctx context.Context, o *skirmishv1.MatchOutcome) error
}

// Errors of Create, Attach and AddSeats.
var (
	ErrDraining     = errors.New("gameserver is draining")
	ErrRoomNotFound = errors.New("room not found")
	ErrNotSeated    = errors.New("player has no seat in this room")
)

// Config tunes the Manager; zero fields take the defaults shown.
type Config struct {
	ServerID string
	Region   string
	// JoinTimeout is how long a new room waits for its players (30 s).
	JoinTimeout time.Duration
	// ReconnectGrace is how long a dropped player keeps the seat (30 s).
	ReconnectGrace time.Duration
	// DrainTimeout is how long running matches may go on after shutdown
	// starts before they end with END_REASON_SHUTDOWN (30 s).
	DrainTimeout time.Duration
	// FlushTimeout is how long, after DrainTimeout, outcomes still get to
	// reach the sink (10 s).
	FlushTimeout time.Duration
	// SlowClientTimeout is how long a connection may go without taking a
	// snapshot before it is closed with ERROR_CODE_TOO_SLOW (2 s).
	SlowClientTimeout time.Duration
	// InputRate and InputBurst limit input messages per player (60/s,
	// burst 30).
	InputRate  float64
	InputBurst int
	// Reporter, when set, is told when rooms are cancelled or end and when
	// they want backfill (the gameserver forwards it to the matchmaker).
	Reporter Reporter
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.JoinTimeout, 30*time.Second)
	def(&c.ReconnectGrace, 30*time.Second)
	def(&c.DrainTimeout, 30*time.Second)
	def(&c.FlushTimeout, 10*time.Second)
	def(&c.SlowClientTimeout, 2*time.Second)
	if c.InputRate <= 0 {
		c.InputRate = 60
	}
	if c.InputBurst <= 0 {
		c.InputBurst = 30
	}
}

// Manager allocates rooms and admits players to them.
type Manager struct {
	cfg     Config
	modes   *game.Registry
	sink    OutcomeSink
	metrics *metrics
	log     *slog.Logger

	// life is the rooms' context: it ends FlushTimeout after DrainTimeout,
	// when outcome writes give up.
	life     context.Context
	kill     context.CancelFunc
	shutdown chan struct{}

	mu    sync.Mutex
	rooms map[string]*Room
	// seats is the seats taken in the rooms in rooms: by players who have
	// not left for good (each room's taken, which mu guards too).
	seats    int
	draining bool
	wg       sync.WaitGroup
}

// NewManager checks its arguments; it starts nothing until Create.
func NewManager(cfg Config, modes *game.Registry, sink OutcomeSink, reg prometheus.Registerer, log *slog.Logger) (*Manager, error) {
	if modes == nil || sink == nil {
		return nil, errors.New("room manager: modes and outcome sink are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.fill()
	life, kill := context.WithCancel(context.Background())
	return &Manager{
		cfg: cfg, modes: modes, sink: sink, metrics: newMetrics(reg), log: log,
		life: life, kill: kill, shutdown: make(chan struct{}),
		rooms: make(map[string]*Room),
	}, nil
}

// Modes returns the registry the manager creates games from.
func (m *Manager) Modes() *game.Registry { return m.modes }

// Create allocates a room for a match and starts its goroutine. Errors
// wrap game.ErrUnknownMode, game.ErrBadSeats or ErrDraining.
func (m *Manager) Create(matchID, mode string, seats []game.Seat) (*Room, error) {
	md, err := m.modes.Lookup(mode)
	if err != nil {
		return nil, err
	}
	if err := md.CheckSeats(seats); err != nil {
		return nil, err
	}
	id := uuid.NewString()
	if matchID == "" {
		matchID = id
	}
	h := fnv.New64a()
	h.Write([]byte(matchID))
	g, panicked, err := newGame(md, game.Config{MatchID: matchID, Mode: mode, Seats: seats, Seed: h.Sum64()})
	if panicked {
		m.metrics.panics.WithLabelValues(mode, "new").Inc()
	}
	if err != nil {
		return nil, fmt.Errorf("create %s game: %w", mode, err)
	}
	r := &Room{
		id: id, matchID: matchID, mode: md, game: g, m: m, metrics: m.metrics,
		log:       m.log.With("room", id, "match", matchID, "mode", mode),
		events:    make(chan event, 64),
		shutdown:  m.shutdown,
		done:      make(chan struct{}),
		maxBehind: max(1, int(m.cfg.SlowClientTimeout*time.Duration(md.TickRate)/time.Second)),
	}
	r.eventer, _ = g.(game.Eventer)
	r.resyncer, _ = g.(game.Resyncer)
	if bf, ok := g.(game.Backfiller); ok {
		r.backfill = bf
	}
	for _, s := range seats {
		r.seats = append(r.seats, &seat{Seat: s, limiter: ratelimit.New(m.cfg.InputRate, m.cfg.InputBurst)})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.draining {
		return nil, ErrDraining
	}
	m.rooms[id] = r
	m.seats += len(seats)
	r.taken = len(seats)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r.run(m.life)
	}()
	r.log.Info("room allocated", "seats", len(seats))
	return r, nil
}

// Attach admits a seated player to a room, replacing the player's current
// connection if there is one, and returns the new session. Errors are
// ErrRoomNotFound or ErrNotSeated.
func (m *Manager) Attach(ctx context.Context, roomID, playerID string) (*Session, error) {
	return m.AttachAfter(ctx, roomID, playerID, 0)
}

// AttachAfter is Attach for a client that holds the game events up to
// seq eventsAfter (Join.last_event_seq): when it resumes its seat, the
// events after it that the room still holds are sent again right after
// the Welcome.
func (m *Manager) AttachAfter(ctx context.Context, roomID, playerID string, eventsAfter uint64) (*Session, error) {
	m.mu.Lock()
	r := m.rooms[roomID]
	m.mu.Unlock()
	if r == nil {
		return nil, ErrRoomNotFound
	}
	reply := make(chan attachReply, 1)
	r.post(event{kind: evAttach, playerID: playerID, eventsAfter: eventsAfter, reply: reply})
	select {
	case a := <-reply:
		return a.session, a.err
	case <-r.done:
		return nil, ErrRoomNotFound
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *Manager) remove(r *Room) {
	m.mu.Lock()
	if m.rooms[r.id] == r {
		delete(m.rooms, r.id)
		m.seats -= r.taken
	}
	m.mu.Unlock()
}

// Load reports the rooms hosted, the seats taken in them (a seat a player
// left for good is free again, whether or not a newcomer takes it), and
// whether the manager is draining.
func (m *Manager) Load() (rooms, seats int, draining bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms), m.seats, m.draining
}

// Stalled counts the running rooms whose loop has not finished a tick for
// longer than after: a game stuck in Tick, or a room goroutine that is
// blocked. Waiting and ended rooms do not count.
func (m *Manager) Stalled(after time.Duration) int {
	limit := time.Now().Add(-after).UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.rooms {
		if t := r.lastTick.Load(); t != 0 && t < limit {
			n++
		}
	}
	return n
}

// Draining reports whether shutdown has begun.
func (m *Manager) Draining() bool {
	_, _, d := m.Load()
	return d
}

// persist hands the outcome to the sink, retrying until it succeeds or the
// rooms' life ends.
func (m *Manager) persist(ctx context.Context, o *skirmishv1.MatchOutcome) error {
	reason := o.EndReason.String()
	backoff := 100 * time.Millisecond
	for {
		err := m.sink.Add(ctx, o)
		if err == nil {
			m.metrics.outcomes.WithLabelValues(reason, "ok").Inc()
			return nil
		}
		m.metrics.outcomes.WithLabelValues(reason, "retry").Inc()
		m.log.Warn("store match outcome", "match", o.MatchId, "err", err)
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		case <-ctx.Done():
			m.metrics.outcomes.WithLabelValues(reason, "lost").Inc()
			m.log.Error("match outcome not stored: gave up at shutdown", "match", o.MatchId, "err", err)
			return fmt.Errorf("store outcome of match %s: %w", o.MatchId, ctx.Err())
		}
	}
}

// Run waits for ctx to end, then drains: no new rooms and no backfill
// (rooms that asked for it report BACKFILL_DONE); running matches get
// DrainTimeout to finish, then end with END_REASON_SHUTDOWN; outcomes
// get FlushTimeout more to reach the sink. It returns when every room
// goroutine has ended.
func (m *Manager) Run(ctx context.Context) error {
	<-ctx.Done()
	m.mu.Lock()
	m.draining = true
	n := len(m.rooms)
	m.mu.Unlock()
	m.log.Info("draining rooms", "rooms", n, "timeout", m.cfg.DrainTimeout)

	all := make(chan struct{})
	go func() { m.wg.Wait(); close(all) }()
	drain := time.NewTimer(m.cfg.DrainTimeout)
	defer drain.Stop()
	select {
	case <-all:
		m.kill()
		return nil
	case <-drain.C:
	}
	close(m.shutdown)
	flush := time.NewTimer(m.cfg.FlushTimeout)
	defer flush.Stop()
	select {
	case <-all:
	case <-flush.C:
		m.kill()
		<-all
	}
	m.kill()
	return nil
}
