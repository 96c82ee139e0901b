package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDevBinaryLifecycle runs the built binary as an operator would:
// `skirmish dev` logs its effective config with the auth key redacted,
// serves pprof on the admin port it was given, and on SIGTERM stops
// gracefully with exit status 0.
func TestDevBinaryLifecycle(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM is POSIX")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "skirmish")
	build := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	seed := make([]byte, 32)
	rand.Read(seed)
	key := base64.StdEncoding.EncodeToString(seed)
	cmd := exec.CommandContext(ctx, bin, "dev",
		"--data-dir", t.TempDir(),
		"--gameserver-addr", "127.0.0.1:0",
		"--gameserver-webtransport-addr", "127.0.0.1:0",
		"--matchmaker-addr", "127.0.0.1:0",
		"--leaderboard-addr", "127.0.0.1:0",
		"--gameserver-internal-addr", "127.0.0.1:0",
		"--matchmaker-internal-addr", "127.0.0.1:0",
		"--leaderboard-internal-addr", "127.0.0.1:0",
		"--pprof-addr", "127.0.0.1:0",
		"--log-format", "json",
	)
	cmd.Env = append(cmd.Environ(), "SKIRMISH_AUTH_KEY="+key)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() { cmd.Process.Kill() })

	// stdout says when every part is listening.
	running := make(chan struct{})
	var stdoutText, logs strings.Builder
	stdoutDone, stderrDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stdoutDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			stdoutText.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Skirmish is running") {
				close(running)
			}
		}
	}()
	// stderr carries the JSON log records.
	type record struct {
		Msg    string            `json:"msg"`
		Addr   string            `json:"addr"`
		Config map[string]string `json:"config"`
	}
	configs := make(chan map[string]string, 1)
	pprofAddrs := make(chan string, 1)
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var r record
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue
			}
			switch r.Msg {
			case "effective config":
				configs <- r.Config
			case "pprof listening":
				pprofAddrs <- r.Addr
			}
		}
	}()
	go func() {
		// Wait only after both pipes are drained (os/exec's rule).
		<-stdoutDone
		<-stderrDone
		exited <- cmd.Wait()
	}()

	wait := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case err := <-exited:
			t.Fatalf("skirmish dev exited before %s: %v", what, err)
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
	var cfg map[string]string
	select {
	case cfg = <-configs:
	case err := <-exited:
		t.Fatalf("skirmish dev exited before logging its config: %v\n%s", err, logs.String())
	case <-ctx.Done():
		t.Fatal("no effective config logged")
	}
	if got := cfg["auth-key"]; got != "REDACTED" {
		t.Errorf("logged auth-key = %q, want REDACTED", got)
	}
	for _, name := range []string{"data-dir", "gameserver-addr", "queue", "pprof-addr", "log-level"} {
		if _, ok := cfg[name]; !ok {
			t.Errorf("effective config has no %q: %v", name, cfg)
		}
	}
	var pprofAddr string
	select {
	case pprofAddr = <-pprofAddrs:
	case err := <-exited:
		t.Fatalf("skirmish dev exited before serving pprof: %v\n%s", err, logs.String())
	case <-ctx.Done():
		t.Fatal("no pprof address logged")
	}
	wait("it is running", running)
	if err := getOK(ctx, "http://"+pprofAddr+"/debug/pprof/cmdline"); err != nil {
		t.Errorf("GET pprof cmdline: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Errorf("after SIGTERM: exit status %d, want 0", exitErr.ExitCode())
		} else if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("skirmish dev did not exit within 30s of SIGTERM")
	}
	if strings.Contains(logs.String()+stdoutText.String(), key) {
		t.Errorf("the auth key appears in the output:\n%s", logs.String())
	}
}
