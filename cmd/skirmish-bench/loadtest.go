package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/loadtest"
)

// runLoadtest measures one in-process gameserver's capacity and CPU per
// player-tick on this machine against the bare-echo floor (one message
// down and one up per connection per tick, no game), step by step, over
// WebSocket or WebTransport, with the clients in a second process it
// starts itself (`loadtest -role clients`); see package gameserver/loadtest.
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var steps, png, profile, role string
	var idle int
	var cfg loadtest.Config
	fs := newFlagSet("loadtest", stderr)
	fs.StringVar(&role, "role", "server", "server (measure; starts its clients itself) or clients (internal: the client process)")
	fs.BoolVar(&cfg.Full, "full", false, "bots acknowledge no snapshot, so every snapshot is full (compare B/player/s with a run without -full)")
	fs.IntVar(&cfg.InputsPerMessage, "inputs-per-message", 1, "bots send their inputs this many to a message (fewer messages, one more tick of latency per extra input)")
	fs.IntVar(&cfg.ClientProcs, "client-procs", 0, "GOMAXPROCS of the client process (0: the Go default): 1 runs the bots' Go code on one core, with fewer thread wake-ups per message")
	fs.IntVar(&cfg.ClientNice, "client-nice", 0, "nice value of the client process (0-19): the load generator yields the CPU to the server when both want it")
	fs.BoolVar(&cfg.NoBare, "no-bare", false, "skip the bare loop (to profile the gameserver alone)")
	fs.BoolVar(&cfg.BareSingle, "bare-single", false, "the bare loop writes from one goroutine rather than one writer goroutine per connection")
	fs.BoolVar(&cfg.BareEcho, "bare-echo", true, "the bare loop's readers also send one 30-byte message per tick each (the messaging floor of one input per player per tick); -bare-echo=false: messages down only")
	fs.StringVar(&cfg.Transport, "transport", loadtest.TransportWebSocket, "websocket or webtransport (snapshots, inputs and the floor's messages as datagrams)")
	fs.IntVar(&idle, "idle", 0, "instead of the curve, measure the server's memory per idle joined connection with this many connections")
	fs.StringVar(&cfg.IdleHeapProfile, "idle-memprofile", "", "with -idle: write the server's heap profile, taken while the connections are held, to this file")
	fs.StringVar(&steps, "steps", "200,400,800,1200,1600", "player counts to measure, comma-separated (each at most 4000)")
	fs.DurationVar(&cfg.StepDuration, "step", 8*time.Second, "duration of each measurement (bare and skirmish each), at most 30s")
	fs.StringVar(&png, "plot", "", "write a PNG plot of the curve to this file")
	fs.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the whole run to this file, and of the last step's client process to this file plus .clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if profile != "" {
		stop, err := startCPUProfile(profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.Transport != loadtest.TransportWebSocket && cfg.Transport != loadtest.TransportWebTransport {
		return settingError("transport", "must be websocket or webtransport, got %q", cfg.Transport)
	}
	if role == "clients" {
		return loadtest.RunClients(ctx, os.Stdin, stdout)
	}
	if role != "server" {
		return settingError("role", "must be server or clients, got %q", role)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("loadtest: find own executable: %w", err)
	}
	cfg.ClientCommand = []string{exe, "loadtest", "-role", "clients"}
	if profile != "" {
		// Each client process overwrites it: it holds the last step's.
		cfg.ClientCommand = append(cfg.ClientCommand, "-cpuprofile", profile+".clients")
	}
	if idle > 0 {
		if idle > 20000 {
			return settingError("idle", "at most 20000, got %d", idle)
		}
		r, err := loadtest.Idle(ctx, cfg, idle)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "| idle joined connections | server heap+stacks per conn | server RSS per conn | server heap+stacks | server RSS |\n|---|---|---|---|---|\n")
		fmt.Fprintf(stdout, "| %d | %.1f KB | %.1f KB | %.0f MiB | %.0f MiB |\n", r.Connections,
			r.HeapStackPerConn/1024, r.RSSPerConn/1024, r.HeapStackMiB, r.RSSMiBNow)
		return nil
	}
	for _, s := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 || n > 4000 {
			return settingError("steps", "each step must be a number from 2 to 4000, got %q", s)
		}
		cfg.Steps = append(cfg.Steps, n)
	}
	if cfg.BareSingle && cfg.Transport == loadtest.TransportWebTransport {
		return settingError("bare-single", "is for the WebSocket floor only")
	}
	if cfg.ClientNice < 0 || cfg.ClientNice > 19 {
		return settingError("client-nice", "must be from 0 to 19, got %d", cfg.ClientNice)
	}
	if cfg.ClientProcs < 0 {
		return settingError("client-procs", "must be 0 or more, got %d", cfg.ClientProcs)
	}
	if cfg.InputsPerMessage < 1 || cfg.InputsPerMessage > 32 {
		return settingError("inputs-per-message", "must be from 1 to 32, got %d", cfg.InputsPerMessage)
	}
	if cfg.StepDuration <= 0 || cfg.StepDuration > 30*time.Second {
		return settingError("step", "must be above 0 and at most 30s, got %s", cfg.StepDuration)
	}
	cfg.Progress = stderr
	res, err := loadtest.Run(ctx, cfg)
	loadtest.Print(stdout, res)
	loadtest.PrintCost(stdout, cfg.Transport, res)
	loadtest.Summary(stdout, res)
	if png != "" && len(res) > 0 {
		if perr := loadtest.Plot(png, res); perr != nil {
			return perr
		}
		fmt.Fprintf(stdout, "plot written to %s\n", png)
	}
	return err
}
