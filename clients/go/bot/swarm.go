// Package bot runs a swarm of bot players through the whole Skirmish flow:
// guest sign-in, matchmaking, and matches over WebSocket, playing with
// real inputs: Arena's (move, aim, shoot) in Arena's modes, Liar's Dice
// moves (bids and calls, DiceBrain) in mode "dice". It is the load generator for whole-system
// benchmarks and the player the end-to-end tests use.
package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/schollz/progressbar/v3"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Config says where the services are and how hard to play.
type Config struct {
	LeaderboardURL string // e.g. http://127.0.0.1:7820
	MatchmakerAddr string // e.g. 127.0.0.1:7810
	Mode           string // default "duel"; "dice" plays Liar's Dice
	Players        int    // default 2
	// Duration bounds the whole run; bots leave their matches when it ends.
	Duration time.Duration // default 30s
	// Matches, when above zero, stops each bot after that many matches.
	Matches int
	// InputRate is inputs per second per bot (default 30).
	InputRate int
	// InputsPerMessage sends inputs that many to a message (see
	// skirmish.JoinOptions); 0 or 1: each at once.
	InputsPerMessage int
	// Progress, when set, shows a progress bar there.
	Progress io.Writer
	// Transport is how bots reach the gameserver (WebSocket by default).
	Transport skirmish.Transport
	// WebTransport tunes WebTransport connections (e.g. pinned hashes of a
	// development gameserver's certificate).
	WebTransport skirmish.WebTransportOptions
}

func (c *Config) fill() error {
	if c.LeaderboardURL == "" || c.MatchmakerAddr == "" {
		return errors.New("bot: leaderboard URL and matchmaker address are required")
	}
	if c.Mode == "" {
		c.Mode = "duel"
	}
	if c.Players <= 0 {
		c.Players = 2
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.InputRate <= 0 {
		c.InputRate = 30
	}
	return nil
}

// Summary is what a run did.
type Summary struct {
	Elapsed time.Duration
	// PlayersConnected is the most bots connected to rooms at once.
	PlayersConnected int
	// PlayersJoined is how many of the bots joined a room at least once.
	PlayersJoined int
	// Matches is the number of distinct matches that reached their end.
	Matches   int
	Snapshots int64
	Bytes     int64
	Errors    int
	// LastError is the most recent error a bot hit, if any.
	LastError error
	// Latency is input-to-snapshot latency in microseconds: from sending an
	// input to the first snapshot that shows the server applied it.
	Latency *hdrhistogram.Histogram
}

// SnapshotRate is snapshots per second per player over the run.
func (s Summary) SnapshotRate() float64 {
	if s.PlayersConnected == 0 || s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Snapshots) / float64(s.PlayersConnected) / s.Elapsed.Seconds()
}

// BytesPerPlayerSecond is the downstream bytes per player per second.
func (s Summary) BytesPerPlayerSecond() float64 {
	if s.PlayersConnected == 0 || s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.PlayersConnected) / s.Elapsed.Seconds()
}

// Print writes the summary for people.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "elapsed            %s\n", s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "players connected  %d\n", s.PlayersConnected)
	fmt.Fprintf(w, "players joined     %d\n", s.PlayersJoined)
	fmt.Fprintf(w, "matches played     %d\n", s.Matches)
	fmt.Fprintf(w, "snapshots          %d (%.1f per player per second)\n", s.Snapshots, s.SnapshotRate())
	fmt.Fprintf(w, "bytes down         %d (%.0f per player per second)\n", s.Bytes, s.BytesPerPlayerSecond())
	if s.Latency.TotalCount() > 0 {
		ms := func(q float64) float64 { return float64(s.Latency.ValueAtQuantile(q)) / 1000 }
		fmt.Fprintf(w, "input->snapshot    p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%d)\n",
			ms(50), ms(90), ms(99), float64(s.Latency.Max())/1000, s.Latency.TotalCount())
	}
	fmt.Fprintf(w, "errors             %d\n", s.Errors)
	if s.LastError != nil {
		fmt.Fprintf(w, "last error         %v\n", s.LastError)
	}
}

