package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestUsage: no command prints the commands; an unknown one is an error;
// -h prints a command's flags.
func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, &out, &out); err != nil || !strings.Contains(out.String(), "loadtest") {
		t.Errorf("run() = %v, printed %q; want the commands, loadtest among them", err, out.String())
	}
	if err := run(context.Background(), []string{"plot"}, &out, &out); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("run(plot) = %v, want unknown command", err)
	}
	out.Reset()
	err := run(context.Background(), []string{"loadtest", "-h"}, &out, &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-transport") {
		t.Errorf("run(loadtest -h) = %v, printed %q; want flag.ErrHelp and the flags", err, out.String())
	}
}
