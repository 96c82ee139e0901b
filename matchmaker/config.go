package matchmaker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Allocation strategies for choosing a gameserver.
const (
	// AllocateLeastLoaded spreads matches: the gameserver with the lowest
	// share of its capacity in use wins.
	AllocateLeastLoaded = "least-loaded"
	// AllocateFillFirst packs matches: the busiest gameserver that still has
	// room wins, so idle ones can be scaled down.
	AllocateFillFirst = "fill-first"
)

// DefaultRating is the rating of a player the RatingSource does not know.
const DefaultRating = 1500

// Config holds the matchmaker's settings. The zero value is usable: New fills
// every unset field with its default.
type Config struct {
	// Modes maps a mode name, as sent in CreateTicketRequest.mode, to its
	// rules. Default: DefaultModes().
	Modes map[string]Mode `yaml:"modes"`
	// FormationInterval is how often a formation pass runs. Default 100ms.
	FormationInterval time.Duration `yaml:"formation_interval"`
	// ExpiryGrace is how long a ticket keeps searching, for a smaller match,
	// after its mode's MaxWait before it expires. Default 15s.
	ExpiryGrace time.Duration `yaml:"expiry_grace"`
	// WaitScale multiplies every mode's MaxWait and ExpiryGrace; set it
	// below 1 (e.g. 0.01) for fast tests and demos. Default 1.
	WaitScale float64 `yaml:"wait_scale"`
	// TicketRetention is how long an ended ticket stays readable with
	// GetTicket. Default 1m.
	TicketRetention time.Duration `yaml:"ticket_retention"`
	// HeartbeatInterval is how often gameservers are told to heartbeat.
	// Default 2s.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// GameserverTTL is how long a gameserver stays in allocation without a
	// heartbeat. Default 3 x HeartbeatInterval.
	GameserverTTL time.Duration `yaml:"gameserver_ttl"`
	// Allocation is AllocateLeastLoaded (default) or AllocateFillFirst.
	Allocation string `yaml:"allocation"`
	// CreateRoomTimeout bounds one RoomService.CreateRoom call. Default 5s.
	CreateRoomTimeout time.Duration `yaml:"create_room_timeout"`
	// MaxConcurrentAllocations bounds CreateRoom calls in flight. Default 64.
	MaxConcurrentAllocations int `yaml:"max_concurrent_allocations"`
	// PlayerRequestRate and PlayerRequestBurst bound each player's
	// MatchmakerService calls per second; beyond them a call gets
	// RESOURCE_EXHAUSTED. Defaults 20 and 40; a negative rate disables the
	// limit.
	PlayerRequestRate  float64 `yaml:"player_request_rate"`
	PlayerRequestBurst int     `yaml:"player_request_burst"`
	// JoinTokenTTL is how long a join token in an assignment is valid.
	// Default 2m.
	JoinTokenTTL time.Duration `yaml:"join_token_ttl"`
	// JoinRefreshMaxAge is how long after the first join token of a seat
	// was issued its tokens may be exchanged for new ones with
	// RefreshJoinToken, as long as the room still runs; refreshes do not
	// extend it. Default 6h (the longest the matchmaker remembers a
	// room).
	JoinRefreshMaxAge time.Duration `yaml:"join_refresh_max_age"`
	// PartyInviteTTL is how long a party invite (CreatePartyInvite) is
	// valid; each is also used up by the first CreateTicket that carries
	// it. Default 5m.
	PartyInviteTTL time.Duration `yaml:"party_invite_ttl"`
	// NoShowCooldowns are the requeue cooldowns of a player who was
	// matched and never joined (a cancelled room's missing player): after
	// their n-th no-show, CreateTicket refuses them for
	// NoShowCooldowns[n-1] (the last entry beyond the list). Default 30s,
	// 2m, 10m, 30m; [0s] turns the cooldown off.
	NoShowCooldowns []time.Duration `yaml:"no_show_cooldowns"`
	// NoShowDecay forgives one no-show per NoShowDecay without another.
	// Default 1h.
	NoShowDecay time.Duration `yaml:"no_show_decay"`
	// AllowedOrigins are the browser origins (e.g. http://127.0.0.1:7800,
	// where the gameserver serves the game) allowed to call the matchmaker
	// with Connect or gRPC-Web; "*" allows any. Default ["*"]: calls carry
	// their session token in a header, never in a cookie, so a foreign page
	// gains nothing a script could not do itself.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// SharedHTTP2 serves native gRPC through net/http's HTTP/2 server and
	// grpc.Server.ServeHTTP, like every other request, so that Connect and
	// gRPC-Web also work over cleartext HTTP/2 (h2c). By default
	// connections that open with the HTTP/2 preface go to
	// grpc.Server.Serve instead, which is faster (docs/benchmarks.md);
	// browsers never use h2c.
	SharedHTTP2 bool `yaml:"shared_http2"`
	// RoomStartTimeout is how long after its allocation a room counts as
	// running when its gameserver never reported it started: when the
	// gameserver is lost, a running room is recorded as a server-lost
	// match, a younger one puts its tickets back in the queue. Set it to
	// the gameservers' join timeout. Default 30s.
	RoomStartTimeout time.Duration `yaml:"room_start_timeout"`
	// LeaseTTL is how long the formation lease of the Redis store lasts
	// without renewal: a replica that stops (or pauses) hands formation to
	// another within it. Default 2s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// WatchRefresh is how often WatchTicket re-reads its ticket even
	// without a change notice (the Redis change feed is lossy). Default 1s.
	WatchRefresh time.Duration `yaml:"watch_refresh"`
	// FeedStallAfter is how long the Redis change feed may be silent (it
	// pings itself every FeedStallAfter/4) before /readyz reports not
	// ready. Default 4s.
	FeedStallAfter time.Duration `yaml:"feed_stall_after"`
	// Edge bounds what clients may make the matchmaker hold (edge.go).
	Edge Edge `yaml:"-"`
}

