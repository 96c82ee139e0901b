package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/skirmishgg/skirmish/internal/queue"
)

// runQueues is `skirmish queues setup`: it creates the match-outcome queue
// and its dead-letter queue, and sets the redrive policy
// (--queue-max-receives) and visibility timeout, on either backend.
func runQueues(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "Usage: skirmish queues setup [flags]    (skirmish queues setup -h lists the flags)"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "setup" {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("queues: want the subcommand setup")
	}
	var c common
	var q queueFlags
	fs := newFlagSet("queues setup", stderr)
	c.RegisterDataDir(fs)
	q.RegisterExisting(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := must(q.Validate, c.EnsureDataDir); err != nil {
		return err
	}
	q.SQSCreate = true
	var cl closer
	defer cl.close()
	qu, err := openQueue(ctx, &c, &q, &cl)
	if err != nil {
		return err
	}
	if s, ok := qu.(interface{ Setup(context.Context) error }); ok {
		if err := s.Setup(ctx); err != nil {
			return err
		}
	}
	d, err := qu.(queue.Admin).Depth(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "queue %s ready (%s): dead letters after %d receives, visibility timeout %s\n",
		q.Name(), q.Backend, q.MaxReceives, q.Visibility)
	fmt.Fprintf(stdout, "  %d waiting, %d in flight, %d dead\n", d.Visible, d.InFlight, d.Dead)
	return nil
}
