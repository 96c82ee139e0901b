package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoBenchmarkDependencies: the production binary links no measuring
// tools (they live in cmd/skirmish-bench): no load test, leaderboard
// benchmark or bot swarm command, no plotting, no progress bar.
func TestNoBenchmarkDependencies(t *testing.T) {
	for _, c := range commands {
		if c.name == "loadtest" || c.name == "lbbench" || c.name == "bot" {
			t.Errorf("skirmish has the command %s, a measuring tool (cmd/skirmish-bench's)", c.name)
		}
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to list dependencies with")
		}
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		for _, bad := range []string{"github.com/skirmishgg/skirmish/gameserver/loadtest", "github.com/skirmishgg/skirmish/clients/go/bot",
			"gonum.org/", "github.com/schollz/progressbar", "github.com/HdrHistogram/"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("skirmish depends on %s, a measuring tool's dependency (cmd/skirmish-bench's)", dep)
			}
		}
	}
}
