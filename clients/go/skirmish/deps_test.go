package skirmish_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoServerDependencies lists what a program built on the SDK (or the
// bot swarm) links, with `go list -deps`, and fails on any server package
// or any dependency only the servers need: a client binary must not pull
// in AWS, PostgreSQL, SQLite, Redis, plotting or metrics.
func TestNoServerDependencies(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to list dependencies with")
		}
	}
	const module = "github.com/skirmishgg/skirmish/"
	// The packages both sides share: the wire contract and its codec.
	shared := []string{module + "proto/"}
	forbidden := []string{
		module, // any other package of the repository is a server's
		"github.com/aws/",
		"github.com/jackc/",
		"modernc.org/",
		"github.com/redis/",
		"gonum.org/",
		"github.com/pressly/goose",
		"github.com/prometheus/",
		"maragu.dev/goqite",
		"connectrpc.com/",
	}
	for _, pkg := range []string{"./", "../bot"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			if strings.HasPrefix(dep, module+"clients/go/") || hasAnyPrefix(dep, shared) {
				continue
			}
			if hasAnyPrefix(dep, forbidden) {
				t.Errorf("%s depends on %s, a server package or dependency", pkg, dep)
			}
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
