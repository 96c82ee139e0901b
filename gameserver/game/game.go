// Package game is the seam between the gameserver and the games it hosts.
//
// A game implements Game and is registered by mode name in a Registry. The
// gameserver runs each room as one goroutine at the mode's fixed tick rate
// and calls the game only from that goroutine, so game code needs no locks.
// Within one tick the room calls, in this order: Join/Leave for players that
// arrived or left, Input with each player's inputs as the mode's
// InputPolicy says (latest-wins: one per player per tick, in sequence order,
// more only when a player's inputs pile up; ordered: every input accepted,
// in sequence order), Tick once, Events once when the game is an Eventer,
// then Snapshot once per connected viewer.
package game

import (
	"errors"
	"fmt"
	"sort"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// DefaultTickRate is the tick rate of a mode that names none.
const DefaultTickRate = 30

// Seat is one player's place in a match, as the matchmaker allocated it.
type Seat struct {
	PlayerID string
	Name     string
	Team     uint32
}

// Config is what a game is created from.
type Config struct {
	MatchID string
	Mode    string
	Seats   []Seat
	// Seed makes every random choice of the game reproducible.
	Seed uint64
}

// Entity is one object in a snapshot: an id unique within the match, a
// kind, and the kind's fields as quantized integers in an order the game
// documents. The gameserver sends only the fields that changed since the
// snapshot the viewer acknowledged. It is defined in proto/snapshot, which
// clients share, so that they import no server package.
type Entity = snapshot.Entity

// Outcome is the game's part of a match result; the room adds the match,
// room and server identity and the times.
type Outcome struct {
	Reason  skirmishv1.EndReason
	Teams   []*skirmishv1.TeamResult
	Players []*skirmishv1.PlayerResult
}

// Game is one match of one game. All methods are called from the room's
// goroutine only.
type Game interface {
	// Join brings a seated player into the world, the first time the player
	// connects. It returns the player's own entity id and team.
	Join(playerID string) (entityID, team uint32)
	// Leave takes a player out for good: the player left, or stayed away
	// longer than the reconnection grace period.
	Leave(playerID string)
	// Input applies one input of a player. Inputs arrive in increasing
	// sequence order, each at most once.
	Input(playerID string, in *skirmishv1.Input)
	// Tick advances the world by one tick and reports whether the match is
	// over.
	Tick() (ended bool)
	// Snapshot returns the entities the viewer sees now, sorted by
	// increasing id. The game may hide entities from a viewer. The room
	// keeps the returned slice (and the Fields slices) for delta encoding,
	// so the game must never modify them afterwards; it may return the same
	// slice to several viewers.
	Snapshot(viewer string) []Entity
	// Outcome returns the result so far; after Tick reported the end, the
	// final result.
	Outcome() Outcome
}

// Backfiller is implemented by games that take new players in the middle
// of a match, in seats left open by players who left for good. The room
// calls it from its goroutine, like Game.
type Backfiller interface {
	// OpenSeat returns the seat a newcomer may take now that playerID
	// left for good (Team set when it matters, PlayerID empty), or false
	// when the game wants no newcomer, e.g. because little time is left.
	OpenSeat(playerID string) (Seat, bool)
	// Backfilling reports whether newcomers are still welcome at all.
	Backfilling() bool
	// AddSeat gives a newcomer a seat; Join follows when the player
	// connects. Errors wrap ErrBadSeats.
	AddSeat(s Seat) error
}

// InputKind is how a room applies a mode's inputs.
type InputKind int

const (
	// LatestWins is for action games: one input per player per tick, in
	// sequence order. Inputs that pile up beyond a small buffer are
	// applied together, and beyond MaxQueued waiting the oldest are
	// dropped: the newest intent wins. It is the default.
	LatestWins InputKind = iota
	// Ordered is for turn-based games: every input the room accepts is
	// given to the game, in sequence order, at the next tick; none is ever
	// dropped. An input that would make more than MaxQueued wait, or that
	// arrives over the input rate limit, is refused at once with an Error
	// (ERROR_CODE_INPUT_QUEUE_FULL, ERROR_CODE_INPUT_RATE_LIMITED) that
	// names it, and is never applied.
	Ordered
)

// Bounds of an InputPolicy.
const (
	// DefaultMaxQueued is the default MaxQueued.
	DefaultMaxQueued = 64
	// DefaultMaxPayloadBytes is the default MaxPayloadBytes.
	DefaultMaxPayloadBytes = 256
	// MaxPayloadBytesLimit is the largest MaxPayloadBytes a mode may set:
	// a whole client frame is at most 4096 bytes.
	MaxPayloadBytesLimit = 2048
	// DefaultMaxEventBytes is the default Mode.MaxEventBytes.
	DefaultMaxEventBytes = 16 << 10
)

// InputPolicy is how the room treats a mode's inputs.
type InputPolicy struct {
	Kind InputKind
	// MaxQueued bounds one player's inputs waiting for the next tick
	// (DefaultMaxQueued when 0).
	MaxQueued int
	// MaxPayloadBytes bounds Input.custom, the game-defined payload, in
	// bytes (DefaultMaxPayloadBytes when 0, at most MaxPayloadBytesLimit).
	// A larger input is refused with ERROR_CODE_INPUT_TOO_LARGE and never
	// applied.
	MaxPayloadBytes int
}

// Event is a game-defined message to one player (To is the player id) or
// to every player of the match (To is ""). The room sends events on the
// reliable stream in the order the game emitted them, as GameEvent
// messages numbered per player.
type Event struct {
	To      string
	Type    string
	Payload []byte
}

// Eventer is implemented by games that send events besides snapshots.
// The room calls Events once after every Tick, from its goroutine, and
// sends what it returns; the game gives each event once (the room keeps
// the slice, so the game must not change it afterwards). A tick's events
// may hold at most Mode.MaxEventBytes (type plus payload, summed over
// recipients); the room sends the excess at later ticks, still in order,
// and ends the match with END_REASON_ERROR when a game keeps emitting
// more than it can send (a backlog of 16 ticks' worth).
type Eventer interface {
	Events() []Event
}

// Resyncer is implemented by games that want to bring a player who
// reconnected up to date beyond the fresh full snapshot every
// reconnection gets: the room calls Resync(playerID) when a player who
// had joined before attaches again, before the next tick, and the game
// typically queues events for that player (see Eventer). Events sent
// while the player was away may be lost with the old connection; the
// GameEvent seq shows the client the gap.
type Resyncer interface {
	Resync(playerID string)
}

// Mode describes one playable mode of a game.
type Mode struct {
	// Name is what the matchmaker and CreateRoom use, e.g. "duel".
	Name string
	// TickRate is the ticks per second; 0 means DefaultTickRate.
	TickRate int
	// MinPlayers is the fewest joined players the room starts with once the
	// join deadline has passed.
	MinPlayers int
	// Input is how the room applies inputs; the zero value is LatestWins
	// with the default bounds.
	Input InputPolicy
	// MaxEventBytes bounds the game events (Eventer) sent per tick, in
	// bytes of type plus payload summed over recipients
	// (DefaultMaxEventBytes when 0).
	MaxEventBytes int
	// Validate checks the seats of a new room; nil accepts any.
	Validate func(seats []Seat) error
	// New creates a match.
	New func(cfg Config) (Game, error)
}

// ErrUnknownMode is returned for a mode no registered game plays.
var ErrUnknownMode = errors.New("unknown mode")

// ErrBadSeats is wrapped by Validate errors for seats a mode cannot play.
var ErrBadSeats = errors.New("bad seats")

// Registry holds the modes a gameserver offers, by name.
type Registry struct {
	modes map[string]Mode
}

// NewRegistry registers modes; names must be unique and non-empty.
func NewRegistry(modes ...Mode) (*Registry, error) {
	r := &Registry{modes: make(map[string]Mode, len(modes))}
	for _, m := range modes {
		if m.Name == "" || m.New == nil {
			return nil, fmt.Errorf("register mode %q: a mode needs a name and a New function", m.Name)
		}
		if _, dup := r.modes[m.Name]; dup {
			return nil, fmt.Errorf("register mode %q: registered twice", m.Name)
		}
		if m.TickRate <= 0 {
			m.TickRate = DefaultTickRate
		}
		if m.MinPlayers <= 0 {
			m.MinPlayers = 1
		}
		if m.Input.Kind != LatestWins && m.Input.Kind != Ordered {
			return nil, fmt.Errorf("register mode %q: unknown input policy kind %d", m.Name, m.Input.Kind)
		}
		if m.Input.MaxQueued <= 0 {
			m.Input.MaxQueued = DefaultMaxQueued
		}
		if m.Input.MaxPayloadBytes <= 0 {
			m.Input.MaxPayloadBytes = DefaultMaxPayloadBytes
		}
		if m.Input.MaxPayloadBytes > MaxPayloadBytesLimit {
			return nil, fmt.Errorf("register mode %q: MaxPayloadBytes %d is over the limit of %d", m.Name, m.Input.MaxPayloadBytes, MaxPayloadBytesLimit)
		}
		if m.MaxEventBytes <= 0 {
			m.MaxEventBytes = DefaultMaxEventBytes
		}
		r.modes[m.Name] = m
	}
	return r, nil
}

// Lookup returns the mode of that name.
func (r *Registry) Lookup(name string) (Mode, error) {
	m, ok := r.modes[name]
	if !ok {
		return Mode{}, fmt.Errorf("%w %q (have %v)", ErrUnknownMode, name, r.Names())
	}
	return m, nil
}

// Names lists the registered modes in sorted order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.modes))
	for n := range r.modes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckSeats applies the checks every mode shares and then the mode's own.
func (m Mode) CheckSeats(seats []Seat) error {
	if len(seats) == 0 {
		return fmt.Errorf("%w: no seats", ErrBadSeats)
	}
	seen := make(map[string]bool, len(seats))
	for i, s := range seats {
		if s.PlayerID == "" {
			return fmt.Errorf("%w: seat %d has no player id", ErrBadSeats, i)
		}
		if seen[s.PlayerID] {
			return fmt.Errorf("%w: player %q holds two seats", ErrBadSeats, s.PlayerID)
		}
		seen[s.PlayerID] = true
	}
	if m.Validate != nil {
		if err := m.Validate(seats); err != nil {
			return err
		}
	}
	return nil
}
