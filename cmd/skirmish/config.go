package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"github.com/skirmishgg/skirmish/internal/cli"
)

// The conventions of every flag (SKIRMISH_* environment variables, -h,
// errors that name the setting) and the settings several commands share
// live in internal/cli, which gameserver/host uses too, so that a game's
// own gameserver binary takes the same flags. These are their names here.

// common are the settings every long-running command takes (cli.Common).
type common struct{ cli.Common }

// closer collects what a command opened, to close in reverse order.
type closer struct{ cli.Closer }

// queueFlags choose the queue that carries match outcomes.
type queueFlags = cli.Queue

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	return cli.NewFlagSet("skirmish "+name, stderr)
}

// parseFlags fills fs from args and from SKIRMISH_* environment variables.
func parseFlags(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }

// settingError names the setting (flag and environment variable) that has
// a bad value.
func settingError(flagName, format string, a ...any) error {
	return cli.SettingError(flagName, format, a...)
}

func oneOf(flagName, value string, accepted ...string) error {
	return cli.OneOf(flagName, value, accepted...)
}

// must runs setup steps in order and returns the first error.
func must(steps ...func() error) error { return cli.Must(steps...) }

// runAll runs fns until ctx ends or one fails, and waits for all of them.
func runAll(ctx context.Context, fns ...func(ctx context.Context) error) error {
	return cli.RunAll(ctx, fns...)
}

func envName(flagName string) string { return cli.EnvName(flagName) }

func isHelp(arg string) bool { return cli.IsHelp(arg) }

// The lower-case methods name cli.Common's for this package's commands.
func (c *common) register(fs *flag.FlagSet)       { c.Register(fs) }
func (c *common) validate() error                 { return c.Validate() }
func (c *common) ensureDataDir() error            { return c.EnsureDataDir() }
func (c *common) logger(w io.Writer) *slog.Logger { return c.Logger(w) }
func (c *closer) close() error                    { return c.Close() }

// start parses and validates the flags of a long-running command and
// starts its logger and admin listener (cli.Common.Start).
func (c *common) start(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer, cl *closer, checks ...func() error) (*slog.Logger, error) {
	return c.Start(ctx, fs, args, stderr, &cl.Closer, checks...)
}
