package sqlite_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
)

// openerEnv, when set, makes TestOpenConcurrently a child process that
// opens the store at the path it names when its parent says go.
const openerEnv = "SKIRMISH_TEST_SQLITE_OPENER"

// TestOpenConcurrently: processes and stores that open one new file at the
// same moment, as `skirmish leaderboard` and `skirmish stats-worker`
// started together do, all come up and find the default boards.
func TestOpenConcurrently(t *testing.T) {
	if path := os.Getenv(openerEnv); path != "" {
		openAsChild(t, path)
		return
	}
	const rounds, stores, processes = 4, 3, 2
	var want []string
	for _, b := range leaderboard.DefaultBoards() {
		want = append(want, b.ID)
	}
	slices.Sort(want)
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "data", "leaderboard.db")
		start := make(chan struct{})
		ready := make(chan struct{}, processes)
		errs := make(chan error, stores+processes)
		for range processes {
			go func() { errs <- openInChild(path, ready, start) }()
		}
		for range stores {
			go func() {
				<-start
				s, err := sqlite.Open(t.Context(), path)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for range processes {
			select {
			case <-ready:
			case err := <-errs:
				t.Fatalf("round %d: child process: %v", round, err)
			case <-time.After(time.Minute):
				t.Fatalf("round %d: child processes not ready after a minute", round)
			}
		}
		close(start)
		for range stores + processes {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		boards, err := s.Boards(t.Context())
		s.Close()
		if err != nil {
			t.Fatalf("round %d: Boards: %v", round, err)
		}
		var got []string
		for _, b := range boards {
			got = append(got, b.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("round %d: Boards = %v, want %v", round, got, want)
		}
	}
}

// openInChild runs this test binary as a process that opens the store at
// path: it sends a token on ready when the process has started and lets it
// open the store when start closes.
func openInChild(path string, ready chan<- struct{}, start <-chan struct{}) error {
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenConcurrently$", "-test.count=1")
	cmd.Env = append(os.Environ(), openerEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(out)
	var output strings.Builder
	if sc.Scan() && sc.Text() == "ready" {
		ready <- struct{}{}
		<-start
		_, err = fmt.Fprintln(in, "go")
	} else {
		output.WriteString(sc.Text() + "\n")
		err = errors.New("did not say ready")
	}
	in.Close()
	for sc.Scan() {
		output.WriteString(sc.Text() + "\n")
	}
	if werr := cmd.Wait(); werr != nil || err != nil {
		return fmt.Errorf("child process: %w\n%s%s", errors.Join(err, werr), output.String(), stderr.String())
	}
	return nil
}

// openAsChild is the child process of openInChild.
func openAsChild(t *testing.T, path string) {
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatalf("waiting for go: %v", err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
