// Package cli holds the command-line conventions every Skirmish command
// shares: settings are flags that SKIRMISH_* environment variables also
// set, -h lists each flag with its variable, a bad value fails at start
// with a message naming the flag and the variable. It also holds the
// settings more than one command takes (Common, Queue) and what they open.
//
// The skirmish binary (cmd/skirmish) and the public composition root
// (gameserver/host) both build on it, so a game's own binary takes the
// same flags as `skirmish gameserver`.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/peterbourgon/ff/v3"
)

// EnvPrefix starts the environment variable of every flag.
const EnvPrefix = "SKIRMISH"

// Parse fills fs from args and then from SKIRMISH_* environment variables
// (a flag given in args wins).
func Parse(fs *flag.FlagSet, args []string) error {
	return ff.Parse(fs, args, ff.WithEnvVarPrefix(EnvPrefix))
}

// EnvName is the environment variable that sets a flag: --data-dir is
// SKIRMISH_DATA_DIR.
func EnvName(flagName string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// NewFlagSet returns the flag set of a command named name (as the usage
// shows it, e.g. "skirmish gameserver"): errors are returned, not fatal,
// and -h prints Usage to stderr.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = Usage(fs)
	return fs
}

// Usage prints a command's flags, each with its environment variable and
// default, in the layout of the flag package.
func Usage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s [flags]\n\nFlags (each also set by the environment variable shown):\n", fs.Name())
		fs.VisitAll(func(f *flag.Flag) {
			typ, text := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s", f.Name)
			if typ != "" {
				fmt.Fprintf(w, " %s", typ)
			}
			fmt.Fprintf(w, "    $%s\n    \t%s", EnvName(f.Name), strings.ReplaceAll(text, "\n", "\n    \t"))
			switch {
			case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
			case typ == "string":
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			default:
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
}

// IsHelp reports whether arg asks for the usage.
func IsHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// ExitCode is the process status for what a command returned: 0 for
// success and for -h (the usage is printed), else 2 after printing the
// error to stderr after name and a colon.
func ExitCode(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 2
}

// SettingError names the setting (flag and environment variable) that
// has a bad value: "--capacity (SKIRMISH_CAPACITY): must be above 0".
func SettingError(flagName, format string, a ...any) error {
	return fmt.Errorf("--%s (%s): %s", flagName, EnvName(flagName), fmt.Sprintf(format, a...))
}

// OneOf checks that value is one of accepted, else names the setting and
// the accepted values.
func OneOf(flagName, value string, accepted ...string) error {
	if slices.Contains(accepted, value) {
		return nil
	}
	return SettingError(flagName, "%q is not one of %s", value, strings.Join(accepted, ", "))
}

// Must runs setup steps in order and returns the first error.
func Must(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