// Mode is the rules of one game mode.
type Mode struct {
	// Teams and TeamSize give the full match: Teams x TeamSize players.
	// A TeamSize of 1 means every player is their own team.
	Teams    int `yaml:"teams"`
	TeamSize int `yaml:"team_size"`
	// MinPlayers is the smallest match that may start once a ticket has
	// waited MaxWait. Equal to Teams x TeamSize means full matches only.
	MinPlayers int `yaml:"min_players"`
	// MaxWait is how long a ticket waits for a full match; after it, a
	// smaller match may form, and ExpiryGrace later the ticket expires.
	MaxWait time.Duration `yaml:"max_wait"`
	// Window is the skill window, widening with wait.
	Window SkillWindow `yaml:"skill_window"`
}

// SkillWindow is how far apart in rating the players of one match may be.
// A ticket that has waited w seconds accepts a spread of
// min(Initial + PerSecond*w, Max); a group fits when its spread (highest
// minus lowest rating) is within the window of its longest-waiting member.
type SkillWindow struct {
	Initial   float64 `yaml:"initial"`
	PerSecond float64 `yaml:"per_second"`
	Max       float64 `yaml:"max"`
}

// Players is the size of a full match.
func (m Mode) Players() int { return m.Teams * m.TeamSize }

// width is the window of a ticket that has waited the given seconds.
func (w SkillWindow) width(waited float64) float64 {
	return min(w.Initial+w.PerSecond*waited, w.Max)
}

// DefaultModes returns the built-in modes: Arena's "duel" (1v1), "ffa" (up
// to 8, at least 2 after the wait), "team" (2v2) and "team4" (4v4, at
// least 3v3 after the wait), and Liar's Dice's "dice" (up to 6, at least 2
// after the wait).
func DefaultModes() map[string]Mode {
	window := SkillWindow{Initial: 100, PerSecond: 20, Max: 800}
	return map[string]Mode{
		"duel":  {Teams: 2, TeamSize: 1, MinPlayers: 2, MaxWait: 60 * time.Second, Window: window},
		"ffa":   {Teams: 8, TeamSize: 1, MinPlayers: 2, MaxWait: 30 * time.Second, Window: window},
		"team":  {Teams: 2, TeamSize: 2, MinPlayers: 4, MaxWait: 60 * time.Second, Window: window},
		"team4": {Teams: 2, TeamSize: 4, MinPlayers: 6, MaxWait: 90 * time.Second, Window: window},
		"dice":  {Teams: 6, TeamSize: 1, MinPlayers: 2, MaxWait: 20 * time.Second, Window: window},
	}
}

// LoadConfig reads a Config from a YAML (or JSON) file. Unknown keys are
// errors; unset keys keep their defaults. A "modes" table in the file
// replaces the built-in modes.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("matchmaker config: %w", err)
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("matchmaker config %s: %w", path, err)
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		return Config{}, fmt.Errorf("matchmaker config %s: %w", path, err)
	}
	return cfg, nil
}

