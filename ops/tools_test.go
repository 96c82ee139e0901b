package ops

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// tool finds a command-line tool on PATH or in GOBIN (where .ci/run
// installs kustomize and kubectl-validate); without it the test is
// missing a service: a skip here, a failure in CI.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	testenv.Missing(t, name+" ("+install+")", exec.ErrNotFound)
	return ""
}

func goBinDirs() []string {
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

// run runs a tool in dir and fails the test with its output on error.
func run(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

var skirmishBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "skirmish-ops-")
	if err != nil {
		return "", err
	}
	builtDir = dir
	bin := filepath.Join(dir, "skirmish")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/skirmish")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{err, out}
	}
	return bin, nil
})

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string {
	return "go build ./cmd/skirmish: " + e.err.Error() + "\n" + string(e.out)
}

var flagLine = regexp.MustCompile(`^\s+-([a-z0-9][a-z0-9-]*)`)

// commandFlags returns the flags of `skirmish <args> -h`, as the
// SKIRMISH_* environment variables that set them.
func commandFlags(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	bin, err := skirmishBin()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(args, "-h")...)
	out, _ := cmd.CombinedOutput() // -h exits non-zero
	env := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
			env["SKIRMISH_"+strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))] = true
		}
	}
	if len(env) == 0 {
		t.Fatalf("skirmish %s -h listed no flags:\n%s", strings.Join(args, " "), out)
	}
	return env
}

// builtDir holds the binary skirmishBin built, removed by TestMain.
var builtDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// runOut runs a tool in dir and returns its combined output.
func runOut(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
