package testenv

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FauxqsVersion is the SQS-compatible server the tests run: the newest
// fauxqs that runs on Node 20.
const FauxqsVersion = "1.9.2"

// fauxqsLauncher starts fauxqs on a port (argv[2], 0 for a free one) of an
// address (argv[3], default 127.0.0.1), prints the port, and exits when its
// standard input closes, so that a test binary that dies never leaves a
// server behind.
const fauxqsLauncher = `import { buildApp } from "fauxqs";
const app = buildApp({ logger: false });
await app.listen({ port: Number(process.argv[2] ?? 0), host: process.argv[3] ?? "127.0.0.1" });
process.stdout.write("listening " + app.server.address().port + "\n");
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
`

// SQS starts an SQS-compatible server (fauxqs, from npm) on a free 127.0.0.1
// port for this test and stops it when the test ends; it returns the base
// endpoint. Starting takes a fraction of a second; the first call on a
// machine installs fauxqs with npm into NodeCacheDir.
//
// When SKIRMISH_SQS_ENDPOINT is set, SQS returns it instead (LocalStack, say).
// Without node or npm, or when the install fails, the test ends with Missing.
// The server accepts any credentials; give the client static dummy ones.
func SQS(t testing.TB) (endpoint string) {
	t.Helper()
	if ep := os.Getenv("SKIRMISH_SQS_ENDPOINT"); ep != "" {
		return ep
	}
	dir, err := installFauxqs()
	if err != nil {
		Missing(t, "SQS server (fauxqs)", err)
	}
	endpoint, stop, err := startFauxqs(dir, "")
	if err != nil {
		Missing(t, "SQS server (fauxqs)", err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop fauxqs: %v", err)
		}
	})
	return endpoint
}

// SQSServer is an SQS-compatible server that a test can stop and start
// again on the same port, to play an outage. Queues and messages live in the
// server's memory: a restart loses them, so a test creates its queues again
// after Start.
type SQSServer struct {
	Endpoint string
	dir      string
	port     string
	stop     func() error
}

// StartSQS is SQS for tests that stop the server: it always starts its own
// fauxqs, ignoring SKIRMISH_SQS_ENDPOINT, and stops it when the test ends.
func StartSQS(t testing.TB) *SQSServer {
	t.Helper()
	dir, err := installFauxqs()
	if err != nil {
		Missing(t, "SQS server (fauxqs)", err)
	}
	s := &SQSServer{dir: dir}
	if err := s.Start(); err != nil {
		Missing(t, "SQS server (fauxqs)", err)
	}
	s.port = s.Endpoint[strings.LastIndexByte(s.Endpoint, ':')+1:]
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop fauxqs: %v", err)
		}
	})
	return s
}

// Stop stops the server; it does nothing when the server is stopped.
func (s *SQSServer) Stop() error {
	if s.stop == nil {
		return nil
	}
	err := s.stop()
	s.stop = nil
	return err
}

// Start starts the stopped server on its port (a free one the first time).
func (s *SQSServer) Start() error {
	if s.stop != nil {
		return errors.New("fauxqs is already running")
	}
	endpoint, stop, err := startFauxqs(s.dir, s.port)
	if err != nil {
		return err
	}
	s.Endpoint, s.stop = endpoint, stop
	return nil
}

// NodeCacheDir is where npm packages for tests are installed:
// $SKIRMISH_NODE_CACHE, or skirmish/npm under the user's cache directory.
func NodeCacheDir() (string, error) {
	if dir := os.Getenv("SKIRMISH_NODE_CACHE"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w", err)
	}
	return filepath.Join(base, "skirmish", "npm"), nil
}

var installMu sync.Mutex

// Fauxqs installs fauxqs if needed and returns the directory that holds it
// and its launcher, skirmish-fauxqs.mjs: `node skirmish-fauxqs.mjs PORT
// ADDR`, run in that directory, serves on ADDR:PORT, prints "listening
// PORT" and exits when its standard input closes. For tests that start
// the server themselves (in a network namespace, say); others use SQS.
func Fauxqs() (dir string, err error) { return installFauxqs() }

// installFauxqs makes sure fauxqs and the launcher are in the cache dir.
// A file lock keeps test binaries that run at once from installing together.
func installFauxqs() (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", err
		}
	}
	dir, err := NodeCacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing unlocks too

	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "fauxqs", "package.json"))
	if err != nil || !bytes.Contains(pkg, []byte(`"version": "`+FauxqsVersion+`"`)) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir,
			"--no-audit", "--no-fund", "--loglevel=error", "fauxqs@"+FauxqsVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm install fauxqs@%s: %w: %s", FauxqsVersion, err, lastLines(out))
		}
	}
	launcher := filepath.Join(dir, "skirmish-fauxqs.mjs")
	if old, err := os.ReadFile(launcher); err != nil || string(old) != fauxqsLauncher {
		if err := os.WriteFile(launcher, []byte(fauxqsLauncher), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// startFauxqs runs the launcher and waits until the server answers.
// port "" picks a free one.
func startFauxqs(dir, listenPort string) (endpoint string, stop func() error, err error) {
	cmd := exec.Command("node", "skirmish-fauxqs.mjs", cmp.Or(listenPort, "0"))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start node: %w", err)
	}
	exited := make(chan error, 1)
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(strings.TrimPrefix(line, "listening "))
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	stop = func() error {
		_ = stdin.Close()
		select {
		case <-exited:
			return nil // it exits 0, or was killed: either way it is gone
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("fauxqs did not exit when its input closed; killed")
		}
	}
	fail := func(err error) (string, func() error, error) {
		_ = cmd.Process.Kill()
		_ = stop()
		return "", nil, fmt.Errorf("%w: %s", err, lastLines(stderr.Bytes()))
	}
	select {
	case p := <-port:
		if p == "" {
			return fail(errors.New("fauxqs exited before listening"))
		}
		endpoint = "http://127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		return fail(errors.New("fauxqs did not start within 30s"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(fmt.Errorf("fauxqs health: %w", err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("fauxqs health: %s", resp.Status))
	}
	return endpoint, stop, nil
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}
