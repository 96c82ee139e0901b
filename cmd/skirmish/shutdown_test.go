package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
)

// recordingHandler keeps every log record's message and attributes.
type recordingHandler struct {
	mu      *sync.Mutex
	records *[]string
	attrs   []slog.Attr
}

func newRecorder() *recordingHandler {
	return &recordingHandler{mu: &sync.Mutex{}, records: new([]string)}
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.mu.Lock()
	*h.records = append(*h.records, b.String())
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordingHandler{mu: h.mu, records: h.records, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

// lines returns the records that contain every one of parts.
func (h *recordingHandler) lines(parts ...string) []string {
	var out []string
	for _, i := range h.indexes(parts...) {
		out = append(out, (*h.records)[i])
	}
	return out
}

// indexes returns the positions, in the order logged, of the records that
// contain every one of parts.
func (h *recordingHandler) indexes(parts ...string) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
next:
	for i, r := range *h.records {
		for _, p := range parts {
			if !strings.Contains(r, p) {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

// TestDevShutdownOrder: `skirmish dev` stops the gameserver before the
// matchmaker, so that the report of a room ended by the shutdown, and the
// gameserver's deregistration, reach the matchmaker; the gameserver
// deregisters only after its room's report (while the room drains the
// matchmaker must still know it).
func TestDevShutdownOrder(t *testing.T) {
	d := testDevFlags(t, "--drain-timeout", "300ms", "--match-duration", "1m", "--log-level", "debug")
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sys, err := startDev(ctx, d, slog.New(rec))
	if err != nil {
		t.Fatalf("startDev: %v", err)
	}

	// Two players are matched into a duel and never join: at shutdown
	// the room is still waiting for them.
	pctx, pcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer pcancel()
	var wg sync.WaitGroup
	rooms := make(chan string, 2)
	for _, name := range []string{"ann", "ben"} {
		s, err := skirmish.SignInGuest(pctx, nil, "http://"+sys.leaderboardAddr, name)
		if err != nil {
			t.Fatalf("SignInGuest: %v", err)
		}
		wg.Go(func() {
			mm, err := skirmish.DialMatchmaker(pctx, sys.matchmakerAddr, s)
			if err != nil {
				t.Errorf("DialMatchmaker: %v", err)
				return
			}
			defer mm.Close()
			a, err := mm.FindMatch(pctx, "duel", nil)
			if err != nil {
				t.Errorf("FindMatch: %v", err)
				return
			}
			rooms <- a.GetRoomId()
		})
	}
	wg.Wait()
	close(rooms)
	room := <-rooms
	if room == "" {
		t.Fatal("no room allocated")
	}

	cancel()
	select {
	case err := <-sys.done:
		if err != nil {
			t.Fatalf("dev stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop within 30s")
	}
	if got := rec.lines("finished call", "grpc.method=ReportRoom", "grpc.code=OK"); len(got) == 0 {
		t.Errorf("the matchmaker never took a ReportRoom; the room %s ended by the shutdown went unreported", room)
	}
	if got := rec.lines("report room to matchmaker"); len(got) > 0 {
		t.Errorf("gameserver failed to report: %q", got)
	}
	if got := rec.lines("deregister from matchmaker"); len(got) > 0 {
		t.Errorf("deregistration failed: %q", got)
	}
	dereg := rec.indexes("finished call", "grpc.method=Deregister", "grpc.code=OK")
	if len(dereg) == 0 {
		t.Error("the matchmaker never took the gameserver's Deregister")
	}
	if reports := rec.indexes("finished call", "grpc.method=ReportRoom"); len(dereg) > 0 && len(reports) > 0 && reports[len(reports)-1] > dereg[0] {
		t.Errorf("a ReportRoom finished (log record %d) after the gameserver's Deregister (record %d)", reports[len(reports)-1], dereg[0])
	}
}
