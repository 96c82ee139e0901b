// Package loadtest measures how many players one gameserver holds on this
// machine: for each step of a player count it runs a bare baseline (one
// 100-byte WebSocket message per connection per tick at 30 Hz) and then
// the real gameserver with 8-player Arena ffa rooms and bot clients, on
// 127.0.0.1, and reports tick times, delivery, CPU and memory. Servers run
// in this process, clients in a client process of their own (RunClients),
// so CPU and RSS are the server's alone. `skirmish loadtest` runs it;
// nothing runs it from go test.
package loadtest

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"
)

// Config bounds a run.
type Config struct {
	Steps        []int         // player counts, e.g. 200, 400, 800
	StepDuration time.Duration // per step and per side (default 10 s)
	Progress     io.Writer     // one line per measurement, if set
	// ClientCommand starts a client process: the program and arguments
	// of `skirmish loadtest -role clients`.
	ClientCommand []string
	// Full makes the bots acknowledge nothing, so the server sends full
	// snapshots: compare B/player/s with a run without it.
	Full bool
	// InputsPerMessage makes the bots send their inputs this many to a
	// message (skirmish.JoinOptions.InputsPerMessage); 0 or 1: one each.
	InputsPerMessage int
	// ClientNice is the client process's nice value (0 to 19): above 0,
	// the load generator yields the CPU to the server it measures when
	// both want it, as if it ran on other machines; it must still keep
	// up, since delivery counts what it received.
	ClientNice int
	// ClientProcs, above 0, is the client process's GOMAXPROCS (Job.Procs).
	ClientProcs int
	// NoBare skips the bare loop, e.g. to profile the gameserver alone.
	NoBare bool
	// BareSingle makes the bare loop write from one goroutine, connection
	// after connection, instead of one writer goroutine per connection.
	BareSingle bool
	// BareEcho makes the bare loop's readers also send one 30-byte message
	// per tick each, which the bare server reads and discards: the
	// messaging floor of any game that takes one input per player per
	// tick, against which the gameserver's own cost can be told apart.
	BareEcho bool
	// Transport is how the clients reach both servers: "websocket" (the
	// default) or "webtransport" (snapshots and the floor's messages down
	// as datagrams, inputs and the floor's echoes up as datagrams).
	Transport string
	// IdleHeapProfile, when set, is where Idle writes the server's heap
	// profile while the idle connections are held.
	IdleHeapProfile string
}

// Transports accepted in Config.Transport.
const (
	TransportWebSocket    = "websocket"
	TransportWebTransport = "webtransport"
)

// StepResult is one measurement.
type StepResult struct {
	Connections       int
	TickP50, TickP99  time.Duration
	Overruns, Skipped int
	DeliveredRatio    float64 // messages received / messages due
	// SupersededRatio is the share of snapshots the next tick's replaced
	// before they were written (gameserver only).
	SupersededRatio float64
	// SharedRatio is the share of snapshots whose encoding was shared
	// with another player's (gameserver only).
	SharedRatio          float64
	CPU                  float64 // cores used by the server process
	ClientCPU            float64 // cores used by the client process
	RSSMiB               float64
	BytesPerPlayerSecond float64
	LatencyP50           time.Duration
	LatencyP99           time.Duration
	Errors               int
	Elapsed              time.Duration
	// Delivered is how many messages the clients received in the step
	// (snapshots, or the floor's messages).
	Delivered int64
	// LoadAvg is the machine's 1-minute load average at the end of the
	// step: other processes competing for the cores inflate every
	// wall-clock figure and, less, the CPU per message.
	LoadAvg float64
}

// TickRate is the rate of both servers' ticks: messages per connection
// per second.
const TickRate = 30

// MicrosPerPlayerTick is the server process's CPU time per connection and
// tick period, in microseconds: cores used / (connections × 30 Hz). At
// 1,000 players 14.7 µs is 0.44 of a core.
func (r StepResult) MicrosPerPlayerTick() float64 { return r.perPlayerTick(r.CPU) }

// ClientMicrosPerPlayerTick is the same for the client process: the bots
// (the Go SDK and a bot's decision), or the floor's bare readers.
func (r StepResult) ClientMicrosPerPlayerTick() float64 { return r.perPlayerTick(r.ClientCPU) }

func (r StepResult) perPlayerTick(cores float64) float64 {
	if r.Connections == 0 {
		return 0
	}
	return cores * 1e6 / float64(r.Connections*TickRate)
}

// MicrosPerDelivered is the server process's CPU time per message the
// clients received (a snapshot, or the floor's message), in microseconds:
// unlike MicrosPerPlayerTick it does not flatter a server that fell
// behind and sent less.
func (r StepResult) MicrosPerDelivered() float64 {
	if r.Delivered == 0 {
		return 0
	}
	return r.CPU * r.Elapsed.Seconds() * 1e6 / float64(r.Delivered)
}

// Holds reports whether the step kept up: at least 98% of the messages
// due arrived, no tick was skipped, and 99% of ticks were sent within the
// tick period. For the bare loop a tick is writing every connection's
// message, so its p99 says it all; for the gameserver, 99% of room ticks
// must finish within the period and at most 1% of snapshots may still be
// unwritten when the next tick's replaces them.
func (r StepResult) Holds() bool {
	return r.DeliveredRatio >= 0.98 && r.Skipped == 0 && r.TickP99 <= time.Second/30 && r.SupersededRatio <= 0.01
}

// Step is both measurements at one player count.
type Step struct {
	Players int
	Bare    StepResult
	Real    StepResult
}