// swarm is the shared state of one run.
type swarm struct {
	cfg Config
	log *slog.Logger
	lb  *skirmish.Leaderboard

	connected atomic.Int64
	joined    atomic.Int64
	peak      atomic.Int64
	snapshots atomic.Int64
	bytes     atomic.Int64
	errs      atomic.Int64

	mu        sync.Mutex
	matches   map[string]bool
	latency   *hdrhistogram.Histogram
	lastError error
}

// Run plays cfg.Players bots until cfg.Duration passes, ctx ends, or each
// bot played cfg.Matches matches, and returns what happened.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (Summary, error) {
	if err := cfg.fill(); err != nil {
		return Summary{}, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lb, err := skirmish.NewLeaderboard(cfg.LeaderboardURL, skirmish.LeaderboardOptions{
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Backoff:    retry,
	})
	if err != nil {
		return Summary{}, fmt.Errorf("bot: %w", err)
	}
	s := &swarm{
		cfg:     cfg,
		log:     log,
		lb:      lb,
		matches: make(map[string]bool),
		latency: hdrhistogram.New(1, 60_000_000, 3),
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Players {
		wg.Go(func() { s.play(ctx, i) })
	}
	stopProgress := s.progress(ctx, start)
	wg.Wait()
	stopProgress()

	s.mu.Lock()
	defer s.mu.Unlock()
	return Summary{
		Elapsed:          time.Since(start),
		PlayersConnected: int(s.peak.Load()),
		PlayersJoined:    int(s.joined.Load()),
		Matches:          len(s.matches),
		Snapshots:        s.snapshots.Load(),
		Bytes:            s.bytes.Load(),
		Errors:           int(s.errs.Load()),
		LastError:        s.lastError,
		Latency:          s.latency,
	}, nil
}

// progress draws a bar over the run's duration until the returned stop is
// called.
func (s *swarm) progress(ctx context.Context, start time.Time) (stop func()) {
	if s.cfg.Progress == nil {
		return func() {}
	}
	total := int(s.cfg.Duration / time.Second)
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(s.cfg.Progress),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionThrottle(200*time.Millisecond),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				bar.Finish()
				fmt.Fprintln(s.cfg.Progress)
				return
			case <-t.C:
				s.mu.Lock()
				m := len(s.matches)
				s.mu.Unlock()
				bar.Describe(fmt.Sprintf("players %d  matches %d  errors %d", s.connected.Load(), m, s.errs.Load()))
				bar.Set(int(time.Since(start) / time.Second))
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (s *swarm) fail(err error) {
	s.errs.Add(1)
	s.mu.Lock()
	s.lastError = err
	s.mu.Unlock()
	s.log.Warn("bot error", "err", err)
}

// retry is how a bot retries sign-in and matchmaking calls the services
// refuse for now (429, RESOURCE_EXHAUSTED): after their Retry-After, with
// jitter, until the run ends. Hundreds of bots behind one address meet the
// per-address sign-in limit at start; they are admitted over time rather
// than given up on.
var retry = skirmish.Backoff{Initial: 250 * time.Millisecond, Max: 10 * time.Second, Attempts: math.MaxInt32}

// play is one bot: sign in once, then find and play matches until ctx ends.
func (s *swarm) play(ctx context.Context, i int) {
	sess, err := s.lb.SignInGuest(ctx, fmt.Sprintf("bot-%d", i))
	if err != nil {
		if ctx.Err() == nil {
			s.fail(err)
		}
		return
	}
	mm, err := skirmish.DialMatchmakerOptions(ctx, s.cfg.MatchmakerAddr, sess, skirmish.MatchmakerOptions{Backoff: retry})
	if err != nil {
		s.fail(err)
		return
	}
	defer mm.Close()
	failures := 0
	joined := false
	for played := 0; s.cfg.Matches <= 0 || played < s.cfg.Matches; played++ {
		if ctx.Err() != nil {
			return
		}
		err := s.playMatch(ctx, mm, i, &joined)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.fail(err)
		// Back off, more after each failure in a row, so a broken service
		// is not hammered by every bot at once.
		failures++
		t := time.NewTimer(retry.Wait(failures, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// playMatch plays one match; joined is set, and counted once per bot,
// when the bot is in a room.
func (s *swarm) playMatch(ctx context.Context, mm *skirmish.Matchmaker, i int, joined *bool) error {
	a, err := mm.FindMatch(ctx, s.cfg.Mode, nil)
	if err != nil {
		return err
	}
	refused := make(chan struct{}, 1)
	g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{
		OnEvent: func(ev *skirmishv1.GameEvent) {
			if ev.GetType() == "refused" {
				select {
				case refused <- struct{}{}:
				default:
				}
			}
		},
		Transport:        s.cfg.Transport,
		WebTransport:     s.cfg.WebTransport,
		InputsPerMessage: s.cfg.InputsPerMessage,
		OnSnapshot: func(_ *skirmish.World, n int) {
			s.snapshots.Add(1)
			s.bytes.Add(int64(n))
		},
		OnInputApplied: func(_ uint32, d time.Duration) {
			s.mu.Lock()
			_ = s.latency.RecordValue(d.Microseconds())
			s.mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	if !*joined {
		*joined = true
		s.joined.Add(1)
	}
	if n := s.connected.Add(1); n > s.peak.Load() {
		s.peak.Store(n) // racy max is fine: it only feeds the summary
	}
	defer s.connected.Add(-1)
	defer g.Close()

	if s.cfg.Mode == DiceMode {
		return s.playDice(ctx, g, refused)
	}
	brain := NewBrain(g.Welcome().GetEntityId(), int64(i))
	// Start the input clock at a random phase of the period. Without it
	// every bot's clock starts right after its Welcome, which the room
	// sends when its own tick clock starts: inputs would then always land
	// just after a tick and wait a whole tick, and the latency measured
	// would be one tick every time instead of spreading over it.
	period := time.Second / time.Duration(s.cfg.InputRate)
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(time.Duration(rand.Int64N(int64(period)))):
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.Done():
			return s.ended(g)
		case <-tick.C:
			mx, my, aim, fire := brain.Decide(g.World())
			if _, err := g.SendArena(mx, my, aim, fire); err != nil {
				select {
				case <-g.Done(): // the match ended under us; handled above
					continue
				default:
					return err
				}
			}
		}
	}
}

// ended records the match of a game whose connection ended, or says why
// it ended without one.
func (s *swarm) ended(g *skirmish.Game) error {
	if o := g.Outcome(); o != nil {
		s.mu.Lock()
		s.matches[o.GetMatchId()] = true
		s.mu.Unlock()
		return nil
	}
	if err := g.Err(); err != nil {
		return err
	}
	return errors.New("connection closed before the match ended")
}

// DiceMode is the mode in which bots play Liar's Dice.
const DiceMode = "dice"

// dicePoll is how often a Liar's Dice bot looks whether it is its turn.
const dicePoll = 50 * time.Millisecond

// playDice plays one Liar's Dice match on g: a move per turn, as
// DiceBrain decides; refused tells that the server refused the last one.
func (s *swarm) playDice(ctx context.Context, g *skirmish.Game, refused <-chan struct{}) error {
	brain := NewDiceBrain(g.Welcome().GetEntityId())
	tick := time.NewTicker(dicePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.Done():
			return s.ended(g)
		case <-refused:
			brain.Retry()
		case <-tick.C:
			if mv := brain.Decide(g.World()); mv != nil {
				if _, err := g.SendCustom(mv); err != nil {
					select {
					case <-g.Done():
						continue
					default:
						return err
					}
				}
			}
		}
	}
}
