// Command skirmish-bench holds Skirmish's measuring tools, kept out of the
// production binary so that `skirmish` links no plotting or histogram code:
//
//	skirmish-bench loadtest   one gameserver's capacity and CPU per player-tick on
//	                          this machine, against the bare-echo messaging floor
//	skirmish-bench lbbench    a leaderboard board of 1M+ entries: its REST API's
//	                          requests per second and latencies, and score updates
//	skirmish-bench bot        a swarm of bot players against a running deployment
//
// The numbers it prints, and the commands that produced them, are in
// docs/benchmarks.md.
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
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "skirmish-bench:", err)
		os.Exit(2)
	}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"loadtest", "measure one gameserver's capacity and CPU per player-tick here: the bare-echo floor vs Arena rooms with bots, stepped", runLoadtest},
	{"lbbench", "fill a leaderboard board (1M+ entries) and measure its REST API over HTTP here", runLBBench},
	{"bot", "play N bot players through the whole flow against a running deployment and print a summary", runBot},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
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
	fmt.Fprintln(w, "skirmish-bench: Skirmish's load tests and benchmarks (not part of the production binary).")
	fmt.Fprintln(w, "\nUsage: skirmish-bench <command> [flags]    (skirmish-bench <command> -h lists the flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("skirmish-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// settingError names the flag that has a bad value.
func settingError(flagName, format string, a ...any) error {
	return fmt.Errorf("-%s: %s", flagName, fmt.Sprintf(format, a...))
}