// Run measures every step in order; it stops early when ctx ends.
func Run(ctx context.Context, cfg Config) ([]Step, error) {
	if cfg.StepDuration <= 0 {
		cfg.StepDuration = 10 * time.Second
	}
	var out []Step
	for _, n := range cfg.Steps {
		if ctx.Err() != nil {
			break
		}
		var b StepResult
		if !cfg.NoBare {
			runtime.GC()
			var err error
			b, err = bare(ctx, cfg, n, 30)
			if err != nil {
				return out, fmt.Errorf("bare loop with %d connections: %w", n, err)
			}
			b.LoadAvg = loadAverage()
			progress(cfg.Progress, "bare", b)
		}
		runtime.GC()
		r, err := real(ctx, cfg, n)
		if err != nil {
			return out, fmt.Errorf("gameserver with %d players: %w", n, err)
		}
		r.LoadAvg = loadAverage()
		progress(cfg.Progress, "skirmish", r)
		out = append(out, Step{Players: n, Bare: b, Real: r})
	}
	return out, nil
}

func progress(w io.Writer, what string, r StepResult) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "%-8s %5d conns  cpu %.1f µs/player-tick %.1f µs/delivered  load %.1f  tick p50 %-8s p99 %-8s overruns %-4d skipped %-4d delivered %5.1f%%  cpu %.2f + clients %.2f  rss %4.0f MiB",
		what, r.Connections, r.MicrosPerPlayerTick(), r.MicrosPerDelivered(), r.LoadAvg, r.TickP50, r.TickP99, r.Overruns, r.Skipped, 100*r.DeliveredRatio, r.CPU, r.ClientCPU, r.RSSMiB)
	if what == "skirmish" {
		fmt.Fprintf(w, "  superseded %.2f%%  shared %.0f%%  %5.0f B/player/s  input->snapshot p50 %s p99 %s  errors %d", 100*r.SupersededRatio, 100*r.SharedRatio, r.BytesPerPlayerSecond, r.LatencyP50, r.LatencyP99, r.Errors)
	}
	fmt.Fprintln(w)
}

// Print writes the results as a Markdown table.
func Print(w io.Writer, steps []Step) {
	fmt.Fprintln(w, "| players | bare tick p99 | bare delivered | bare CPU server + clients | skirmish tick p99 (bucket) | overruns | skipped | superseded | skirmish delivered | skirmish CPU server + clients | RSS MiB | B/player/s | input->snapshot p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range steps {
		fmt.Fprintf(w, "| %d | %s | %.1f%% | %.2f + %.2f | ≤%s | %d | %d | %.2f%% | %.1f%% | %.2f + %.2f | %.0f | %.0f | %s / %s |\n",
			s.Players, s.Bare.TickP99.Round(100*time.Microsecond), 100*s.Bare.DeliveredRatio, s.Bare.CPU, s.Bare.ClientCPU,
			s.Real.TickP99, s.Real.Overruns, s.Real.Skipped, 100*s.Real.SupersededRatio, 100*s.Real.DeliveredRatio, s.Real.CPU, s.Real.ClientCPU,
			s.Real.RSSMiB, s.Real.BytesPerPlayerSecond,
			s.Real.LatencyP50.Round(100*time.Microsecond), s.Real.LatencyP99.Round(100*time.Microsecond))
	}
}

// PrintCost writes, per step, the server process's CPU per player-tick
// and per delivered message for the floor (bare loop) and Skirmish, the
// ratio of the two, the client processes' CPU per player-tick (the floor's
// bare readers and the bots), and the load average: the figures to compare
// across runs on a busy machine, since both sides of a step share its load.
func PrintCost(w io.Writer, transport string, steps []Step) {
	if transport == "" {
		transport = TransportWebSocket
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| players (%s) | floor server µs/player-tick | floor µs/delivered | skirmish server µs/player-tick | skirmish µs/snapshot delivered | skirmish / floor (per delivered) | server cores floor / skirmish | clients µs/player-tick floor / bots | load avg floor / skirmish |\n", transport)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, s := range steps {
		ratio := "-"
		if f := s.Bare.MicrosPerDelivered(); f > 0 {
			ratio = fmt.Sprintf("%.2fx", s.Real.MicrosPerDelivered()/f)
		}
		fmt.Fprintf(w, "| %d | %.1f | %.1f | %.1f | %.1f | %s | %.2f / %.2f | %.1f / %.1f | %.1f / %.1f |\n", s.Players,
			s.Bare.MicrosPerPlayerTick(), s.Bare.MicrosPerDelivered(), s.Real.MicrosPerPlayerTick(), s.Real.MicrosPerDelivered(),
			ratio, s.Bare.CPU, s.Real.CPU, s.Bare.ClientMicrosPerPlayerTick(), s.Real.ClientMicrosPerPlayerTick(), s.Bare.LoadAvg, s.Real.LoadAvg)
	}
}

// Summary writes the verdict: the largest step each side held, and the
// gameserver's share of the bare loop's connections (target: 75%).
func Summary(w io.Writer, steps []Step) {
	var bareMax, realMax int
	for _, s := range steps {
		if s.Bare.Holds() {
			bareMax = max(bareMax, s.Players)
		}
		if s.Real.Holds() {
			realMax = max(realMax, s.Players)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | most players held (>= 98% delivered, no skipped tick, p99 tick within the period, <= 1% of snapshots superseded) |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| bare loop | %d |\n", bareMax)
	fmt.Fprintf(w, "| skirmish (8-player ffa, bots) | %d |\n", realMax)
	if bareMax > 0 {
		fmt.Fprintf(w, "| skirmish / bare | %.0f%% (target >= 75%%) |\n", 100*float64(realMax)/float64(bareMax))
	}
}
