// Command skirmish runs any part of Skirmish, or all of them at once:
//
//	skirmish dev            every part in one process on loopback, embedded defaults
//	skirmish gameserver     rooms over WebSocket, RoomService over gRPC
//	skirmish matchmaker     tickets and match formation over gRPC
//	skirmish leaderboard    the REST API
//	skirmish stats-worker   consumes match outcomes from the queue
//
// The load test and the leaderboard benchmark live in their own command,
// skirmish-bench, so that this binary links no measuring or plotting code.
//
// Every flag can also be set with an environment variable: --data-dir is
// SKIRMISH_DATA_DIR, --sqs-endpoint is SKIRMISH_SQS_ENDPOINT, and so on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if code := exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr); code != 0 {
		os.Exit(code)
	}
}

// exitCode is the process status for what run returned: 0 for success and
// for -h (the usage is printed), else 2 after printing the error.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "skirmish:", err)
	return 2
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"dev", "run every part in one process on loopback with embedded defaults", runDev},
	{"gameserver", "run a gameserver", runGameserver},
	{"matchmaker", "run the matchmaker", runMatchmaker},
	{"leaderboard", "run the leaderboard REST API", runLeaderboard},
	{"stats-worker", "run a stats worker that applies match outcomes", runStatsWorker},
	{"queues", "setup: create the match-outcome queue, its dead-letter queue and redrive policy", runQueues},
	{"dlq", "list or redrive the dead-lettered match outcomes", runDLQ},
	{"keys", "print each kind of token's key pair (from --auth-key or new) and which part needs which", runKeys},
	{"version", "print the version of this binary (also --version)", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		runVersion(stdout)
		return nil
	}},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	if args[0] == "--version" || args[0] == "-version" {
		runVersion(stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Skirmish: a multiplayer game server for browser games.")
	fmt.Fprintln(w, "\nUsage: skirmish <command> [flags]    (skirmish <command> -h lists the flags and their SKIRMISH_* environment variables)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
}