// withDefaults fills unset fields, applies WaitScale and validates.
func (c Config) withDefaults() (Config, error) {
	if c.Modes == nil {
		c.Modes = DefaultModes()
	} else {
		c.Modes = maps.Clone(c.Modes)
	}
	setDefault(&c.FormationInterval, 100*time.Millisecond)
	setDefault(&c.ExpiryGrace, 15*time.Second)
	setDefault(&c.TicketRetention, time.Minute)
	setDefault(&c.HeartbeatInterval, 2*time.Second)
	setDefault(&c.GameserverTTL, 3*c.HeartbeatInterval)
	setDefault(&c.CreateRoomTimeout, 5*time.Second)
	setDefault(&c.JoinTokenTTL, 2*time.Minute)
	setDefault(&c.JoinRefreshMaxAge, roomTTL)
	setDefault(&c.PartyInviteTTL, 5*time.Minute)
	setDefault(&c.NoShowDecay, time.Hour)
	if len(c.NoShowCooldowns) == 0 {
		c.NoShowCooldowns = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}
	} else {
		c.NoShowCooldowns = slices.Clone(c.NoShowCooldowns)
	}
	setDefault(&c.Allocation, AllocateLeastLoaded)
	setDefault(&c.MaxConcurrentAllocations, 64)
	setDefault(&c.WaitScale, 1)
	setDefault(&c.PlayerRequestRate, 20)
	setDefault(&c.PlayerRequestBurst, 40)
	setDefault(&c.RoomStartTimeout, 30*time.Second)
	setDefault(&c.LeaseTTL, 2*time.Second)
	setDefault(&c.WatchRefresh, time.Second)
	setDefault(&c.FeedStallAfter, 4*time.Second)
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = []string{"*"}
	}

	var errs []error
	positive := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %v", name, d))
		}
	}
	positive("formation_interval", c.FormationInterval)
	positive("expiry_grace", c.ExpiryGrace)
	positive("ticket_retention", c.TicketRetention)
	positive("heartbeat_interval", c.HeartbeatInterval)
	positive("gameserver_ttl", c.GameserverTTL)
	positive("create_room_timeout", c.CreateRoomTimeout)
	positive("join_token_ttl", c.JoinTokenTTL)
	positive("join_refresh_max_age", c.JoinRefreshMaxAge)
	positive("party_invite_ttl", c.PartyInviteTTL)
	positive("no_show_decay", c.NoShowDecay)
	for i, d := range c.NoShowCooldowns {
		positive(fmt.Sprintf("no_show_cooldowns[%d]", i), d)
	}
	positive("room_start_timeout", c.RoomStartTimeout)
	positive("lease_ttl", c.LeaseTTL)
	positive("watch_refresh", c.WatchRefresh)
	positive("feed_stall_after", c.FeedStallAfter)
	if c.WaitScale < 0 {
		errs = append(errs, fmt.Errorf("wait_scale: must be positive, got %v", c.WaitScale))
	}
	if c.MaxConcurrentAllocations < 0 {
		errs = append(errs, fmt.Errorf("max_concurrent_allocations: must be positive, got %d", c.MaxConcurrentAllocations))
	}
	if c.PlayerRequestBurst < 1 {
		errs = append(errs, fmt.Errorf("player_request_burst: must be positive, got %d", c.PlayerRequestBurst))
	}
	if err := validateOrigins(c.AllowedOrigins); err != nil {
		errs = append(errs, fmt.Errorf("allowed_origins: %w", err))
	}
	if c.Allocation != AllocateLeastLoaded && c.Allocation != AllocateFillFirst {
		errs = append(errs, fmt.Errorf("allocation: %q is not one of %q, %q", c.Allocation, AllocateLeastLoaded, AllocateFillFirst))
	}
	if len(c.Modes) == 0 {
		errs = append(errs, errors.New("modes: at least one mode is required"))
	}
	for _, name := range c.modeNames() {
		m := c.Modes[name]
		if err := m.validate(); err != nil {
			errs = append(errs, fmt.Errorf("modes.%s: %w", name, err))
		}
		m.MaxWait = time.Duration(float64(m.MaxWait) * c.WaitScale)
		c.Modes[name] = m
	}
	c.ExpiryGrace = time.Duration(float64(c.ExpiryGrace) * c.WaitScale)
	c.WaitScale = 1 // applied; applying the defaults again must not scale twice
	return c, errors.Join(errs...)
}

func (m Mode) validate() error {
	switch {
	case m.Teams < 1 || m.TeamSize < 1:
		return fmt.Errorf("teams and team_size must be at least 1, got %d and %d", m.Teams, m.TeamSize)
	case m.Players() < 2 || m.Players() > maxMatchPlayers:
		return fmt.Errorf("teams x team_size must be between 2 and %d, got %d", maxMatchPlayers, m.Players())
	case m.MinPlayers < 2 || m.MinPlayers > m.Players():
		return fmt.Errorf("min_players must be between 2 and %d, got %d", m.Players(), m.MinPlayers)
	case m.TeamSize > 1 && m.MinPlayers%m.Teams != 0:
		return fmt.Errorf("min_players must be a multiple of teams (%d), got %d", m.Teams, m.MinPlayers)
	case m.MaxWait <= 0:
		return fmt.Errorf("max_wait must be positive, got %v", m.MaxWait)
	case m.Window.Initial < 0 || m.Window.PerSecond < 0 || m.Window.Max < m.Window.Initial:
		return fmt.Errorf("skill_window needs 0 <= initial <= max and per_second >= 0, got %+v", m.Window)
	}
	return nil
}

// maxMatchPlayers bounds the size of one match.
const maxMatchPlayers = 64

func (c Config) modeNames() []string {
	names := make([]string, 0, len(c.Modes))
	for name := range c.Modes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
