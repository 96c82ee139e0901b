package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// TestHelp: `skirmish <command> -h` succeeds (exit status 0) for every
// command and subcommand, and lists each flag with its SKIRMISH_*
// environment variable.
func TestHelp(t *testing.T) {
	cmds := [][]string{{"queues", "setup"}, {"dlq", "list"}, {"dlq", "redrive"}}
	for _, parent := range []string{"queues", "dlq"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{parent, "-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) || exitCode(err, &errOut) != 0 {
			t.Errorf("run(%s -h) = %v, want flag.ErrHelp (exit status 0)", parent, err)
		}
	}
	for _, c := range commands {
		if c.name != "queues" && c.name != "dlq" && c.name != "version" {
			cmds = append(cmds, []string{c.name})
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)(.*)$`)
	for _, args := range cmds {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append(args, "-h"), &out, &errOut)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("run(%q -h) = %v, want flag.ErrHelp", args, err)
			}
			if code := exitCode(err, &errOut); code != 0 {
				t.Errorf("exit status for -h = %d, want 0", code)
			}
			lines := flagLine.FindAllStringSubmatch(errOut.String(), -1)
			if len(lines) == 0 {
				t.Fatalf("no flags in the usage:\n%s", errOut.String())
			}
			for _, l := range lines {
				if want := "$" + envName(l[1]); !strings.Contains(l[2], want) {
					t.Errorf("flag -%s: usage line %q does not name %s", l[1], l[0], want)
				}
			}
		})
	}
	t.Run("queues setup lists only flags it uses", func(t *testing.T) {
		var out, errOut bytes.Buffer
		run(context.Background(), []string{"queues", "setup", "-h"}, &out, &errOut)
		for _, ignored := range []string{"-auth-key", "-pprof-addr", "-log-level", "-sqs-create"} {
			if strings.Contains(errOut.String(), ignored+" ") {
				t.Errorf("queues setup -h lists %s, which it ignores", ignored)
			}
		}
	})
}

// TestVersion: `skirmish version` and `skirmish --version` print the
// version, which -ldflags "-X main.version=..." overrides.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{arg}, &out, &out); err != nil {
			t.Fatalf("run(%s) = %v", arg, err)
		}
		if !regexp.MustCompile(`^skirmish \S+ \(go[0-9.]+`).MatchString(out.String()) {
			t.Errorf("run(%s) printed %q, want \"skirmish <version> (go...)\"", arg, out.String())
		}
	}
	old := version
	t.Cleanup(func() { version = old })
	version = "v9.8.7"
	var out bytes.Buffer
	run(context.Background(), []string{"version"}, &out, &out)
	if !strings.HasPrefix(out.String(), "skirmish v9.8.7 ") {
		t.Errorf("with version set, printed %q, want skirmish v9.8.7", out.String())
	}
}
