package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
)

// runDLQ is `skirmish dlq list` and `skirmish dlq redrive`: inspect the
// match outcomes that were dead-lettered, and move them back to the queue
// once the cause is fixed.
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "Usage: skirmish dlq list|redrive [flags]    (skirmish dlq list -h lists the flags)"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "redrive") {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("dlq: want the subcommand list or redrive")
	}
	sub := args[0]
	var c common
	var q queueFlags
	var max int
	fs := newFlagSet("dlq "+sub, stderr)
	c.RegisterDataDir(fs)
	q.Register(fs)
	fs.IntVar(&max, "max", 100, "most dead letters to "+sub)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := must(q.Validate, c.EnsureDataDir); err != nil {
		return err
	}
	if max < 1 || max > 100000 {
		return settingError("max", "must be between 1 and 100000, got %d", max)
	}
	var cl closer
	defer cl.close()
	qu, err := openQueue(ctx, &c, &q, &cl)
	if err != nil {
		return err
	}
	admin := qu.(queue.Admin)
	if sub == "redrive" {
		n, err := admin.Redrive(ctx, max)
		fmt.Fprintf(stdout, "moved %d dead letters back to %s\n", n, q.Name())
		return err
	}
	msgs, err := admin.DeadLetters(ctx, max)
	if err != nil {
		return err
	}
	printDeadLetters(stdout, msgs)
	return nil
}

// printDeadLetters shows one line per dead letter: its id, when it was
// sent, the match it carries or why it does not decode, and its size.
func printDeadLetters(w io.Writer, msgs []queue.Message) {
	fmt.Fprintf(w, "%d dead letters\n", len(msgs))
	for _, m := range msgs {
		what := ""
		if match, err := stats.Decode(m.Body); err != nil {
			what = "undecodable: " + err.Error()
		} else {
			what = "match " + match.ID
		}
		sent := "-"
		if !m.SentAt.IsZero() {
			sent = m.SentAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s  sent %s  %d bytes  %s\n", m.ID, sent, len(m.Body), what)
	}
}
